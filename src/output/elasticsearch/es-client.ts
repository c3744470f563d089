/**
 * A tiny JSON client for the few Elasticsearch REST calls `setup elasticsearch` and
 * `check elasticsearch` make (node:http / node:https, no dependency). It never retries: the
 * commands are run by a person or a deployment script, who is told at once what went wrong.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

/** How to reach and authenticate to the cluster. */
export interface EsConnection {
  /** Base URL, e.g. `https://es.example:9200` (a path prefix of a proxy is kept). */
  endpoint: string;
  /** Elasticsearch API key: the base64 form Kibana shows as "Encoded", or `id:key`. */
  apiKey?: string;
  /** Basic auth, when no API key is given. */
  username?: string;
  password?: string;
  /** PEM CA bundle the server certificate must chain to. */
  caFile?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

/** One reply. `json` is the parsed body, or the text when it is not JSON. */
export interface EsResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: unknown;
}

/** The request did not get a reply: refused, DNS, TLS, timeout. */
export class EsConnectionError extends Error {
  override readonly name = 'EsConnectionError';
  constructor(
    /** The URL that was asked (no credentials). */
    readonly url: string,
    /** The OS or TLS error code, e.g. `ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The calls the commands need; tests can pass a fake. */
export interface EsClient {
  /** The endpoint as given, for messages. */
  readonly endpoint: string;
  /** Sends one request; rejects only with `EsConnectionError`. */
  request(method: string, path: string, body?: unknown): Promise<EsResponse>;
  /** Closes kept-alive connections. */
  close(): void;
}

/** Builds the client for `conn`. Throws when the CA file cannot be read. */
export function createEsClient(conn: EsConnection): EsClient {
  const base = new URL(conn.endpoint);
  const prefix = base.pathname.replace(/\/+$/, '');
  const ca = conn.caFile !== undefined ? readFileSync(conn.caFile) : undefined;
  const auth =
    conn.apiKey !== undefined
      ? // The encoded form is base64 and has no ':'; `id:key` as Elasticsearch's create-key API returns them is encoded here.
        `ApiKey ${conn.apiKey.includes(':') ? Buffer.from(conn.apiKey).toString('base64') : conn.apiKey}`
      : conn.username !== undefined
        ? `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`
        : undefined;
  const timeoutMs = conn.timeoutMs ?? 30_000;
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true });
  const shown = `${base.protocol}//${base.host}${prefix}`;

  return {
    endpoint: shown,
    close: () => agent.destroy(),
    request(method, path, body) {
      const url = `${shown}${path}`;
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (payload !== undefined) {
        headers['content-type'] = typeof body === 'string' ? 'application/x-ndjson' : 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      if (auth !== undefined) headers.authorization = auth;
      return new Promise<EsResponse>((resolve, reject) => {
        const req = (secure ? https : http).request(
          {
            protocol: base.protocol,
            hostname: base.hostname.replace(/^\[|\]$/g, ''),
            port: base.port || (secure ? 443 : 80),
            method,
            path: `${prefix}${path}`,
            headers,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (e: NodeJS.ErrnoException) => reject(new EsConnectionError(url, e.code, e.message)));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown = text;
              try {
                json = text === '' ? undefined : JSON.parse(text);
              } catch {
                // not JSON (a proxy's HTML page, say): keep the text for the message
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
            });
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no reply within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', (e: NodeJS.ErrnoException) => {
          const detail = e.code !== undefined && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
          reject(new EsConnectionError(url, e.code, `cannot reach ${url}: ${detail}`));
        });
        req.end(payload);
      });
    },
  };
}
