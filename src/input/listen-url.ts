import { isIP } from 'node:net';

/** A parsed `--listen` URL. */
export interface ListenUrl {
  transport: 'udp' | 'tcp' | 'tls' | 'relp';
  /** Host without brackets (`::1`, `127.0.0.1`, `0.0.0.0`, `localhost`). */
  host: string;
  port: number;
  /** Per-listener settings from an optional query (`tcp://0.0.0.0:9001?framing=lf`), as text. */
  query: Record<string, string>;
}

/** Thrown by `parseListenUrl()`; the message says what is wrong and shows the expected form. */
export class ListenUrlError extends Error {
  override readonly name = 'ListenUrlError';
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/;

/**
 * Parse `udp://HOST:PORT`, `tcp://HOST:PORT`, `tls://HOST:PORT` or `relp://HOST:PORT` (IPv6 in
 * brackets: `tcp://[::1]:9001`), optionally followed by `?key=value&…` settings.
 * The port is required (0 = any free port). Throws `ListenUrlError` with a clear message.
 */
export function parseListenUrl(url: string): ListenUrl {
  const expected = 'expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT or relp://HOST:PORT (IPv6 as [ADDR])';
  const query: Record<string, string> = {};
  const q = url.indexOf('?');
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) query[k] = v;
    url = url.slice(0, q);
  }
  const m = /^([A-Za-z]+):\/\/(.*)$/.exec(url.trim());
  if (!m) throw new ListenUrlError(`invalid listen address "${url}": ${expected}`);
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'udp' && scheme !== 'tcp' && scheme !== 'tls' && scheme !== 'relp') {
    throw new ListenUrlError(`invalid listen address "${url}": unknown transport "${m[1]}", ${expected}`);
  }
  let rest = m[2]!;
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new ListenUrlError(`invalid listen address "${url}": missing "]" after the IPv6 address`);
    host = rest.slice(1, close);
    if (isIP(host) !== 6) throw new ListenUrlError(`invalid listen address "${url}": "${host}" is not an IPv6 address`);
    if (rest[close + 1] !== ':') throw new ListenUrlError(`invalid listen address "${url}": missing ":PORT", ${expected}`);
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new ListenUrlError(`invalid listen address "${url}": missing ":PORT", ${expected}`);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) {
      throw new ListenUrlError(`invalid listen address "${url}": put an IPv6 address in brackets, e.g. ${scheme}://[${host}]:${portText}`);
    }
    if (host === '') throw new ListenUrlError(`invalid listen address "${url}": missing host (use 0.0.0.0 or [::] to listen on all interfaces)`);
    if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new ListenUrlError(`invalid listen address "${url}": "${host}" is not an IP address or host name`);
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new ListenUrlError(`invalid listen address "${url}": port "${portText}" is not a number from 0 to 65535`);
  }
  return { transport: scheme, host, port: Number(portText), query };
}

/** The URL form of a listener, as used in input names and metric labels. */
export function formatListenUrl(transport: string, host: string, port: number): string {
  return `${transport}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
