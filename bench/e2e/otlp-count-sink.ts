/**
 * A minimal OTLP/HTTP logs receiver for the benchmark: it acknowledges every
 * `POST /v1/logs` and counts LogRecords, plus how many records carry each of a
 * few watched attribute keys (e.g. `error.type`). Protobuf bodies are walked
 * field by field without building objects (ExportLogsServiceRequest ->
 * ResourceLogs.scope_logs -> ScopeLogs.log_records -> LogRecord.attributes ->
 * KeyValue.key), so counting stays cheap next to the systems measured. JSON and
 * gzip bodies are accepted too (decoded fully; slower, but exact).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

/** Counts so far. */
export interface SinkCounts {
  records: number;
  requests: number;
  bytes: number;
  /** Records carrying each watched top-level attribute key. */
  withKey: Record<string, number>;
  /** Date.now() when the most recent record arrived. */
  lastRecordAt: number;
  /** Bodies that could not be decoded (answered 400). */
  badRequests: number;
}

/** A running sink. */
export interface OtlpCountSink {
  readonly port: number;
  readonly counts: SinkCounts;
  /** Zero all counters (between runs). */
  reset(): void;
  /** Close the listener and every keep-alive connection. */
  close(): Promise<void>;
}

interface Cursor {
  pos: number;
}

function readVarint(buf: Buffer, c: Cursor, end: number): number {
  let result = 0;
  let shift = 0;
  while (c.pos < end) {
    const b = buf[c.pos++]!;
    if (shift < 28) result |= (b & 0x7f) << shift;
    else result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 63) break;
  }
  throw new Error('truncated varint');
}

/** Skip one field value of the given wire type; throws on an unknown wire type. */
function skipField(buf: Buffer, c: Cursor, wireType: number, end: number): void {
  switch (wireType) {
    case 0:
      readVarint(buf, c, end);
      return;
    case 1:
      c.pos += 8;
      return;
    case 2: {
      const len = readVarint(buf, c, end);
      c.pos += len;
      return;
    }
    case 5:
      c.pos += 4;
      return;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** Counting state for one protobuf request. */
interface ProtoCount {
  records: number;
  withKey: number[];
}

function keyIndex(buf: Buffer, start: number, end: number, keys: readonly Buffer[]): number {
  const len = end - start;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length === len && buf.compare(key, 0, len, start, end) === 0) return k;
  }
  return -1;
}

function countLogRecord(buf: Buffer, start: number, end: number, keys: readonly Buffer[], out: ProtoCount): void {
  const c: Cursor = { pos: start };
  let seen = 0; // bit k set once key k was counted for this record
  while (c.pos < end) {
    const tag = readVarint(buf, c, end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 6 && wt === 2) {
      const len = readVarint(buf, c, end);
      const kvEnd = c.pos + len;
      // KeyValue: key is field 1 (length-delimited) and encoders write it first.
      if (c.pos < kvEnd && buf[c.pos] === 0x0a) {
        c.pos++;
        const klen = readVarint(buf, c, kvEnd);
        const k = keyIndex(buf, c.pos, c.pos + klen, keys);
        if (k >= 0 && (seen & (1 << k)) === 0) {
          seen |= 1 << k;
          out.withKey[k]!++;
        }
      }
      c.pos = kvEnd;
    } else {
      skipField(buf, c, wt, end);
    }
  }
  out.records++;
}

/** Walk `field` (length-delimited) children of the message in [start,end). */
function forEachChild(
  buf: Buffer,
  start: number,
  end: number,
  field: number,
  fn: (s: number, e: number) => void,
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint(buf, c, end);
    if (tag >>> 3 === field && (tag & 7) === 2) {
      const len = readVarint(buf, c, end);
      fn(c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(buf, c, tag & 7, end);
    }
  }
  if (c.pos !== end) throw new Error('field overruns its message');
}

/** Count LogRecords (and watched keys) in a protobuf ExportLogsServiceRequest. Throws on malformed input. */
export function countProtobuf(buf: Buffer, keys: readonly Buffer[]): ProtoCount {
  const out: ProtoCount = { records: 0, withKey: keys.map(() => 0) };
  forEachChild(buf, 0, buf.length, 1, (rs, re) =>
    forEachChild(buf, rs, re, 2, (ss, se) =>
      forEachChild(buf, ss, se, 2, (ls, le) => countLogRecord(buf, ls, le, keys, out)),
    ),
  );
  return out;
}

interface JsonKv {
  key?: string;
}
interface JsonRequest {
  resourceLogs?: { scopeLogs?: { logRecords?: { attributes?: JsonKv[] }[] }[] }[];
}

/** Count LogRecords (and watched keys) in an OTLP/JSON ExportLogsServiceRequest. */
export function countJson(text: string, keys: readonly string[]): ProtoCount {
  const req = JSON.parse(text) as JsonRequest;
  const out: ProtoCount = { records: 0, withKey: keys.map(() => 0) };
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        out.records++;
        const attrs = lr.attributes ?? [];
        keys.forEach((k, i) => {
          if (attrs.some((a) => a.key === k)) out.withKey[i]!++;
        });
      }
    }
  }
  return out;
}

/**
 * Start the sink on 127.0.0.1 (port 0 picks a free port). `watchKeys` are the
 * top-level attribute keys whose presence is counted per record (at most 30).
 */
export async function startOtlpCountSink(watchKeys: readonly string[] = ['error.type'], port = 0): Promise<OtlpCountSink> {
  const keyBufs = watchKeys.map((k) => Buffer.from(k, 'utf8'));
  const counts: SinkCounts = {
    records: 0,
    requests: 0,
    bytes: 0,
    withKey: Object.fromEntries(watchKeys.map((k) => [k, 0])),
    lastRecordAt: 0,
    badRequests: 0,
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const ctype = req.headers['content-type'] ?? '';
    const isJson = ctype.includes('json');
    try {
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      const c = isJson ? countJson(raw.toString('utf8'), watchKeys) : countProtobuf(raw, keyBufs);
      counts.requests++;
      counts.bytes += body.length;
      if (c.records > 0) {
        counts.records += c.records;
        watchKeys.forEach((k, i) => (counts.withKey[k]! += c.withKey[i]!));
        counts.lastRecordAt = Date.now();
      }
      if (isJson) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        // An empty ExportLogsServiceResponse is zero bytes.
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
      }
    } catch (err) {
      counts.badRequests++;
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
    }
  };
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    reset() {
      counts.records = 0;
      counts.requests = 0;
      counts.bytes = 0;
      counts.badRequests = 0;
      counts.lastRecordAt = 0;
      for (const k of watchKeys) counts.withKey[k] = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
