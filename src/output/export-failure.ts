/**
 * The text of an export failure: one line that says what went wrong, where, and what happens
 * to the batch, e.g.
 *
 *   HTTP 401 Unauthorized from http://collector:4318/v1/logs; retrying with backoff; response: bad token
 *   ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:4318) from http://127.0.0.1:4318/v1/logs; retrying with backoff
 *
 * Why text and not an object: worker threads report an export outcome to the main thread as a
 * health event whose error is a string (`HealthEvent.error`), and the main thread's export log
 * (src/ops/export-log.ts) rate-limits across workers from that string. So outputs build the
 * message with `formatExportFailure()`, and `describeExportFailure()` reads the same fields
 * back, from the string or from the error object (threads: 0). The endpoint in it never holds
 * credentials (`endpointForLog`), and response bodies are truncated and masked by the output.
 */

/** What the pipeline does with the batch, as the text says it. */
export const RETRYING = 'retrying with backoff';
/** How the retry part starts when (part of) the batch was dropped instead. */
export const NOT_RETRIED = 'not retried';

/** The parts of an export failure's text. */
export interface ExportFailureParts {
  /**
   * What went wrong, starting with a token: `HTTP <status> <reason>`, an error code such as
   * `ECONNREFUSED`, or `TIMEOUT`, optionally followed by ` (detail)`.
   */
  cause: string;
  /** Where to (already stripped of credentials and query). */
  endpoint?: string;
  /** `RETRYING`, or what happened instead (`not retried, batch dropped (export_rejected)`). */
  retry: string;
  /** The response body, already truncated and masked. */
  response?: string;
}

/** An export failure read back from its text (or error object). */
export interface ExportFailureInfo {
  /** HTTP status, when the far end answered. */
  status?: number;
  /** Error code (`ECONNREFUSED`, `ETIMEDOUT`, `TIMEOUT`, ...), when there was no answer. */
  code?: string;
  endpoint?: string;
  /** True when the batch is kept and retried with backoff; false when it was (partly) dropped. */
  retrying: boolean;
  /** The text before the response body: cause, endpoint, retry state. */
  summary: string;
  response?: string;
}

const RESPONSE_SEPARATOR = '; response: ';
const FROM = ' from ';

/** The one-line text of a failure (see the file comment for the shape). */
export function formatExportFailure(parts: ExportFailureParts): string {
  const where = parts.endpoint !== undefined ? `${FROM}${parts.endpoint}` : '';
  const head = `${parts.cause}${where}; ${parts.retry}`;
  return parts.response !== undefined && parts.response !== '' ? `${head}${RESPONSE_SEPARATOR}${parts.response}` : head;
}

/**
 * The fields of a failure, from an error (its `retryable` flag wins) or from the text a worker
 * sent. Text not made by `formatExportFailure` (another output's own message) still yields an
 * error code when it contains one (`connect ECONNREFUSED ...`), and counts as retrying unless the
 * error says otherwise, as the pipeline retries every error not marked `retryable: false`.
 */
export function describeExportFailure(error: unknown): ExportFailureInfo {
  const text = error instanceof Error ? error.message : String(error);
  const flagged = typeof error === 'object' && error !== null ? (error as { retryable?: unknown }).retryable : undefined;
  const cut = text.indexOf(RESPONSE_SEPARATOR);
  const summary = cut >= 0 ? text.slice(0, cut) : text;
  const response = cut >= 0 ? text.slice(cut + RESPONSE_SEPARATOR.length) : undefined;
  const info: ExportFailureInfo = { retrying: true, summary };
  if (response !== undefined) info.response = response;
  const semi = summary.lastIndexOf('; ');
  const retry = semi >= 0 ? summary.slice(semi + 2) : '';
  const formatted = retry === RETRYING || retry.startsWith(NOT_RETRIED);
  if (formatted) {
    info.retrying = retry === RETRYING;
    const head = summary.slice(0, semi);
    const from = head.lastIndexOf(FROM);
    if (from >= 0 && !head.includes(' ', from + FROM.length)) info.endpoint = head.slice(from + FROM.length);
    const status = /^HTTP (\d{3})(?: |$)/.exec(head);
    const token = /^[A-Z][A-Z0-9_]{2,}(?= |$)/.exec(head);
    if (status) info.status = Number(status[1]);
    else if (token && token[0] !== 'HTTP') info.code = token[0];
  }
  if (info.status === undefined && info.code === undefined) {
    // Node's own messages carry the code as a word: `connect ECONNREFUSED 127.0.0.1:4318`.
    const code = /\b(E[A-Z]{2,}[A-Z0-9_]*)\b/.exec(summary);
    if (code) info.code = code[1];
  }
  if (flagged === false) info.retrying = false;
  else if (flagged === true) info.retrying = true;
  return info;
}
