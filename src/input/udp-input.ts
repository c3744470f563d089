import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { FirewallLogRecord } from '../mapping/record.js';
import type { Input } from './input.js';
import { DRAIN_DEFAULTS, type UdpInputConfig } from './input-config.js';
import { inputLogger, type InputDeps, type InputLogger } from './input-deps.js';
import { formatListenUrl } from './listen-url.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { receiveTime } from './receive-context.js';
import { DatagramRun, PeerAddressCache } from './udp-datagram-run.js';
import { UdpKernelDrops } from './udp-kernel-drops.js';
import { readRmemMax, receiveBufferReport } from './udp-receive-buffer.js';
import { UdpSenderSockets } from './udp-sender-sockets.js';
import { socketDescriptor, type SocketDescriptor } from './udp-socket-fd.js';
import { WritableWait } from './writable-wait.js';

/**
 * At most this many datagrams wait for the end of the turn (libuv reads at most 32 per
 * wake-up, so a turn normally holds fewer); beyond it they are handed on at once.
 */
const MAX_RUN_DATAGRAMS = 256;
/**
 * While the listener is paused, at most this many datagrams read before the pause wait in the
 * run (the sender sockets' first datagrams, read here until the thread takes them, add to it);
 * past it they are offered and counted as dropped.
 */
const MAX_HELD_DATAGRAMS = 1024;

/**
 * UDP syslog listener: one message per datagram, never split (a trailing LF/NUL
 * is the decoder's business). A UDP sender cannot be paused, but the reading can: while the
 * sink is not writable the listener stops reading (Linux), keeps what it already read, and
 * the burst waits in the kernel's receive buffer, which holds far more than the pipeline's
 * queue. Datagrams the kernel dropped because that buffer was full are read from
 * /proc/net/udp and counted in `dropped{reason="udp_receive_buffer"}`; where the socket cannot
 * be paused (or while stopping), what the sink cannot take is counted in
 * `dropped{reason="queue_full"}` (or `spool_full`).
 *
 * With `readerThread` (the default, Linux), a busy sender gets a socket of its own read by a
 * reader thread (udp-sender-sockets.ts); everyone else is read here, in the event loop.
 */
export class UdpInput implements Input {
  readonly name: string;
  private readonly config: UdpInputConfig;
  private readonly deps: InputDeps;
  private readonly log: InputLogger;
  private socket: dgram.Socket | undefined;
  private readonly received;
  private readonly droppedQueueFull;
  private readonly droppedSpoolFull;
  private readonly oversize;
  private kernelDrops: UdpKernelDrops | undefined;
  /** Datagrams seen; the drain on stop watches it to tell when the sender went quiet. */
  private messages = 0;
  private stopping: Promise<void> | undefined;
  /** Datagrams read this turn of the event loop, not yet handed on. */
  private readonly run = new DatagramRun();
  private flushQueued = false;
  private readonly flushRun = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  /** Canonical peer address per sender, computed once per sender. */
  private readonly peers = new PeerAddressCache();
  /** Busy senders' own sockets, read by the reader thread (undefined: everything is read here). */
  private senders: UdpSenderSockets | undefined;
  /** The listener's libuv handle, to pause reading while the sink is full (undefined: cannot pause). */
  private handle: SocketDescriptor | undefined;
  /** Reading stopped because the sink is full; `wait` resumes it. */
  private paused = false;
  private closing = false;
  private readonly wait = new WritableWait(
    (listener) => (this.deps.frameSink ?? this.deps.sink).onDrain(listener),
    () => this.resume(),
  );
  private readonly pauseLog: RateLimitedLog;

  constructor(config: UdpInputConfig, deps: InputDeps) {
    this.config = config;
    this.deps = deps;
    this.log = inputLogger(deps);
    this.name = config.name ?? formatListenUrl('udp', config.host, config.port);
    // Label children resolved once: the per-datagram path does no label hashing.
    this.received = deps.metrics.received.labels(this.name);
    this.droppedQueueFull = deps.metrics.dropped.labels('queue_full');
    this.droppedSpoolFull = deps.metrics.dropped.labels('spool_full');
    this.oversize = deps.metrics.framingErrors.labels(this.name, 'oversize');
    this.pauseLog = new RateLimitedLog((msg, fields) => this.log.info(msg, fields));
  }

  /** Bind the socket; resolves once it receives, rejects on bind errors. */
  start(): Promise<void> {
    const { host, port, recvBufferSize } = this.config;
    const type = isIP(host) === 6 ? 'udp6' : 'udp4';
    const readerThread = this.config.readerThread ?? true;
    // SO_REUSEADDR lets the sender sockets bind this address too (rsyslog's imudp sets it as well).
    const socket = dgram.createSocket({ type, ...(readerThread ? { reuseAddr: true } : {}), ...(recvBufferSize > 0 ? { recvBufferSize } : {}) });
    this.socket = socket;
    this.closing = false;
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
        const granted = this.checkRecvBuffer(socket);
        const bound = socket.address();
        const dropped = this.deps.metrics.dropped.labels('udp_receive_buffer');
        this.handle = socketDescriptor(socket);
        const listener = readerThread ? this.handle : undefined;
        if (listener !== undefined) {
          this.senders = this.senderSockets(type, bound, granted);
          this.senders.start();
        } else if (readerThread) this.log.info('udp reader thread not available here; every datagram is read in the event loop', { input: this.name });
        const inodes = listener === undefined ? undefined : () => [listener.inode, ...(this.senders?.inodes() ?? [])];
        this.kernelDrops = new UdpKernelDrops(bound, (n) => dropped.inc(n), 1000, inodes);
        this.kernelDrops.start();
        this.log.info('listening', { input: this.name, address: this.address() });
        resolve();
      });
    });
  }

  /**
   * Drain, then close: datagrams the kernel already holds are still read until none arrived
   * for `drainQuietMs` (at most `drainTimeoutMs`); the kernel's drop count is read a last
   * time. Datagrams already handed to the sink stay there.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drainAndClose().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async drainAndClose(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined) return;
    // What the kernel holds is read (and counted if the sink cannot take it), not left in a closed socket.
    this.closing = true;
    this.unpause();
    const timeout = this.config.drainTimeoutMs ?? DRAIN_DEFAULTS.drainTimeoutMs;
    const quiet = this.config.drainQuietMs ?? DRAIN_DEFAULTS.drainQuietMs;
    const deadline = Date.now() + timeout;
    let seen = -1;
    while (this.messages !== seen && Date.now() < deadline) {
      seen = this.messages;
      await new Promise((r) => setTimeout(r, Math.min(quiet, deadline - Date.now())));
      // Timers run before the loop polls sockets: let one poll read what the kernel holds
      // before deciding the sender went quiet (the loop may have been busy for a while).
      await new Promise((r) => setImmediate(r));
    }
    this.flush();
    // The reader thread reads what its sockets still hold; they close after the last drop count.
    await this.senders?.stop();
    await this.kernelDrops?.stop();
    this.kernelDrops = undefined;
    await this.senders?.closeAll();
    this.senders = undefined;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private senderSockets(type: 'udp4' | 'udp6', bound: { address: string; port: number }, granted: number): UdpSenderSockets {
    const gauge = this.deps.metrics.udpReaderThreadSenders;
    gauge.set({ input: this.name }, 0);
    return new UdpSenderSockets({
      type,
      host: bound.address,
      port: bound.port,
      recvBufferSize: this.config.recvBufferSize,
      grantedBufferBytes: granted,
      maxFrameSize: this.config.maxFrameSize,
      canonical: (address) => this.peers.get(address),
      deliver: (frames, peerAddress, peerPort, oversize, force) => {
        if (!force && frames.length > 0 && !this.writable()) return false;
        const n = frames.length + oversize;
        this.messages += n;
        this.received.inc(n);
        if (oversize > 0) this.oversize.inc(oversize);
        if (frames.length > 0) this.offerRun(frames, peerAddress, peerPort, receiveTime());
        return true;
      },
      onWritable: (listener) => (this.deps.frameSink ?? this.deps.sink).onDrain(listener),
      stray: (msg, rinfo) => this.onMessage(msg, rinfo),
      onCount: (n) => gauge.set({ input: this.name }, n),
      onSocketError: (code, count) => this.deps.metrics.udpSocketErrors.inc({ input: this.name, code }, count),
      beforeClose: () => this.pollKernelDrops(),
      stopTimeoutMs: Math.max(500, this.config.drainTimeoutMs ?? DRAIN_DEFAULTS.drainTimeoutMs),
      log: this.log,
      name: this.name,
    });
  }

  /** Read the kernel's drop count now (tests; the input also polls every second). */
  pollKernelDrops(): Promise<void> {
    return this.kernelDrops?.poll() ?? Promise.resolve();
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
    this.messages++;
    if (msg.length === 0) return; // nothing to decode; not a message
    if (msg.length > this.config.maxFrameSize) {
      this.received.inc();
      this.oversize.inc();
      return;
    }
    // Collected, and handed on once per turn of the event loop: after the poll phase read
    // what the kernel held (libuv reads up to 32 datagrams per wake-up), the check phase
    // offers them as runs, one receive context per sender run.
    this.run.push(msg, rinfo.address, rinfo.port);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushRun);
    } else if (this.run.length >= MAX_RUN_DATAGRAMS) {
      this.flush();
    }
  }

  /** Hand the datagrams collected this turn on (or hold them while the sink is full); counters move once per turn. */
  private flush(): void {
    const n = this.run.length;
    if (n === 0) return;
    if (!this.writable() && this.canHold(n)) {
      this.pause();
      return;
    }
    const receivedAt = receiveTime();
    const senders = this.senders;
    let holding = false;
    this.run.drain((frames, address, port) => {
      // The sink filled up during this turn: the rest of it goes back into the run and waits.
      if (!holding && !this.writable() && this.canHold(n)) holding = true;
      if (holding) {
        for (const f of frames) this.run.push(f, address, port);
        return;
      }
      senders?.note(address, port, frames.length);
      this.offerRun(frames, this.peers.get(address), port, receivedAt);
    });
    // Held datagrams are counted when they are offered.
    this.received.inc(n - this.run.length);
    if (holding) this.pause();
  }

  /**
   * Whether `held` datagrams can wait for the sink. Not when the listener cannot be paused, the
   * input is stopping, or too much is held: they are offered then, and what the sink refuses is
   * counted as dropped.
   */
  private canHold(held: number): boolean {
    return this.handle !== undefined && !this.closing && held <= MAX_HELD_DATAGRAMS;
  }

  /** The sink is full: stop reading the listener and keep the run until it drains. */
  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.handle?.recvStop();
      this.deps.metrics.udpListenerPauses.inc({ input: this.name });
      this.pauseLog.write('pipeline full: udp listener paused; arriving datagrams wait in the kernel receive buffer (its drops are counted as udp_receive_buffer)', { input: this.name, held: this.run.length });
    }
    this.wait.start();
  }

  /** The sink may take data again: read the listener again and offer what was held. */
  private resume(): void {
    if (!this.paused) return;
    if (!this.writable() && !this.closing) {
      this.wait.start();
      return;
    }
    this.unpause();
    this.flush();
  }

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wait.cancel();
    this.handle?.recvStart();
  }

  private writable(): boolean {
    return (this.deps.frameSink ?? this.deps.sink).writable;
  }

  /** Offer consecutive datagrams of one sender, or count them dropped when the sink is full. */
  private offerRun(frames: Buffer[], peerAddress: string, peerPort: number, receivedAt: ReturnType<typeof receiveTime>): void {
    const ctx = { peerAddress, peerPort, transport: 'udp' as const, receivedAt };
    const frameSink = this.deps.frameSink;
    if (frameSink !== undefined) {
      if (!frameSink.writable) {
        (frameSink.refusalReason === 'spool_full' ? this.droppedSpoolFull : this.droppedQueueFull).inc(frames.length);
        return;
      }
      // The sink copies the frames before it returns (the array is reused, the bytes may be a
      // reader-thread buffer) and counts what it refuses beyond its hard limit.
      frameSink.offerFrames(frames, ctx);
      return;
    }
    const sink = this.deps.sink;
    if (!sink.writable) {
      this.droppedQueueFull.inc(frames.length);
      return;
    }
    const records: FirewallLogRecord[] = [];
    for (const frame of frames) {
      try {
        records.push(this.deps.decode(frame, ctx));
      } catch (err) {
        // The decoder's contract is never to throw; if it does anyway, one datagram is lost, not the process.
        this.deps.metrics.dropped.inc({ reason: 'decode_error' });
        this.log.error('decoder threw; datagram dropped', { input: this.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (records.length > 0) sink.offer(records);
  }

  /** Report the granted receive buffer; returns it (0 when it cannot be read). */
  private checkRecvBuffer(socket: dgram.Socket): number {
    let granted: number;
    try {
      granted = socket.getRecvBufferSize();
    } catch {
      return 0;
    }
    this.deps.metrics.udpReceiveBufferBytes.set({ input: this.name }, granted);
    const report = receiveBufferReport(this.config.recvBufferSize, granted, readRmemMax());
    this.log[report.level](report.msg, { input: this.name, ...report.fields });
    return granted;
  }
}

/** Create a UDP listener (not yet bound: call `start()`). */
export function createUdpInput(config: UdpInputConfig, deps: InputDeps): UdpInput {
  return new UdpInput(config, deps);
}
