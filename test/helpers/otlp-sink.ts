/**
 * A local OTLP/HTTP logs receiver for tests: listens on 127.0.0.1:0, accepts
 * POST /v1/logs as JSON or protobuf, gzip or not, decodes every request into a
 * normalised form (typed values, nanosecond timestamps as decimal strings) so that
 * two encoders can be compared exactly, and can be scripted to answer 503 / 429 with
 * Retry-After, to be slow, or to stop listening (connection refused) and come back.
 *
 * The protobuf decoder is a small reader written here: otlp-transformer 0.223.1 ships
 * only writers for requests (its reader is internal and decodes responses only).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** A decoded AnyValue with its OTLP type. */
export type NormValue =
  | { string: string }
  | { int: string }
  | { double: number }
  | { bool: boolean }
  | { array: NormValue[] }
  | { kvlist: Record<string, NormValue> }
  | { bytes: string }
  | null;

/** One decoded log record with its resource and scope. Absent fields take their protobuf default. */
export interface NormRecord {
  resource: Record<string, NormValue>;
  scope: { name: string; version: string };
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: NormValue;
  attributes: Record<string, NormValue>;
  droppedAttributesCount: number;
}

/** One request as the sink saw it. */
export interface SinkRequest {
  status: number;
  contentType: string;
  contentEncoding: string;
  headers: http.IncomingHttpHeaders;
  records: number;
  bytes: number;
}

/** A scripted answer for the next request. */
export interface SinkResponse {
  status: number;
  retryAfter?: string;
  delayMs?: number;
}

// ---------- protobuf ----------

class PbReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new Error('varint too long');
  }
  tag(): [number, number] {
    const t = Number(this.varint());
    return [t >>> 3, t & 7];
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  fixed64(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function pbAnyValue(buf: Buffer): NormValue {
  const r = new PbReader(buf);
  let v: NormValue = null;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) v = { string: r.bytes().toString('utf8') };
    else if (f === 2 && w === 0) v = { bool: r.varint() !== 0n };
    else if (f === 3 && w === 0) v = { int: BigInt.asIntN(64, r.varint()).toString() };
    else if (f === 4 && w === 1) v = { double: r.double() };
    else if (f === 5 && w === 2) {
      const arr: NormValue[] = [];
      const ar = new PbReader(r.bytes());
      while (!ar.done) {
        const [af, aw] = ar.tag();
        if (af === 1 && aw === 2) arr.push(pbAnyValue(ar.bytes()));
        else ar.skip(aw);
      }
      v = { array: arr };
    } else if (f === 6 && w === 2) {
      const kv: Record<string, NormValue> = {};
      const kr = new PbReader(r.bytes());
      while (!kr.done) {
        const [kf, kw] = kr.tag();
        if (kf === 1 && kw === 2) pbKeyValue(kr.bytes(), kv);
        else kr.skip(kw);
      }
      v = { kvlist: kv };
    } else if (f === 7 && w === 2) v = { bytes: r.bytes().toString('base64') };
    else r.skip(w);
  }
  return v;
}

function pbKeyValue(buf: Buffer, into: Record<string, NormValue>): void {
  const r = new PbReader(buf);
  let key = '';
  let value: NormValue = null;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) key = r.bytes().toString('utf8');
    else if (f === 2 && w === 2) value = pbAnyValue(r.bytes());
    else r.skip(w);
  }
  into[key] = value;
}

function pbAttributesOf(buf: Buffer, field: number): Record<string, NormValue> {
  const out: Record<string, NormValue> = {};
  const r = new PbReader(buf);
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === field && w === 2) pbKeyValue(r.bytes(), out);
    else r.skip(w);
  }
  return out;
}

function pbScope(buf: Buffer): { name: string; version: string } {
  const r = new PbReader(buf);
  const s = { name: '', version: '' };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) s.name = r.bytes().toString('utf8');
    else if (f === 2 && w === 2) s.version = r.bytes().toString('utf8');
    else r.skip(w);
  }
  return s;
}

function pbLogRecord(
  buf: Buffer,
  resource: Record<string, NormValue>,
  scope: { name: string; version: string },
): NormRecord {
  const rec: NormRecord = {
    resource,
    scope,
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    droppedAttributesCount: 0,
  };
  const r = new PbReader(buf);
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 1) rec.timeUnixNano = r.fixed64().toString();
    else if (f === 11 && w === 1) rec.observedTimeUnixNano = r.fixed64().toString();
    else if (f === 2 && w === 0) rec.severityNumber = Number(r.varint());
    else if (f === 3 && w === 2) rec.severityText = r.bytes().toString('utf8');
    else if (f === 5 && w === 2) rec.body = pbAnyValue(r.bytes());
    else if (f === 6 && w === 2) pbKeyValue(r.bytes(), rec.attributes);
    else if (f === 7 && w === 0) rec.droppedAttributesCount = Number(r.varint());
    else r.skip(w);
  }
  return rec;
}

/** Decode one LogRecord message (its bytes, without the field tag and length). */
export function decodeProtobufLogRecord(buf: Buffer): NormRecord {
  return pbLogRecord(buf, {}, { name: '', version: '' });
}

/** Decode an ExportLogsServiceRequest (protobuf) into normalised records. */
export function decodeProtobufRequest(buf: Buffer): NormRecord[] {
  const out: NormRecord[] = [];
  const r = new PbReader(buf);
  while (!r.done) {
    const [f, w] = r.tag();
    if (!(f === 1 && w === 2)) {
      r.skip(w);
      continue;
    }
    const rl = new PbReader(r.bytes());
    let resource: Record<string, NormValue> = {};
    const scopeLogs: Buffer[] = [];
    while (!rl.done) {
      const [rf, rw] = rl.tag();
      if (rf === 1 && rw === 2) resource = pbAttributesOf(rl.bytes(), 1);
      else if (rf === 2 && rw === 2) scopeLogs.push(rl.bytes());
      else rl.skip(rw);
    }
    for (const slBuf of scopeLogs) {
      const sl = new PbReader(slBuf);
      let scope = { name: '', version: '' };
      const recs: Buffer[] = [];
      while (!sl.done) {
        const [sf, sw] = sl.tag();
        if (sf === 1 && sw === 2) scope = pbScope(sl.bytes());
        else if (sf === 2 && sw === 2) recs.push(sl.bytes());
        else sl.skip(sw);
      }
      for (const rb of recs) out.push(pbLogRecord(rb, resource, scope));
    }
  }
  return out;
}

// ---------- JSON ----------

type Json = Record<string, unknown>;

function jsonInt(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v).toString();
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const o = v as { low: number; high: number };
    return ((BigInt(o.high >>> 0) << 32n) | BigInt(o.low >>> 0)).toString();
  }
  return '0';
}

function jsonAnyValue(v: unknown): NormValue {
  if (!v || typeof v !== 'object') return null;
  const o = v as Json;
  if ('stringValue' in o) return { string: String(o.stringValue) };
  if ('intValue' in o) return { int: BigInt.asIntN(64, BigInt(jsonInt(o.intValue))).toString() };
  if ('doubleValue' in o) return { double: Number(o.doubleValue) };
  if ('boolValue' in o) return { bool: Boolean(o.boolValue) };
  if ('arrayValue' in o) {
    const vals = ((o.arrayValue as Json | undefined)?.values as unknown[] | undefined) ?? [];
    return { array: vals.map(jsonAnyValue) };
  }
  if ('kvlistValue' in o) {
    const out: Record<string, NormValue> = {};
    for (const kv of ((o.kvlistValue as Json | undefined)?.values as Json[] | undefined) ?? []) {
      out[String(kv.key)] = jsonAnyValue(kv.value);
    }
    return { kvlist: out };
  }
  if ('bytesValue' in o) return { bytes: String(o.bytesValue) };
  return null;
}

function jsonAttributes(list: unknown): Record<string, NormValue> {
  const out: Record<string, NormValue> = {};
  for (const kv of (list as Json[] | undefined) ?? []) out[String(kv.key)] = jsonAnyValue(kv.value);
  return out;
}

/** Decode an ExportLogsServiceRequest (OTLP/JSON) into normalised records. */
export function decodeJsonRequest(text: string): NormRecord[] {
  const out: NormRecord[] = [];
  const req = JSON.parse(text) as Json;
  for (const rl of (req.resourceLogs as Json[] | undefined) ?? []) {
    const resource = jsonAttributes((rl.resource as Json | undefined)?.attributes);
    for (const sl of (rl.scopeLogs as Json[] | undefined) ?? []) {
      const s = (sl.scope as Json | undefined) ?? {};
      const scope = { name: String(s.name ?? ''), version: String(s.version ?? '') };
      for (const lr of (sl.logRecords as Json[] | undefined) ?? []) {
        out.push({
          resource,
          scope,
          timeUnixNano: lr.timeUnixNano === undefined ? '0' : jsonInt(lr.timeUnixNano),
          observedTimeUnixNano: lr.observedTimeUnixNano === undefined ? '0' : jsonInt(lr.observedTimeUnixNano),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: String(lr.severityText ?? ''),
          body: jsonAnyValue(lr.body),
          attributes: jsonAttributes(lr.attributes),
          droppedAttributesCount: Number(lr.droppedAttributesCount ?? 0),
        });
      }
    }
  }
  return out;
}

// ---------- server ----------

/** The local OTLP/HTTP receiver. */
export class OtlpSink {
  /** Records of requests answered 2xx, in arrival order. */
  readonly records: NormRecord[] = [];
  /** Every request, whatever the answer (pushed once answered). */
  readonly requests: SinkRequest[] = [];
  /** Requests whose body has arrived, answered or not (a `delayMs` answer is pending meanwhile). */
  arrived = 0;
  /** Requests held by `hold()` right now (arrived, not answered). */
  heldCount = 0;
  private holding = false;
  private held: Array<() => void> = [];
  /** Answers for the next requests, consumed in order; then `defaultResponse`. */
  script: SinkResponse[] = [];
  defaultResponse: SinkResponse = { status: 200 };
  private server: http.Server | undefined;
  private portNumber = 0;
  private readonly sockets = new Set<import('node:net').Socket>();

  /**
   * Start listening (on a new port the first time, on the same port after `stop()`). The first
   * port is picked below Linux's ephemeral range (32768-60999): a port from that range could be
   * taken, while the sink is stopped, as the local port of some other test's connection, and
   * the restart would then fail with EADDRINUSE.
   */
  async start(): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      const port = this.portNumber !== 0 ? this.portNumber : 20000 + Math.floor(Math.random() * 12000);
      try {
        this.server = await this.listen(port);
        this.portNumber = (this.server.address() as AddressInfo).port;
        return this;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw err;
        // A fixed port held for a moment (a restart): wait; a fresh pick: try another.
        if (this.portNumber !== 0) await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async listen(port: number): Promise<http.Server> {
    // A client that aborts mid-body (killed, timed out) rejects the body read: that request was
    // never acknowledged, so it is recorded as abandoned rather than left as an unhandled rejection.
    const server = http.createServer((req, res) =>
      this.handle(req, res).catch(() => {
        this.requests.push({ status: 0, contentType: String(req.headers['content-type'] ?? ''), contentEncoding: String(req.headers['content-encoding'] ?? ''), headers: req.headers, records: 0, bytes: 0 });
        res.destroy();
      }),
    );
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return server;
  }

  /** Stop listening and drop open connections: senders get ECONNREFUSED until `start()`. */
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.release(); // held requests of destroyed sockets end as abandoned (status 0)
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get port(): number {
    return this.portNumber;
  }

  /** The logs URL of this sink. */
  get url(): string {
    return `http://127.0.0.1:${this.portNumber}/v1/logs`;
  }

  /** Resolve once at least `n` records were accepted (throws after `timeoutMs`). */
  async waitForRecords(n: number, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.records.length < n) {
      if (Date.now() > end) throw new Error(`otlp sink: ${this.records.length}/${n} records after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * Block: requests still arrive (counted in `arrived`) but get no answer until `release()`, as
   * from a collector that hangs. A request its client abandoned meanwhile (timeout) is recorded
   * with status 0 and its records are not kept: the client did not get them acknowledged.
   */
  hold(): void {
    this.holding = true;
  }

  /** Answer the held requests and stop holding. */
  release(): void {
    this.holding = false;
    const h = this.held;
    this.held = [];
    for (const r of h) r();
  }

  /** Requests answered with `status`. */
  countStatus(status: number): number {
    return this.requests.filter((r) => r.status === status).length;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    const contentType = String(req.headers['content-type'] ?? '');
    const contentEncoding = String(req.headers['content-encoding'] ?? '');
    this.arrived++;
    if (this.holding) {
      this.heldCount++;
      await new Promise<void>((r) => this.held.push(r));
      this.heldCount--;
    }
    const answer = this.script.shift() ?? this.defaultResponse;
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    let records: NormRecord[] = [];
    let status = answer.status;
    if (req.method !== 'POST' || req.url !== '/v1/logs') status = 404;
    else {
      try {
        if (contentEncoding === 'gzip') body = zlib.gunzipSync(body);
        records = contentType.startsWith('application/json')
          ? decodeJsonRequest(body.toString('utf8'))
          : decodeProtobufRequest(body);
      } catch {
        status = 400;
      }
    }
    if (req.socket.destroyed) {
      // The client gave up on this request (a held or slow answer): nothing was acknowledged.
      this.requests.push({ status: 0, contentType, contentEncoding, headers: req.headers, records: records.length, bytes: body.length });
      return;
    }
    this.requests.push({ status, contentType, contentEncoding, headers: req.headers, records: records.length, bytes: body.length });
    if (status >= 200 && status < 300) this.records.push(...records);
    const headers: Record<string, string> = {
      'content-type': contentType.startsWith('application/json') ? 'application/json' : 'application/x-protobuf',
    };
    if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
    res.writeHead(status, headers);
    res.end(contentType.startsWith('application/json') && status < 300 ? '{}' : undefined);
  }
}

/** Start a sink on 127.0.0.1:0. */
export function startOtlpSink(): Promise<OtlpSink> {
  return new OtlpSink().start();
}
