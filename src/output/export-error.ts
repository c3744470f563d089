/**
 * An export failure that retrying cannot fix (e.g. HTTP 400: the collector rejects the
 * payload). The pipeline drops the batch for that output and counts it as
 * `dropped{reason="export_rejected"}` instead of retrying it forever. Any other
 * rejection from `Output.export()` is retried with backoff.
 */
export class PermanentExportError extends Error {
  /** Read by the pipeline (duck-typed, see `defaultIsRetryable`). */
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentExportError';
  }
}

/**
 * Part of a batch could not be delivered and was given up, the rest was delivered (an OTLP
 * batch split after HTTP 413, in which a record was too large even alone). Not retryable; the
 * pipeline counts `drops` (records by reason) instead of the whole batch as `export_rejected`.
 */
export class PartialExportError extends Error {
  /** Read by the pipeline (duck-typed, see `defaultIsRetryable`). */
  readonly retryable = false;
  /** Records dropped, by `dropped{reason}` label; read by the pipeline (duck-typed, see `droppedByReason`). */
  readonly drops: Readonly<Record<string, number>>;

  constructor(message: string, drops: Readonly<Record<string, number>>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PartialExportError';
    this.drops = drops;
  }
}
