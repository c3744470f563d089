import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { BackpressureLogRecordProcessor } from '../../../src/pipeline/backpressure-log-record-processor.js';

/** An exporter that can fail or hold exports. */
class FakeExporter implements LogRecordExporter {
  exported: ReadableLogRecord[] = [];
  calls = 0;
  failNext = 0;
  hold = false;
  private held: Array<() => void> = [];
  shutdownCalled = false;
  export(logs: ReadableLogRecord[], cb: (r: ExportResult) => void): void {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      setTimeout(() => cb({ code: ExportResultCode.FAILED, error: new Error('collector down') }), 1);
      return;
    }
    const finish = () => {
      this.exported.push(...logs);
      cb({ code: ExportResultCode.SUCCESS });
    };
    if (this.hold) this.held.push(finish);
    else setTimeout(finish, 1);
  }
  release(): void {
    this.hold = false;
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {
    this.shutdownCalled = true;
  }
}

const backoff = { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 };

async function dropped(m: Metrics, reason: string): Promise<number> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'iptables_otel_dropped_total');
  return (metric?.values.find((v) => v.labels['reason'] === reason)?.value as number | undefined) ?? 0;
}

function setup(exporter: FakeExporter, extra: Partial<ConstructorParameters<typeof BackpressureLogRecordProcessor>[0]> = {}) {
  const processor = new BackpressureLogRecordProcessor({
    exporter,
    backoff,
    scheduledDelayMillis: 5,
    maxExportBatchSize: 10,
    ...extra,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const logger = provider.getLogger('test');
  const emit = (from: number, n: number) => {
    for (let i = from; i < from + n; i++) logger.emit({ body: `r${i}`, attributes: { i } });
  };
  return { processor, provider, emit };
}

const bodies = (e: FakeExporter) => e.exported.map((r) => r.body);

describe('BackpressureLogRecordProcessor', () => {
  it('retries failed exports instead of dropping them', async () => {
    const exp = new FakeExporter();
    exp.failNext = 3;
    const { processor, provider, emit } = setup(exp);
    emit(0, 25);
    await processor.forceFlush();
    expect(new Set(bodies(exp)).size).toBe(25);
    expect(exp.exported).toHaveLength(25);
    expect(exp.calls).toBeGreaterThanOrEqual(6);
    const failures = (await processor.metrics.registry.getSingleMetricAsString('iptables_otel_export_failures_total'));
    expect(failures).toMatch(/output="sdk"} [1-9]/);
    await provider.shutdown();
    expect(exp.shutdownCalled).toBe(true);
  });

  it('exposes writable / onDrain so the application can pause', async () => {
    const exp = new FakeExporter();
    exp.hold = true;
    const { processor, provider, emit } = setup(exp, { maxQueueSize: 50, lowWaterFraction: 0.2 });
    emit(0, 49);
    expect(processor.writable).toBe(true);
    emit(49, 1);
    expect(processor.writable).toBe(false);
    let drained = false;
    processor.onDrain(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    exp.release();
    await processor.forceFlush();
    expect(drained).toBe(true);
    expect(processor.writable).toBe(true);
    expect(exp.exported).toHaveLength(50);
    await provider.shutdown();
  });

  it('counts every record it refuses past the hard cap (never silent)', async () => {
    const exp = new FakeExporter();
    exp.hold = true;
    const metrics = new Metrics();
    const { processor, provider, emit } = setup(exp, { maxQueueSize: 10, hardLimitFactor: 2, metrics });
    emit(0, 25);
    expect(processor.queued).toBe(20);
    expect(await dropped(metrics, 'processor_queue_full')).toBe(5);
    exp.release();
    await processor.forceFlush();
    expect(exp.exported).toHaveLength(20);
    await provider.shutdown();
  });

  it('forceFlush gives up after its timeout but keeps the records', async () => {
    const exp = new FakeExporter();
    exp.hold = true;
    const { processor, provider, emit } = setup(exp);
    emit(0, 12);
    await expect(processor.forceFlush({ timeoutMillis: 30 })).rejects.toThrow(/still queued/);
    expect(processor.queued).toBe(12);
    exp.release();
    await processor.forceFlush();
    expect(exp.exported).toHaveLength(12);
    await provider.shutdown();
  });

  it('counts what it could not export by the shutdown deadline', async () => {
    const exp = new FakeExporter();
    exp.hold = true;
    const { processor, emit } = setup(exp);
    emit(0, 7);
    await processor.shutdown(50);
    expect(await dropped(processor.metrics, 'shutdown_deadline')).toBe(7);
    expect(exp.shutdownCalled).toBe(true);
  });
});
