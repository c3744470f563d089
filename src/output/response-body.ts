import { maskSecretValues } from '../ops/redact.js';

/** Bytes of an error response body kept for the log: enough for a collector's error message. */
export const RESPONSE_EXCERPT_BYTES = 512;

/**
 * The part of an HTTP error body that goes into a log line: credentials the service sent
 * masked (a proxy may echo the Authorization header), control characters (a protobuf
 * `google.rpc.Status` is binary around its message) shown as `.`, whitespace runs folded, and
 * at most `maxBytes` UTF-8 bytes, marked `…(N bytes)` when cut. Undefined for an empty body.
 */
export function responseExcerpt(body: string | undefined, secrets: readonly string[], maxBytes = RESPONSE_EXCERPT_BYTES): string | undefined {
  if (body === undefined || body === '') return undefined;
  // Mask before cutting, so a secret cut in half at the limit cannot leak its first part.
  const clean = maskSecretValues(body, secrets)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/g, '.')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '') return undefined;
  const total = Buffer.byteLength(body);
  const bytes = Buffer.from(clean);
  if (bytes.length <= maxBytes) return clean;
  let end = maxBytes;
  // Back off to a character boundary (UTF-8 continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString()}…(${total} bytes)`;
}
