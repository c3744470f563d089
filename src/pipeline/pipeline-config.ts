/** One problem found by a `validate…Config()` function: the dotted key and what is wrong with it. */
export interface ConfigIssue {
  key: string;
  message: string;
}

/** The pipeline section of the configuration (`pipeline:` in YAML). */
export interface PipelineConfig {
  /** High-water mark in records: `offer()` returns false (inputs pause) at this depth. */
  maxRecords: number;
  /** High-water mark in estimated bytes (body length + a constant per attribute). */
  maxBytes: number;
  /** Paused inputs resume once the queue is at or below this fraction of both marks. */
  lowWaterFraction: number;
  /**
   * Records beyond high-water × this factor are refused and counted as
   * `dropped{reason="queue_full"}` (only reachable by UDP inputs that ignore `writable`,
   * or a stream input that offers a huge chunk while already over the mark).
   */
  hardLimitFactor: number;
  /** Largest batch handed to an output, in records. */
  batchSize: number;
  /**
   * Largest batch handed to an output, in estimated bytes (a batch holds at least one record).
   * Keeps one export request, and what an output holds encoding it, small when lines are long:
   * 1,024 lines of 60 KB would otherwise be one 60 MB request (a Collector refuses bodies over
   * 20 MiB by default).
   */
  batchMaxBytes: number;
  /** How long (ms) a partial batch waits before it is sent anyway, so a lone record goes out quickly. */
  lingerMs: number;
  /** Batches in flight per output. */
  maxInFlightPerOutput: number;
  /** First retry delay (ms) of a batch an output failed to deliver; doubles up to `retryMaxMs`. */
  retryInitialMs: number;
  /** Cap on the retry delay (ms). */
  retryMaxMs: number;
  /** How long shutdown waits (ms) for outputs to deliver what is queued. */
  shutdownDeadlineMs: number;
}

/** Defaults of `PipelineConfig`. */
export const DEFAULT_PIPELINE_CONFIG: Readonly<PipelineConfig> = Object.freeze({
  maxRecords: 50_000,
  maxBytes: 16 * 1024 * 1024,
  lowWaterFraction: 0.5,
  hardLimitFactor: 2,
  batchSize: 1024,
  batchMaxBytes: 4 * 1024 * 1024,
  lingerMs: 20,
  maxInFlightPerOutput: 2,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  shutdownDeadlineMs: 10_000,
});

/** Defaults overlaid with `partial` (undefined values keep the default). */
export function resolvePipelineConfig(partial: Partial<PipelineConfig> = {}): PipelineConfig {
  const out: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG };
  for (const k of Object.keys(partial) as Array<keyof PipelineConfig>) {
    const v = partial[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function intAtLeast(issues: ConfigIssue[], key: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    issues.push({ key, message: `must be an integer >= ${min} (got ${JSON.stringify(v)})` });
  }
}

/**
 * Check a pipeline configuration. Returns one issue per bad key, named with `prefix`
 * (e.g. `pipeline.batchSize`); an empty array means valid.
 */
export function validatePipelineConfig(config: PipelineConfig, prefix = 'pipeline'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = (name: string): string => (prefix ? `${prefix}.${name}` : name);
  intAtLeast(issues, k('maxRecords'), config.maxRecords, 1);
  intAtLeast(issues, k('maxBytes'), config.maxBytes, 1024);
  intAtLeast(issues, k('batchSize'), config.batchSize, 1);
  intAtLeast(issues, k('batchMaxBytes'), config.batchMaxBytes, 1024);
  intAtLeast(issues, k('lingerMs'), config.lingerMs, 0);
  intAtLeast(issues, k('maxInFlightPerOutput'), config.maxInFlightPerOutput, 1);
  intAtLeast(issues, k('retryInitialMs'), config.retryInitialMs, 1);
  intAtLeast(issues, k('retryMaxMs'), config.retryMaxMs, 1);
  intAtLeast(issues, k('shutdownDeadlineMs'), config.shutdownDeadlineMs, 0);
  const f = config.lowWaterFraction;
  if (typeof f !== 'number' || !(f >= 0 && f < 1)) {
    issues.push({ key: k('lowWaterFraction'), message: `must be a number in [0, 1) (got ${JSON.stringify(f)})` });
  }
  const h = config.hardLimitFactor;
  if (typeof h !== 'number' || !(h >= 1) || !Number.isFinite(h)) {
    issues.push({ key: k('hardLimitFactor'), message: `must be a finite number >= 1 (got ${JSON.stringify(h)})` });
  }
  if (
    typeof config.retryInitialMs === 'number' &&
    typeof config.retryMaxMs === 'number' &&
    config.retryMaxMs < config.retryInitialMs
  ) {
    issues.push({ key: k('retryMaxMs'), message: `must be >= retryInitialMs (${config.retryInitialMs})` });
  }
  if (
    typeof config.batchSize === 'number' &&
    typeof config.maxRecords === 'number' &&
    config.batchSize > config.maxRecords
  ) {
    issues.push({ key: k('batchSize'), message: `must be <= maxRecords (${config.maxRecords})` });
  }
  return issues;
}
