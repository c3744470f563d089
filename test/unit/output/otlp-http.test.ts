import { afterEach, describe, expect, it } from 'vitest';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { PermanentExportError } from '../../../src/output/export-error.js';
import { OtlpHttpOutput } from '../../../src/output/otlp-http.js';
import { SdkOtlpOutput } from '../../../src/output/otlp-sdk.js';
import type { OtlpOutputConfig } from '../../../src/output/otlp-settings.js';
import { createPipeline } from '../../../src/pipeline/pipeline.js';
import { startOtlpSink, type NormRecord, type OtlpSink } from '../../helpers/otlp-sink.js';
import { sampleRecords } from './sample-records.js';
import { metricValue } from '../../helpers/metrics.js';
import { holdsFor, waitFor } from '../../helpers/wait.js';

const sinks: OtlpSink[] = [];
async function sink(): Promise<OtlpSink> {
  const s = await startOtlpSink();
  sinks.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.stop()));
});

function cfg(s: OtlpSink, extra: Partial<OtlpOutputConfig> = {}): OtlpOutputConfig {
  return {
    type: 'otlp',
    url: s.url,
    headers: {},
    compression: 'none',
    timeoutMs: 10_000,
    protocol: 'protobuf',
    mode: 'fast',
    resource: {},
    ...extra,
  };
}

function seqs(records: NormRecord[]): number[] {
  return records.map((r) => Number((r.attributes['iptables.seq'] as { int: string }).int));
}

function assertAllOnce(records: NormRecord[], n: number): void {
  const got = new Set(seqs(records));
  expect(got.size).toBe(n);
  for (let i = 0; i < n; i++) expect(got.has(i)).toBe(true);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OTLP/HTTP output (fast path)', () => {
  it('retries 503 and then delivers, with no loss and no duplicate', async () => {
    const s = await sink();
    s.script = [{ status: 503 }, { status: 503 }];
    const out = new OtlpHttpOutput(cfg(s));
    await out.export(sampleRecords(0, 10));
    expect(s.countStatus(503)).toBe(2);
    expect(s.countStatus(200)).toBe(1);
    expect(s.records).toHaveLength(10);
    assertAllOnce(s.records, 10);
    await out.shutdown();
  });

  it('waits for Retry-After on 429', async () => {
    const s = await sink();
    s.script = [{ status: 429, retryAfter: '1' }];
    const out = new OtlpHttpOutput(cfg(s));
    const t0 = Date.now();
    await out.export(sampleRecords(0, 5));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(s.countStatus(429)).toBe(1);
    assertAllOnce(s.records, 5);
    await out.shutdown();
  });

  it('rejects a 400 as permanent (the pipeline drops and counts it)', async () => {
    const s = await sink();
    s.script = [{ status: 400 }];
    const out = new OtlpHttpOutput(cfg(s));
    await expect(out.export(sampleRecords(0, 3))).rejects.toBeInstanceOf(PermanentExportError);
    await out.shutdown();
  });

  it('sends gzip and the configured headers', async () => {
    const s = await sink();
    const out = new OtlpHttpOutput(cfg(s, { compression: 'gzip', headers: { Authorization: 'ApiKey abc==' } }));
    await out.export(sampleRecords(0, 4));
    const req = s.requests[0]!;
    expect(req.contentEncoding).toBe('gzip');
    expect(req.headers['authorization']).toBe('ApiKey abc==');
    expect(String(req.headers['user-agent'])).toMatch(/^iptables-otel\//);
    assertAllOnce(s.records, 4);
    await out.shutdown();
  });

  it('a stopped collector fills the queue and pauses senders; it drains when the collector is back', async () => {
    const s = await sink();
    const m = new Metrics();
    // A short timeout so the delegate gives up quickly and the pipeline's retry takes over; not
    // shorter: on a loaded machine a 300 ms timeout expired on requests the sink had answered,
    // and their retries delivered duplicates (at-least-once is right then, but this test counts).
    const out = new OtlpHttpOutput(cfg(s, { timeoutMs: 2000 }), { metrics: m });
    const p = createPipeline(
      { maxRecords: 400, batchSize: 50, lingerMs: 5, maxInFlightPerOutput: 2, retryInitialMs: 50, retryMaxMs: 200 },
      { outputs: [out], metrics: m },
    );
    await s.stop();
    let offered = 0;
    let paused = false;
    for (let i = 0; i < 40 && !paused; i++) {
      paused = !p.offer(sampleRecords(offered, 50));
      offered += 50;
      await sleep(5);
    }
    expect(paused).toBe(true);
    expect(offered).toBeLessThanOrEqual(400);
    let drained = false;
    p.onDrain(() => {
      drained = true;
    });
    // The pipeline is retrying against the stopped collector (a failed attempt counted); while it
    // is down, nothing drains and nothing leaves the queue.
    await waitFor(async () => (await metricValue(m, 'iptables_otel_export_failures_total')) > 0, { what: 'a failed export attempt' });
    await holdsFor(() => !drained && p.queuedRecords === offered, { forMs: 300, what: 'no drain while the collector is down' });
    await s.start();
    await s.waitForRecords(offered, 15_000);
    // The sink counts a record before its HTTP answer reaches the pipeline: poll for the drain.
    for (let i = 0; i < 500 && !drained; i++) await sleep(10);
    expect(drained).toBe(true);
    assertAllOnce(s.records, offered);
    const res = await p.shutdown(5000);
    expect(res.undelivered).toBe(0);
    const failures = (await m.registry.getSingleMetricAsString('iptables_otel_export_failures_total'));
    expect(failures).toMatch(/output="otlp"} [1-9]/);
  });

  it('delivers every record in flight at shutdown', async () => {
    const s = await sink();
    s.defaultResponse = { status: 200, delayMs: 150 };
    const out = new OtlpHttpOutput(cfg(s));
    const p = createPipeline({ batchSize: 100, lingerMs: 1000, maxInFlightPerOutput: 2 }, { outputs: [out], metrics: new Metrics() });
    p.offer(sampleRecords(0, 350));
    const res = await p.shutdown(10_000);
    expect(res).toEqual({ delivered: 350, undelivered: 0 });
    expect(s.records).toHaveLength(350);
    assertAllOnce(s.records, 350);
  });

  it('fans out to two collectors; a slow one does not stop the fast one', async () => {
    const quick = await sink();
    const slow = await sink();
    slow.defaultResponse = { status: 200, delayMs: 400 };
    const p = createPipeline(
      { batchSize: 50, lingerMs: 5, maxInFlightPerOutput: 2 },
      {
        outputs: [new OtlpHttpOutput(cfg(quick, { name: 'quick' })), new OtlpHttpOutput(cfg(slow, { name: 'slow', protocol: 'json' }))],
        metrics: new Metrics(),
      },
    );
    const records: FirewallLogRecord[] = sampleRecords(0, 300);
    for (let i = 0; i < 300; i += 50) p.offer(records.slice(i, i + 50));
    await quick.waitForRecords(300, 5000);
    expect(slow.records.length).toBeLessThan(300);
    await slow.waitForRecords(300, 10_000);
    assertAllOnce(quick.records, 300);
    assertAllOnce(slow.records, 300);
    expect(await p.shutdown(5000)).toEqual({ delivered: 300, undelivered: 0 });
  });

  it('SDK mode: the processor retries a failing collector; the pipeline batch waits, nothing is lost', async () => {
    const s = await sink();
    s.script = [{ status: 503 }, { status: 503 }, { status: 503 }];
    const out = new SdkOtlpOutput(cfg(s, { mode: 'sdk', timeoutMs: 200 }), {
      processor: { backoff: { initialMs: 20, maxMs: 50, multiplier: 2, jitter: 0 } },
    });
    const p = createPipeline({ batchSize: 40, lingerMs: 5 }, { outputs: [out], metrics: new Metrics() });
    p.offer(sampleRecords(0, 100));
    await s.waitForRecords(100, 10_000);
    expect(s.countStatus(503)).toBe(3);
    assertAllOnce(s.records, 100);
    expect(await p.shutdown(5000)).toEqual({ delivered: 100, undelivered: 0 });
  });
});
