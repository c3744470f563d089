/** Key names whose values are credentials and must never reach a log line. */
const SECRET_KEY = /^(authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|sharedkey|shared_key|password|passwd|secret|token|access[-_]?token|cookie|set-cookie|key)$/i;
/** Key names that hold a credential-bearing map (OTLP headers): every value in it is masked except harmless ones. */
const HEADER_MAP_KEY = /^headers$/i;
/** Header names that never carry secrets, so logging them helps debugging. */
const HARMLESS_HEADER = /^(content-type|content-encoding|accept|user-agent)$/i;

export const REDACTED = '[REDACTED]';

/** True when a key names a credential (Authorization, API keys, shared keys, passwords, tokens). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A deep copy of `value` with credentials replaced by `[REDACTED]`: values under secret-looking
 * keys, every header value except a few harmless ones, and `user:password@` in URLs.
 * Used on anything the service logs that came from configuration or the environment.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redactUrlCredentials(value.message) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretKey(k)) out[k] = v === undefined || v === null || v === '' ? v : REDACTED;
    else if (HEADER_MAP_KEY.test(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const h: Record<string, unknown> = {};
      for (const [hk, hv] of Object.entries(v as Record<string, unknown>)) h[hk] = HARMLESS_HEADER.test(hk) ? hv : REDACTED;
      out[k] = h;
    } else out[k] = redact(v, depth + 1);
  }
  return out;
}

/** Masks the password in `scheme://user:password@host` URLs inside a string. */
export function redactUrlCredentials(s: string): string {
  if (!s.includes('@') || !s.includes('://')) return s;
  return s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi, `$1${REDACTED}@`);
}

/**
 * A URL as it may appear in a log line: scheme, host, port and path, without `user:password@`,
 * query string or fragment (collectors and proxies take API keys as query parameters, too).
 * Something that does not parse as a URL keeps only what precedes `?` or `#`, with any
 * userinfo removed.
 */
export function endpointForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    const cut = url.split(/[?#]/, 1)[0] ?? '';
    return cut.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
  }
}

/** Values shorter than this are not masked inside free text: they would mask ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * `text` with every occurrence of a secret value replaced by `[REDACTED]`. Used on text that
 * came from the far end (an HTTP error body may echo the request's Authorization header):
 * the service knows which values are credentials, so it masks those exact values.
 * For a `Bearer xyz`-style value the token alone is masked too.
 */
export function maskSecretValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    for (const part of secretParts(s)) {
      if (part.length >= MIN_SECRET_LENGTH && out.includes(part)) out = out.split(part).join(REDACTED);
    }
  }
  return out;
}

/** The whole value first, then the credential after a scheme word (`Bearer`, `ApiKey`, `Basic`). */
function secretParts(value: string): string[] {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  return space > 0 ? [trimmed, trimmed.slice(space + 1).trim()] : [trimmed];
}

/** The values of `headers` that may be credentials: all but the harmless ones (Content-Type and the like). */
export function secretHeaderValues(headers: Readonly<Record<string, string>> | undefined): string[] {
  if (!headers) return [];
  return Object.entries(headers)
    .filter(([k]) => !HARMLESS_HEADER.test(k))
    .map(([, v]) => v);
}
