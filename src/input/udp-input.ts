import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { FirewallLogRecord } from '../mapping/record.js';
import type { Input } from './input.js';
import type { UdpInputConfig } from './input-config.js';
import { inputLogger, type InputDeps, type InputLogger } from './input-deps.js';
import { formatListenUrl } from './listen-url.js';
import { canonicalPeerAddress, receiveTime } from './receive-context.js';

/**
 * UDP syslog listener: one message per datagram, never split (a trailing LF/NUL
 * is the decoder's business). UDP cannot be paused, so while the sink is not
 * writable each datagram is counted in `dropped{reason="queue_full"}`.
 */
export class UdpInput implements Input {
  readonly name: string;
  private readonly config: UdpInputConfig;
  private readonly deps: InputDeps;
  private readonly log: InputLogger;
  private socket: dgram.Socket | undefined;
  private readonly received;
  private readonly droppedQueueFull;
  private readonly oversize;

  constructor(config: UdpInputConfig, deps: InputDeps) {
    this.config = config;
    this.deps = deps;
    this.log = inputLogger(deps);
    this.name = config.name ?? formatListenUrl('udp', config.host, config.port);
    // Label children resolved once: the per-datagram path does no label hashing.
    this.received = deps.metrics.received.labels(this.name);
    this.droppedQueueFull = deps.metrics.dropped.labels('queue_full');
    this.oversize = deps.metrics.framingErrors.labels(this.name, 'oversize');
  }

  /** Bind the socket; resolves once it receives, rejects on bind errors. */
  start(): Promise<void> {
    const { host, port, recvBufferSize } = this.config;
    const type = isIP(host) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ...(recvBufferSize > 0 ? { recvBufferSize } : {}) });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.socket = undefined;
        socket.close();
        reject(new Error(`${this.name}: cannot listen: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.log.error('udp socket error', { input: this.name, error: err.message }));
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
        this.checkRecvBuffer(socket);
        this.log.info('listening', { input: this.name, address: this.address() });
        resolve();
      });
    });
  }

  /** Close the socket. Datagrams already handed to the sink stay there. */
  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** The bound address. */
  address(): { address: string; port: number } | undefined {
    if (this.socket === undefined) return undefined;
    try {
      const a = this.socket.address();
      return { address: a.address, port: a.port };
    } catch {
      return undefined; // not bound yet
    }
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length === 0) return; // nothing to decode; not a message
    this.received.inc();
    if (msg.length > this.config.maxFrameSize) {
      this.oversize.inc();
      return;
    }
    const frameSink = this.deps.frameSink;
    if (frameSink !== undefined) {
      if (!frameSink.writable) {
        this.droppedQueueFull.inc();
        return;
      }
      frameSink.offerFrames([msg], {
        peerAddress: canonicalPeerAddress(rinfo.address),
        peerPort: rinfo.port,
        transport: 'udp',
        receivedAt: receiveTime(),
      });
      return;
    }
    const sink = this.deps.sink;
    if (!sink.writable) {
      this.droppedQueueFull.inc();
      return;
    }
    let record: FirewallLogRecord;
    try {
      record = this.deps.decode(msg, {
        peerAddress: canonicalPeerAddress(rinfo.address),
        peerPort: rinfo.port,
        transport: 'udp',
        receivedAt: receiveTime(),
      });
    } catch (err) {
      // The decoder's contract is never to throw; if it does anyway, one datagram is lost, not the process.
      this.deps.metrics.dropped.inc({ reason: 'decode_error' });
      this.log.error('decoder threw; datagram dropped', { input: this.name, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    sink.offer([record]);
  }

  private checkRecvBuffer(socket: dgram.Socket): void {
    const asked = this.config.recvBufferSize;
    let got: number;
    try {
      got = socket.getRecvBufferSize();
    } catch {
      return;
    }
    // Linux doubles the requested SO_RCVBUF (bookkeeping overhead) and caps the request at rmem_max.
    const expected = process.platform === 'linux' ? asked * 2 : asked;
    if (asked > 0 && got < expected) {
      this.log.warn(
        `UDP receive buffer is smaller than configured: asked ${asked} bytes, the kernel gave ${got}; ` +
          'bursts may be dropped by the kernel (see RcvbufErrors in /proc/net/snmp). ' +
          `Raise it with: sysctl -w net.core.rmem_max=${asked}`,
        { input: this.name, recvBufferSize: asked, effective: got },
      );
    } else {
      this.log.info('UDP receive buffer', { input: this.name, effective: got });
    }
  }
}

/** Create a UDP listener (not yet bound: call `start()`). */
export function createUdpInput(config: UdpInputConfig, deps: InputDeps): UdpInput {
  return new UdpInput(config, deps);
}
