import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { FrameSink } from '../pipeline/frame-sink.js';
import type { RecordSink } from '../pipeline/record-sink.js';
import type { FrameDecoder } from './input.js';
import type { PartialFrameBudget } from './partial-frame-budget.js';

/** The part of the service logger an input uses (the project's `Logger`: `(msg, fields)`). */
export type InputLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** What every input factory needs besides its config. */
export interface InputDeps {
  /** Frame -> record (the configured `parseFrame`). */
  decode: FrameDecoder;
  /** Where records go (the pipeline queue). */
  sink: RecordSink;
  /**
   * When set, inputs hand raw frames here instead of calling `decode` and `sink.offer`
   * (the threaded pipeline parses in worker threads); `decode` and `sink` are then unused.
   */
  frameSink?: FrameSink;
  metrics: Metrics;
  /**
   * The budget for partial frames shared by all stream inputs (see `PartialFrameBudget`).
   * Default: one budget per `metrics` registry, with the default size.
   */
  partialFrames?: PartialFrameBudget;
  /** Optional; inputs stay silent without one. */
  logger?: InputLogger;
}

const silent: InputLogger = { info() {}, warn() {}, error() {} };

/** The logger from `deps`, or one that discards everything. */
export function inputLogger(deps: InputDeps): InputLogger {
  return deps.logger ?? silent;
}
