/**
 * Acknowledgements of source inputs (kmsg, journald, file) through the threaded pipeline, with
 * real worker threads and an OTLP sink: their batches skip the spool, every frame's
 * acknowledgement is reported once with the context it came with, and a worker crash reports
 * what it lost (counted) so a checkpoint does not stall.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ParserSpec } from '../../../../src/config/service-config.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import { resolvePipelineConfig } from '../../../../src/pipeline/pipeline-config.js';
import { resolveSpoolConfig } from '../../../../src/pipeline/spool/spool-config.js';
import { Spool } from '../../../../src/pipeline/spool/spool.js';
import { ThreadedPipeline } from '../../../../src/pipeline/threads/threaded-pipeline.js';
import { startOtlpSink, type OtlpSink } from '../../../helpers/otlp-sink.js';
import { waitFor } from '../../../helpers/wait.js';

const PARSER: ParserSpec = { timezone: 'UTC', preserveOriginal: false, dataset: 'iptables.log', namespace: 'default' };
const line = (id: number): string => `<4>1 2026-12-02T02:30:00.000001Z fw1 kernel - ${id} - FW IN=eth0 OUT= SRC=192.0.2.9 DST=198.51.100.7 LEN=40 TTL=64 ID=${id} PROTO=TCP SPT=5555 DPT=23`;

describe('ThreadedPipeline acknowledgements of source inputs', () => {
  let tp: ThreadedPipeline | undefined;
  let sink: OtlpSink | undefined;
  let spool: Spool | undefined;
  afterEach(async () => {
    await tp?.shutdown(1000);
    tp = undefined;
    spool?.close();
    spool = undefined;
    await sink?.stop();
  });

  function start(acked: Map<number, number>, opts: { spool?: Spool; threads?: number } = {}): ThreadedPipeline {
    tp = new ThreadedPipeline({
      threads: opts.threads ?? 2,
      parser: PARSER,
      outputs: [{ type: 'otlp', name: 'otlp', url: sink!.url, headers: {}, compression: 'none', timeoutMs: 5000, protocol: 'protobuf', mode: 'fast', resource: {} }],
      pipeline: resolvePipelineConfig({ batchSize: 7, lingerMs: 5, retryInitialMs: 20, retryMaxMs: 100 }),
      metrics: new Metrics(),
      metricsIntervalMs: 50,
      ...(opts.spool !== undefined ? { spool: opts.spool } : {}),
      onAcknowledged: (ctxs, frames) => {
        ctxs.forEach((c, i) => {
          if (c.source !== undefined) acked.set(c.source.id, (acked.get(c.source.id) ?? 0) + frames[i]!);
        });
      },
    });
    return tp;
  }

  it('with the spool on: source batches are not spooled, network ones are; every source frame is acknowledged once, with its context', async () => {
    sink = await startOtlpSink();
    spool = Spool.open(resolveSpoolConfig({ directory: mkdtempSync(join(tmpdir(), 'src-acks-')), fsync: 'never' }));
    const acked = new Map<number, number>();
    const p = start(acked, { spool });
    await p.ready();
    const appended: number[] = [];
    const realAppend = spool.append.bind(spool);
    spool.append = (batch) => {
      appended.push(batch.count);
      for (const c of batch.ctxs) expect(c.source).toBeUndefined();
      return realAppend(batch);
    };
    // Interleaved: a context of 3 frames from a source input (split across batches of 7),
    // then one network read, and so on.
    let id = 0;
    for (let i = 0; i < 30; i++) {
      const ctx: ReceiveContext = { source: { input: 'kmsg://', id: i + 1 }, attributes: { 'input.type': 'kmsg' } };
      p.offerFrames([Buffer.from(line(id++)), Buffer.from(line(id++)), Buffer.from(line(id++))], ctx);
      p.offerFrames([Buffer.from(line(id++))], { transport: 'tcp' });
    }
    await sink.waitForRecords(120, 20_000);
    await waitFor(() => [...acked.values()].reduce((a, b) => a + b, 0) === 90, { what: '90 source frames acknowledged' });
    expect([...acked.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect([...acked.values()].every((n) => n === 3)).toBe(true);
    // Only the 30 network frames went to the spool.
    expect(appended.reduce((a, b) => a + b, 0)).toBe(30);
    await waitFor(() => spool!.frames === 0, { what: 'the spool acknowledged' });
    // The source attributes reached the records.
    expect(sink.records.filter((r) => r.attributes['input.type'] !== undefined)).toHaveLength(90);
  });

  it('a worker crash: source frames in flight are counted lost and reported, so checkpoints move on', async () => {
    sink = await startOtlpSink();
    sink.defaultResponse = { status: 200, delayMs: 400 };
    const acked = new Map<number, number>();
    const p = start(acked, { threads: 1 });
    await p.ready();
    for (let i = 0; i < 5; i++) p.offerFrames([Buffer.from(line(i))], { source: { input: 'kmsg://', id: i + 1 } });
    await waitFor(() => sink!.arrived >= 1, { what: 'an export under way' });
    await p.crashWorkerForTest(0);
    await waitFor(() => acked.size === 5, { what: 'the lost frames reported' });
    const dropped = await p['opts'].metrics.dropped.get();
    expect(dropped.values.find((v) => v.labels.reason === 'worker_crash')?.value).toBe(5);
  });
});
