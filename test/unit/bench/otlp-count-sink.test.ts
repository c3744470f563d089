import { request } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { generateLines } from '../../../bench/e2e/generate-lines.js';
import {
  countProtobuf,
  ProtobufRecordCounter,
  startOtlpCountSink,
  type OtlpCountSink,
} from '../../../bench/e2e/otlp-count-sink.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { OtlpProtobufEncoder } from '../../../src/output/otlp-protobuf.js';

const WATCH = ['error.type', 'SRC', 'source.address'];

/**
 * Real records: bench lines, every 7th replaced by a non-netfilter line (an
 * `error.type` record), every 5th given a log prefix that spells `error.type`
 * (in the body and a value, never as a key).
 */
function records(n: number, seed = 7): FirewallLogRecord[] {
  return generateLines(n, seed).map((l, i) => {
    if (i % 7 === 3) return parseFrame(`<4>Nov 26 14:00:00 fw1 kernel: error.type not a firewall line ${i}`);
    if (i % 5 === 1) return parseFrame(l.replace('kernel: ', 'kernel: error.type '));
    return parseFrame(l);
  });
}

function expected(recs: readonly FirewallLogRecord[]): { records: number; withKey: number[] } {
  return { records: recs.length, withKey: WATCH.map((k) => recs.filter((r) => k in r.attributes).length) };
}

function encode(recs: readonly FirewallLogRecord[]): Buffer {
  const enc = new OtlpProtobufEncoder({ 'service.name': 'iptables-otel' }, { name: 'iptables-otel', version: '1' });
  return Buffer.from(enc.encode(recs));
}

interface Reply {
  status: number;
  body: string;
}

/** POST like @opentelemetry/otlp-exporter-base (a piped stream: chunked) or with Content-Length. */
function post(
  sink: OtlpCountSink,
  body: Buffer,
  opts: { chunked?: boolean; headers?: Record<string, string>; method?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-protobuf', ...opts.headers };
    if (!opts.chunked) headers['content-length'] = String(body.length);
    const req = request(
      { host: '127.0.0.1', port: sink.port, path: '/v1/logs', method: opts.method ?? 'POST', headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    if (opts.chunked) Readable.from([body]).pipe(req);
    else req.end(body);
  });
}

/** How many whole responses (head + Content-Length body) `text` holds. */
function completeResponses(text: string): number {
  let n = 0;
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return n;
    const len = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1] ?? 0);
    if (text.length < end + 4 + len) return n;
    at = end + 4 + len;
    n++;
  }
}

/** Write raw bytes in the given pieces on one connection; resolve with everything read until `replies` responses ended. */
function raw(sink: OtlpCountSink, pieces: readonly Buffer[], replies: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(sink.port, '127.0.0.1');
    let text = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
      if (completeResponses(text) >= replies) {
        sock.destroy();
        resolve(text);
      }
    });
    sock.on('error', reject);
    sock.on('connect', async () => {
      for (const p of pieces) {
        sock.write(p);
        await new Promise((r) => setTimeout(r, 1)); // separate reads on the sink's side
      }
    });
  });
}

function head(body: Buffer, extra = ''): Buffer {
  return Buffer.from(
    `POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n${extra}\r\n`,
    'latin1',
  );
}

const sinks: OtlpCountSink[] = [];
async function sink(): Promise<OtlpCountSink> {
  const s = await startOtlpCountSink(WATCH);
  sinks.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

describe('ProtobufRecordCounter', () => {
  const recs = records(300);
  const body = encode(recs);
  const want = expected(recs);
  const keys = WATCH.map((k) => Buffer.from(k));

  it('counts records and watched keys exactly (the fixture has both kinds of record)', () => {
    expect(want.withKey[0]).toBeGreaterThan(30);
    expect(want.withKey[0]).toBeLessThan(want.records);
    expect(recs.some((r) => r.body.includes('error.type') && !('error.type' in r.attributes))).toBe(true);
    expect(countProtobuf(body, keys)).toEqual(want);
  });

  it('gives the same counts for the body cut into any pieces, at any offset of their buffers', () => {
    const c = new ProtobufRecordCounter(keys);
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let t = 0; t < 60; t++) {
      c.reset();
      for (let p = 0; p < body.length; ) {
        const n = 1 + (t < 20 ? t : rnd(4) === 0 ? rnd(40) : rnd(20_000));
        const pad = rnd(3) * 100;
        const piece = Buffer.alloc(pad + n + 5, 0xff);
        const got = body.copy(piece, pad, p, p + n);
        c.write(piece, pad, pad + got);
        p += n;
      }
      expect(c.finish(), c.error ?? '').toBe(true);
      expect({ records: c.records, withKey: [...c.withKey] }).toEqual(want);
    }
  });

  it('rejects truncated and garbage bodies', () => {
    expect(() => countProtobuf(body.subarray(0, body.length - 3), keys)).toThrow();
    expect(() => countProtobuf(body.subarray(0, 1000), keys)).toThrow();
    expect(() => countProtobuf(Buffer.from('not a protobuf at all, just text'), keys)).toThrow();
    expect(() => countProtobuf(Buffer.concat([body, Buffer.from([0x0f])]), keys)).toThrow(/wire type 7/);
    // request { resource_logs { scope_logs { log_records { <bytes> } } } }
    const wrap = (inner: number[]) => {
      const lr = [0x12, inner.length, ...inner];
      const sl = [0x12, lr.length, ...lr];
      return Buffer.from([0x0a, sl.length, ...sl]);
    };
    expect(countProtobuf(wrap([0x09, 1, 2, 3, 4, 5, 6, 7, 8]), keys).records).toBe(1);
    expect(() => countProtobuf(wrap([0x0f]), keys)).toThrow(/wire type 7/);
    expect(() => countProtobuf(wrap([0x09, 1, 2, 3]), keys)).toThrow(/overruns/);
    // attributes { key: "SRC" } counted; a key cut short is not.
    expect(countProtobuf(wrap([0x32, 5, 0x0a, 3, 0x53, 0x52, 0x43]), keys).withKey).toEqual([0, 1, 0]);
    expect(() => countProtobuf(wrap([0x32, 4, 0x0a, 3, 0x53, 0x52]), keys)).toThrow(/truncated key/);
    expect(countProtobuf(Buffer.alloc(0), keys)).toEqual({ records: 0, withKey: [0, 0, 0] });
  });
});

describe('startOtlpCountSink', () => {
  it('counts Content-Length and chunked (OTel exporter style) protobuf requests exactly', async () => {
    const s = await sink();
    const batches = [records(512, 1), records(100, 2), records(1, 3), records(77, 4)];
    let bytes = 0;
    for (const [i, b] of batches.entries()) {
      const body = encode(b);
      bytes += body.length;
      expect(await post(s, body, { chunked: i % 2 === 0 })).toEqual({ status: 200, body: '' });
    }
    const all = batches.flat();
    const want = expected(all);
    expect(s.counts.records).toBe(want.records);
    expect(s.counts.requests).toBe(4);
    expect(s.counts.bytes).toBe(bytes);
    expect(s.counts.badRequests).toBe(0);
    expect(s.counts.withKey).toEqual(Object.fromEntries(WATCH.map((k, i) => [k, want.withKey[i]])));
    expect(Date.now() - s.counts.lastRecordAt).toBeLessThan(10_000);
    s.reset();
    expect(s.counts).toEqual({
      records: 0,
      requests: 0,
      bytes: 0,
      withKey: { 'error.type': 0, SRC: 0, 'source.address': 0 },
      lastRecordAt: 0,
      badRequests: 0,
    });
  });

  it('answers 400 and counts a bad request for truncated and garbage bodies, and keeps serving', async () => {
    const s = await sink();
    const recs = records(50);
    const body = encode(recs);
    expect((await post(s, body.subarray(0, body.length - 10))).status).toBe(400);
    expect((await post(s, Buffer.from('garbage garbage garbage'), { chunked: true })).status).toBe(400);
    expect(s.counts.badRequests).toBe(2);
    expect(s.counts.records).toBe(0);
    expect(s.counts.requests).toBe(0);
    expect((await post(s, body)).status).toBe(200);
    expect(s.counts.records).toBe(50);
    expect(s.counts.withKey['error.type']).toBe(expected(recs).withKey[0]);
  });

  it('accepts gzip protobuf and JSON (plain and gzip) bodies', async () => {
    const s = await sink();
    const recs = records(40);
    const want = expected(recs);
    expect((await post(s, gzipSync(encode(recs)), { headers: { 'content-encoding': 'gzip' } })).status).toBe(200);
    const json = Buffer.from(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: recs.map((r) => ({
                  body: { stringValue: r.body },
                  attributes: Object.keys(r.attributes).map((key) => ({ key, value: { stringValue: 'x' } })),
                })),
              },
            ],
          },
        ],
      }),
    );
    const jh = { 'content-type': 'application/json' };
    expect(await post(s, json, { headers: jh })).toEqual({ status: 200, body: '{}' });
    expect((await post(s, gzipSync(json), { chunked: true, headers: { ...jh, 'content-encoding': 'gzip' } })).status).toBe(200);
    expect((await post(s, gzipSync(Buffer.from('{"resourceLogs":[')), { headers: jh })).status).toBe(400);
    expect(s.counts.records).toBe(3 * 40);
    expect(s.counts.withKey['error.type']).toBe(3 * want.withKey[0]!);
    expect(s.counts.withKey['source.address']).toBe(3 * want.withKey[2]!);
    expect(s.counts.requests).toBe(3);
    expect(s.counts.badRequests).toBe(1);
  });

  it('parses heads and bodies split anywhere, pipelined requests and Expect: 100-continue', async () => {
    const s = await sink();
    const a = encode(records(20, 5));
    const b = encode(records(30, 6));
    const chunked = Buffer.concat([
      Buffer.from('POST /v1/logs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1'),
      Buffer.from(`${(1000).toString(16)};ext=1\r\n`, 'latin1'),
      b.subarray(0, 1000),
      Buffer.from(`\r\n${(b.length - 1000).toString(16)}\r\n`, 'latin1'),
      b.subarray(1000),
      Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n', 'latin1'),
    ]);
    const stream = Buffer.concat([head(a), a, chunked, head(a, 'Expect: 100-continue\r\n'), a]);
    // Cut at every kind of place: inside the request line, the CRLFs, chunk sizes, the bodies.
    const cuts = [3, 17, 40, 41, 42, 60, 100, 101, 500, a.length + 50, a.length + 200, stream.length - 40, stream.length - 3];
    const pieces: Buffer[] = [];
    let from = 0;
    for (const c of cuts.filter((x) => x > 0 && x < stream.length).sort((x, y) => x - y)) {
      pieces.push(stream.subarray(from, c));
      from = c;
    }
    pieces.push(stream.subarray(from));
    const text = await raw(s, pieces, 4);
    expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 100', 'HTTP/1.1 200']);
    expect(s.counts.records).toBe(20 + 30 + 20);
    expect(s.counts.requests).toBe(3);
    expect(s.counts.bytes).toBe(2 * a.length + b.length);
    // All in one write, too.
    s.reset();
    await raw(s, [Buffer.concat([head(a), a, head(b), b])], 2);
    expect(s.counts.records).toBe(50);
  });

  it('refuses methods other than POST and keeps the connection', async () => {
    const s = await sink();
    const r = await raw(s, [Buffer.from('GET /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), head(Buffer.alloc(0))], 2);
    expect(r.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 405', 'HTTP/1.1 200']);
    expect(s.counts.requests).toBe(1);
    expect(s.counts.records).toBe(0);
  });
});
