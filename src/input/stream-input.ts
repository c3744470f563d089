import type net from 'node:net';
import { createFramer } from '../framing/create-framer.js';
import { FrameSpans, type Framer, type FramingError } from '../framing/framer.js';
import type { FirewallLogRecord, ReceiveContext } from '../mapping/record.js';
import type { FrameDecoder, Input } from './input.js';
import type { TcpInputConfig, TlsInputConfig } from './input-config.js';
import { inputLogger, type InputDeps, type InputLogger } from './input-deps.js';
import { canonicalPeerAddress, receiveTime } from './receive-context.js';

type StreamConfig = Omit<TcpInputConfig, 'type'> | Omit<TlsInputConfig, 'type'>;

/** One accepted connection: its framer and the records of the read being processed. */
class Connection {
  readonly framer: Framer;
  readonly peerAddress: string | undefined;
  readonly peerPort: number | undefined;
  paused = false;
  /** Records of the current read; a fresh array per read because `offer()` keeps it. */
  records: FirewallLogRecord[] = [];
  /** Frames of the final flush (frame-sink mode); the sink copies them, so the array is reused. */
  readonly frames: Buffer[] = [];
  ctx: ReceiveContext | undefined;
  /** Framing errors already logged for this connection (the metric counts all of them). */
  loggedErrors = 0;
  readonly onFrame: (frame: Buffer) => void;

  constructor(
    readonly socket: net.Socket,
    config: StreamConfig,
    decode: FrameDecoder,
    onError: (conn: Connection, e: FramingError) => void,
    onDecodeError: (err: unknown) => void,
    collectFrames: boolean,
  ) {
    this.peerAddress = canonicalPeerAddress(socket.remoteAddress);
    this.peerPort = socket.remotePort;
    this.framer = createFramer(config.framing, {
      maxFrameSize: config.maxFrameSize,
      onError: (e) => onError(this, e),
    });
    this.onFrame = collectFrames
      ? (frame) => {
          this.frames.push(frame);
        }
      : (frame) => {
          // The decoder's contract is never to throw; if it does anyway, one frame is lost, not the process.
          try {
            this.records.push(decode(frame, this.ctx!));
          } catch (err) {
            onDecodeError(err);
          }
        };
  }
}

/**
 * The TCP/TLS listener machinery: per-connection framing, connection limit, idle
 * timeout and backpressure. `TcpInput` and `TlsInput` differ only in the server
 * they create and the event that delivers a ready socket.
 */
export abstract class StreamInput implements Input {
  readonly name: string;
  readonly config: StreamConfig;
  readonly deps: InputDeps;
  protected readonly log: InputLogger;
  protected server: net.Server | undefined;
  private readonly transport: 'tcp' | 'tls';
  private readonly connections = new Set<Connection>();
  private readonly paused = new Set<Connection>();
  private drainPending = false;
  private stopping = false;
  private readonly received;
  private readonly openGauge;
  private readonly pausedGauge;
  /** Frame offsets of the read being handled (frame-sink mode); one read at a time, so shared. */
  private readonly spans = new FrameSpans();

  protected constructor(transport: 'tcp' | 'tls', name: string, config: StreamConfig, deps: InputDeps) {
    this.transport = transport;
    this.name = name;
    this.config = config;
    this.deps = deps;
    this.log = inputLogger(deps);
    this.received = deps.metrics.received.labels(name);
    this.openGauge = deps.metrics.openConnections.labels(name);
    this.pausedGauge = deps.metrics.pausedConnections.labels(name);
    this.openGauge.set(0);
    this.pausedGauge.set(0);
  }

  /** Build the (not yet listening) server; ready sockets go to `accept()`. */
  protected abstract createServer(): net.Server;

  /** Bind and listen; rejects on bind errors. */
  async start(): Promise<void> {
    const server = this.createServer();
    this.server = server;
    if (this.config.maxConnections > 0) server.maxConnections = this.config.maxConnections;
    server.on('drop', () => {
      this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'max_connections' });
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(new Error(`${this.name}: cannot listen: ${err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ host: this.config.host, port: this.config.port }, () => {
        server.off('error', onError);
        // After listening, errors (EMFILE on accept, ...) are logged; the listener stays up.
        server.on('error', (err) => this.log.error('listener error', { input: this.name, error: err.message }));
        resolve();
      });
    });
    this.log.info('listening', { input: this.name, address: this.address() });
  }

  /** Stop accepting, close every connection (frames already read were offered), resolve when closed. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const conn of this.connections) conn.socket.destroy();
    await closed;
    this.server = undefined;
    this.stopping = false;
  }

  /** The bound address. */
  address(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') return undefined;
    return { address: a.address, port: a.port };
  }

  /** Number of open connections (tests, status line). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of connections paused by backpressure. */
  get pausedCount(): number {
    return this.paused.size;
  }

  /** Take over a connected (for TLS: handshaken) socket. */
  protected accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const conn = new Connection(
      socket,
      this.config,
      this.deps.decode,
      (c, e) => this.framingError(c, e),
      (err) => this.decodeError(err),
      this.deps.frameSink !== undefined,
    );
    this.connections.add(conn);
    this.openGauge.inc();
    socket.setNoDelay(true);
    if (this.config.idleTimeoutMs > 0) socket.setTimeout(this.config.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => this.onEnd(conn));
    socket.on('timeout', () => {
      this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'idle_timeout' });
      socket.destroy();
    });
    socket.on('error', () => {
      // ECONNRESET and friends: 'close' follows; nothing to do but not crash.
    });
    socket.on('close', () => {
      this.connections.delete(conn);
      this.openGauge.dec();
      if (this.paused.delete(conn)) this.pausedGauge.set(this.paused.size);
    });
  }

  /** Count (and, a few times per connection, log) a framing error. */
  private framingError(conn: Connection, e: FramingError): void {
    this.deps.metrics.framingErrors.inc({ input: this.name, reason: e.reason });
    if (conn.loggedErrors < 3) {
      conn.loggedErrors++;
      this.log.warn(`framing error: ${e.message}`, {
        input: this.name,
        reason: e.reason,
        peer: conn.peerAddress,
        ...(conn.loggedErrors === 3 ? { note: 'further framing errors on this connection are only counted' } : {}),
      });
    }
  }

  private decodeError(err: unknown): void {
    this.deps.metrics.dropped.inc({ reason: 'decode_error' });
    this.log.error('decoder threw; frame dropped', { input: this.name, error: err instanceof Error ? err.message : String(err) });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    const frameSink = this.deps.frameSink;
    if (frameSink !== undefined) {
      // Frame-sink mode: the framer reports offsets and the sink copies the bytes out (no Buffer per frame).
      const receivedAt = receiveTime();
      const spans = this.spans;
      conn.framer.scan(chunk, spans);
      const n = spans.frames;
      if (n > 0) {
        this.received.inc(n);
        const ctx = { peerAddress: conn.peerAddress, peerPort: conn.peerPort, transport: this.transport, receivedAt };
        const more = frameSink.offerSpans(spans, ctx);
        if (!more) this.pause(conn);
      }
      spans.clear();
      return;
    }
    conn.ctx = { peerAddress: conn.peerAddress, peerPort: conn.peerPort, transport: this.transport, receivedAt: receiveTime() };
    conn.framer.feed(chunk, conn.onFrame);
    this.deliver(conn);
  }

  private onEnd(conn: Connection): void {
    conn.ctx = { peerAddress: conn.peerAddress, peerPort: conn.peerPort, transport: this.transport, receivedAt: receiveTime() };
    conn.framer.flush(conn.onFrame);
    this.deliver(conn);
  }

  private deliver(conn: Connection): void {
    const frameSink = this.deps.frameSink;
    if (frameSink !== undefined) {
      const frames = conn.frames;
      if (frames.length === 0) return;
      this.received.inc(frames.length);
      const more = frameSink.offerFrames(frames, conn.ctx!);
      frames.length = 0;
      if (!more) this.pause(conn);
      return;
    }
    const records = conn.records;
    if (records.length === 0) return;
    conn.records = [];
    this.received.inc(records.length);
    if (!this.deps.sink.offer(records)) this.pause(conn);
  }

  private pause(conn: Connection): void {
    if (conn.paused || conn.socket.destroyed) return;
    conn.paused = true;
    conn.socket.pause();
    // Our own backpressure must not look like an idle peer.
    if (this.config.idleTimeoutMs > 0) conn.socket.setTimeout(0);
    this.paused.add(conn);
    this.pausedGauge.set(this.paused.size);
    if (!this.drainPending) {
      this.drainPending = true;
      const resume = (): void => this.resumeAll();
      if (this.deps.frameSink !== undefined) this.deps.frameSink.onDrain(resume);
      else this.deps.sink.onDrain(resume);
    }
  }

  private resumeAll(): void {
    this.drainPending = false;
    const conns = [...this.paused];
    this.paused.clear();
    this.pausedGauge.set(0);
    for (const conn of conns) {
      conn.paused = false;
      if (conn.socket.destroyed) continue;
      if (this.config.idleTimeoutMs > 0) conn.socket.setTimeout(this.config.idleTimeoutMs);
      conn.socket.resume();
    }
  }
}
