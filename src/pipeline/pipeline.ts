import type { FirewallLogRecord } from '../mapping/record.js';
import type { Metrics } from '../ops/metrics.js';
import { BatchQueue, type DrainResult, type QueueObserver } from './batch-queue.js';
import { resolvePipelineConfig, type PipelineConfig } from './pipeline-config.js';
import type { RecordSink } from './record-sink.js';
import { estimateRecordBytes } from './record-size.js';

/** Where a pipeline of items of type `T` delivers: an `Output` for records. */
export interface PipelineOutput<T> {
  readonly name: string;
  export(items: T[]): Promise<void>;
  shutdown(): Promise<void>;
}

/** What `createPipeline()` needs besides its configuration. */
export interface PipelineDeps<T = FirewallLogRecord> {
  /** Every batch goes to every output (fan-out); names must be unique (metric labels). */
  outputs: PipelineOutput<T>[];
  metrics: Metrics;
  /**
   * Estimated bytes of one item, for the byte bound. Defaults to `estimateRecordBytes`, which
   * is for records: a pipeline of anything else must pass its own.
   */
  sizeOf?: (item: T) => number;
  /**
   * False when what is still queued at the shutdown deadline is not lost (a spool upstream
   * keeps it): it is then not counted as `dropped{reason="shutdown_deadline"}`. Default true.
   */
  countAbandoned?: boolean;
}

/** Outcome of `Pipeline.shutdown()`. */
export type PipelineShutdownResult = DrainResult;

/** Connects a `BatchQueue` to the service's metrics: queue gauges, exported, export failures, drops. */
export function metricsObserver(metrics: Metrics, gauges = true, countAbandoned = true): QueueObserver {
  return {
    queueChanged: gauges
      ? (items, bytes) => {
          metrics.queueRecords.set(items);
          metrics.queueBytes.set(bytes);
        }
      : undefined,
    exported: (target, count) => metrics.exported.inc({ output: target }, count),
    exportFailed: (target, count) => metrics.exportFailures.inc({ output: target }, count),
    dropped: (reason, count) => {
      if (countAbandoned || reason !== 'shutdown_deadline') metrics.dropped.inc({ reason }, count);
    },
  };
}

/**
 * The bounded queue between inputs and outputs. Inputs `offer()` records (the
 * `RecordSink` contract); a dispatcher cuts batches (`batchSize`, or whatever is
 * there after `lingerMs`) and hands every batch to every output, up to
 * `maxInFlightPerOutput` at a time. A record leaves the queue once every output has
 * delivered it; failed batches are retried with capped exponential backoff, so an
 * output that is down fills the queue and pauses the stream inputs instead of losing
 * records.
 */
export class Pipeline<T = FirewallLogRecord> implements RecordSink<T> {
  readonly config: PipelineConfig;
  private readonly queue: BatchQueue<T>;
  private readonly outputs: PipelineOutput<T>[];
  private shutdownPromise: Promise<PipelineShutdownResult> | undefined;

  constructor(config: PipelineConfig, deps: PipelineDeps<T>) {
    this.config = config;
    this.outputs = deps.outputs;
    this.queue = new BatchQueue<T>(deps.outputs, {
      highWaterItems: config.maxRecords,
      highWaterBytes: config.maxBytes,
      lowWaterFraction: config.lowWaterFraction,
      hardLimitFactor: config.hardLimitFactor,
      maxBatchSize: config.batchSize,
      maxBatchBytes: config.batchMaxBytes,
      lingerMs: config.lingerMs,
      maxInFlight: config.maxInFlightPerOutput,
      backoff: { initialMs: config.retryInitialMs, maxMs: config.retryMaxMs, multiplier: 2, jitter: 0.2 },
      sizeOf: deps.sizeOf ?? (estimateRecordBytes as unknown as (item: T) => number),
      refuseReason: 'queue_full',
      observer: metricsObserver(deps.metrics, true, deps.countAbandoned !== false),
    });
  }

  /** True while the queue is below its high-water mark (records and bytes) and not shut down. */
  get writable(): boolean {
    return this.queue.writable;
  }

  /** Records waiting for at least one output. */
  get queuedRecords(): number {
    return this.queue.length;
  }

  /** Estimated bytes waiting. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Enqueue records; false means pause (see `RecordSink`). After shutdown, records are refused and counted. */
  offer(records: T[]): boolean {
    return this.queue.offer(records);
  }

  /** Call `listener` once, when the queue is next at or below its low-water mark. */
  onDrain(listener: () => void): void {
    this.queue.onDrain(listener);
  }

  /** Send everything queued now; resolves true when it has all been delivered (false after `timeoutMs`). */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.queue.flush(timeoutMs);
  }

  /**
   * Stop taking records, deliver what is queued, then shut every output down, all
   * within `deadlineMs` (default: `config.shutdownDeadlineMs`). Records still queued at
   * the deadline are counted in `dropped{reason="shutdown_deadline"}` and reported as
   * `undelivered`. Idempotent.
   */
  shutdown(deadlineMs: number = this.config.shutdownDeadlineMs): Promise<PipelineShutdownResult> {
    this.shutdownPromise ??= this.doShutdown(deadlineMs);
    return this.shutdownPromise;
  }

  private async doShutdown(deadlineMs: number): Promise<PipelineShutdownResult> {
    const started = Date.now();
    const result = await this.queue.shutdown(deadlineMs);
    const left = Math.max(0, deadlineMs - (Date.now() - started));
    await Promise.all(this.outputs.map((o) => withTimeout(safeShutdown(o), left)));
    return result;
  }
}

async function safeShutdown(o: PipelineOutput<unknown>): Promise<void> {
  try {
    await o.shutdown();
  } catch {
    // An output that fails to close cleanly must not keep the others from closing.
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Build the pipeline from (partial) configuration over the defaults. Call `validatePipelineConfig` first. */
export function createPipeline(config: Partial<PipelineConfig>, deps: PipelineDeps): Pipeline {
  return new Pipeline(resolvePipelineConfig(config), deps);
}
