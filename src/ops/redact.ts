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
