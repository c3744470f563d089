import dgram from 'node:dgram';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { workerEntry } from '../ops/worker-entry.js';
import type { InputLogger } from './input-deps.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { OVERSIZE, type ReaderCommand, type ReaderEvent, type ReaderWorkerData } from './udp-reader-protocol.js';
import { socketDescriptor } from './udp-socket-fd.js';
import { WritableWait } from './writable-wait.js';

/** Defaults of {@link SenderSocketsOptions}. */
const SENDER_SOCKETS_DEFAULTS = {
  promoteAfter: 256,
  maxSenders: 16,
  idleMs: 60_000,
  bufferBytes: 256 * 1024,
  buffers: 16,
} as const;

/** Senders counted per one-second window at most (a flood of spoofed sources costs no more memory). */
const MAX_COUNTED_SENDERS = 4096;

/** Kernel memory a 240-byte datagram takes in a loopback socket's receive buffer (measured). */
const KERNEL_BYTES_PER_DATAGRAM = 1152;

/** How the reader thread's sockets are made and where their datagrams go. */
export interface SenderSocketsOptions {
  /** The listening socket's type and bound address (the sender sockets bind the same). */
  type: 'udp4' | 'udp6';
  host: string;
  port: number;
  /** SO_RCVBUF for each sender socket (0 = the kernel default). */
  recvBufferSize: number;
  /** The receive buffer the kernel granted the listening socket, bytes (sets the reader's longest sleep). */
  grantedBufferBytes: number;
  maxFrameSize: number;
  /** A sender gets its own socket once it sent this many datagrams within a second. */
  promoteAfter?: number;
  /** Senders with their own socket at most; further ones stay on the listening socket. */
  maxSenders?: number;
  /** A sender socket that received nothing for this long is closed, ms. */
  idleMs?: number;
  /** Batch buffers of the reader thread: their size and count bound its memory. */
  bufferBytes?: number;
  buffers?: number;
  /** Canonical peer address text of a raw `rinfo.address`. */
  canonical(address: string): string;
  /**
   * Datagrams the reader thread read from one sender, in order; `frames` are views valid for the
   * call only. Returns false, having taken nothing, when the pipeline cannot take them now
   * (unless `force`: then what it cannot take is counted as dropped).
   */
  deliver(frames: Buffer[], peerAddress: string, peerPort: number, oversize: number, force: boolean): boolean;
  /** Call `listener` once when the pipeline can take datagrams again. */
  onWritable(listener: () => void): void;
  /** A datagram a sender socket read in the event loop (between its bind and its hand-over). */
  stray(msg: Buffer, rinfo: dgram.RemoteInfo): void;
  /** Called with the number of senders read by the thread, whenever it changes. */
  onCount?(senders: number): void;
  /**
   * Reads of a sender socket returned `count` errors it held for its sender (ICMP messages), the
   * last one `code`. The socket is still read: each read cleared its error.
   */
  onSocketError?(code: string, count: number): void;
  /** How long `stop()` waits for the thread to read what its sockets hold, ms (then it is terminated). */
  stopTimeoutMs?: number;
  /** Read the kernel's drop counts while the sockets still exist (before one is closed). */
  beforeClose?(): Promise<void>;
  log: InputLogger;
  /** Input name for logs. */
  name: string;
}

interface SenderSocket {
  id: number;
  key: string;
  socket: dgram.Socket;
  inode: number;
  recvStop: () => void;
  address: string;
  port: number;
  lastSeen: number;
  /** Set once the thread was told to let go of it. */
  removing: boolean;
  /** Set once the thread reads it. */
  added: boolean;
}

/**
 * Gives busy UDP senders a socket of their own, read by a reader thread (udp-reader-worker.ts).
 *
 * The listening socket is read in the event loop through `node:dgram`, whose per-datagram cost
 * was the ceiling of the UDP input (docs/performance.md, "UDP"). A sender that sends at least
 * `promoteAfter` datagrams in a second gets a socket bound to the same address and port and
 * `connect()`ed to it (both with SO_REUSEADDR, as rsyslog's imudp sets on its sockets): Linux
 * delivers a datagram to the connected socket that matches its source over the unconnected
 * listener, so from then on that sender's datagrams land there, and the thread reads them with
 * `read(2)`, which needs no source address because the socket has one sender. Datagrams already
 * queued on the listening socket are read there; the switch can reorder a few across it.
 *
 * Senders that come and go (`logger`, many hosts at low rates) stay on the listening socket;
 * sender sockets idle for `idleMs` are closed, at most `maxSenders` exist. When the descriptor
 * cannot be reached or the thread fails, everything stays on (or returns to) the listener.
 */
export class UdpSenderSockets {
  private readonly o: Required<Omit<SenderSocketsOptions, 'onCount' | 'onSocketError' | 'beforeClose' | 'stopTimeoutMs'>> & Pick<SenderSocketsOptions, 'onCount' | 'onSocketError' | 'beforeClose' | 'stopTimeoutMs'>;
  private readonly byId = new Map<number, SenderSocket>();
  private readonly byKey = new Map<string, SenderSocket>();
  /** Senders whose socket is being set up. */
  private readonly opening = new Set<string>();
  /** Datagrams per sender in the current one-second window. */
  private counts = new Map<string, number>();
  private windowStart = Date.now();
  private nextId = 1;
  private worker: Worker | undefined;
  private control: MessagePort | undefined;
  private wake: Int32Array | undefined;
  private stopped: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;
  private readonly frames: Buffer[] = [];
  /**
   * Batches not yet delivered, oldest first (the head maybe in part). While the pipeline is full
   * they wait here rather than be dropped: the thread, its buffers all here, stops reading, and
   * the burst waits in the kernel's buffer, which holds more than the pipeline's queue.
   */
  private readonly pending: Array<{ buf: ArrayBuffer; meta: Uint32Array; n: number; next: number; offset: number }> = [];
  /** While the pipeline refuses a batch: `pump` again once it drains. */
  private readonly wait: WritableWait;
  /** Senders closed while batches of theirs still wait in `pending` (cleared once it is empty). */
  private readonly retired = new Map<number, { address: string; port: number }>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** No more senders are moved (the thread failed, or the input is stopping). */
  private disabled = false;
  /** Set once the thread failed: the sockets are being closed. */
  private failure: Promise<void> | undefined;

  /** A peer (or a spoofer) can send ICMP errors at any rate. */
  private readonly errorLog: RateLimitedLog;

  constructor(options: SenderSocketsOptions) {
    this.o = { ...SENDER_SOCKETS_DEFAULTS, ...options };
    this.errorLog = new RateLimitedLog((m, f) => this.o.log.warn(m, f));
    this.wait = new WritableWait((listener) => this.o.onWritable(listener), () => this.pump(false));
  }

  /**
   * Start the reader thread now rather than at the first busy sender: booting it takes tens of
   * ms, in which a burst would be read in the event loop at the old cost.
   */
  start(): void {
    if (this.worker === undefined && !this.disabled) this.startWorker();
  }

  /** Senders read by the thread now. */
  private readByThread(): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.added) n++;
    return n;
  }

  /** Inodes of the sender sockets (their /proc/net/udp lines, for the kernel's drop counts). */
  inodes(): number[] {
    return [...this.byId.values()].map((s) => s.inode);
  }

  /**
   * Note `count` datagrams the event loop read from `address`:`port` (raw `rinfo` text); a
   * sender that reaches `promoteAfter` within a second is moved to its own socket.
   */
  note(address: string, port: number, count: number): void {
    if (this.disabled) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.counts.clear();
      this.windowStart = now;
    }
    const key = `${port} ${address}`;
    const before = this.counts.get(key);
    if (before === undefined && this.counts.size >= MAX_COUNTED_SENDERS) return;
    const seen = (before ?? 0) + count;
    this.counts.set(key, seen);
    if (seen < this.o.promoteAfter || this.byKey.has(key) || this.opening.has(key)) return;
    if (this.byId.size + this.opening.size >= this.o.maxSenders) return;
    this.counts.delete(key);
    this.open(key, address, port);
  }

  private open(key: string, address: string, port: number): void {
    this.opening.add(key);
    const { type, host, recvBufferSize } = this.o;
    const socket = dgram.createSocket({ type, reuseAddr: true, ...(recvBufferSize > 0 ? { recvBufferSize } : {}) });
    const fail = (why: string): void => {
      this.opening.delete(key);
      socket.close();
      this.o.log.warn('udp sender stays on the listening socket', { input: this.o.name, sender: `${address}:${port}`, reason: why });
    };
    socket.on('message', this.o.stray);
    socket.once('error', (err) => fail(err.message));
    socket.bind({ address: host, port: this.o.port }, () => {
      socket.connect(port, address, () => {
        if (this.disabled) return fail('the input is stopping');
        const d = socketDescriptor(socket);
        if (d === undefined) {
          this.disabled = true;
          return fail('this Node does not expose the socket descriptor');
        }
        this.opening.delete(key);
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.o.log.error('udp sender socket error', { input: this.o.name, sender: `${address}:${port}`, error: err.message }));
        // The event loop keeps reading it (into `stray`) until the thread has it: starting the
        // thread takes tens of ms, more than a small buffer holds at a high rate.
        const s: SenderSocket = { id: this.nextId++, key, socket, inode: d.inode, recvStop: d.recvStop, address: this.o.canonical(address), port, lastSeen: Date.now(), removing: false, added: false };
        this.byId.set(s.id, s);
        this.byKey.set(key, s);
        this.start();
        this.command({ op: 'add', id: s.id, fd: d.fd });
      });
    });
  }

  private command(c: ReaderCommand, transfer?: ArrayBuffer[]): void {
    if (this.worker === undefined) return; // stopped or failed: nothing reads the command
    this.control!.postMessage(c, transfer);
    // A returned buffer waits for the thread's next round (a thread out of buffers polls every
    // millisecond): waking it for each would cost a wake-up per batch.
    if (c.op === 'return') return;
    Atomics.add(this.wake!, 0, 1);
    Atomics.notify(this.wake!, 0);
  }

  private startWorker(): void {
    const { port1, port2 } = new MessageChannel();
    const wake = new SharedArrayBuffer(4);
    // The thread sleeps a quarter of the time the granted buffer holds at 200k/s (at most 20 ms).
    const holds = this.o.grantedBufferBytes / KERNEL_BYTES_PER_DATAGRAM / 200;
    const data: ReaderWorkerData = {
      control: port2,
      wake,
      maxFrameSize: this.o.maxFrameSize,
      bufferBytes: this.o.bufferBytes,
      buffers: this.o.buffers,
      sleepMs: Math.min(20, Math.max(0.2, holds / 4)),
    };
    const entry = workerEntry(import.meta.url, 'udp-reader-worker');
    const worker = new Worker(entry.url, { workerData: data, transferList: [port2], ...(entry.execArgv ? { execArgv: entry.execArgv } : {}), stdout: false });
    worker.on('message', (e: ReaderEvent) => this.onEvent(e));
    worker.on('error', (err) => this.failed(`reader thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      this.worker = undefined;
      this.onStopped?.();
      if (this.stopped === undefined && this.failure === undefined) this.failed(`reader thread exited (code ${code})`);
    });
    this.worker = worker;
    this.control = port1;
    this.wake = new Int32Array(wake);
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(250, Math.floor(this.o.idleMs / 4)));
    this.idleTimer.unref();
  }

  private onEvent(e: ReaderEvent): void {
    switch (e.op) {
      case 'batch':
        this.onBatch(e.buf, e.meta, e.n);
        return;
      case 'ready':
        this.o.log.info('udp reader thread started', { input: this.o.name, tid: e.tid });
        return;
      case 'added': {
        const s = this.byId.get(e.id);
        if (s === undefined) return;
        s.recvStop();
        s.added = true;
        this.o.onCount?.(this.readByThread());
        this.o.log.info('udp sender read by the reader thread', { input: this.o.name, sender: `${s.address}:${s.port}`, senders: this.readByThread() });
        return;
      }
      case 'removed':
        void this.close(e.id);
        return;
      case 'error': {
        const s = this.byId.get(e.id);
        this.o.onSocketError?.(e.code, e.count);
        this.errorLog.write('udp sender socket reported errors (ICMP messages for its sender); still read', { input: this.o.name, sender: s ? `${s.address}:${s.port}` : e.id, code: e.code, count: e.count });
        return;
      }
      case 'failed': {
        const s = this.byId.get(e.id);
        this.o.log.error('udp sender socket read failed; closed', { input: this.o.name, sender: s ? `${s.address}:${s.port}` : e.id, code: e.code, error: e.message });
        void this.close(e.id);
        return;
      }
      case 'stopped':
        this.onStopped?.();
        return;
    }
  }

  private onBatch(buf: ArrayBuffer, meta: Uint32Array, n: number): void {
    this.pending.push({ buf, meta, n, next: 0, offset: 0 });
    if (!this.wait.active) this.pump(false);
  }

  /** Deliver pending batches in order until the pipeline refuses one (or, with `force`, all of them). */
  private pump(force: boolean): void {
    const frames = this.frames;
    const now = Date.now();
    while (this.pending.length > 0) {
      const b = this.pending[0]!;
      const { meta, n, buf } = b;
      while (b.next < n) {
        const id = meta[b.next * 2]!;
        let oversize = 0;
        let offset = b.offset;
        let i = b.next;
        frames.length = 0;
        for (; i < n && meta[i * 2] === id; i++) {
          const length = meta[i * 2 + 1]!;
          if (length === OVERSIZE) {
            oversize++;
            continue;
          }
          frames.push(Buffer.from(buf, offset, length));
          offset += length;
        }
        const s = this.byId.get(id) ?? this.retired.get(id)!;
        const taken = this.o.deliver(frames, s.address, s.port, oversize, force);
        frames.length = 0;
        if (!taken) {
          this.wait.start();
          return;
        }
        if ('lastSeen' in s) s.lastSeen = now;
        b.next = i;
        b.offset = offset;
      }
      this.pending.shift();
      // Copied out by `deliver`: the buffer goes back to the thread.
      this.command({ op: 'return', buf }, [buf]);
    }
    this.retired.clear();
  }

  private closeIdle(): void {
    // A sender whose batches wait for the pipeline is not idle.
    if (this.pending.length > 0) return;
    const before = Date.now() - this.o.idleMs;
    for (const s of this.byId.values()) {
      if (s.removing || s.lastSeen > before) continue;
      s.removing = true;
      this.command({ op: 'remove', id: s.id });
    }
  }

  private async close(id: number): Promise<void> {
    const s = this.byId.get(id);
    if (s === undefined) return;
    await this.o.beforeClose?.();
    this.byId.delete(id);
    this.byKey.delete(s.key);
    if (this.pending.length > 0) this.retired.set(id, { address: s.address, port: s.port });
    this.o.onCount?.(this.readByThread());
    await new Promise<void>((resolve) => s.socket.close(() => resolve()));
  }

  private failed(why: string): void {
    if (this.failure !== undefined) return;
    this.disabled = true;
    this.o.log.error('udp reader thread stopped; every sender is read on the listening socket again', { input: this.o.name, error: why });
    // The thread must be gone before a descriptor it reads is closed (and its number reused).
    this.failure = this.closeAll();
  }

  /**
   * Stop moving senders, let the thread read what the sender sockets hold (delivered before
   * this resolves) and exit. The sockets stay open for a last drop count: `close()` them after.
   */
  stop(): Promise<void> {
    this.disabled = true;
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    this.stopped ??= this.worker === undefined
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => void this.worker?.terminate(), this.o.stopTimeoutMs ?? 2000);
          this.onStopped = () => {
            clearTimeout(timer);
            this.onStopped = undefined;
            resolve();
          };
          this.command({ op: 'stop' });
        });
    return this.stopped;
  }

  /** Close every sender socket (after `stop()`); what still waits for the pipeline is counted as dropped. */
  async closeAll(): Promise<void> {
    this.wait.cancel();
    this.pump(true);
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    const all = [...this.byId.values()];
    this.retired.clear();
    this.byId.clear();
    this.byKey.clear();
    this.o.onCount?.(0);
    await Promise.all(all.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
  }
}
