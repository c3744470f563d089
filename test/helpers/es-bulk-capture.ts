/**
 * A stand-in for Elasticsearch, just enough for the Collector's `elasticsearch`
 * exporter: it answers the product check and `_bulk`, and keeps every document
 * with the index or data stream it was sent to. Tests then assert the document
 * shape Elastic would store, without running Elasticsearch.
 *
 * What the exporter (go-elasticsearch v8 client) needs:
 * - every response carries `X-Elastic-Product: Elasticsearch`, or the client refuses
 *   to talk to the server ("the client noticed that the server is not Elasticsearch");
 * - `GET /` returns cluster info with `version.number` >= 8.12 (the `otel` mapping
 *   mode needs it);
 * - `POST /_bulk` (possibly `/<index>/_bulk`, possibly gzip-compressed) gets a bulk
 *   response with one item per action and a per-item `status`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One document captured from a `_bulk` request. */
export interface CapturedDocument {
  /** The bulk action: `create` (data streams) or `index`, etc. */
  action: string;
  /** The target index or data stream (`_index` of the action, or the URL's index). */
  index: string;
  /** The whole action metadata object (`_index`, `dynamic_templates`, `require_data_stream`, ...). */
  meta: Record<string, unknown>;
  /** The document as sent. */
  source: Record<string, unknown>;
}

/** A request the capture saw (for debugging and for asserting what was probed). */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface EsBulkCaptureOptions {
  /** Version reported by `GET /`; default `8.17.0`. */
  version?: string;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /**
   * Per-item status to answer, given the captured document; default 201 for
   * `create`, 200 otherwise. Lets a test make items fail (e.g. 429) to exercise retries.
   */
  itemStatus?: (doc: CapturedDocument) => number;
}

export interface EsBulkCapture {
  /** `http://127.0.0.1:PORT`, for the exporter's `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Every document accepted so far, in arrival order. */
  readonly documents: CapturedDocument[];
  /** Every request seen, in arrival order. */
  readonly requests: CapturedRequest[];
  /**
   * Resolves once at least `count` documents match `predicate` (default: all
   * documents); rejects after `timeoutMs` with what was captured so far.
   */
  waitForDocuments(
    count: number,
    timeoutMs: number,
    predicate?: (doc: CapturedDocument) => boolean,
  ): Promise<CapturedDocument[]>;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

const PRODUCT_HEADERS = {
  'X-Elastic-Product': 'Elasticsearch',
  'Content-Type': 'application/json',
} as const;

/** Start a capture server; resolves once it is listening. */
export async function startEsBulkCapture(options: EsBulkCaptureOptions = {}): Promise<EsBulkCapture> {
  const version = options.version ?? '8.17.0';
  const documents: CapturedDocument[] = [];
  const requests: CapturedRequest[] = [];
  const waiters = new Set<() => void>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      let raw = Buffer.concat(chunks);
      if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) raw = gunzipSync(raw);
      const url = new URL(req.url ?? '/', 'http://capture');
      const send = (status: number, body: unknown): void => {
        const text = JSON.stringify(body);
        res.writeHead(status, { ...PRODUCT_HEADERS, 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      };

      if ((req.method === 'GET' || req.method === 'HEAD') && url.pathname === '/') {
        send(200, clusterInfo(version));
        return;
      }
      const bulk = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(url.pathname);
      if (req.method !== 'POST' && req.method !== 'PUT') {
        send(404, notFound(url.pathname));
        return;
      }
      if (!bulk) {
        send(404, notFound(url.pathname));
        return;
      }
      const defaultIndex = bulk[1] ? decodeURIComponent(bulk[1]) : undefined;
      const started = Date.now();
      let items: unknown[];
      try {
        items = ingestBulk(raw.toString('utf8'), defaultIndex, documents, options.itemStatus);
      } catch (err) {
        send(400, {
          error: { type: 'parse_exception', reason: (err as Error).message },
          status: 400,
        });
        return;
      }
      const errors = items.some((it) => {
        const v = Object.values(it as Record<string, { status: number }>)[0];
        return v !== undefined && v.status >= 300;
      });
      send(200, { took: Date.now() - started, errors, items });
      for (const w of [...waiters]) w();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    documents,
    requests,
    waitForDocuments(count, timeoutMs, predicate = () => true) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = documents.filter(predicate);
          if (found.length >= count) {
            waiters.delete(onChange);
            clearTimeout(timer);
            resolve(found);
            return true;
          }
          return false;
        };
        const onChange = (): void => {
          check();
        };
        const timer = setTimeout(() => {
          waiters.delete(onChange);
          reject(
            new Error(
              `es-bulk-capture: wanted ${count} matching documents within ${timeoutMs} ms, ` +
                `have ${documents.filter(predicate).length} (of ${documents.length}); requests: ` +
                requests.map((r) => `${r.method} ${r.url}`).join(', '),
            ),
          );
        }, timeoutMs);
        waiters.add(onChange);
        check();
      });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** Parse an NDJSON bulk body, store its documents, and return the response items. */
function ingestBulk(
  body: string,
  defaultIndex: string | undefined,
  documents: CapturedDocument[],
  itemStatus: EsBulkCaptureOptions['itemStatus'],
): unknown[] {
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  const items: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const actionLine = JSON.parse(lines[i]!) as Record<string, Record<string, unknown>>;
    const action = Object.keys(actionLine)[0];
    if (action === undefined) throw new Error(`empty action at line ${i + 1}`);
    const meta = actionLine[action] ?? {};
    const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
    if (index === undefined) throw new Error(`action at line ${i + 1} names no index`);
    if (action === 'delete') {
      items.push({ delete: { _index: index, _id: meta._id, status: 404, result: 'not_found' } });
      continue;
    }
    const sourceLine = lines[++i];
    if (sourceLine === undefined) throw new Error(`action at line ${i} has no document`);
    const source = JSON.parse(sourceLine) as Record<string, unknown>;
    const doc: CapturedDocument = { action, index, meta, source };
    const status = itemStatus?.(doc) ?? (action === 'create' ? 201 : 200);
    const id = typeof meta._id === 'string' ? meta._id : `cap-${documents.length + 1}`;
    if (status < 300) {
      documents.push(doc);
      items.push({
        [action]: {
          _index: index.startsWith('logs-') ? `.ds-${index}-2026.01.01-000001` : index,
          _id: id,
          _version: 1,
          result: 'created',
          _shards: { total: 1, successful: 1, failed: 0 },
          _seq_no: documents.length - 1,
          _primary_term: 1,
          status,
        },
      });
    } else {
      items.push({
        [action]: {
          _index: index,
          _id: id,
          status,
          error: {
            type: status === 429 ? 'es_rejected_execution_exception' : 'mapper_parsing_exception',
            reason: `es-bulk-capture: rejected with status ${status}`,
          },
        },
      });
    }
  }
  return items;
}

function clusterInfo(version: string): Record<string, unknown> {
  return {
    name: 'es-bulk-capture',
    cluster_name: 'iptables-otel-test',
    cluster_uuid: 'AAAAAAAAAAAAAAAAAAAAAA',
    version: {
      number: version,
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: '0000000000000000000000000000000000000000',
      build_date: '2026-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

function notFound(path: string): Record<string, unknown> {
  return {
    error: { type: 'resource_not_found_exception', reason: `es-bulk-capture does not serve ${path}` },
    status: 404,
  };
}

/**
 * Read a field from a stored document by its dotted Elasticsearch path, whether
 * the document holds it nested (`{a:{b:1}}`), flat (`{"a.b":1}`) or mixed
 * (`{attributes:{"source.port":1}}`, as the `otel` mapping mode sends). Returns
 * undefined when no split of the path resolves.
 */
export function getField(doc: unknown, path: string): unknown {
  if (path === '') return doc;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const obj = doc as Record<string, unknown>;
  const parts = path.split('.');
  // Longest key first: "source.ip" as one key beats "source" -> "ip".
  for (let n = parts.length; n >= 1; n--) {
    const key = parts.slice(0, n).join('.');
    if (Object.prototype.hasOwnProperty.call(obj, key)) {
      const v = getField(obj[key], parts.slice(n).join('.'));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}
