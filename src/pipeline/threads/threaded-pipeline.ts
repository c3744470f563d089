import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Counter } from 'prom-client';
import type { OutputSpec, ParserSpec } from '../../config/service-config.js';
import type { FrameSpans } from '../../framing/framer.js';
import type { ReceiveContext } from '../../mapping/record.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { FrameSink } from '../frame-sink.js';
import type { PipelineConfig } from '../pipeline-config.js';
import type { PipelineShutdownResult } from '../pipeline.js';
import { compareSpoolRefs, type Spool, type SpoolRef } from '../spool/spool.js';
import type { SpoolBatch, SpoolBatchBuilder } from '../spool/spool-record.js';
import { releaseNow } from '../../framing/owned-bytes.js';
import { pipelineWorkerEntry, type WorkerEntry } from './worker-entry.js';
import type { FromWorker, HealthEvent, MetricDelta, ToWorker, WorkerSettings } from './worker-protocol.js';

/** Where export outcomes reported by the workers go (the service's `HealthTracker`). */
export interface ExportOutcomeListener {
  exportSucceeded(output: string): void;
  exportFailed(output: string, error: unknown): void;
}

/** What `ThreadedPipeline` needs. */
export interface ThreadedPipelineOptions {
  /** Worker threads (>= 1). */
  threads: number;
  parser: ParserSpec;
  outputs: OutputSpec[];
  /** Resolved pipeline settings: the bound (maxRecords/maxBytes count frames and raw bytes), batching, retries. */
  pipeline: PipelineConfig;
  /** The service's metrics: worker deltas are applied here, so /metrics stays the single source. */
  metrics: Metrics;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  health?: ExportOutcomeListener;
  /** How often workers report metric deltas (ms, default 250). */
  metricsIntervalMs?: number;
  /** The worker script (default: `pipelineWorkerEntry()`). */
  workerEntry?: WorkerEntry;
  /** False keeps the record path where the direct OTLP path would apply (see pipeline-worker.ts). */
  directPath?: boolean;
  /**
   * The persistent spool (owned by the caller, shared across reloads): every batch is written
   * to it when cut and acknowledged in it once the worker has delivered it; see `ThreadedPipeline`.
   */
  spool?: Spool;
  /**
   * Called, in the order batches are acknowledged, with the receive contexts of each batch every
   * output has delivered (or given up for a counted reason). The one acknowledgement inputs with
   * a durable source of their own (a file offset, a kmsg sequence number carried in their
   * context) advance their checkpoints on; the spool's acknowledgement is the same event.
   * `frames[i]` is the number of frames of the batch received with `ctxs[i]` (a context can
   * be split across batches). Batches whose contexts carry `source` skip the spool (their input
   * re-reads its durable source from the checkpoint instead); when a worker crash loses one,
   * its frames are counted (`worker_crash`) and reported here too, so the checkpoint moves on.
   */
  onAcknowledged?: (ctxs: readonly ReceiveContext[], frames: readonly number[]) => void;
}

/** What `ThreadedPipeline.shutdown()` reports, beyond delivered/undelivered. */
export interface ThreadedShutdownResult extends PipelineShutdownResult {
  /** Batches still in the spool (not acknowledged), oldest first: the next pipeline or the next start sends them. */
  spooled: SpoolRef[];
}

/** Resolve `pipeline.threads`: `auto` = the CPUs this process may use. */
export function resolveThreadCount(threads: number | 'auto'): number {
  return threads === 'auto' ? Math.max(1, availableParallelism()) : threads;
}

/** A batch posted to a worker and not yet reported done. */
interface Posted {
  frames: number;
  bytes: number;
  /** Where its frames are in the spool (one record per stream read), oldest first; empty when not spooled. */
  refs: readonly SpoolRef[];
  /** Frames of it that are in memory only (not spooled, or a spool write failed). */
  unspooled: number;
  /** Its receive contexts (for `onAcknowledged`). */
  ctxs: readonly ReceiveContext[];
  /** Frames of the batch received with each of `ctxs`. */
  ctxFrames: readonly number[];
}

/**
 * A batch not yet posted. `msg` is undefined while it is only on disk (the spool holds it and
 * memory does not): it is read back when a worker has room.
 */
interface Packed {
  msg: Extract<ToWorker, { t: 'batch' }> | undefined;
  frames: number;
  bytes: number;
  /** Where its frames are in the spool, oldest first (see `Posted.refs`). */
  refs: SpoolRef[];
  /** Frames of it in memory only: such a batch is never parked. */
  unspooled: number;
}

/** After a failed spool write, intake stays paused this long before the next write is tried. */
const SPOOL_RETRY_MS = 1_000;

interface Slot {
  index: number;
  worker: Worker | undefined;
  /** Batches posted, oldest first; the worker reports them done in this order. */
  posted: Posted[];
  outstandingFrames: number;
  /** Asked to shut down; an exit now is not a crash. */
  stopping: boolean;
  stopped: { delivered: number; undelivered: number } | undefined;
  /** Spooled batches the worker had not delivered when it stopped. */
  leftover: SpoolRef[];
  onStopped: (() => void) | undefined;
  /** Consecutive crashes soon after start: the restart delay grows with them. */
  crashes: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Resolves when the current worker has exited. */
  exited: Promise<void>;
}

const MIN_BATCH_BYTES = 64 * 1024;
/** Returned batch buffers kept for reuse, at most this many and this many bytes together. */
const MAX_SPARE_BATCH_BUFFERS = 8;
const MAX_SPARE_BATCH_BYTES = 4 * 1024 * 1024;
/** See `ThreadedPipeline.frameBatchBytes`. */
const FRAME_BATCH_MAX_BYTES = 1024 * 1024;
/** V8 young-generation size of each worker thread (see `spawn`). */
const WORKER_YOUNG_GENERATION_MB = 12;
/** A worker that crashes within this time of its start counts as crash-looping. */
const CRASH_LOOP_MS = 10_000;
const MAX_RESTART_DELAY_MS = 10_000;
/** After `stopped`, how long a worker gets to exit on its own before it is terminated. */
const EXIT_GRACE_MS = 300;
/** Beyond the shutdown deadline, how long to wait for a worker's answer before giving up on it. */
const SHUTDOWN_SLACK_MS = 3_000;

/** Frames per context of a batch, from where each context's frames begin. */
function ctxFrameCounts(ctxFirst: readonly number[], count: number): number[] {
  const out = new Array<number>(ctxFirst.length);
  for (let i = 0; i < ctxFirst.length; i++) out[i] = (i + 1 < ctxFirst.length ? (ctxFirst[i + 1] as number) : count) - (ctxFirst[i] as number);
  return out;
}

/**
 * A batch buffer: its own ArrayBuffer (transferable, unlike Buffer's pool), not zero-filled,
 * since every byte a worker reads is written first (zeroing ~300 KB per batch showed in profiles).
 */
function batchBuffer(size: number): Uint8Array {
  return Buffer.allocUnsafeSlow(size);
}

/**
 * The main-thread half of the threaded pipeline (a `FrameSink`). Inputs hand it the raw
 * frames of each socket read; it packs them into a batch (one growable buffer of bytes,
 * the end offset of every frame, and a small table of receive contexts, one per read) and
 * posts the batch with its buffers transferred, not cloned, to the least-loaded worker
 * once it holds `batchSize` frames or after `lingerMs`. Each worker parses, encodes and
 * exports through its own record `Pipeline`.
 *
 * The one bound: frames and bytes posted but not yet reported done by a worker, plus the
 * pending batch, against `maxRecords` / `maxBytes`, with the record pipeline's high/low
 * water semantics (`offerFrames()` false at the high mark, `onDrain` at the low mark,
 * refusal beyond `hardLimitFactor`). It holds raw bytes, not record objects.
 *
 * With the spool (`spool`), every batch is appended to it when cut, before anything else
 * happens to it, and acknowledged there when its worker reports it done (delivered to every
 * output, or given up for a counted reason). The bound then changes meaning: intake is paused
 * only when the spool is full (or cannot be written); `maxRecords` / `maxBytes` bound what is
 * in memory, in flight to the workers, and batches beyond it wait on disk only, to be read
 * back in order when the workers have room. Batches found in the spool at start-up, and
 * those a replaced pipeline left, are handed over with `adopt()` and go first.
 *
 * A worker that dies is logged and restarted (with a growing delay if it keeps crashing).
 * Its in-flight batches are sent again from the spool; without one they are counted in
 * `dropped{reason="worker_crash"}` (their bytes were transferred, so they cannot be sent again).
 */
export class ThreadedPipeline implements FrameSink {
  readonly config: PipelineConfig;
  private readonly opts: ThreadedPipelineOptions;
  private readonly entry: WorkerEntry;
  private readonly slots: Slot[] = [];
  private settings: Omit<WorkerSettings, 'index'>;
  // The pending batch.
  private buf: Uint8Array;
  private ends: Uint32Array;
  private count = 0;
  private used = 0;
  private ctxs: ReceiveContext[] = [];
  private ctxFirst: number[] = [];
  private lastCtx: ReceiveContext | undefined;
  /** The pending batch holds frames of source inputs (`ctx.source`): it skips the spool. */
  private pendingSourced = false;
  /** Spool records of the pending batch's frames `0 .. spooledUpTo`. */
  private pendingRefs: SpoolRef[] = [];
  private spooledUpTo = 0;
  /** Frames of the pending batch whose spool write failed (kept in memory only). */
  private pendingUnspooled = 0;
  /** Scratch for the rebased frame ends of a spool record that starts mid-batch. */
  private readonly rangeEnds: Uint32Array;
  private lingerTimer: NodeJS.Timeout | undefined;
  private backlog: Packed[] = [];
  /** Batch buffers the workers gave back (see `free` in worker-protocol.ts). */
  private readonly spareBytes: ArrayBuffer[] = [];
  private readonly spareEnds: ArrayBuffer[] = [];
  private spareByteCount = 0;
  /**
   * Raw bytes at which a frame batch is cut: `batch.maxBytes`, at most FRAME_BATCH_MAX_BYTES.
   * A worker encodes a whole batch into one chunk before its export batches take it apart, so
   * multi-MiB batches of long lines grow every worker's encoder buffers (30-40 MiB more peak RSS
   * in the overload shapes); a batch of 1,024 typical lines is ~250 KB and never reaches it.
   */
  private readonly frameBatchBytes: number;
  /**
   * With the spool, what may be in flight to the workers: maxRecords / maxBytes less one pending
   * batch, so what is in memory (`queue_records`) never exceeds maxRecords.
   */
  private readonly inFlightMaxFrames: number;
  private readonly inFlightMaxBytes: number;
  // The bound.
  private frames = 0;
  private bytes = 0;
  private readonly hardFrames: number;
  private readonly hardBytes: number;
  private drainListeners: Array<() => void> = [];
  private readonly spool: Spool | undefined;
  /** Frames and bytes posted to workers and not reported done (with the spool, the memory bound applies to these). */
  private inFlightFrames = 0;
  private inFlightBytes = 0;
  /** After a failed spool write: intake is paused until then (ms since the epoch). */
  private spoolRetryAt = 0;
  private spoolRetryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** At shutdown, after the backlog was given its chance: nothing more is posted. */
  private dispatchClosed = false;
  private backlogEmptied: (() => void) | undefined;
  /** The worker the previous batch went to (see `dispatch`). */
  private lastSlot: Slot | undefined;
  private shutdownPromise: Promise<ThreadedShutdownResult> | undefined;
  private readyPromise: Promise<void>;
  private readonly crashDropped;
  private readonly refusedDropped;
  private readonly shutdownDropped;

  constructor(opts: ThreadedPipelineOptions) {
    if (!(opts.threads >= 1)) throw new Error(`threads must be >= 1 (got ${opts.threads})`);
    this.opts = opts;
    this.config = opts.pipeline;
    this.entry = opts.workerEntry ?? pipelineWorkerEntry();
    const p = opts.pipeline;
    this.hardFrames = Math.floor(p.maxRecords * p.hardLimitFactor);
    this.hardBytes = p.maxBytes * p.hardLimitFactor;
    this.spool = opts.spool;
    this.settings = {
      parser: opts.parser,
      outputs: opts.outputs,
      // The worker's queue never refuses: the bound is kept here, in frames and raw bytes.
      pipeline: { ...p, maxRecords: Math.max(p.batchSize, this.hardFrames + p.batchSize), maxBytes: Number.MAX_SAFE_INTEGER },
      metricsIntervalMs: opts.metricsIntervalMs ?? 250,
      ...(opts.directPath !== undefined ? { directPath: opts.directPath } : {}),
      ...(opts.spool !== undefined ? { spooled: true } : {}),
    };
    this.crashDropped = opts.metrics.dropped.labels('worker_crash');
    this.refusedDropped = opts.metrics.dropped.labels('queue_full');
    this.shutdownDropped = opts.metrics.dropped.labels('shutdown');
    this.buf = batchBuffer(MIN_BATCH_BYTES);
    this.ends = new Uint32Array(p.batchSize);
    this.rangeEnds = new Uint32Array(p.batchSize);
    this.frameBatchBytes = Math.min(p.batchMaxBytes, FRAME_BATCH_MAX_BYTES);
    this.inFlightMaxFrames = Math.max(p.batchSize, p.maxRecords - p.batchSize);
    this.inFlightMaxBytes = Math.max(this.frameBatchBytes, p.maxBytes - this.frameBatchBytes);
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < opts.threads; i++) {
      const slot: Slot = {
        index: i,
        worker: undefined,
        posted: [],
        outstandingFrames: 0,
        stopping: false,
        stopped: undefined,
        leftover: [],
        onStopped: undefined,
        crashes: 0,
        startedAt: 0,
        restartTimer: undefined,
        exited: Promise.resolve(),
      };
      this.slots.push(slot);
      ready.push(this.spawn(slot));
    }
    this.readyPromise = Promise.all(ready).then(() => undefined);
    // Callers that never await ready() must not see an unhandled rejection; the crash is logged anyway.
    this.readyPromise.catch(() => {});
  }

  /** Resolves once every worker has built its outputs; rejects if one failed to start. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Number of worker threads. */
  get threads(): number {
    return this.slots.length;
  }

  /** True while the bound is below both high-water marks (with the spool: while it has room and can be written) and not shut down. */
  get writable(): boolean {
    if (this.closed) return false;
    if (this.spool !== undefined) return !this.spool.full && this.spoolRetryAt === 0;
    return this.frames < this.config.maxRecords && this.bytes < this.config.maxBytes;
  }

  /** Why `writable` is false, for the inputs that count what they cannot offer (UDP). */
  get refusalReason(): 'queue_full' | 'spool_full' {
    return this.spool !== undefined && !this.closed ? 'spool_full' : 'queue_full';
  }

  /**
   * Send these spooled batches (from an earlier run, or left by a replaced pipeline) before
   * anything not yet sent; they are read back from disk as the workers have room.
   */
  adopt(refs: readonly SpoolRef[]): void {
    if (refs.length === 0) return;
    this.backlog.unshift(...this.coalesce(refs));
    this.flushBacklog();
  }

  /** Frames accepted and not yet delivered (pending batch + posted): what `/metrics` shows as queue depth. */
  get queuedRecords(): number {
    return this.frames;
  }

  /** Raw bytes of those frames. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /**
   * Copy the frames of one read into the pending batch (see `FrameSink`). Returns false at or
   * over the high-water mark; frames beyond the hard limit are refused and counted
   * (`queue_full`); after shutdown everything is refused (`shutdown`).
   */
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    const n = frames.length;
    if (this.closed) {
      if (n > 0) this.shutdownDropped.inc(n);
      return false;
    }
    let accepted = 0;
    while (accepted < n && this.append(frames[accepted] as Buffer, ctx)) accepted++;
    return this.offered(n - accepted, ctx);
  }

  /** `offerFrames` for frames given as offsets into one chunk (see `FrameSink.offerSpans`). */
  offerSpans(spans: FrameSpans, ctx: ReceiveContext): boolean {
    const n = spans.frames;
    if (this.closed) {
      if (n > 0) this.shutdownDropped.inc(n);
      return false;
    }
    let accepted = 0;
    if (spans.head !== undefined) {
      if (!this.append(spans.head, ctx)) return this.offered(n, ctx);
      accepted = 1;
    }
    const { chunk, offsets, count } = spans;
    if (this.frames + count <= this.hardFrames && this.bytes + spans.bytes <= this.hardBytes) {
      // All of them fit under the hard limits (the usual case): no check per frame, and
      // they are copied in runs that each fill the batch at most.
      const batchSize = this.config.batchSize;
      for (let i = 0; i < count; ) {
        const end = Math.min(count, i + batchSize - this.count);
        this.appendRun(chunk, offsets, i, end, ctx);
        i = end;
        if (this.count >= batchSize || this.used >= this.frameBatchBytes) this.cut(false);
      }
      accepted += count;
    } else {
      for (let i = 0; i < count; i++, accepted++) {
        if (!this.append(chunk.subarray(offsets[2 * i], offsets[2 * i + 1]), ctx)) break;
      }
    }
    return this.offered(n - accepted, ctx);
  }

  /** Call `listener` once, when the bound is next at or below its low-water mark (soon, if it already is). */
  onDrain(listener: () => void): void {
    if (!this.closed && this.belowLowWater()) {
      queueMicrotask(listener);
      return;
    }
    this.drainListeners.push(listener);
  }

  /** New parser options for every worker; frames already accepted are parsed with the old ones. */
  setParser(parser: ParserSpec): void {
    this.cut(true);
    this.settings = { ...this.settings, parser };
    for (const slot of this.slots) slot.worker?.postMessage({ t: 'parser', parser } satisfies ToWorker);
  }

  /**
   * Stop taking frames, post the pending batch, and have every worker drain its pipeline
   * and shut its outputs down within `deadlineMs` (default `config.shutdownDeadlineMs`).
   * Sums the workers' `{delivered, undelivered}`; frames no worker could take are
   * undelivered too (counted `shutdown_deadline`). Idempotent.
   */
  shutdown(deadlineMs: number = this.config.shutdownDeadlineMs): Promise<ThreadedShutdownResult> {
    this.shutdownPromise ??= this.doShutdown(deadlineMs);
    return this.shutdownPromise;
  }

  /**
   * For tests and diagnostics: terminate worker `index` as if it had crashed (it is
   * restarted, its in-flight frames are counted as `worker_crash`).
   */
  async crashWorkerForTest(index: number): Promise<void> {
    await this.slots[index]?.worker?.terminate();
  }

  private async doShutdown(deadlineMs: number): Promise<ThreadedShutdownResult> {
    const started = Date.now();
    this.cut(true);
    this.closed = true;
    this.drainListeners = [];
    if (this.spoolRetryTimer !== undefined) clearTimeout(this.spoolRetryTimer);
    // Batches waiting on disk for room in flight are still sent, until the deadline; only then
    // are the workers told to finish what they hold.
    if (this.backlog.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.backlogEmptied = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
      this.backlogEmptied = undefined;
    }
    this.dispatchClosed = true;
    let delivered = 0;
    let undelivered = 0;
    const spooled: SpoolRef[] = [];
    const answers = this.slots.map(async (slot) => {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      slot.stopping = true;
      const worker = slot.worker;
      if (worker === undefined) return;
      const left = Math.max(0, deadlineMs - (Date.now() - started));
      const answered = new Promise<void>((resolve) => (slot.onStopped = resolve));
      worker.postMessage({ t: 'shutdown', deadlineMs: left } satisfies ToWorker);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, left + SHUTDOWN_SLACK_MS)));
      await Promise.race([answered, late]);
      clearTimeout(timer);
      if (slot.stopped) {
        delivered += slot.stopped.delivered;
        // With the spool, what the worker could not deliver is still on disk, not lost.
        if (this.spool === undefined) undelivered += slot.stopped.undelivered;
        spooled.push(...slot.leftover);
      } else {
        // No answer (hung or died): whatever it still held is lost.
        this.opts.logger?.error('a pipeline worker thread did not finish its shutdown; terminating it', { thread: slot.index, inFlight: slot.outstandingFrames });
        let lost = 0;
        for (const b of this.release(slot, slot.posted.length, false)) {
          spooled.push(...b.refs);
          lost += b.unspooled;
        }
        if (lost > 0) this.opts.metrics.dropped.inc({ reason: 'shutdown_deadline' }, lost);
        undelivered += lost;
      }
      await this.waitExit(worker, slot.exited);
    });
    await Promise.all(answers);
    // Batches no worker could take (every worker was restarting, or they waited on disk).
    let lost = 0;
    for (const b of this.backlog) {
      spooled.push(...b.refs);
      lost += b.unspooled;
      if (b.msg !== undefined) {
        this.frames -= b.frames;
        this.bytes -= b.bytes;
      }
    }
    if (lost > 0) this.opts.metrics.dropped.inc({ reason: 'shutdown_deadline' }, lost);
    undelivered += lost;
    this.backlog = [];
    this.gauges();
    spooled.sort(compareSpoolRefs);
    return { delivered, undelivered, spooled };
  }

  private async waitExit(worker: Worker, exited: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
    if ((await Promise.race([exited, grace])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  private belowLowWater(): boolean {
    const f = this.config.lowWaterFraction;
    if (this.spool !== undefined) return this.spoolRetryAt === 0 && this.spool.bytes <= this.spool.config.maxBytes * f;
    return this.frames <= this.config.maxRecords * f && this.bytes <= this.config.maxBytes * f;
  }

  private gauges(): void {
    this.opts.metrics.queueRecords.set(this.frames);
    this.opts.metrics.queueBytes.set(this.bytes);
  }

  /**
   * Add one frame to the pending batch; false (nothing taken) when the hard limit refuses it.
   * Cuts the batch when it is full.
   */
  private append(frame: Uint8Array, ctx: ReceiveContext): boolean {
    const len = frame.length;
    // An oversized lone frame is still taken when nothing is queued, or it could never pass.
    // A source input's frames are never refused: they would be lost with their acknowledgement
    // outstanding (a stalled checkpoint); those inputs bound themselves (`maxInFlight`) and pause at `false`.
    if (ctx.source === undefined && (this.frames >= this.hardFrames || (this.bytes + len > this.hardBytes && this.frames > 0))) return false;
    if (this.lastCtx !== ctx || this.count === 0) this.addCtx(ctx);
    if (this.used + len > this.buf.length) this.grow(len);
    this.buf.set(frame, this.used);
    this.used += len;
    this.ends[this.count++] = this.used;
    this.frames++;
    this.bytes += len;
    if (this.count >= this.config.batchSize || this.used >= this.frameBatchBytes) this.cut(false);
    return true;
  }

  /**
   * Add frames `from .. to` of `offsets` (start/end pairs into `chunk`) to the pending batch,
   * which has room for them; the caller has checked the hard limits.
   */
  private appendRun(chunk: Buffer, offsets: Uint32Array, from: number, to: number, ctx: ReceiveContext): void {
    if (this.lastCtx !== ctx || this.count === 0) this.addCtx(ctx);
    const first = offsets[2 * from] as number;
    const last = offsets[2 * to - 1] as number;
    const start = this.used;
    if (start + (last - first) > this.buf.length) this.grow(last - first);
    const buf = this.buf;
    const ends = this.ends;
    // One copy of the whole run, delimiters included, then each frame moved down over the
    // gaps: far cheaper than a view and a copy per frame.
    buf.set(new Uint8Array(chunk.buffer, chunk.byteOffset + first, last - first), start);
    let used = start;
    let count = this.count;
    for (let i = 2 * from, stop = 2 * to; i < stop; i += 2) {
      const s = offsets[i] as number;
      const len = (offsets[i + 1] as number) - s;
      const src = start + (s - first);
      if (src !== used) buf.copyWithin(used, src, src + len);
      used += len;
      ends[count++] = used;
    }
    this.frames += count - this.count;
    this.bytes += used - start;
    this.count = count;
    this.used = used;
  }

  /** Frames from the current one on were received with `ctx`. */
  private addCtx(ctx: ReceiveContext): void {
    // A batch is all spooled or all from source inputs: cut where the two meet.
    const sourced = ctx.source !== undefined;
    if (sourced !== this.pendingSourced) {
      if (this.count > 0) this.cut(false);
      this.pendingSourced = sourced;
    }
    this.ctxFirst.push(this.count);
    this.ctxs.push(ctx);
    this.lastCtx = ctx;
  }

  /** End of an offer: count what was refused, arm the linger timer (or spool now), answer the high-water flag. */
  private offered(refused: number, ctx: ReceiveContext): boolean {
    if (refused > 0) this.refusedDropped.inc(refused);
    // With the spool, what a stream read brought is on disk before the next read: a SIGKILL then
    // loses no frame that was read. The batch itself still fills up (or lingers) before it is
    // posted, so the workers get full batches whatever the reads were. UDP has no such promise
    // to keep, and one record per datagram would cost too much: it is spooled when cut. Source
    // inputs have their own durable source: their batches are not spooled.
    if (this.spool !== undefined && this.count > this.spooledUpTo && ctx.transport !== 'udp' && ctx.source === undefined) this.spoolPending();
    if (this.count > 0 && this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.cut(true);
      }, this.config.lingerMs);
      this.lingerTimer.unref();
    }
    this.gauges();
    return this.writable;
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.used + need) size *= 2;
    const next = batchBuffer(size);
    next.set(this.buf.subarray(0, this.used));
    // Ours alone (not posted yet): freed now, not at a collection.
    releaseNow(this.buf);
    this.buf = next;
  }

  /** Post the pending batch (if any) and start a fresh one. */
  private cut(urgent: boolean): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.count === 0) return;
    const count = this.count;
    const bytes = this.used;
    // Size the next buffer after this one, so a steady stream rarely grows it.
    const nextSize = Math.max(MIN_BATCH_BYTES, bytes + (bytes >> 2));
    if (this.spool !== undefined && !this.pendingSourced) this.spoolPending();
    else this.pendingUnspooled = count;
    const packed: Packed = {
      msg: { t: 'batch', bytes: this.buf.buffer as ArrayBuffer, ends: this.ends.buffer as ArrayBuffer, count, ctxs: this.ctxs, ctxFirst: this.ctxFirst, urgent },
      frames: count,
      bytes,
      refs: this.pendingRefs,
      unspooled: this.pendingUnspooled,
    };
    this.buf = this.reuseBytes(nextSize);
    this.ends = this.reuseEnds();
    this.count = 0;
    this.used = 0;
    this.ctxs = [];
    this.ctxFirst = [];
    this.lastCtx = undefined;
    this.pendingRefs = [];
    this.spooledUpTo = 0;
    this.pendingUnspooled = 0;
    if (this.backlog.length === 0 && this.hasRoom(packed) && this.dispatch(packed)) return;
    if (packed.unspooled === 0) this.park(packed);
    this.backlog.push(packed);
  }

  /**
   * Write the pending batch's frames not yet spooled as one spool record. When the write fails
   * they stay in memory only and intake is paused for a while (see `spoolWriteFailed`).
   */
  private spoolPending(): void {
    const from = this.spooledUpTo;
    const count = this.count - from;
    if (count === 0) return;
    this.spooledUpTo = this.count;
    let batch: SpoolBatch;
    if (from === 0) {
      batch = { bytes: this.buf, ends: this.ends, count, ctxs: this.ctxs, ctxFirst: this.ctxFirst };
    } else {
      // Frames `from ..`: their bytes from where frame `from` starts, their ends rebased to
      // it, and the contexts from the one frame `from` was received with.
      const base = this.ends[from - 1] as number;
      const ends = this.rangeEnds;
      for (let i = 0; i < count; i++) ends[i] = (this.ends[from + i] as number) - base;
      let k = this.ctxFirst.length - 1;
      while (k > 0 && (this.ctxFirst[k] as number) > from) k--;
      const ctxFirst = this.ctxFirst.slice(k);
      for (let i = 0; i < ctxFirst.length; i++) ctxFirst[i] = Math.max(0, (ctxFirst[i] as number) - from);
      batch = { bytes: this.buf.subarray(base), ends, count, ctxs: this.ctxs.slice(k), ctxFirst };
    }
    try {
      this.pendingRefs.push(this.spool!.append(batch));
    } catch (err) {
      this.pendingUnspooled += count;
      this.spoolWriteFailed(err);
    }
  }

  /** A spool write failed: intake is paused until SPOOL_RETRY_MS have passed. */
  private spoolWriteFailed(err: unknown): void {
    // A full or failing disk pauses intake instead of crashing: these frames stay in memory
    // only, and the next write is tried after SPOOL_RETRY_MS (logged and counted by the spool's observer).
    this.spoolRetryAt = Date.now() + SPOOL_RETRY_MS;
    this.opts.logger?.error('the spool could not be written; intake is paused until a write succeeds (the batch is kept in memory)', {
      directory: this.spool!.config.directory,
      error: err instanceof Error ? err.message : String(err),
      retryInMs: SPOOL_RETRY_MS,
    });
    this.spoolRetryTimer ??= setTimeout(() => {
      this.spoolRetryTimer = undefined;
      this.spoolRetryAt = 0;
      this.wakeDrainListeners();
    }, SPOOL_RETRY_MS);
    this.spoolRetryTimer.unref();
  }

  /**
   * Without the spool every batch is posted at once (the bound is on intake); with it, only
   * while `packed` fits in the in-flight bound (a lone batch always does, or it could never pass).
   */
  private hasRoom(packed: Packed): boolean {
    if (this.spool === undefined || this.inFlightFrames === 0) return true;
    return this.inFlightFrames + packed.frames <= this.inFlightMaxFrames && this.inFlightBytes + packed.bytes <= this.inFlightMaxBytes;
  }

  /** Keep a batch that is all spooled on disk only: its memory goes back to the buffer pool. */
  private park(packed: Packed): void {
    const msg = packed.msg;
    if (msg === undefined) return;
    packed.msg = undefined;
    this.frames -= packed.frames;
    this.bytes -= packed.bytes;
    this.keepSpare(msg.bytes, msg.ends);
  }

  /**
   * Read a parked batch back from the spool: its records, one per stream read, into one batch.
   * A record that cannot be read is counted lost (`spool_unreadable`) and acknowledged; false
   * when none could be read.
   */
  private unpark(packed: Packed, urgent: boolean): boolean {
    const into: SpoolBatchBuilder = {
      bytes: this.reuseBytes(Math.max(packed.bytes, 1)),
      ends: packed.frames <= this.config.batchSize ? this.reuseEnds() : new Uint32Array(packed.frames),
      count: 0,
      used: 0,
      ctxs: [],
      ctxFirst: [],
    };
    const readable: SpoolRef[] = [];
    for (const ref of packed.refs) {
      try {
        this.spool!.readInto(ref, into);
        readable.push(ref);
      } catch (err) {
        this.opts.logger?.error('a spooled batch could not be read back; its records are lost (dropped{reason="spool_unreadable"})', {
          error: err instanceof Error ? err.message : String(err),
          records: ref.frames,
        });
        this.opts.metrics.dropped.inc({ reason: 'spool_unreadable' }, ref.frames);
        this.spool!.ack(ref);
      }
    }
    packed.refs = readable;
    packed.frames = into.count;
    packed.bytes = into.used;
    if (into.count === 0) return false;
    packed.msg = {
      t: 'batch',
      bytes: into.bytes.buffer as ArrayBuffer,
      ends: into.ends.buffer as ArrayBuffer,
      count: into.count,
      ctxs: into.ctxs,
      ctxFirst: into.ctxFirst,
      // Not urgent while more wait behind it: the worker fills its export batches.
      urgent,
    };
    this.frames += packed.frames;
    this.bytes += packed.bytes;
    return true;
  }

  /** Parked batches of `refs` (spool order): consecutive records joined up to a batch's size. */
  private coalesce(refs: readonly SpoolRef[]): Packed[] {
    const out: Packed[] = [];
    let cur: Packed | undefined;
    for (const ref of refs) {
      if (cur === undefined || cur.frames + ref.frames > this.config.batchSize || cur.bytes + ref.bytes > this.frameBatchBytes) {
        cur = { msg: undefined, frames: 0, bytes: 0, refs: [], unspooled: 0 };
        out.push(cur);
      }
      cur.refs.push(ref);
      cur.frames += ref.frames;
      cur.bytes += ref.bytes;
    }
    return out;
  }

  /** A batch buffer of at least `size` bytes: one a worker gave back (the smallest that fits), or a new one. */
  private reuseBytes(size: number): Uint8Array {
    const spares = this.spareBytes;
    let best = -1;
    for (let i = 0; i < spares.length; i++) {
      const n = (spares[i] as ArrayBuffer).byteLength;
      if (n >= size && (best < 0 || n < (spares[best] as ArrayBuffer).byteLength)) best = i;
    }
    if (best < 0) return batchBuffer(size);
    const ab = spares[best] as ArrayBuffer;
    spares.splice(best, 1);
    this.spareByteCount -= ab.byteLength;
    return new Uint8Array(ab);
  }

  /**
   * Keep a batch's buffers for reuse, within MAX_SPARE_BATCH_BUFFERS / MAX_SPARE_BATCH_BYTES;
   * the rest is freed at once (long lines make multi-MiB batches, and eight of those kept
   * here, or left for a full collection, showed in the overload shapes' peak RSS).
   */
  private keepSpare(bytes: ArrayBuffer, ends: ArrayBuffer): void {
    if (this.spareBytes.length < MAX_SPARE_BATCH_BUFFERS && this.spareByteCount + bytes.byteLength <= MAX_SPARE_BATCH_BYTES) {
      this.spareBytes.push(bytes);
      this.spareByteCount += bytes.byteLength;
    } else {
      releaseNow(new Uint8Array(bytes));
    }
    if (this.spareEnds.length < MAX_SPARE_BATCH_BUFFERS && ends.byteLength === this.config.batchSize * 4) this.spareEnds.push(ends);
  }

  private reuseEnds(): Uint32Array {
    const spare = this.spareEnds.pop();
    return spare !== undefined && spare.byteLength === this.config.batchSize * 4 ? new Uint32Array(spare) : new Uint32Array(this.config.batchSize);
  }

  /** Post to the live worker with the fewest frames outstanding; false when none is live. */
  private dispatch(packed: Packed): boolean {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.worker === undefined || slot.stopping) continue;
      if (best === undefined || slot.outstandingFrames < best.outstandingFrames) best = slot;
    }
    if (best === undefined) return false;
    // Stay with the previous batch's worker while it is at most a batch ahead of the least
    // loaded: small batches (one per stream read, with the spool) then keep a connection's order,
    // and a flood still spreads over every worker.
    const last = this.lastSlot;
    if (last !== undefined && last !== best && last.worker !== undefined && !last.stopping && last.outstandingFrames <= best.outstandingFrames + this.config.batchSize) best = last;
    this.lastSlot = best;
    const msg = packed.msg!;
    best.posted.push({ frames: packed.frames, bytes: packed.bytes, refs: packed.refs, unspooled: packed.unspooled, ctxs: msg.ctxs, ctxFrames: ctxFrameCounts(msg.ctxFirst, msg.count) });
    best.outstandingFrames += packed.frames;
    this.inFlightFrames += packed.frames;
    this.inFlightBytes += packed.bytes;
    best.worker!.postMessage(msg, [msg.bytes, msg.ends]);
    return true;
  }

  private spawn(slot: Slot): Promise<void> {
    const workerData: WorkerSettings = { index: slot.index, ...this.settings };
    const worker = new Worker(this.entry.url, {
      workerData,
      ...(this.entry.execArgv !== undefined ? { execArgv: this.entry.execArgv } : {}),
      name: `iptables-otel-pipeline-${slot.index}`,
      // The direct path makes little garbage that outlives a batch: a small nursery keeps RSS
      // down (48 MB, which the record path needed, cost ~30 MiB of RSS per worker for no CPU;
      // 8 MB began to cost CPU; measured on the e2e bench).
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    slot.worker = worker;
    slot.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    slot.posted = [];
    slot.outstandingFrames = 0;
    slot.stopped = undefined;
    slot.startedAt = Date.now();
    let errorMessage: string | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.t === 'ready') resolve();
        else this.onMessage(slot, msg);
      });
      worker.on('error', (err) => {
        errorMessage = err.stack ?? err.message;
        reject(err);
      });
      worker.on('exit', (code) => {
        reject(new Error(`pipeline worker ${slot.index} exited with code ${code} before it was ready`));
        this.onExit(slot, worker, code, errorMessage);
      });
    });
    // Batches that waited while no worker was live go out now.
    this.flushBacklog();
    return ready;
  }

  /** Post waiting batches, oldest first, while a worker is live and (with the spool) the in-flight bound has room. */
  private flushBacklog(): void {
    while (this.backlog.length > 0 && this.hasRoom(this.backlog[0] as Packed)) {
      const next = this.backlog[0] as Packed;
      // A batch read back has waited already: the tail of a backlog goes out without a second linger.
      if (next.msg === undefined && !this.unpark(next, this.backlog.length === 1)) {
        this.backlog.shift();
        continue;
      }
      if (!this.dispatch(next)) break;
      this.backlog.shift();
    }
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.t) {
      case 'done':
        this.release(slot, msg.count, true);
        break;
      case 'metrics':
        this.applyDeltas(msg.deltas);
        this.applyHealth(msg.health);
        break;
      case 'log':
        this.opts.logger?.[msg.level](msg.msg, msg.fields);
        break;
      case 'stopped':
        slot.stopped = { delivered: msg.delivered, undelivered: msg.undelivered };
        // Whatever the worker still held was counted by its pipeline (shutdown_deadline), or stays in the spool.
        for (const b of this.release(slot, slot.posted.length, false)) slot.leftover.push(...b.refs);
        slot.onStopped?.();
        break;
      case 'free':
        this.keepSpare(msg.bytes, msg.ends);
        break;
      case 'ready':
        break;
    }
  }

  /**
   * The oldest `count` batches of `slot` have left its pipeline: free their share of the bound,
   * and when they were `delivered`, acknowledge them in the spool. Returns them.
   */
  private release(slot: Slot, count: number, delivered: boolean): Posted[] {
    let frames = 0;
    let bytes = 0;
    const gone = slot.posted.splice(0, count);
    for (const b of gone) {
      frames += b.frames;
      bytes += b.bytes;
      if (!delivered) continue;
      for (const ref of b.refs) this.spool!.ack(ref);
      this.opts.onAcknowledged?.(b.ctxs, b.ctxFrames);
    }
    slot.outstandingFrames -= frames;
    this.inFlightFrames -= frames;
    this.inFlightBytes -= bytes;
    this.frames -= frames;
    this.bytes -= bytes;
    if (!this.dispatchClosed) {
      this.flushBacklog();
      if (this.backlog.length === 0) this.backlogEmptied?.();
    }
    this.gauges();
    this.wakeDrainListeners();
    return gone;
  }

  private wakeDrainListeners(): void {
    if (this.drainListeners.length === 0 || !this.belowLowWater()) return;
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const l of listeners) {
      try {
        l();
      } catch {
        // A listener's failure is the producer's problem.
      }
    }
  }

  private applyDeltas(deltas: MetricDelta[]): void {
    const metrics = this.opts.metrics as unknown as Record<string, unknown>;
    for (const d of deltas) {
      const c = metrics[d.metric];
      if (!(c instanceof Counter)) continue;
      if (Object.keys(d.labels).length === 0) (c as Counter).inc(d.value);
      else (c as Counter<string>).inc(d.labels, d.value);
    }
  }

  private applyHealth(events: HealthEvent[]): void {
    const h = this.opts.health;
    if (h === undefined) return;
    for (const e of events) {
      if (e.ok) h.exportSucceeded(e.output);
      else h.exportFailed(e.output, new Error(e.error ?? 'export failed'));
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number, error: string | undefined): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    if (slot.stopping) {
      if (slot.stopped === undefined) slot.onStopped?.();
      return;
    }
    // Spooled batches are sent again (read back from disk, first); the others are lost.
    const gone = this.release(slot, slot.posted.length, false);
    let lost = 0;
    const again: Packed[] = [];
    for (const b of gone) {
      if (b.refs.length > 0) again.push(...this.coalesce(b.refs));
      lost += b.unspooled;
      // Counted lost: a source input's checkpoint must not wait for them forever.
      if (b.refs.length === 0 && b.ctxs[0]?.source !== undefined) this.opts.onAcknowledged?.(b.ctxs, b.ctxFrames);
    }
    if (lost > 0) this.crashDropped.inc(lost);
    if (again.length > 0) {
      this.backlog.unshift(...again);
      this.flushBacklog();
    }
    const quick = Date.now() - slot.startedAt < CRASH_LOOP_MS;
    slot.crashes = quick ? slot.crashes + 1 : 1;
    const delay = slot.crashes <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (slot.crashes - 2));
    this.opts.logger?.error(
      this.spool !== undefined
        ? 'a pipeline worker thread died; its records in flight are sent again from the spool; restarting it'
        : 'a pipeline worker thread died; its records in flight are lost (dropped{reason="worker_crash"}); restarting it',
      {
      thread: slot.index,
      exitCode: code,
      lost,
      resent: again.reduce((n, b) => n + b.frames, 0),
      restartInMs: delay,
      ...(error !== undefined ? { error } : {}),
      },
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.closed) return;
      this.spawn(slot).catch(() => {
        // Logged by onExit when the new worker dies too.
      });
    }, delay);
    slot.restartTimer.unref();
  }
}
