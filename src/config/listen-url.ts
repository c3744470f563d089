/** What a `--listen` URL says: transport, address and optional per-listener settings from the query. */
export interface ListenUrlParts {
  type: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** `?framing=lf` etc., passed through for the schema-level keys. */
  query: Record<string, string>;
}

/**
 * Parses `udp://HOST:PORT`, `tcp://HOST:PORT`, `tls://HOST:PORT` (IPv6 in brackets,
 * `tcp://[::]:9001`); an omitted port means 9001 (6514 for tls). Returns an error message
 * string for anything else.
 */
export function parseListenArgument(text: string): ListenUrlParts | string {
  const m = /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:?#\s]+)?(?::(\d{1,5}))?\/?(?:\?(.*))?$/.exec(text.trim());
  if (!m) return `"${text}" is not a listen URL (udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT)`;
  const type = m[1] as ListenUrlParts['type'];
  let host = m[2] ?? '127.0.0.1';
  if (host.startsWith('[')) host = host.slice(1, -1);
  const port = m[3] === undefined ? (type === 'tls' ? 6514 : 9001) : Number(m[3]);
  if (port > 65535) return `"${text}": port must be 0..65535`;
  const query: Record<string, string> = {};
  if (m[4]) for (const [k, v] of new URLSearchParams(m[4])) query[k] = v;
  return { type, host, port, query };
}
