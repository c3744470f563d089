/**
 * ThreadedPipeline.offerSpans (frames as offsets into a read's chunk) against offerFrames
 * (one Buffer per frame): the same batches, context ranges and refusals. The worker is a
 * stand-in (echo-worker.mjs) that reports every batch it receives, so packing is checked
 * byte for byte without parsing or exporting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AutoDetectFramer } from '../../../../src/framing/auto-detect.js';
import { FrameSpans } from '../../../../src/framing/framer.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import { resolvePipelineConfig, type PipelineConfig } from '../../../../src/pipeline/pipeline-config.js';
import { ThreadedPipeline } from '../../../../src/pipeline/threads/threaded-pipeline.js';

interface Batch {
  frames: string[];
  reads: Array<{ peerPort: number; first: number }>;
  urgent: boolean;
}

const ctx = (peerPort: number): ReceiveContext => ({ peerAddress: '192.0.2.1', peerPort, transport: 'tcp' });

async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function dropped(metrics: Metrics, reason: string): Promise<number> {
  const got = await metrics.dropped.get();
  return got.values.filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

describe('ThreadedPipeline.offerSpans', () => {
  const started: ThreadedPipeline[] = [];

  /** A pipeline with one echo worker; `batches` collects what it received, in order. */
  function start(pipeline: Partial<PipelineConfig>): { p: ThreadedPipeline; batches: Batch[]; metrics: Metrics } {
    const batches: Batch[] = [];
    const metrics = new Metrics();
    const p = new ThreadedPipeline({
      threads: 1,
      parser: { timezone: 'UTC', preserveOriginal: false, dataset: 'iptables.log', namespace: 'default' },
      outputs: [],
      pipeline: resolvePipelineConfig({ batchSize: 4, lingerMs: 5, ...pipeline }),
      metrics,
      logger: { info: (msg, fields) => msg === 'batch' && batches.push(fields as unknown as Batch), warn: () => {}, error: () => {} },
      workerEntry: { url: new URL('./echo-worker.mjs', import.meta.url), execArgv: [] },
    });
    started.push(p);
    return { p, batches, metrics };
  }

  afterEach(async () => {
    await Promise.all(started.map((p) => p.shutdown(1000)));
    started.length = 0;
  });

  it('packs the same batches as offerFrames: head first, runs cut at the batch size, one context range per read', async () => {
    const reads = [`f1\nf2\r\n  f3\n\nf4\nf5\npar`, `tial\nf6\n5 <1>f7<1>f8\n`];
    const viaSpans = start({});
    const viaFrames = start({});
    await Promise.all([viaSpans.p.ready(), viaFrames.p.ready()]);
    const spansFramer = new AutoDetectFramer();
    const framesFramer = new AutoDetectFramer();
    const spans = new FrameSpans();
    reads.forEach((text, i) => {
      // One chunk per read, overwritten right after each offer: the sink must have copied.
      const chunk = Buffer.from(text, 'latin1');
      spansFramer.scan(chunk, spans);
      expect(viaSpans.p.offerSpans(spans, ctx(1000 + i))).toBe(true);
      chunk.fill(0x2e);
      const again = Buffer.from(text, 'latin1');
      const frames: Buffer[] = [];
      framesFramer.feed(again, (f) => frames.push(f));
      expect(viaFrames.p.offerFrames(frames, ctx(1000 + i))).toBe(true);
      again.fill(0x2e);
    });
    await until(() => viaSpans.batches.length === 3 && viaFrames.batches.length === 3, 5000, 'three batches each');
    expect(viaSpans.batches).toEqual([
      { frames: ['f1', 'f2', 'f3', 'f4'], reads: [{ peerPort: 1000, first: 0 }], urgent: false },
      {
        frames: ['f5', 'partial', 'f6', '<1>f7'],
        reads: [
          { peerPort: 1000, first: 0 },
          { peerPort: 1001, first: 1 },
        ],
        urgent: false,
      },
      { frames: ['<1>f8'], reads: [{ peerPort: 1001, first: 0 }], urgent: true },
    ]);
    expect(viaFrames.batches).toEqual(viaSpans.batches);
    await until(() => viaSpans.p.queuedRecords === 0, 5000, 'the bound to drain');
    expect(viaSpans.p.queuedBytes).toBe(0);
  });

  it('a read larger than several batches is copied in runs, byte for byte', async () => {
    const { p, batches } = start({ batchSize: 64 });
    await p.ready();
    const lines = Array.from({ length: 1000 }, (_, i) => `<4>line ${i} ${'x'.repeat(i % 37)}`);
    const chunk = Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
    const spans = new FrameSpans();
    new AutoDetectFramer().scan(chunk, spans);
    expect(p.offerSpans(spans, ctx(7))).toBe(true);
    chunk.fill(0);
    await until(() => batches.reduce((n, b) => n + b.frames.length, 0) === 1000, 5000, 'all frames');
    expect(batches.flatMap((b) => b.frames)).toEqual(lines);
    expect(batches.map((b) => b.frames.length).slice(0, 15)).toEqual(Array(15).fill(64));
    expect(batches.every((b) => b.reads.length === 1 && b.reads[0]!.first === 0)).toBe(true);
  });

  for (const limit of ['frames', 'bytes'] as const) {
    it(`beyond the hard limit (${limit}) refuses exactly what offerFrames refuses, counted as queue_full`, async () => {
      // Hard limit: 2 x 10 frames, or 2 x 1024 bytes = 20 frames of 100 bytes.
      const config = limit === 'frames' ? { maxRecords: 10, batchSize: 8 } : { maxRecords: 1000, maxBytes: 1024, batchSize: 8 };
      const size = limit === 'frames' ? 10 : 100;
      const lines = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')}${'y'.repeat(size - 3)}`);
      const text = `${lines.join('\n')}\n`;
      const viaSpans = start(config);
      const viaFrames = start(config);
      await Promise.all([viaSpans.p.ready(), viaFrames.p.ready()]);
      const spans = new FrameSpans();
      new AutoDetectFramer().scan(Buffer.from(text, 'latin1'), spans);
      expect(spans.frames).toBe(30);
      expect(viaSpans.p.offerSpans(spans, ctx(1))).toBe(false);
      const frames: Buffer[] = [];
      new AutoDetectFramer().feed(Buffer.from(text, 'latin1'), (f) => frames.push(f));
      expect(viaFrames.p.offerFrames(frames, ctx(1))).toBe(false);
      expect(viaSpans.p.queuedRecords).toBe(20);
      expect(viaFrames.p.queuedRecords).toBe(20);
      expect(await dropped(viaSpans.metrics, 'queue_full')).toBe(10);
      expect(await dropped(viaFrames.metrics, 'queue_full')).toBe(10);
      await until(() => viaSpans.batches.length === 3 && viaFrames.batches.length === 3, 5000, 'the accepted frames');
      expect(viaSpans.batches.flatMap((b) => b.frames)).toEqual(lines.slice(0, 20));
      expect(viaFrames.batches).toEqual(viaSpans.batches);
    });
  }

  it('after shutdown refuses everything and counts it as shutdown', async () => {
    const { p, metrics } = start({});
    await p.ready();
    await p.shutdown(1000);
    const spans = new FrameSpans();
    new AutoDetectFramer().scan(Buffer.from('a\nb\n'), spans);
    expect(p.offerSpans(spans, ctx(1))).toBe(false);
    expect(await dropped(metrics, 'shutdown')).toBe(2);
  });
});
