/**
 * What the OTLP/HTTP output does with a batch after each HTTP error status. The delegate of
 * @opentelemetry/otlp-exporter-base has already retried 429, 502, 503 and 504 itself (up to 5
 * attempts within `timeoutMs`, honouring Retry-After) before a status reaches this table.
 *
 * | status | handling | why |
 * |---|---|---|
 * | 413 | `split` | the request is too big for the collector: the halves are sent, down to one record; a record still refused alone is dropped (`export_too_large`) |
 * | 400, 422 | `reject` | the collector cannot parse or accept this payload: sending the same bytes again cannot succeed, so the batch is dropped (`export_rejected`) and logged at error with the response body |
 * | 401, 403, 407 | `retry` | credentials: a configuration error the user fixes (token, collector ACL); every batch would fail alike, so dropping would throw away everything until then, while retrying with backoff fills the bounded queue, pauses the senders (backpressure) and delivers once fixed |
 * | 404, 405, 415 | `retry` | wrong path, method or Content-Type (protocol mismatch): also configuration, same reasoning |
 * | 408, 429 | `retry` | the collector asks for it |
 * | other 4xx, 5xx | `retry` | not about this payload; the pipeline's backoff keeps the load low |
 *
 * A 400 is not split to isolate one bad record: our encoder writes valid OTLP, so a 400 means
 * the collector refuses the request as a whole (wrong protocol behind a proxy, a schema it does
 * not take), and splitting would cost up to 2n-1 requests per batch for nothing. Records the
 * collector refuses one by one come back as partial success (`rejected_by_collector`).
 */
export type StatusHandling = 'retry' | 'reject' | 'split';

/** Statuses after which the same payload cannot succeed. */
const REJECTED = new Set([400, 422]);

/** The handling of HTTP `status` (an error status: >= 300). */
export function otlpStatusHandling(status: number): StatusHandling {
  if (status === 413) return 'split';
  return REJECTED.has(status) ? 'reject' : 'retry';
}
