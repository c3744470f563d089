/**
 * What the OTLP/HTTP output does when the collector refuses: 413 splits (both paths), a record
 * too large alone is dropped and counted, 400 drops the batch with its body logged, 401 is
 * retried, and every log line (export log in the health tracker) is free of credentials.
 * Everything talks to a small scripted collector on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { HealthTracker, trackOutputHealth } from '../../../src/ops/health.js';
import { createLogger, type LogFields } from '../../../src/ops/logger.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { PartialExportError, PermanentExportError } from '../../../src/output/export-error.js';
import { describeExportFailure } from '../../../src/output/export-failure.js';
import { OtlpDirectEncoder, type EncodedLogRecord } from '../../../src/output/otlp-direct.js';
import { OtlpHttpOutput } from '../../../src/output/otlp-http.js';
import { SdkOtlpOutput } from '../../../src/output/otlp-sdk.js';
import type { OtlpOutputConfig } from '../../../src/output/otlp-settings.js';
import { directOutput } from '../../../src/pipeline/in-process-frames.js';
import { resolvePipelineConfig } from '../../../src/pipeline/pipeline-config.js';
import { Pipeline, type PipelineOutput } from '../../../src/pipeline/pipeline.js';
import { decodeProtobufRequest, type NormRecord } from '../../helpers/otlp-sink.js';
import { sampleRecords } from './sample-records.js';

/** A scripted answer; `body` may be a function of the request. */
interface Answer {
  status: number;
  body?: string | ((req: http.IncomingMessage, bytes: number) => string);
}

/** A collector that refuses requests above `maxBytes` with 413, or answers from `script` first. */
class ScriptedCollector {
  maxBytes = Infinity;
  script: Answer[] = [];
  /** Answer used when the script is empty and the request fits (default 200). */
  fallback: Answer = { status: 200 };
  readonly records: NormRecord[] = [];
  readonly requests: Array<{ status: number; bytes: number; records: number; authorization?: string }> = [];
  private server: http.Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const answer = this.script.shift() ?? (body.length > this.maxBytes ? { status: 413, body: `request of ${body.length} bytes is over ${this.maxBytes}` } : this.fallback);
        const decoded = answer.status === 200 ? decodeProtobufRequest(body) : [];
        this.records.push(...decoded);
        this.requests.push({ status: answer.status, bytes: body.length, records: decoded.length, authorization: req.headers.authorization });
        const text = typeof answer.body === 'function' ? answer.body(req, body.length) : (answer.body ?? '');
        res.writeHead(answer.status, { 'Content-Type': answer.status === 200 ? 'application/x-protobuf' : 'text/plain' });
        res.end(text);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/logs`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const collectors: ScriptedCollector[] = [];
const outputs: OtlpHttpOutput[] = [];
async function collector(port = 0): Promise<ScriptedCollector> {
  const c = new ScriptedCollector();
  await c.start(port);
  collectors.push(c);
  return c;
}
function output(config: OtlpOutputConfig, metrics?: Metrics): OtlpHttpOutput {
  const o = new OtlpHttpOutput(config, { metrics });
  outputs.push(o);
  return o;
}
afterEach(async () => {
  await Promise.all(outputs.splice(0).map((o) => o.shutdown()));
  await Promise.all(collectors.splice(0).map((c) => c.stop()));
});

function cfg(url: string, extra: Partial<OtlpOutputConfig> = {}): OtlpOutputConfig {
  return { type: 'otlp', url, headers: {}, compression: 'none', timeoutMs: 5_000, protocol: 'protobuf', mode: 'fast', resource: {}, ...extra };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Sequence numbers of the records path (`iptables.seq`). */
function seqs(records: NormRecord[]): number[] {
  return records.map((r) => Number((r.attributes['iptables.seq'] as { int: string }).int)).sort((a, b) => a - b);
}

/** Sequence numbers of the direct path: `ID=<n>` in the body. */
function ids(records: NormRecord[]): number[] {
  return records
    .map((r) => {
      const body = (r.body as { string: string }).string;
      return Number(/ ID=(\d+) /.exec(body)?.[1]);
    })
    .sort((a, b) => a - b);
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

function frame(i: number, pad = 0): string {
  return `<4>Nov 26 10:00:00 fw1 kernel: [ 1234.567890] DROP${'x'.repeat(pad)}: IN=eth0 OUT= MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:08:00 SRC=192.0.2.${i % 250} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i} DF PROTO=TCP SPT=${40000 + i} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`;
}

/** Encoded records as the direct path queues them (one chunk). */
function encoded(n: number, padOf: (i: number) => number = () => 0): EncodedLogRecord[] {
  const enc = new OtlpDirectEncoder();
  for (let i = 0; i < n; i++) enc.append(frame(i, padOf(i)), { transport: 'udp', peerAddress: '192.0.2.1' });
  return enc.takeChunk();
}

/** A logger writing JSON lines into `lines`, through the real redaction. */
function captureLogger(): { lines: LogFields[]; text: () => string; logger: ReturnType<typeof createLogger> } {
  const raw: string[] = [];
  const lines: LogFields[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogFields);
      },
    },
  });
  return { lines, text: () => raw.join(''), logger };
}

async function counter(metrics: Metrics, name: 'dropped' | 'exported', labels: Record<string, string>): Promise<number> {
  const got = await metrics[name].get();
  const v = got.values.find((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return v?.value ?? 0;
}

describe('OTLP/HTTP 413: split until the collector takes it', () => {
  it('records path: halves until under the limit, every record arrives exactly once', async () => {
    const c = await collector();
    const out = output(cfg(c.url));
    const one = await requestSize(sampleRecords(0, 1));
    c.maxBytes = one * 40;
    await out.export(sampleRecords(0, 300));
    expect(seqs(c.records)).toEqual(range(0, 300));
    expect(c.requests.filter((r) => r.status === 413).length).toBeGreaterThan(0);
    for (const r of c.requests.filter((x) => x.status === 200)) expect(r.bytes).toBeLessThanOrEqual(c.maxBytes);
  });

  it('direct path (encoded LogRecords): the same, with in-place and copied requests', async () => {
    const c = await collector();
    const out = output(cfg(c.url));
    const items = encoded(257);
    c.maxBytes = (items[0]!.end - items[0]!.start) * 30;
    await out.exportEncoded(items);
    expect(ids(c.records)).toEqual(range(0, 257));
    for (const r of c.requests.filter((x) => x.status === 200)) expect(r.bytes).toBeLessThanOrEqual(c.maxBytes);
  });

  it('a record too large even alone is dropped and counted once (records path); the rest is delivered once', async () => {
    const c = await collector();
    const metrics = new Metrics();
    const { lines, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, Date.now, { logger });
    const out = output(cfg(c.url), metrics);
    const records: FirewallLogRecord[] = sampleRecords(0, 24);
    const big = records[7]!;
    big.body = `${big.body} ${'y'.repeat(20_000)}`;
    c.maxBytes = 12_000;
    const pipeline = new Pipeline(resolvePipelineConfig({ batchSize: 24, lingerMs: 1, retryInitialMs: 10, retryMaxMs: 20 }), {
      outputs: [trackOutputHealth(out, health)],
      metrics,
    });
    pipeline.offer(records);
    expect(await pipeline.flush(10_000)).toBe(true);
    await pipeline.shutdown(1000);
    expect(seqs(c.records)).toEqual(range(0, 24).filter((i) => i !== 7));
    expect(await counter(metrics, 'dropped', { reason: 'export_too_large' })).toBe(1);
    expect(await counter(metrics, 'dropped', { reason: 'export_rejected' })).toBe(0);
    expect(await counter(metrics, 'exported', { output: 'otlp' })).toBe(23);
    const refused = lines.filter((l) => l.level === 'error');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.status).toBe(413);
    expect(refused[0]!.retrying).toBe(false);
    expect(String(refused[0]!.error)).toMatch(/1 of 24 records dropped \(export_too_large: 1, refused alone at \d{5} bytes\)/);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(0);
  });

  it('a record too large even alone (direct path): PartialExportError names it and its size, the others arrive once', async () => {
    const c = await collector();
    const out = output(cfg(c.url));
    const items = encoded(40, (i) => (i === 33 ? 30_000 : 0));
    c.maxBytes = 20_000;
    const err = await out.exportEncoded(items).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PartialExportError);
    expect((err as PartialExportError).drops).toEqual({ export_too_large: 1 });
    expect((err as PartialExportError).retryable).toBe(false);
    expect(describeExportFailure(err).status).toBe(413);
    expect(ids(c.records)).toEqual(range(0, 40).filter((i) => i !== 33));
  });

  it('a transient failure in the middle of a split: the retry sends only what is still owed', async () => {
    const c = await collector();
    const out = output(cfg(c.url));
    const records = sampleRecords(0, 16);
    c.script = [{ status: 413 }, { status: 200 }, { status: 500, body: 'busy' }];
    await expect(out.export(records)).rejects.toThrow(/HTTP 500 .*; retrying with backoff; response: busy/);
    expect(seqs(c.records)).toEqual(range(0, 8));
    await out.export(records); // the pipeline retries with the same array
    expect(seqs(c.records)).toEqual(range(0, 16));
    expect(c.requests.map((r) => r.status)).toEqual([413, 200, 500, 200]);
  });
});

/** Bytes of the request for `records`, measured at a collector that takes everything. */
async function requestSize(records: FirewallLogRecord[]): Promise<number> {
  const c = await collector();
  const probe = output(cfg(c.url));
  await probe.export(records);
  return c.requests[0]!.bytes;
}

describe('OTLP/HTTP 4xx', () => {
  it('400: the batch is dropped (export_rejected) and logged at error with status and the body truncated to 512 bytes', async () => {
    const c = await collector();
    const metrics = new Metrics();
    const { lines, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, Date.now, { logger });
    const body = `invalid request: ${'field log_records[3] is bad; '.repeat(80)}`;
    c.fallback = { status: 400, body };
    const pipeline = new Pipeline(resolvePipelineConfig({ batchSize: 10, lingerMs: 1, retryInitialMs: 10, retryMaxMs: 20 }), {
      outputs: [trackOutputHealth(output(cfg(c.url), metrics), health)],
      metrics,
    });
    pipeline.offer(sampleRecords(0, 10));
    expect(await pipeline.flush(10_000)).toBe(true);
    await pipeline.shutdown(1000);
    expect(c.requests).toHaveLength(1);
    expect(await counter(metrics, 'dropped', { reason: 'export_rejected' })).toBe(10);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    const line = errors[0]!;
    expect(line.status).toBe(400);
    expect(line.retrying).toBe(false);
    expect(line.endpoint).toBe(c.url);
    const response = String(line.response);
    expect(response.startsWith('invalid request: field log_records[3] is bad;')).toBe(true);
    expect(response).toMatch(/…\(\d+ bytes\)$/);
    expect(Buffer.byteLength(response.replace(/…\(\d+ bytes\)$/, ''))).toBeLessThanOrEqual(512);
    expect(String(line.error)).toMatch(/^HTTP 400 Bad Request from http:\/\/127\.0\.0\.1:\d+\/v1\/logs; not retried, batch of 10 records dropped \(export_rejected\)$/);
  });

  it('400 on the output itself: PermanentExportError, as before', async () => {
    const c = await collector();
    c.fallback = { status: 400 };
    await expect(output(cfg(c.url)).export(sampleRecords(0, 3))).rejects.toBeInstanceOf(PermanentExportError);
  });

  it.each([401, 403, 404, 408, 415])('%i is retried with backoff (the batch is kept)', async (status) => {
    const c = await collector();
    c.fallback = { status };
    const err = await output(cfg(c.url))
      .export(sampleRecords(0, 2))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Error);
    expect((err as { retryable?: boolean }).retryable).toBeUndefined();
    const info = describeExportFailure((err as Error).message);
    expect(info).toMatchObject({ status, retrying: true, endpoint: c.url });
  });

  it('401: logged at error with the status, retried until the collector takes it, recovery at info; no credential in any line', async () => {
    const c = await collector();
    const token = 'Bearer s3cr3t-T0KEN-value';
    const apiKey = 'ak-0123456789abcdef';
    const password = 'hunter2-pass';
    // The collector echoes what it got, as some proxies do in their error pages.
    c.fallback = { status: 401, body: (req) => `denied: authorization=${req.headers.authorization} x-api-key=${String(req.headers['x-api-key'])} url=${req.url}` };
    const url = `http://ops:${password}@127.0.0.1:${c.port}/v1/logs?api_key=q-secret-999`;
    const metrics = new Metrics();
    const { lines, text, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, Date.now, { logger });
    const out = output(cfg(url, { headers: { Authorization: token, 'X-Api-Key': apiKey } }), metrics);
    const pipeline = new Pipeline(resolvePipelineConfig({ batchSize: 5, lingerMs: 1, retryInitialMs: 10, retryMaxMs: 20 }), {
      outputs: [trackOutputHealth(out, health)],
      metrics,
    });
    pipeline.offer(sampleRecords(0, 5));
    await until(() => c.requests.length >= 4);
    expect(c.requests[0]!.authorization).toBe(token); // it was sent, so it could leak
    c.fallback = { status: 200 };
    expect(await pipeline.flush(10_000)).toBe(true);
    await pipeline.shutdown(1000);
    expect(seqs(c.records)).toEqual(range(0, 5));

    const failures = lines.filter((l) => l.level === 'error' || l.level === 'warn');
    expect(failures).toHaveLength(1); // the first one; the others are within the minute
    expect(failures[0]).toMatchObject({ level: 'error', status: 401, retrying: true, output: 'otlp', failures: 1 });
    expect(failures[0]!.endpoint).toBe(`http://127.0.0.1:${c.port}/v1/logs`);
    expect(String(failures[0]!.response)).toMatch(/^denied: authorization=\[REDACTED\] x-api-key=\[REDACTED\] url=\/v1\/logs\?api_key=\[REDACTED\]$/);
    const recovered = lines.filter((l) => l.level === 'info');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.failures).toBeGreaterThanOrEqual(3);
    expect(recovered[0]!.downForMs).toBeGreaterThanOrEqual(0);

    const all = text() + JSON.stringify(health.report());
    for (const secret of [token, 's3cr3t-T0KEN-value', apiKey, password, 'q-secret-999', Buffer.from(`ops:${password}`).toString('base64')]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('connection refused: rate-limited warn lines, recovery at info', () => {
  it('one warn line at once, the next after the interval with the count since, then recovery with the downtime', async () => {
    // A port that was just free: nothing listens there until the collector starts on it.
    const probe = await collector();
    const port = probe.port;
    await probe.stop();
    let now = 1_000_000;
    const { lines, text, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, () => now, { logger });
    const metrics = new Metrics();
    // A short timeout: the delegate's own retries of a refused connection stop at once.
    const out = output(cfg(`http://127.0.0.1:${port}/v1/logs`, { timeoutMs: 300, headers: { Authorization: 'ApiKey zzz-secret-zzz' } }), metrics);
    const pipeline = new Pipeline(resolvePipelineConfig({ batchSize: 4, lingerMs: 1, retryInitialMs: 5, retryMaxMs: 10 }), {
      outputs: [trackOutputHealth(out, health)],
      metrics,
    });
    pipeline.offer(sampleRecords(0, 4));
    await until(() => health.report().outputs['otlp']!.consecutiveFailures >= 5);
    const warns = (): LogFields[] => lines.filter((l) => l.level === 'warn');
    expect(warns()).toHaveLength(1);
    expect(warns()[0]).toMatchObject({ code: 'ECONNREFUSED', retrying: true, failures: 1, endpoint: `http://127.0.0.1:${port}/v1/logs` });
    expect(String(warns()[0]!.msg)).toContain('retrying with backoff');

    const before = health.report().outputs['otlp']!.consecutiveFailures;
    now += 61_000;
    // The next failure, or the periodic flush (report() samples), writes the held-back count.
    await until(() => warns().length === 2);
    const second = warns()[1]!;
    expect(second.failures).toBeGreaterThanOrEqual(before - 1); // every failure since the first line
    expect(second.failuresInOutage).toBe(Number(second.failures) + 1);
    expect(second.downForMs).toBe(61_000);

    now += 5_000;
    const c = await collector(port);
    expect(await pipeline.flush(10_000)).toBe(true);
    await pipeline.shutdown(1000);
    expect(seqs(c.records)).toEqual(range(0, 4));
    const info = lines.filter((l) => l.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ output: 'otlp', downForMs: 66_000 });
    expect(info[0]!.failures).toBeGreaterThanOrEqual(Number(second.failuresInOutage));
    expect(warns()).toHaveLength(2);
    expect(text()).not.toContain('zzz-secret-zzz');
  });

  it('worker threads: the same lines from the text a health event carries', async () => {
    const probe = await collector();
    const port = probe.port;
    await probe.stop();
    const out = output(cfg(`http://127.0.0.1:${port}/v1/logs`, { timeoutMs: 300 }));
    const err = await out.export(sampleRecords(0, 1)).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const { lines, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, Date.now, { logger });
    // What ThreadedPipeline.applyHealth passes on: a new Error from the event's string.
    for (let i = 0; i < 3; i++) health.exportFailed('otlp', new Error(err!.message));
    health.exportSucceeded('otlp');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[0]).toMatchObject({ code: 'ECONNREFUSED', retrying: true, endpoint: `http://127.0.0.1:${port}/v1/logs`, failures: 1 });
    expect(lines[1]).toMatchObject({ failures: 3 });
  });
});

describe('direct path through the pipeline (as a worker runs it)', () => {
  it('413 splits and a too-large frame is counted as export_too_large, once', async () => {
    const c = await collector();
    const metrics = new Metrics();
    const { lines, logger } = captureLogger();
    const health = new HealthTracker({ unhealthyAfterFailures: 100, unhealthyAfterStallMs: 1e9 }, () => 0, Date.now, { logger });
    const out = output(cfg(c.url), metrics);
    const direct = directOutput([out], (o: PipelineOutput<EncodedLogRecord>) => trackOutputHealth(o, health))!;
    const pipeline = new Pipeline<EncodedLogRecord>(resolvePipelineConfig({ batchSize: 64, lingerMs: 1, retryInitialMs: 10, retryMaxMs: 20 }), {
      outputs: [direct],
      metrics,
      sizeOf: (r) => r.end - r.start + 64,
    });
    c.maxBytes = 16_000;
    pipeline.offer(encoded(64, (i) => (i === 5 ? 20_000 : 0)));
    expect(await pipeline.flush(10_000)).toBe(true);
    await pipeline.shutdown(1000);
    expect(ids(c.records)).toEqual(range(0, 64).filter((i) => i !== 5));
    expect(await counter(metrics, 'dropped', { reason: 'export_too_large' })).toBe(1);
    expect(await counter(metrics, 'exported', { output: 'otlp' })).toBe(63);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});

describe('mode: sdk (its processor retries by itself)', () => {
  it('logs its own failures (401 at error, once) and the recovery, without credentials', async () => {
    const c = await collector();
    c.script = [
      { status: 401, body: (req) => `no: ${req.headers.authorization}` },
      { status: 401, body: (req) => `no: ${req.headers.authorization}` },
    ];
    const { lines, text, logger } = captureLogger();
    const out = new SdkOtlpOutput(cfg(c.url, { mode: 'sdk', headers: { Authorization: 'ApiKey sdk-secret-42' } }), {
      logger,
      processor: { backoff: { initialMs: 10, maxMs: 20, multiplier: 2, jitter: 0 } },
    });
    try {
      await out.export(sampleRecords(0, 3));
    } finally {
      await out.shutdown();
    }
    expect(seqs(c.records)).toEqual(range(0, 3));
    expect(lines.map((l) => l.level)).toEqual(['error', 'info']);
    expect(lines[0]).toMatchObject({ status: 401, retrying: true, endpoint: c.url, response: 'no: [REDACTED]' });
    expect(lines[1]).toMatchObject({ failures: 2 });
    expect(text()).not.toContain('sdk-secret-42');
  });
});
