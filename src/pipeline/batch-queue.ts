import { backoffDelay, type BackoffPolicy } from './backoff.js';

/** Something a `BatchQueue` delivers batches to (an `Output`, an SDK exporter adapter). */
export interface BatchTarget<T> {
  /** Label for metrics and logs. */
  readonly name: string;
  /** Resolves when the far end has the batch; rejects to have it retried (or dropped when not retryable). */
  export(batch: T[]): Promise<void>;
}

/** Hooks a `BatchQueue` calls once per batch (never per item), e.g. to update `Metrics`. */
export interface QueueObserver {
  /** Queue depth changed. */
  queueChanged?(items: number, bytes: number): void;
  /** A target delivered `count` items. */
  exported?(target: string, count: number): void;
  /** An export attempt of `count` items failed; `retryInMs` is undefined when the batch is given up. */
  exportFailed?(target: string, count: number, error: unknown, retryInMs: number | undefined): void;
  /** Items thrown away, with the reason label. */
  dropped?(reason: string, count: number): void;
}

/** Tuning of a `BatchQueue`. */
export interface BatchQueueOptions<T> {
  /** `offer()` returns false at or above this many items. */
  highWaterItems: number;
  /** `offer()` returns false at or above this many (estimated) bytes. */
  highWaterBytes: number;
  /** `onDrain` listeners fire once the queue is at or below this fraction of both high-water marks. */
  lowWaterFraction: number;
  /** Items beyond highWater × this factor are refused (counted as `refuseReason`), never queued. */
  hardLimitFactor: number;
  /** Largest batch handed to a target, in items. */
  maxBatchSize: number;
  /** Largest batch handed to a target, in `sizeOf` bytes (at least one item); default unlimited. */
  maxBatchBytes?: number;
  /** How long a partial batch may wait for company before it is sent anyway. */
  lingerMs: number;
  /** Batches in flight per target. */
  maxInFlight: number;
  /** Retry timing of failed batches. */
  backoff: BackoffPolicy;
  /** Cheap size estimate of one item, in bytes. */
  sizeOf(item: T): number;
  /** Reason label for items refused at the hard cap. */
  refuseReason: string;
  /**
   * False for errors that retrying cannot fix; the batch is then dropped (`export_rejected`) for
   * that target, or only the records the error's `drops` names (see `droppedByReason`).
   */
  isRetryable?(error: unknown): boolean;
  observer?: QueueObserver;
}

/** Outcome of `BatchQueue.shutdown()`. */
export interface DrainResult {
  /** Items that left the queue because every target was done with them (over the queue's life). */
  delivered: number;
  /** Items still queued at the deadline, counted as dropped `shutdown_deadline`. */
  undelivered: number;
}

interface Batch<T> {
  start: number;
  end: number;
  items: T[];
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  abandoned: boolean;
}

interface Lane<T> {
  target: BatchTarget<T>;
  /** Sequence number of the next item this target has not been given yet. */
  nextSeq: number;
  /** In dispatch order, so `inflight[0].start` is the oldest item this target still owes. */
  inflight: Batch<T>[];
}

interface SeqWaiter {
  seq: number;
  resolve: () => void;
}

/**
 * Default retry classification: an error object with `retryable === false` is permanent
 * (see `PermanentExportError` in src/output/export-error.ts); everything else is retried.
 */
export function defaultIsRetryable(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);
}

/**
 * Records given up by a failed export that delivered the rest (`PartialExportError` in
 * src/output/export-error.ts: `drops`, count by reason), or undefined when the error does not
 * say, in which case the whole batch counts as `export_rejected`.
 */
export function droppedByReason(error: unknown): Array<[string, number]> | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const drops = (error as { drops?: unknown }).drops;
  if (typeof drops !== 'object' || drops === null) return undefined;
  const out: Array<[string, number]> = [];
  for (const [reason, n] of Object.entries(drops as Record<string, unknown>)) {
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) out.push([reason, n]);
  }
  return out;
}

function retryAfterHint(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null) {
    const v = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  }
  return undefined;
}

/**
 * One bounded queue fanned out to several targets.
 *
 * Every item gets a sequence number. Each target has a cursor (what it has been given)
 * and the list of its batches in flight; an item leaves the queue only when every
 * target is past it. A failed batch keeps its slot and is retried with backoff, so a
 * target that is down stops taking new batches once its slots are used up, the queue
 * fills, and `offer()` tells the producers to pause. Slow targets hold items longer,
 * fast ones keep going up to the queue's capacity.
 */
export class BatchQueue<T> {
  private readonly opts: BatchQueueOptions<T>;
  private readonly isRetryable: (error: unknown) => boolean;
  private readonly lanes: Lane<T>[];
  // items[head..] hold sequence numbers baseSeq.. ; the head offset avoids shifting on every batch.
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private baseSeq = 0;
  private bytesQueued = 0;
  private closed = false;
  private flushing = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private drainListeners: Array<() => void> = [];
  private seqWaiters: SeqWaiter[] = [];
  private deliveredCount = 0;

  constructor(targets: ReadonlyArray<BatchTarget<T>>, options: BatchQueueOptions<T>) {
    this.opts = options;
    this.isRetryable = options.isRetryable ?? defaultIsRetryable;
    this.lanes = targets.map((target) => ({ target, nextSeq: 0, inflight: [] }));
  }

  /** Items waiting (not yet delivered by every target). */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Estimated bytes waiting. */
  get bytes(): number {
    return this.bytesQueued;
  }

  /** Items accepted so far; pass to `whenDelivered()` to wait for everything offered up to now. */
  get acceptedCount(): number {
    return this.baseSeq + this.length;
  }

  /** Items that left the queue because every target was done with them. */
  get delivered(): number {
    return this.deliveredCount;
  }

  /** True while below both high-water marks and not shut down. */
  get writable(): boolean {
    return !this.closed && this.length < this.opts.highWaterItems && this.bytesQueued < this.opts.highWaterBytes;
  }

  /**
   * Enqueue items. Returns false when the caller should pause (at or over the
   * high-water mark). Items are still taken up to the hard limit; past it they are
   * refused and counted. After shutdown everything is refused (`shutdown`).
   */
  offer(batch: readonly T[]): boolean {
    const n = batch.length;
    if (this.closed) {
      if (n > 0) this.opts.observer?.dropped?.('shutdown', n);
      return false;
    }
    const hardItems = Math.floor(this.opts.highWaterItems * this.opts.hardLimitFactor);
    const hardBytes = this.opts.highWaterBytes * this.opts.hardLimitFactor;
    let accepted = 0;
    for (; accepted < n; accepted++) {
      const item = batch[accepted] as T;
      const size = this.opts.sizeOf(item);
      // An oversized lone item is still taken into an empty queue, or it could never pass.
      if (this.length >= hardItems || (this.bytesQueued + size > hardBytes && this.length > 0)) break;
      this.items.push(item);
      this.sizes.push(size);
      this.bytesQueued += size;
    }
    if (accepted < n) this.opts.observer?.dropped?.(this.opts.refuseReason, n - accepted);
    if (accepted > 0) {
      this.opts.observer?.queueChanged?.(this.length, this.bytesQueued);
      this.pump(false);
    }
    return this.writable;
  }

  /** Call `listener` once, the next time the queue is at or below its low-water mark (soon, if it already is). */
  onDrain(listener: () => void): void {
    if (this.belowLowWater() && !this.closed) {
      queueMicrotask(listener);
      return;
    }
    this.drainListeners.push(listener);
  }

  /** Resolves once every item with a sequence number below `seq` has left the queue. */
  whenDelivered(seq: number): Promise<void> {
    if (this.baseSeq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.seqWaiters.push({ seq, resolve }));
  }

  /**
   * Send everything queued now without waiting for the linger timer, and resolve
   * true once it has all been delivered, or false after `timeoutMs`.
   */
  async flush(timeoutMs: number = Infinity): Promise<boolean> {
    this.flushing++;
    try {
      this.pump(true);
      return await this.waitFor(this.acceptedCount, timeoutMs);
    } finally {
      this.flushing--;
    }
  }

  /**
   * Stop taking items, send what is queued, and wait up to `deadlineMs` for every target
   * to deliver it. Whatever is left then is abandoned and counted as `shutdown_deadline`.
   */
  async shutdown(deadlineMs: number): Promise<DrainResult> {
    this.closed = true;
    this.clearLinger();
    this.pump(true);
    const done = await this.waitFor(this.acceptedCount, deadlineMs);
    let undelivered = 0;
    if (!done) undelivered = this.abandon();
    // Paused producers are not woken: they would only offer records that are now refused.
    return { delivered: this.deliveredCount, undelivered };
  }

  private async waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.baseSeq >= seq) return true;
    const delivered = this.whenDelivered(seq).then(() => true);
    if (!Number.isFinite(timeoutMs)) return delivered;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([delivered, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private abandon(): number {
    for (const lane of this.lanes) {
      for (const b of lane.inflight) {
        b.abandoned = true;
        if (b.timer) clearTimeout(b.timer);
      }
      lane.inflight = [];
    }
    const left = this.length;
    if (left > 0) this.opts.observer?.dropped?.('shutdown_deadline', left);
    this.baseSeq += left;
    for (const lane of this.lanes) lane.nextSeq = this.baseSeq;
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.bytesQueued = 0;
    this.opts.observer?.queueChanged?.(0, 0);
    this.resolveWaiters();
    return left;
  }

  private belowLowWater(): boolean {
    const f = this.opts.lowWaterFraction;
    return this.length <= this.opts.highWaterItems * f && this.bytesQueued <= this.opts.highWaterBytes * f;
  }

  private clearLinger(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
  }

  /** Hand batches to every target with a free slot; partial batches only when `urgent`. */
  private pump(urgent: boolean): void {
    const force = urgent || this.closed || this.flushing > 0;
    let waiting = false;
    for (const lane of this.lanes) {
      while (lane.inflight.length < this.opts.maxInFlight) {
        const avail = this.baseSeq + this.length - lane.nextSeq;
        if (avail <= 0) break;
        const count = this.batchCount(lane.nextSeq, avail);
        // A batch is full at maxBatchSize items or maxBatchBytes bytes; a partial one waits for company.
        if (count === avail && avail < this.opts.maxBatchSize && !force && !this.bytesFull) {
          waiting = true;
          break;
        }
        this.dispatch(lane, count);
      }
    }
    if (waiting && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.pump(true);
      }, this.opts.lingerMs);
      // The service's listeners keep the process alive; a lone timer must not.
      this.lingerTimer.unref();
    }
  }

  /** Set by `batchCount()`: the batch it measured reached `maxBatchBytes`. */
  private bytesFull = false;

  /** Items of the next batch from `seq`: at most `maxBatchSize`, and at most `maxBatchBytes` (at least one). */
  private batchCount(seq: number, avail: number): number {
    const max = Math.min(avail, this.opts.maxBatchSize);
    const limit = this.opts.maxBatchBytes;
    this.bytesFull = false;
    if (limit === undefined) return max;
    const from = this.head + (seq - this.baseSeq);
    const sizes = this.sizes;
    let bytes = sizes[from] as number;
    let n = 1;
    while (n < max) {
      const next = bytes + (sizes[from + n] as number);
      if (next > limit) break;
      bytes = next;
      n++;
    }
    this.bytesFull = n < max || bytes >= limit;
    return n;
  }

  private dispatch(lane: Lane<T>, count: number): void {
    const start = lane.nextSeq;
    const from = this.head + (start - this.baseSeq);
    const batch: Batch<T> = {
      start,
      end: start + count,
      items: this.items.slice(from, from + count),
      attempts: 0,
      timer: undefined,
      abandoned: false,
    };
    lane.inflight.push(batch);
    lane.nextSeq = batch.end;
    this.send(lane, batch);
  }

  private send(lane: Lane<T>, batch: Batch<T>): void {
    batch.attempts++;
    let p: Promise<void>;
    try {
      p = lane.target.export(batch.items);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => this.onSuccess(lane, batch),
      (err: unknown) => this.onFailure(lane, batch, err),
    );
  }

  private onSuccess(lane: Lane<T>, batch: Batch<T>): void {
    if (batch.abandoned) return;
    this.opts.observer?.exported?.(lane.target.name, batch.items.length);
    this.retire(lane, batch);
  }

  private onFailure(lane: Lane<T>, batch: Batch<T>, err: unknown): void {
    if (batch.abandoned) return;
    const n = batch.items.length;
    if (!this.isRetryable(err)) {
      const partial = droppedByReason(err);
      if (partial === undefined) {
        this.opts.observer?.exportFailed?.(lane.target.name, n, err, undefined);
        this.opts.observer?.dropped?.('export_rejected', n);
      } else {
        // The output delivered the rest of the batch; only these records are lost.
        const lost = Math.min(n, partial.reduce((a, [, c]) => a + c, 0));
        if (lost < n) this.opts.observer?.exported?.(lane.target.name, n - lost);
        this.opts.observer?.exportFailed?.(lane.target.name, lost, err, undefined);
        for (const [reason, count] of partial) this.opts.observer?.dropped?.(reason, count);
      }
      this.retire(lane, batch);
      return;
    }
    const hint = retryAfterHint(err);
    const delay = Math.max(backoffDelay(this.opts.backoff, batch.attempts), hint ?? 0);
    this.opts.observer?.exportFailed?.(lane.target.name, n, err, delay);
    batch.timer = setTimeout(() => {
      batch.timer = undefined;
      if (!batch.abandoned) this.send(lane, batch);
    }, delay);
    batch.timer.unref();
  }

  private retire(lane: Lane<T>, batch: Batch<T>): void {
    const i = lane.inflight.indexOf(batch);
    if (i >= 0) lane.inflight.splice(i, 1);
    this.trim();
    this.pump(true);
  }

  /** Drop the prefix every target is done with. */
  private trim(): void {
    let min = Infinity;
    for (const lane of this.lanes) {
      const owed = lane.inflight.length > 0 ? (lane.inflight[0] as Batch<T>).start : lane.nextSeq;
      if (owed < min) min = owed;
    }
    if (this.lanes.length === 0) min = this.baseSeq + this.length;
    const n = min - this.baseSeq;
    if (n <= 0) return;
    let freed = 0;
    const end = this.head + n;
    // Delivered slots are cleared at once, not at the next compaction: until then they would keep
    // up to 1,023 delivered items alive (with 60 KB lines, ~120 MB of encoded records).
    const items = this.items as Array<T | undefined>;
    for (let i = this.head; i < end; i++) {
      freed += this.sizes[i] as number;
      items[i] = undefined;
    }
    this.bytesQueued -= freed;
    this.head = end;
    this.baseSeq += n;
    this.deliveredCount += n;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    if (this.length === 0) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
      this.bytesQueued = 0;
    }
    this.opts.observer?.queueChanged?.(this.length, this.bytesQueued);
    this.resolveWaiters();
    if (this.drainListeners.length > 0 && this.belowLowWater()) this.fireDrainListeners();
  }

  private resolveWaiters(): void {
    if (this.seqWaiters.length === 0) return;
    const still: SeqWaiter[] = [];
    for (const w of this.seqWaiters) {
      if (this.baseSeq >= w.seq) w.resolve();
      else still.push(w);
    }
    this.seqWaiters = still;
  }

  private fireDrainListeners(): void {
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const l of listeners) {
      try {
        l();
      } catch {
        // A listener's failure is the producer's problem; the queue keeps going.
      }
    }
  }
}
