import type net from 'node:net';
import { createFramer } from '../framing/create-framer.js';
import { FrameSpans, type Framer, type FramerOptions, type FramingError } from '../framing/framer.js';
import { coversMostOf, releaseNow } from '../framing/owned-bytes.js';
import type { FirewallLogRecord, ReceiveContext } from '../mapping/record.js';
import type { FrameDecoder, Input } from './input.js';
import { DRAIN_DEFAULTS, TCP_INPUT_DEFAULTS, type RelpInputConfig, type TcpInputConfig, type TlsInputConfig } from './input-config.js';
import { inputLogger, type InputDeps, type InputLogger } from './input-deps.js';
import { sharedPartialFrameBudget, type PartialFrameBudget, type PartialFrameHolder } from './partial-frame-budget.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { canonicalPeerAddress, receiveTime } from './receive-context.js';
import { stopReadingNow } from './stop-reading.js';

type StreamConfig = Omit<TcpInputConfig, 'type'> | Omit<TlsInputConfig, 'type'> | Omit<RelpInputConfig, 'type'>;

/** The transports of stream listeners (`log.syslog.transport`). */
export type StreamTransport = 'tcp' | 'tls' | 'relp';

/** What a connection asks of its input when the partial-frame budget acts on it. */
interface ConnectionHooks {
  budgetPause(conn: Connection): void;
  budgetResume(conn: Connection): void;
  cutPartial(conn: Connection): void;
}

/** One accepted connection: its framer, its reading state and the records of the read being processed. */
class Connection implements PartialFrameHolder {
  readonly framer: Framer;
  readonly peerAddress: string | undefined;
  readonly peerPort: number | undefined;
  /** Being read (counted under maxConnections); false while it waits for a slot. */
  reading = false;
  /** The socket is resumed (we want its data); false while waiting or paused. */
  flowing = false;
  /** Paused because the sink is full. */
  pausedBackpressure = false;
  /** Paused by the partial-frame budget. */
  pausedBudget = false;
  /** Bytes of a partial frame last reported to the budget. */
  partial = 0;
  /** The framer is being flushed by a budget cut: its own errors are that cut, counted once. */
  cutting = false;
  /** Flushed and destroyed by the drain on stop. */
  finished = false;
  /** Records of the current read; a fresh array per read because `offer()` keeps it. */
  records: FirewallLogRecord[] = [];
  /** Frames of a flush (frame-sink mode); the sink copies them, so the array is reused. */
  readonly frames: Buffer[] = [];
  ctx: ReceiveContext | undefined;
  /** Framing errors already logged for this connection (the metric counts all of them). */
  loggedErrors = 0;
  readonly onFrame: (frame: Buffer) => void;

  constructor(
    readonly socket: net.Socket,
    newFramer: (options: FramerOptions) => Framer,
    config: StreamConfig,
    decode: FrameDecoder,
    private readonly hooks: ConnectionHooks,
    onError: (conn: Connection, e: FramingError) => void,
    onDecodeError: (err: unknown) => void,
    collectFrames: boolean,
  ) {
    this.peerAddress = canonicalPeerAddress(socket.remoteAddress);
    this.peerPort = socket.remotePort;
    this.framer = newFramer({
      maxFrameSize: config.maxFrameSize,
      onError: (e) => onError(this, e),
      // Socket reads are never reused, and a frame sink copies each frame before it returns: a
      // half-sent frame may stay in its read buffer, uncopied, and held buffers may be freed.
      ownsChunks: collectFrames,
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

  pauseForBudget(): void {
    this.hooks.budgetPause(this);
  }

  resumeFromBudget(): void {
    this.hooks.budgetResume(this);
  }

  cutPartial(): void {
    this.hooks.cutPartial(this);
  }
}

/**
 * The TCP/TLS listener machinery: per-connection framing, connection limit, idle
 * timeout, backpressure, the partial-frame budget and the drain on stop. `TcpInput` and
 * `TlsInput` differ only in the server they create and the event that delivers a ready socket.
 *
 * Connection limit: at most `maxConnections` connections are read at once. Further ones are
 * accepted but not read (the socket is paused before its first read, so it holds no
 * framer and no bytes of ours: its sender's data waits in the kernel, and TCP flow
 * control stops the sender), in arrival order, and read as soon as a slot frees. Never
 * accept-then-close: senders (logger, rsyslog) count a line as sent once it is written to a
 * connected socket. Above `maxConnections + maxPendingConnections`, Node's
 * `server.maxConnections` closes new connections before they are read; those are refused
 * visibly (`connections_refused_total`, a rate-limited warning with the peer). Memory of a
 * waiting connection is bounded: a TCP one holds no bytes in the process (its handle does
 * not read), a TLS one about the socket's readable high-water mark (16 KiB, plus one read)
 * of data decrypted after the handshake, and its TLS session.
 */
export abstract class StreamInput implements Input {
  readonly name: string;
  readonly config: StreamConfig;
  readonly deps: InputDeps;
  protected readonly log: InputLogger;
  protected server: net.Server | undefined;
  private readonly transport: StreamTransport;
  /** Connections being read. */
  private readonly connections = new Set<Connection>();
  /** Connections waiting for a slot, oldest first (Set order is insertion order). */
  private readonly waiting = new Set<Connection>();
  /** Every socket the server holds (TLS: handshakes in progress too), to end them at the drain deadline. */
  private readonly sockets = new Set<net.Socket>();
  /** Connections paused by the sink's backpressure. */
  private readonly paused = new Set<Connection>();
  private pausedNow = 0;
  private drainPending = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly budget: PartialFrameBudget;
  private readonly hooks: ConnectionHooks;
  private readonly maxPending: number;
  private readonly drainTimeoutMs: number;
  private readonly drainQuietMs: number;
  private readonly refusedLog: RateLimitedLog;
  private readonly cutLog: RateLimitedLog;
  private readonly received;
  private readonly openGauge;
  private readonly pausedGauge;
  private readonly waitingGauge;
  private readonly refused;
  /** Frame offsets of the read being handled (frame-sink mode); one read at a time, so shared. */
  private readonly spans = new FrameSpans();

  protected constructor(transport: StreamTransport, name: string, config: StreamConfig, deps: InputDeps) {
    this.transport = transport;
    this.name = name;
    this.config = config;
    this.deps = deps;
    this.log = inputLogger(deps);
    this.budget = deps.partialFrames ?? sharedPartialFrameBudget(deps.metrics);
    this.maxPending = config.maxPendingConnections ?? TCP_INPUT_DEFAULTS.maxPendingConnections;
    this.drainTimeoutMs = config.drainTimeoutMs ?? DRAIN_DEFAULTS.drainTimeoutMs;
    this.drainQuietMs = config.drainQuietMs ?? DRAIN_DEFAULTS.drainQuietMs;
    this.refusedLog = new RateLimitedLog((m, f) => this.log.warn(m, f));
    this.cutLog = new RateLimitedLog((m, f) => this.log.warn(m, f));
    this.hooks = {
      budgetPause: (c) => {
        c.pausedBudget = true;
        this.applyFlow(c);
      },
      budgetResume: (c) => {
        c.pausedBudget = false;
        this.applyFlow(c);
      },
      cutPartial: (c) => this.cutPartial(c),
    };
    this.received = deps.metrics.received.labels(name);
    this.openGauge = deps.metrics.openConnections.labels(name);
    this.pausedGauge = deps.metrics.pausedConnections.labels(name);
    this.waitingGauge = deps.metrics.waitingConnections.labels(name);
    this.refused = deps.metrics.connectionsRefused.labels(name);
    this.openGauge.set(0);
    this.pausedGauge.set(0);
    this.waitingGauge.set(0);
  }

  /**
   * Build the (not yet listening) server. A TCP server is created with `pauseOnConnect`
   * and hands sockets to `accept()` from its `connection` event; a TLS server from
   * `secureConnection`.
   */
  protected abstract createServer(): net.Server;

  /** The framer of a new connection: by default the config's `framing` mode (RELP brings its own). */
  protected newFramer(options: FramerOptions): Framer {
    return createFramer('framing' in this.config ? this.config.framing : 'auto', options);
  }

  /**
   * Called after each read's frames were handed on (and after a flush): a protocol that
   * answers its sender (RELP) answers here, once the frames are safe. Default: nothing.
   */
  protected afterDelivery(_socket: net.Socket, _framer: Framer): void {}

  /** Bind and listen; rejects on bind errors. */
  async start(): Promise<void> {
    const server = this.createServer();
    this.server = server;
    const max = this.config.maxConnections;
    // Node closes connections above server.maxConnections before reading them: that is the hard ceiling.
    if (max > 0) server.maxConnections = max + this.maxPending;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => this.refuse(data));
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
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

  /**
   * Stop accepting, then drain: every connection (waiting ones too, and those paused by
   * backpressure) is read until its sender has been quiet for `drainQuietMs` or ends, at
   * most until `drainTimeoutMs`; then each framer is flushed (a final frame without its
   * delimiter is emitted) and the socket closed. Resolves when every socket is closed.
   */
  stop(): Promise<void> {
    this.stopped ??= this.drainAndClose().finally(() => {
      this.stopped = undefined;
    });
    return this.stopped;
  }

  /** The bound address. */
  address(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') return undefined;
    return { address: a.address, port: a.port };
  }

  /** Number of connections being read (tests, status line). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of connections waiting for a slot under `maxConnections`. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Number of connections paused (by backpressure or by the partial-frame budget). */
  get pausedCount(): number {
    return this.pausedNow;
  }

  /** Take over a connected (for TLS: handshaken) socket: read it now, or queue it for a slot. */
  protected accept(socket: net.Socket): void {
    const conn = new Connection(
      socket,
      (options) => this.newFramer(options),
      this.config,
      this.deps.decode,
      this.hooks,
      (c, e) => this.framingError(c, e),
      (err) => this.decodeError(err),
      this.deps.frameSink !== undefined,
    );
    socket.on('error', () => {
      // ECONNRESET and friends: 'close' follows; nothing to do but not crash.
    });
    socket.on('close', () => this.onClose(conn));
    const max = this.config.maxConnections;
    // While stopping, a socket that finished its TLS handshake is drained like the others.
    if (this.stopping || max === 0 || this.connections.size < max) {
      this.startReading(conn);
      return;
    }
    // Not read until a slot frees: TCP sockets arrive paused (pauseOnConnect); a TLS socket
    // is not flowing before a 'data' listener, and pause() keeps it so until resume().
    socket.pause();
    this.waiting.add(conn);
    this.waitingGauge.set(this.waiting.size);
  }

  /** Log and count a connection closed at the hard ceiling (Node's `drop` event). */
  private refuse(data: { remoteAddress?: string; remotePort?: number } | undefined): void {
    this.refused.inc();
    this.refusedLog.write('connection refused: maxConnections + maxPendingConnections reached', {
      input: this.name,
      peer: canonicalPeerAddress(data?.remoteAddress),
      peerPort: data?.remotePort,
      maxConnections: this.config.maxConnections,
      maxPendingConnections: this.maxPending,
    });
  }

  private startReading(conn: Connection): void {
    const socket = conn.socket;
    conn.reading = true;
    this.connections.add(conn);
    this.openGauge.inc();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => this.onEnd(conn));
    socket.on('timeout', () => {
      if (this.stopping) {
        this.finishIfQuiet(conn);
        return;
      }
      this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'idle_timeout' });
      socket.destroy();
    });
    // A waiting socket was never flowing, so the pause count does not include it yet.
    this.pausedNow++;
    this.applyFlow(conn);
  }

  private onClose(conn: Connection): void {
    if (conn.reading) {
      this.connections.delete(conn);
      this.openGauge.dec();
      this.paused.delete(conn);
      if (!conn.flowing) {
        this.pausedNow--;
        this.pausedGauge.set(this.pausedNow);
      }
      this.budget.release(conn);
    } else if (this.waiting.delete(conn)) {
      this.waitingGauge.set(this.waiting.size);
    }
    this.promote();
  }

  /** Start reading waiting connections while there are free slots (all of them when stopping). */
  private promote(): void {
    if (this.waiting.size === 0) return;
    const max = this.config.maxConnections;
    for (const conn of this.waiting) {
      if (!this.stopping && max > 0 && this.connections.size >= max) break;
      this.waiting.delete(conn);
      if (!conn.socket.destroyed) this.startReading(conn);
    }
    this.waitingGauge.set(this.waiting.size);
  }

  /** Pause or resume the socket to match the connection's pause reasons; re-arm its timeout. */
  private applyFlow(conn: Connection): void {
    const socket = conn.socket;
    if (socket.destroyed || conn.finished) return;
    const flow = !conn.pausedBackpressure && !conn.pausedBudget;
    if (flow !== conn.flowing) {
      conn.flowing = flow;
      this.pausedNow += flow ? -1 : 1;
      this.pausedGauge.set(this.pausedNow);
      if (flow) socket.resume();
      else {
        socket.pause();
        if (this.transport === 'tcp') stopReadingNow(socket);
      }
    }
    // Our own pausing must not look like an idle peer; while stopping, the timeout detects a quiet one.
    socket.setTimeout(!flow ? 0 : this.stopping ? this.drainQuietMs : this.config.idleTimeoutMs);
  }

  /** Count (and, a few times per connection, log) a framing error. */
  private framingError(conn: Connection, e: FramingError): void {
    if (conn.cutting) return; // counted once, as `partial_budget`
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
        if (!more) this.backpressure(conn);
        // A frame split across reads was assembled into a buffer of the framer's own.
        if (spans.head !== undefined && coversMostOf(spans.head)) releaseNow(spans.head);
      }
      spans.clear();
    } else {
      conn.ctx = { peerAddress: conn.peerAddress, peerPort: conn.peerPort, transport: this.transport, receivedAt: receiveTime() };
      conn.framer.feed(chunk, conn.onFrame);
      this.deliver(conn);
    }
    const held = conn.framer.buffered;
    if (held !== conn.partial) {
      conn.partial = held;
      this.budget.update(conn, held);
    }
    this.afterDelivery(conn.socket, conn.framer);
  }

  /** Emit what the framer holds (end of stream, budget cut, drain) and hand it on. */
  private flush(conn: Connection): void {
    conn.ctx = { peerAddress: conn.peerAddress, peerPort: conn.peerPort, transport: this.transport, receivedAt: receiveTime() };
    conn.framer.flush(conn.onFrame);
    this.deliver(conn);
    if (conn.partial !== 0) {
      conn.partial = 0;
      this.budget.update(conn, 0);
    }
    this.afterDelivery(conn.socket, conn.framer);
  }

  private onEnd(conn: Connection): void {
    if (!conn.finished) this.flush(conn);
  }

  /** The budget cut this connection's partial frame (it has already forgotten the bytes). */
  private cutPartial(conn: Connection): void {
    const bytes = conn.partial;
    conn.partial = 0;
    this.deps.metrics.framingErrors.inc({ input: this.name, reason: 'partial_budget' });
    this.cutLog.write('partial frame cut: the partial-frame budget is exhausted', {
      input: this.name,
      peer: conn.peerAddress,
      bytes,
      budgetBytes: this.budget.config.maxBytes,
    });
    conn.cutting = true;
    try {
      this.flush(conn);
    } finally {
      conn.cutting = false;
    }
  }

  private deliver(conn: Connection): void {
    const frameSink = this.deps.frameSink;
    if (frameSink !== undefined) {
      const frames = conn.frames;
      if (frames.length === 0) return;
      this.received.inc(frames.length);
      const more = frameSink.offerFrames(frames, conn.ctx!);
      // A flushed frame (budget cut, end of stream, drain) is a read buffer the framer held, or
      // its own copy: the sink has copied it, and a held one is old enough that only a full
      // collection would free it. Give it back now (see owned-bytes.ts).
      for (const frame of frames) if (coversMostOf(frame)) releaseNow(frame);
      frames.length = 0;
      if (!more) this.backpressure(conn);
      return;
    }
    const records = conn.records;
    if (records.length === 0) return;
    conn.records = [];
    this.received.inc(records.length);
    if (!this.deps.sink.offer(records)) this.backpressure(conn);
  }

  private backpressure(conn: Connection): void {
    // While draining on stop, reading on is better than leaving the bytes in the kernel: a
    // sink past its hard cap counts what it refuses, the kernel would lose them uncounted.
    if (conn.pausedBackpressure || conn.socket.destroyed || this.stopping) return;
    conn.pausedBackpressure = true;
    this.paused.add(conn);
    this.applyFlow(conn);
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
    for (const conn of conns) {
      conn.pausedBackpressure = false;
      this.applyFlow(conn);
    }
  }

  /**
   * The drain's timeout fired: the connection looks quiet for `drainQuietMs`. Look once more
   * after the next poll phase before closing: timers run before the loop polls sockets, so
   * after a busy stretch of the event loop (parsing, GC) the timeout can fire while the
   * kernel still holds data that simply was not polled yet. Only a poll that reads nothing
   * proves the sender quiet.
   */
  private finishIfQuiet(conn: Connection): void {
    const socket = conn.socket;
    const before = socket.bytesRead;
    setImmediate(() => {
      if (conn.finished || socket.destroyed) return;
      if (socket.bytesRead === before && conn.flowing) this.finish(conn);
      else this.applyFlow(conn); // it read more (or is paused): wait for the next quiet spell
    });
  }

  /** The drain's last step for one connection: flush its framer and close it. */
  private finish(conn: Connection): void {
    if (conn.finished) return;
    this.flush(conn);
    conn.finished = true;
    conn.socket.destroy();
  }

  private async drainAndClose(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // What waiting and paused connections' senders sent is in the kernel: read it too.
    this.promote();
    for (const conn of [...this.paused]) {
      conn.pausedBackpressure = false;
      this.paused.delete(conn);
    }
    for (const conn of this.connections) this.applyFlow(conn);
    if (this.drainTimeoutMs > 0 && this.sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.drainTimeoutMs)))]);
      clearTimeout(timer);
    }
    // The deadline: whatever is still open is flushed and closed.
    const left = [...this.connections].filter((c) => !c.finished);
    for (const conn of left) this.finish(conn);
    for (const socket of this.sockets) socket.destroy(); // TLS handshakes that did not complete
    if (left.length > 0 && this.drainTimeoutMs > 0) {
      this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'drain_deadline' }, left.length);
      this.log.warn('stopping: connections still sending at the drain deadline were closed; their unread bytes are lost', {
        input: this.name,
        connections: left.length,
        drainTimeoutMs: this.drainTimeoutMs,
      });
    }
    await closed;
    this.server = undefined;
    this.stopping = false;
  }
}
