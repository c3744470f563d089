/**
 * Messages between the threaded pipeline (main thread) and its worker threads. Everything
 * here is structured-clone data; frame bytes travel as transferred ArrayBuffers.
 */
import type { OutputSpec, ParserSpec } from '../../config/service-config.js';
import type { ReceiveContext } from '../../mapping/record.js';
import type { PipelineConfig } from '../pipeline-config.js';

/** What a worker needs to build its parser, outputs and record pipeline (`workerData`). */
export interface WorkerSettings {
  /** Slot number, for logs. */
  index: number;
  parser: ParserSpec;
  outputs: OutputSpec[];
  /** The worker's own record pipeline (batching, fan-out, retries). */
  pipeline: PipelineConfig;
  /** How often the worker sends metric deltas and health events (ms). */
  metricsIntervalMs: number;
  /**
   * False to keep the record path even when the direct OTLP path applies (tests compare the
   * two). Default: direct when the only output is OTLP/HTTP protobuf.
   */
  directPath?: boolean;
  /**
   * The main thread spools every batch: at shutdown, what is not delivered by the deadline
   * stays in the spool, so it is neither reported done nor counted as dropped.
   */
  spooled?: boolean;
}

/**
 * One batch of frames. Frame `i` is `bytes[i === 0 ? 0 : ends[i - 1] .. ends[i])`; frames
 * `ctxFirst[k] ..` (up to `ctxFirst[k + 1]`) were received with `ctxs[k]` (one entry per socket read).
 */
export interface FrameBatchMessage {
  t: 'batch';
  bytes: ArrayBuffer;
  /** A transferred Uint32Array's buffer: the end offset of every frame. */
  ends: ArrayBuffer;
  count: number;
  ctxs: ReceiveContext[];
  ctxFirst: number[];
  /** Cut by the linger timer or a flush: export it now instead of waiting to fill a batch. */
  urgent: boolean;
}

/** Main -> worker. */
export type ToWorker =
  | FrameBatchMessage
  | { t: 'parser'; parser: ParserSpec }
  | { t: 'shutdown'; deadlineMs: number };

/** A counter increment the main thread applies to its `Metrics` (`metric` is the field name). */
export interface MetricDelta {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** One export outcome, for the health tracker. */
export interface HealthEvent {
  output: string;
  ok: boolean;
  error?: string;
}

/** Worker -> main. */
export type FromWorker =
  | { t: 'ready' }
  /** The oldest `count` batches this worker was sent have left its pipeline (delivered or dropped). */
  | { t: 'done'; count: number }
  | { t: 'metrics'; deltas: MetricDelta[]; health: HealthEvent[] }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  | { t: 'stopped'; delivered: number; undelivered: number }
  /**
   * A batch's buffers, transferred back once its frames are parsed (records hold copies): the
   * main thread reuses them, so neither side keeps allocating batch-sized memory (page faults,
   * and external memory that brings the worker's full garbage collections forward).
   */
  | { t: 'free'; bytes: ArrayBuffer; ends: ArrayBuffer };
