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
