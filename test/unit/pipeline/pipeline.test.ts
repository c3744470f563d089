import { describe, expect, it } from 'vitest';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { Metrics } from '../../../src/ops/metrics.js';
import type { Output } from '../../../src/output/output.js';
import { BatchQueue } from '../../../src/pipeline/batch-queue.js';
import { createPipeline } from '../../../src/pipeline/pipeline.js';
import {
  DEFAULT_PIPELINE_CONFIG,
  resolvePipelineConfig,
  validatePipelineConfig,
} from '../../../src/pipeline/pipeline-config.js';
import { estimateRecordBytes } from '../../../src/pipeline/record-size.js';
import { holdsFor } from '../../helpers/wait.js';

function rec(i: number): FirewallLogRecord {
  return {
    observedTimestamp: [1_700_000_000, i],
    severityNumber: 13,
    body: `r${i}`,
    attributes: { 'n': i },
  };
}

function recs(from: number, n: number): FirewallLogRecord[] {
  return Array.from({ length: n }, (_, k) => rec(from + k));
}

/** A scriptable output: records what it got, can fail, hang or be slow. */
class FakeOutput implements Output {
  got: FirewallLogRecord[] = [];
  batches: number[] = [];
  calls = 0;
  failNext = 0;
  delayMs = 0;
  hold = false;
  private held: Array<() => void> = [];
  shutdownCalled = false;
  constructor(readonly name: string) {}
  async export(records: FirewallLogRecord[]): Promise<void> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('boom');
    }
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    if (this.delayMs) await sleep(this.delayMs);
    this.got.push(...records);
    this.batches.push(records.length);
  }
  release(): void {
    this.hold = false;
    const h = this.held;
    this.held = [];
    for (const r of h) r();
  }
  async shutdown(): Promise<void> {
    this.shutdownCalled = true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

const fast = { retryInitialMs: 5, retryMaxMs: 20, lingerMs: 5 };

async function counter(m: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return (v?.value as number | undefined) ?? 0;
}

function ids(out: FakeOutput): number[] {
  return out.got.map((r) => r.attributes['n'] as number);
}

describe('pipeline', () => {
  it('sends a lone record after the linger time, and full batches at once', async () => {
    const out = new FakeOutput('a');
    const p = createPipeline({ ...fast, lingerMs: 30, batchSize: 10 }, { outputs: [out], metrics: new Metrics() });
    p.offer(recs(0, 1));
    expect(out.calls).toBe(0);
    await until(() => out.got.length === 1);
    p.offer(recs(1, 25));
    // Two full batches go synchronously; the remaining 5 wait for the linger timer.
    expect(out.calls).toBe(3);
    await until(() => out.got.length === 26);
    expect(out.batches).toEqual([1, 10, 10, 5]);
    await p.shutdown(1000);
  });

  it('fans every batch out to every output; a slow output does not hold the fast one back', async () => {
    const m = new Metrics();
    const quick = new FakeOutput('quick');
    const slow = new FakeOutput('slow');
    slow.delayMs = 40;
    const p = createPipeline({ ...fast, batchSize: 50, maxInFlightPerOutput: 2 }, { outputs: [quick, slow], metrics: m });
    for (let i = 0; i < 10; i++) p.offer(recs(i * 50, 50));
    await until(() => quick.got.length === 500);
    expect(slow.got.length).toBeLessThan(500);
    // Records stay queued until the slow output has them too.
    expect(p.queuedRecords).toBeGreaterThan(0);
    await until(() => slow.got.length === 500);
    await until(() => p.queuedRecords === 0);
    expect(new Set(ids(quick)).size).toBe(500);
    expect(new Set(ids(slow)).size).toBe(500);
    expect(await counter(m, 'iptables_otel_exported_total', { output: 'quick' })).toBe(500);
    expect(await counter(m, 'iptables_otel_exported_total', { output: 'slow' })).toBe(500);
    expect(await counter(m, 'iptables_otel_queue_records', {})).toBe(0);
    await p.shutdown(1000);
  });

  it('retries a failed batch with backoff and keeps its records', async () => {
    const m = new Metrics();
    const out = new FakeOutput('a');
    out.failNext = 3;
    const p = createPipeline({ ...fast, batchSize: 100, maxInFlightPerOutput: 1 }, { outputs: [out], metrics: m });
    p.offer(recs(0, 100));
    await until(() => out.got.length === 100);
    expect(ids(out)).toEqual(recs(0, 100).map((r) => r.attributes['n']));
    expect(out.calls).toBe(4);
    expect(await counter(m, 'iptables_otel_export_failures_total', { output: 'a' })).toBe(300);
    expect(await counter(m, 'iptables_otel_exported_total', { output: 'a' })).toBe(100);
    await p.shutdown(1000);
  });

  it('drops a batch an output rejects as permanent, and counts it', async () => {
    const m = new Metrics();
    const out: Output = {
      name: 'perm',
      export: () => Promise.reject(Object.assign(new Error('400'), { retryable: false })),
      shutdown: async () => {},
    };
    const p = createPipeline({ ...fast }, { outputs: [out], metrics: m });
    p.offer(recs(0, 7));
    const res = await p.shutdown(1000);
    expect(res.undelivered).toBe(0);
    expect(await counter(m, 'iptables_otel_dropped_total', { reason: 'export_rejected' })).toBe(7);
  });

  it('says pause at the high-water mark and drain below the low-water mark', async () => {
    const out = new FakeOutput('a');
    out.hold = true;
    const p = createPipeline(
      { ...fast, maxRecords: 100, lowWaterFraction: 0.5, batchSize: 10, maxInFlightPerOutput: 2 },
      { outputs: [out], metrics: new Metrics() },
    );
    expect(p.offer(recs(0, 60))).toBe(true);
    expect(p.offer(recs(60, 40))).toBe(false);
    expect(p.writable).toBe(false);
    let drained = false;
    p.onDrain(() => {
      drained = true;
    });
    // Both in-flight exports are held by the output: the queue cannot go down meanwhile.
    await until(() => out.calls === 2);
    await holdsFor(() => !drained, { forMs: 30, what: 'no drain while the exports are held' });
    out.release();
    await until(() => drained);
    expect(p.queuedRecords).toBeLessThanOrEqual(50);
    await until(() => out.got.length === 100);
    expect(p.writable).toBe(true);
    await p.shutdown(1000);
  });

  it('caps by bytes too', async () => {
    const out = new FakeOutput('a');
    out.hold = true;
    const per = estimateRecordBytes(rec(0));
    const p = createPipeline(
      { ...fast, maxRecords: 1_000_000, maxBytes: per * 10, batchSize: 5 },
      { outputs: [out], metrics: new Metrics() },
    );
    expect(p.offer(recs(0, 9))).toBe(true);
    expect(p.offer(recs(9, 1))).toBe(false);
    out.release();
    await p.shutdown(1000);
  });

  it('cuts batches at batchMaxBytes: long records go in smaller batches, a record over the cap alone, in order', async () => {
    const out = new FakeOutput('a');
    const long = (i: number, len: number): FirewallLogRecord => ({ ...rec(i), body: 'x'.repeat(len) });
    const per = estimateRecordBytes(long(0, 1000));
    // Exactly three records fit: the fourth would be one byte over.
    const p = createPipeline({ ...fast, lingerMs: 10_000, batchSize: 100, batchMaxBytes: 3 * per }, { outputs: [out], metrics: new Metrics() });
    p.offer(Array.from({ length: 7 }, (_, k) => long(k, 1000)));
    // Two full (by bytes) batches leave at once, without waiting for the linger timer; one record waits.
    expect(out.calls).toBe(2);
    p.offer([long(7, 10 * per)]);
    await until(() => out.got.length === 8);
    expect(out.batches).toEqual([3, 3, 1, 1]);
    expect(ids(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await p.shutdown(1000);
  });

  it('a batch of small records is not cut by batchMaxBytes', async () => {
    const out = new FakeOutput('a');
    const per = estimateRecordBytes(rec(19)); // the largest of them
    const p = createPipeline({ ...fast, batchSize: 10, batchMaxBytes: 10 * per }, { outputs: [out], metrics: new Metrics() });
    p.offer(recs(0, 20));
    await until(() => out.got.length === 20);
    expect(out.batches).toEqual([10, 10]);
    await p.shutdown(1000);
  });

  it('lets go of delivered items at once, not at the next compaction (long lines would stay in memory)', async () => {
    const got: number[] = [];
    let release: () => void = () => {};
    const hung = new Promise<void>((r) => (release = r));
    const q = new BatchQueue<{ n: number }>(
      [{ name: 'a', export: async (b) => { if (b[0]!.n >= 20) await hung; got.push(...b.map((x) => x.n)); } }],
      {
        highWaterItems: 10_000, highWaterBytes: 1e9, lowWaterFraction: 0.5, hardLimitFactor: 2, maxBatchSize: 10, lingerMs: 1,
        maxInFlight: 2, backoff: { initialMs: 1, maxMs: 1, multiplier: 2, jitter: 0 }, sizeOf: () => 1, refuseReason: 'queue_full',
      },
    );
    q.offer(Array.from({ length: 25 }, (_, n) => ({ n })));
    await until(() => got.length === 20);
    // 0..19 are delivered, 20..24 are in flight: the queue's array holds only those.
    const held = (q as unknown as { items: Array<{ n: number } | undefined> }).items.filter((x) => x !== undefined);
    expect(held.map((x) => x!.n)).toEqual([20, 21, 22, 23, 24]);
    release();
    await q.shutdown(1000);
    expect(got.length).toBe(25);
  });

  it('refuses and counts records past the hard limit', async () => {
    const m = new Metrics();
    const out = new FakeOutput('a');
    out.hold = true;
    const p = createPipeline(
      { ...fast, maxRecords: 10, hardLimitFactor: 2, batchSize: 10 },
      { outputs: [out], metrics: m },
    );
    expect(p.offer(recs(0, 25))).toBe(false);
    expect(p.queuedRecords).toBe(20);
    expect(await counter(m, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(5);
    out.release();
    await p.shutdown(1000);
    expect(out.got.length).toBe(20);
  });

  it('delivers records in flight and queued at shutdown, then shuts the outputs down', async () => {
    const out = new FakeOutput('a');
    out.delayMs = 20;
    const p = createPipeline({ ...fast, lingerMs: 10_000, batchSize: 100 }, { outputs: [out], metrics: new Metrics() });
    p.offer(recs(0, 250));
    const res = await p.shutdown(5000);
    expect(res).toEqual({ delivered: 250, undelivered: 0 });
    expect(new Set(ids(out)).size).toBe(250);
    expect(out.shutdownCalled).toBe(true);
    // Records offered after shutdown are refused and counted.
    expect(p.offer(recs(300, 1))).toBe(false);
  });

  it('counts what it could not deliver by the shutdown deadline', async () => {
    const m = new Metrics();
    const good = new FakeOutput('good');
    const stuck = new FakeOutput('stuck');
    stuck.hold = true;
    const p = createPipeline({ ...fast, batchSize: 10 }, { outputs: [good, stuck], metrics: m });
    p.offer(recs(0, 30));
    const res = await p.shutdown(100);
    expect(res).toEqual({ delivered: 0, undelivered: 30 });
    expect(good.got.length).toBe(30);
    expect(await counter(m, 'iptables_otel_dropped_total', { reason: 'shutdown_deadline' })).toBe(30);
    expect(await counter(m, 'iptables_otel_queue_records', {})).toBe(0);
    stuck.release();
  });
});

describe('pipeline config', () => {
  it('has valid defaults', () => {
    expect(validatePipelineConfig(resolvePipelineConfig())).toEqual([]);
    expect(resolvePipelineConfig({ batchSize: 7 }).batchSize).toBe(7);
    expect(resolvePipelineConfig({ batchSize: undefined }).batchSize).toBe(DEFAULT_PIPELINE_CONFIG.batchSize);
  });

  it('names the offending key', () => {
    const issues = validatePipelineConfig(
      resolvePipelineConfig({ batchSize: 0, lowWaterFraction: 1.5, retryMaxMs: 1, retryInitialMs: 10 }),
    );
    expect(issues.map((i) => i.key).sort()).toEqual([
      'pipeline.batchSize',
      'pipeline.lowWaterFraction',
      'pipeline.retryMaxMs',
    ]);
    expect(issues.find((i) => i.key === 'pipeline.batchSize')?.message).toMatch(/integer >= 1/);
    expect(validatePipelineConfig(resolvePipelineConfig({ batchMaxBytes: 100 }))).toEqual([
      { key: 'pipeline.batchMaxBytes', message: 'must be an integer >= 1024 (got 100)' },
    ]);
  });
});
