import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  ForceFlushOptions,
  LogRecordExporter,
  LogRecordProcessor,
  ReadableLogRecord,
  SdkLogRecord,
} from '@opentelemetry/sdk-logs';
import { Metrics } from '../ops/metrics.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { BatchQueue, type BatchTarget } from './batch-queue.js';
import { metricsObserver } from './pipeline.js';
import { BYTES_PER_ATTRIBUTE, BYTES_PER_RECORD } from './record-size.js';

/** Options of `BackpressureLogRecordProcessor`. */
export interface BackpressureLogRecordProcessorOptions {
  exporter: LogRecordExporter;
  /** `writable` turns false at this many queued records. Default 10 000. */
  maxQueueSize?: number;
  /** `writable` turns false at this many estimated bytes. Default 32 MiB. */
  maxQueueBytes?: number;
  /** `onDrain` fires at or below this fraction of both marks. Default 0.5. */
  lowWaterFraction?: number;
  /** Records beyond the mark × this factor are refused (and counted). Default 2. */
  hardLimitFactor?: number;
  /** Default 512. */
  maxExportBatchSize?: number;
  /** Linger of a partial batch, ms. Default 200. */
  scheduledDelayMillis?: number;
  /** Exports in flight. Default 2. */
  maxConcurrentExports?: number;
  /** Retry timing of failed exports. Default 500 ms doubling to 30 s. */
  backoff?: BackoffPolicy;
  /** Where refusals, exports and failures are counted (label `output` = `name`). Default: a private `Metrics`. */
  metrics?: Metrics;
  /** Label used in metrics. Default `sdk`. */
  name?: string;
}

function estimateSdkRecordBytes(r: ReadableLogRecord): number {
  let n = 0;
  for (const _k in r.attributes) n++;
  const body = typeof r.body === 'string' ? r.body.length : 256;
  return BYTES_PER_RECORD + body + n * BYTES_PER_ATTRIBUTE;
}

/** Adapts the callback-style `LogRecordExporter` to a promise that rejects on failure (so the batch is retried). */
class ExporterTarget implements BatchTarget<ReadableLogRecord> {
  constructor(
    readonly name: string,
    private readonly exporter: LogRecordExporter,
  ) {}

  async export(batch: ReadableLogRecord[]): Promise<void> {
    // Like the SDK's batch processor: a resource with async attributes must settle before it is serialised.
    const pending = new Set<{ waitForAsyncAttributes?: () => Promise<void> }>();
    for (const r of batch) {
      const res = r.resource as { asyncAttributesPending?: boolean; waitForAsyncAttributes?: () => Promise<void> };
      if (res.asyncAttributesPending && res.waitForAsyncAttributes) pending.add(res);
    }
    for (const res of pending) await res.waitForAsyncAttributes?.();
    await new Promise<void>((resolve, reject) => {
      this.exporter.export(batch, (result: ExportResult) => {
        if (result.code === ExportResultCode.SUCCESS) resolve();
        else reject(result.error ?? new Error('log export failed'));
      });
    });
  }
}

/**
 * A `LogRecordProcessor` that never drops silently.
 *
 * The SDK's `BatchLogRecordProcessor` throws records away when its queue is full and
 * gives up on a batch when an export fails. This one keeps failed batches and
 * retries them with backoff, exposes `writable` / `onDrain` (the `RecordSink`
 * contract) so the embedding application can pause its source, and counts every
 * record it has to refuse (hard cap hit because the caller ignored `writable`) in
 * `metrics.dropped{reason="processor_queue_full"}`.
 */
export class BackpressureLogRecordProcessor implements LogRecordProcessor {
  /** Where this processor counts exports, failures and refusals. */
  readonly metrics: Metrics;
  private readonly queue: BatchQueue<ReadableLogRecord>;
  private readonly exporter: LogRecordExporter;
  private shutdownPromise: Promise<void> | undefined;
  private readonly one: ReadableLogRecord[] = [];

  constructor(options: BackpressureLogRecordProcessorOptions) {
    this.exporter = options.exporter;
    this.metrics = options.metrics ?? new Metrics();
    const name = options.name ?? 'sdk';
    const maxQueueSize = options.maxQueueSize ?? 10_000;
    this.queue = new BatchQueue<ReadableLogRecord>([new ExporterTarget(name, options.exporter)], {
      highWaterItems: maxQueueSize,
      highWaterBytes: options.maxQueueBytes ?? 32 * 1024 * 1024,
      lowWaterFraction: options.lowWaterFraction ?? 0.5,
      hardLimitFactor: options.hardLimitFactor ?? 2,
      maxBatchSize: Math.min(options.maxExportBatchSize ?? 512, maxQueueSize),
      lingerMs: options.scheduledDelayMillis ?? 200,
      maxInFlight: options.maxConcurrentExports ?? 2,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      sizeOf: estimateSdkRecordBytes,
      refuseReason: 'processor_queue_full',
      // The pipeline owns the queue gauges; this processor must not overwrite them.
      observer: metricsObserver(this.metrics, false),
    });
  }

  /** True while the queue is below its high-water mark: keep emitting. */
  get writable(): boolean {
    return this.queue.writable;
  }

  /** Records waiting to be exported. */
  get queued(): number {
    return this.queue.length;
  }

  /** Records accepted so far (a sequence number for `whenExported`). */
  get acceptedCount(): number {
    return this.queue.acceptedCount;
  }

  /** Call `listener` once, when the queue is next at or below its low-water mark. */
  onDrain(listener: () => void): void {
    this.queue.onDrain(listener);
  }

  /** Resolves once the first `count` accepted records have been exported (or given up at shutdown). */
  whenExported(count: number): Promise<void> {
    return this.queue.whenDelivered(count);
  }

  /** Queue an emitted record. After shutdown, or past the hard cap, it is refused and counted. */
  onEmit(logRecord: SdkLogRecord, _context?: Context): void {
    this.one[0] = logRecord;
    this.queue.offer(this.one);
    this.one.length = 0;
  }

  /**
   * Export everything queued now and wait for it, retries included, for up to
   * `timeoutMillis` (default 30 s, as in the SDK). Records not exported by then stay
   * queued (they are not dropped) and the promise rejects, so a caller can tell.
   */
  async forceFlush(options?: ForceFlushOptions): Promise<void> {
    const timeout = options?.timeoutMillis ?? 30_000;
    const done = await this.queue.flush(timeout);
    if (!done) throw new Error(`forceFlush: ${this.queue.length} log records not exported within ${timeout} ms (still queued)`);
    await this.exporter.forceFlush();
  }

  /**
   * Stop taking records, export what is queued (with retries) for up to
   * `deadlineMs` (default 30 s), count the rest as `shutdown_deadline`, then shut the exporter down.
   */
  shutdown(deadlineMs = 30_000): Promise<void> {
    this.shutdownPromise ??= (async () => {
      await this.queue.shutdown(deadlineMs);
      await this.exporter.shutdown();
    })();
    return this.shutdownPromise;
  }
}
