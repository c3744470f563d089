/**
 * ThreadedPipeline with real worker threads (running the TypeScript source through the
 * dev loader) and a local OTLP sink: batch packing, the bound and backpressure, shutdown,
 * a crashed worker, and metric deltas applied on the main thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { OutputSpec, ParserSpec } from '../../../../src/config/service-config.js';
import { TcpInput } from '../../../../src/input/tcp-input.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import { resolvePipelineConfig, type PipelineConfig } from '../../../../src/pipeline/pipeline-config.js';
import { ThreadedPipeline, type ThreadedPipelineOptions } from '../../../../src/pipeline/threads/threaded-pipeline.js';
import { startOtlpSink, type NormRecord, type OtlpSink } from '../../../helpers/otlp-sink.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { assertRequirement, isRoot, requirement, shouldRun } from '../../../helpers/requirements.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSpoolConfig } from '../../../../src/pipeline/spool/spool-config.js';
import { Spool } from '../../../../src/pipeline/spool/spool.js';

const rootReq = requirement(isRoot, 'mounting a small tmpfs (a disk that fills up) needs root');

const PARSER: ParserSpec = { timezone: 'UTC', preserveOriginal: true, dataset: 'iptables.log', namespace: 'default' };

const line = (id: number, extra = ''): string =>
  `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped${extra}: IN=eth0 OUT= SRC=192.0.2.9 DST=198.51.100.7 LEN=40 TTL=64 ID=${id} PROTO=TCP SPT=5555 DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0`;

const str = (r: NormRecord, k: string): string | undefined => {
  const v = r.attributes[k];
  return v && 'string' in v ? v.string : undefined;
};
const idOf = (r: NormRecord): number => {
  const v = r.attributes['iptables.id'];
  return v && 'int' in v ? Number(v.int) : -1;
};

function otlp(sink: OtlpSink, name = 'otlp'): OutputSpec {
  return { type: 'otlp', name, url: sink.url, headers: {}, compression: 'none', timeoutMs: 5000, protocol: 'protobuf', mode: 'fast', resource: { 'service.name': 'threads-test' } };
}

function pipelineConfig(p: Partial<PipelineConfig>): PipelineConfig {
  return resolvePipelineConfig({ batchSize: 4, lingerMs: 5, retryInitialMs: 20, retryMaxMs: 100, ...p });
}

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function counter(metrics: Metrics, name: 'dropped' | 'exported' | 'parsed' | 'parseFailures' | 'exportFailures', labels: Record<string, string> = {}): Promise<number> {
  const got = await metrics[name].get();
  return got.values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((a, v) => a + v.value, 0);
}

describe('ThreadedPipeline', () => {
  let tp: ThreadedPipeline | undefined;
  let sink: OtlpSink | undefined;
  const logs: Array<{ level: string; msg: string; fields: unknown }> = [];
  const logger = {
    info: (msg: string, fields?: unknown) => logs.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: unknown) => logs.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: unknown) => logs.push({ level: 'error', msg, fields }),
  };

  function start(opts: Partial<ThreadedPipelineOptions> & { sink: OtlpSink; metrics: Metrics }): ThreadedPipeline {
    tp = new ThreadedPipeline({
      threads: 2,
      parser: PARSER,
      outputs: [otlp(opts.sink)],
      pipeline: pipelineConfig({}),
      logger,
      metricsIntervalMs: 50,
      ...opts,
    });
    return tp;
  }

  afterEach(async () => {
    await tp?.shutdown(1000);
    await sink?.stop();
    tp = sink = undefined;
    logs.length = 0;
  });

  it('packs frames across batches, keeps the receive context of each read, and delivers them byte for byte', async () => {
    sink = await startOtlpSink();
    const metrics = new Metrics();
    const p = start({ sink, metrics, pipeline: pipelineConfig({ batchSize: 4 }) });
    await p.ready();
    // Frames as subarrays of one read buffer that is overwritten right after each offer.
    const reads = [
      { ctx: { peerAddress: '192.0.2.1', peerPort: 1001, transport: 'tcp' as const }, ids: [1, 2, 3] },
      { ctx: { peerAddress: '192.0.2.2', peerPort: 1002, transport: 'tcp' as const }, ids: [4, 5, 6, 7, 8, 9] },
      { ctx: { peerAddress: '2001:db8::3', peerPort: 1003, transport: 'udp' as const }, ids: [10] },
    ];
    const expected = new Map<number, { text: string; peer: string }>();
    for (const read of reads) {
      const texts = read.ids.map((id) => line(id, id % 2 ? ' é€' : ''));
      const chunk = Buffer.from(texts.join('\n') + '\n');
      const frames: Buffer[] = [];
      let pos = 0;
      for (const t of texts) {
        const len = Buffer.byteLength(t);
        frames.push(chunk.subarray(pos, pos + len));
        pos += len + 1;
      }
      expect(p.offerFrames(frames, read.ctx)).toBe(true);
      chunk.fill(0x41);
      read.ids.forEach((id, i) => expected.set(id, { text: texts[i]!, peer: read.ctx.peerAddress }));
    }
    await sink.waitForRecords(10);
    expect(sink.records).toHaveLength(10);
    for (const r of sink.records) {
      const want = expected.get(idOf(r))!;
      expect(str(r, 'log.record.original')).toBe(want.text);
      expect(str(r, 'network.peer.address')).toBe(want.peer);
    }
    expect(sink.records.filter((r) => str(r, 'network.peer.address') === '2001:db8::3')[0]!.attributes['log.syslog.transport']).toEqual({ string: 'udp' });
    await until(() => p.queuedRecords === 0, 5000, 'bound released');
    expect(p.queuedBytes).toBe(0);
  });

  it('the direct OTLP path and the record path deliver the same records (attributes in the same order)', async () => {
    const frames = [
      ...Array.from({ length: 40 }, (_, i) => line(100 + i, i % 3 ? '' : ' é')),
      'not a firewall line at all',
      '<4>Nov 26 14:20:01 fw1 kernel: x: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 BOGUS LEN=1 PROTO=UDP SPT=1 DPT=2 LEN=9',
      '<4>Nov 26 14:20:01 fw1 kernel: ufw: IN=eth0 OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:db8::2 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=1 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=2',
    ];
    const ctx = { peerAddress: '192.0.2.1', peerPort: 1001, transport: 'tcp' as const, receivedAt: [1795700000, 5000] as [number, number] };
    const delivered: NormRecord[][] = [];
    for (const directPath of [false, true]) {
      sink = await startOtlpSink();
      const p = start({ sink, metrics: new Metrics(), threads: 1, directPath });
      await p.ready();
      expect(p.offerFrames(frames.map((f) => Buffer.from(f)), ctx)).toBe(true);
      await sink.waitForRecords(frames.length);
      delivered.push(sink.records.slice());
      await p.shutdown(1000);
      await sink.stop();
      tp = sink = undefined;
    }
    const [records, direct] = delivered as [NormRecord[], NormRecord[]];
    expect(direct).toHaveLength(frames.length);
    const byBody = (rs: NormRecord[]) => [...rs].sort((a, b) => JSON.stringify(a.body).localeCompare(JSON.stringify(b.body)));
    const a = byBody(records);
    const b = byBody(direct);
    for (let i = 0; i < a.length; i++) {
      expect(b[i]).toEqual(a[i]);
      expect(Object.keys(b[i]!.attributes)).toEqual(Object.keys(a[i]!.attributes));
    }
  });

  it('reuses the batch buffers workers give back, without leaking an earlier batch\'s bytes', async () => {
    sink = await startOtlpSink();
    const p = start({ sink, metrics: new Metrics(), threads: 1, pipeline: pipelineConfig({ batchSize: 4 }) });
    await p.ready();
    const sent: string[] = [];
    // Long frames first, then shorter ones into the same (returned) buffers.
    for (let round = 0; round < 6; round++) {
      const pad = round % 2 === 0 ? ' ' + 'x'.repeat(300) : '';
      const texts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => line(1000 + round * 10 + i, pad));
      expect(p.offerFrames(texts.map((t) => Buffer.from(t)), { transport: 'tcp' })).toBe(true);
      sent.push(...texts);
      await sink.waitForRecords(sent.length);
      await until(() => (p as unknown as { spareBytes: unknown[] }).spareBytes.length > 0, 5000, 'a buffer given back');
    }
    expect(sink.records.map((r) => str(r, 'log.record.original')).sort()).toEqual([...sent].sort());
  });

  it('applies the workers\' metric deltas (parsed, parse failures, exported) on the main thread', async () => {
    sink = await startOtlpSink();
    const metrics = new Metrics();
    const p = start({ sink, metrics, threads: 1 });
    await p.ready();
    p.offerFrames([Buffer.from(line(1)), Buffer.from(line(2)), Buffer.from('not a firewall line at all')], { transport: 'tcp' });
    await sink.waitForRecords(3);
    await until(async () => (await counter(metrics, 'exported', { output: 'otlp' })) === 3, 5000, 'exported delta');
    expect(await counter(metrics, 'parsed', { outcome: 'ok' })).toBe(2);
    expect(await counter(metrics, 'parsed', { outcome: 'failed' })).toBe(1);
    expect(await counter(metrics, 'parseFailures')).toBe(1);
    expect(await counter(metrics, 'dropped')).toBe(0);
  });

  it('fills the bound while the output is down, refuses more, then drains and loses nothing', async () => {
    sink = await startOtlpSink();
    await sink.stop();
    const metrics = new Metrics();
    const health: string[] = [];
    const p = start({
      sink,
      metrics,
      pipeline: pipelineConfig({ batchSize: 10, maxRecords: 100 }),
      health: { exportSucceeded: (o) => health.push(`ok ${o}`), exportFailed: (o) => health.push(`fail ${o}`) },
    });
    await p.ready();
    let id = 0;
    while (p.offerFrames([Buffer.from(line(id++))], { transport: 'tcp' }) && id < 1000);
    expect(id).toBe(100);
    expect(p.writable).toBe(false);
    expect((await metrics.queueRecords.get()).values[0]!.value).toBe(100);
    // The bound counts raw frame bytes: exactly the 100 lines offered.
    const frameBytes = Array.from({ length: 100 }, (_, i) => Buffer.byteLength(line(i))).reduce((a, b) => a + b, 0);
    expect((await metrics.queueBytes.get()).values[0]!.value).toBe(frameBytes);
    let drained = false;
    p.onDrain(() => (drained = true));
    await until(() => health.includes('fail otlp'), 5000, 'a failed export reported');
    expect(drained).toBe(false);
    expect(p.queuedRecords).toBe(100);
    await sink.start();
    await until(() => drained, 10_000, 'drain');
    await sink.waitForRecords(100);
    await until(() => p.queuedRecords === 0, 5000, 'bound released');
    expect(sink.records).toHaveLength(100);
    expect(new Set(sink.records.map(idOf)).size).toBe(100);
    expect(health).toContain('ok otlp');
    expect(await counter(metrics, 'dropped')).toBe(0);
  });

  it('pauses a TCP sender while the output is down and resumes it: every line arrives once', async () => {
    sink = await startOtlpSink();
    await sink.stop();
    const metrics = new Metrics();
    const p = start({ sink, metrics, pipeline: pipelineConfig({ batchSize: 50, maxRecords: 500, maxBytes: 1024 * 1024 }) });
    await p.ready();
    const unused = { writable: false, offer: () => false, onDrain: () => {} };
    const input = new TcpInput(
      { type: 'tcp', host: '127.0.0.1', port: 0, framing: 'auto', maxFrameSize: 65536, maxConnections: 10, idleTimeoutMs: 0 },
      { decode: () => { throw new Error('unused'); }, sink: unused, frameSink: p, metrics },
    );
    await input.start();
    try {
      const N = 20_000;
      const sock = net.connect(input.address()!.port, '127.0.0.1');
      let text = '';
      for (let i = 0; i < N; i++) text += `${line(i)}\n`;
      const sent = new Promise<void>((resolve, reject) => {
        sock.on('error', reject);
        sock.end(text, () => resolve());
      });
      await until(() => input.pausedCount === 1, 10_000, 'the connection to pause');
      expect(p.queuedRecords).toBeLessThanOrEqual(2 * 500);
      await sink.start();
      await sent;
      await sink.waitForRecords(N, 30_000);
      // Idle: every batch reported done (the bound is released), so no late duplicate can follow.
      await until(() => p.queuedRecords === 0, 10_000, 'the pipeline idle');
      expect(sink.records).toHaveLength(N);
      expect(new Set(sink.records.map(idOf)).size).toBe(N);
      expect(input.pausedCount).toBe(0);
    } finally {
      await input.stop();
    }
  });

  it('shutdown delivers everything in flight and reports it', async () => {
    sink = await startOtlpSink();
    sink.defaultResponse = { status: 200, delayMs: 150 };
    const metrics = new Metrics();
    const p = start({ sink, metrics, pipeline: pipelineConfig({ batchSize: 16, lingerMs: 1000 }) });
    await p.ready();
    for (let i = 0; i < 100; i++) p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
    expect(sink.records.length).toBeLessThan(100);
    const r = await p.shutdown(10_000);
    expect(r).toEqual({ delivered: 100, undelivered: 0, spooled: [] });
    expect(sink.records).toHaveLength(100);
    expect(await counter(metrics, 'exported')).toBe(100);
    expect(p.offerFrames([Buffer.from(line(1))], { transport: 'tcp' })).toBe(false);
    expect(await counter(metrics, 'dropped', { reason: 'shutdown' })).toBe(1);
  });

  it('shutdown with the output down: undelivered at the deadline are reported and counted', async () => {
    sink = await startOtlpSink();
    await sink.stop();
    const metrics = new Metrics();
    const p = start({ sink, metrics });
    await p.ready();
    for (let i = 0; i < 30; i++) p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
    const t0 = Date.now();
    const r = await p.shutdown(300);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.undelivered).toBe(30);
    expect(await counter(metrics, 'dropped', { reason: 'shutdown_deadline' })).toBe(30);
    expect(p.queuedRecords).toBe(0);
  });

  it('a crashed worker: its in-flight records are counted as worker_crash, it is logged and restarted', async () => {
    sink = await startOtlpSink();
    sink.defaultResponse = { status: 200, delayMs: 400 };
    const metrics = new Metrics();
    const p = start({ sink, metrics, threads: 1, pipeline: pipelineConfig({ batchSize: 10 }) });
    await p.ready();
    for (let i = 0; i < 20; i++) p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
    await until(() => sink!.requests.length === 0 && p.queuedRecords === 20, 1000, 'records in flight');
    await p.crashWorkerForTest(0);
    await until(async () => (await counter(metrics, 'dropped', { reason: 'worker_crash' })) === 20, 5000, 'worker_crash counted');
    expect(p.queuedRecords).toBe(0);
    expect(logs.some((l) => l.level === 'error' && l.msg.includes('worker thread died'))).toBe(true);
    sink.defaultResponse = { status: 200 };
    p.offerFrames([Buffer.from(line(500))], { transport: 'tcp' });
    await until(() => sink!.records.some((r) => idOf(r) === 500), 10_000, 'a record through the restarted worker');
    const r = await p.shutdown(5000);
    expect(r.undelivered).toBe(0);
  });

  describe('with the spool', () => {
    let spool: Spool | undefined;
    afterEach(() => {
      spool?.close();
      spool = undefined;
    });
    const openSpool = (dir = mkdtempSync(join(tmpdir(), 'tp-spool-'))): Spool =>
      (spool = Spool.open(resolveSpoolConfig({ directory: dir, segmentBytes: 64 * 1024, maxBytes: 64 * 1024 * 1024, fsync: 'never' })));

    it('the output down: intake stays open past the memory bound, memory holds only the in-flight bound, and everything arrives once when it is back', async () => {
      sink = await startOtlpSink();
      await sink.stop();
      const metrics = new Metrics();
      const s = openSpool();
      const p = start({ sink, metrics, threads: 1, spool: s, pipeline: pipelineConfig({ batchSize: 10, maxRecords: 50 }) });
      await p.ready();
      for (let i = 0; i < 1000; i++) expect(p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' })).toBe(true);
      await until(() => s.frames === 1000, 2000, 'every frame spooled');
      // In flight and the pending batch together: never more than maxRecords.
      expect(p.queuedRecords).toBeLessThanOrEqual(50);
      expect(p.writable).toBe(true);
      await sink.start();
      await sink.waitForRecords(1000, 20_000);
      await until(() => s.frames === 0, 5000, 'every batch acknowledged');
      const ids = sink.records.map(idOf);
      expect(new Set(ids).size).toBe(1000);
      expect(ids).toHaveLength(1000);
      expect(await counter(metrics, 'dropped')).toBe(0);
    });

    it('every read is on disk before the next one, yet batches read back are full: one export request per batch, not per read', async () => {
      sink = await startOtlpSink();
      await sink.stop();
      const metrics = new Metrics();
      const s = openSpool();
      const p = start({ sink, metrics, threads: 1, spool: s, pipeline: pipelineConfig({ batchSize: 10, maxRecords: 50, lingerMs: 50 }) });
      await p.ready();
      for (let i = 0; i < 400; i++) {
        p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
        expect(s.frames).toBe(i + 1);
      }
      await sink.start();
      await sink.waitForRecords(400, 20_000);
      await until(() => s.frames === 0, 5000, 'every batch acknowledged');
      const sizes = sink.requests.filter((r) => r.status === 200 && r.records > 0).map((r) => r.records);
      // 400 one-frame reads, parked on disk while the output was down: read back ten at a time.
      expect(sizes.filter((n) => n < 10).length).toBeLessThanOrEqual(1);
      expect(new Set(sink.records.map(idOf)).size).toBe(400);
    });

    it('a crashed worker: its in-flight batches are sent again from the spool, nothing is counted lost', async () => {
      sink = await startOtlpSink();
      sink.defaultResponse = { status: 200, delayMs: 400 };
      const metrics = new Metrics();
      const s = openSpool();
      const p = start({ sink, metrics, threads: 1, spool: s, pipeline: pipelineConfig({ batchSize: 10 }) });
      await p.ready();
      for (let i = 0; i < 20; i++) p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
      await until(() => sink!.requests.length === 0 && p.queuedRecords === 20, 1000, 'records in flight');
      await p.crashWorkerForTest(0);
      sink.defaultResponse = { status: 200 };
      await until(() => new Set(sink!.records.map(idOf)).size === 20, 10_000, 'all 20 sent again');
      await until(() => s.frames === 0, 5000, 'acknowledged');
      expect(await counter(metrics, 'dropped')).toBe(0);
      expect(logs.some((l) => l.msg.includes('sent again from the spool'))).toBe(true);
    });

    it('shutdown with the output down: nothing is counted lost, the batches are handed back, and a new pipeline (or the next start) delivers them', async () => {
      sink = await startOtlpSink();
      await sink.stop();
      const metrics = new Metrics();
      const dir = mkdtempSync(join(tmpdir(), 'tp-spool-'));
      const s = openSpool(dir);
      const p = start({ sink, metrics, spool: s });
      await p.ready();
      for (let i = 0; i < 30; i++) p.offerFrames([Buffer.from(line(i))], { transport: 'tcp' });
      const r = await p.shutdown(300);
      expect(r.undelivered).toBe(0);
      expect(r.spooled.reduce((n, ref) => n + ref.frames, 0)).toBe(30);
      expect(await counter(metrics, 'dropped')).toBe(0);
      // The next start: the spool read back from disk, adopted by a fresh pipeline.
      s.close();
      const again = openSpool(dir);
      expect(again.recovery.frames).toBe(30);
      await sink.start();
      const q = start({ sink, metrics, spool: again });
      await q.ready();
      q.adopt(again.recovery.refs);
      await sink.waitForRecords(30, 10_000);
      await until(() => again.frames === 0, 5000, 'acknowledged');
      expect(new Set(sink.records.map(idOf)).size).toBe(30);
      expect(sink.records).toHaveLength(30);
    });

    it('a full spool pauses intake (refusal reason spool_full) and drains when batches are acknowledged', async () => {
      sink = await startOtlpSink();
      await sink.stop();
      const metrics = new Metrics();
      spool = Spool.open(resolveSpoolConfig({ directory: mkdtempSync(join(tmpdir(), 'tp-spool-')), segmentBytes: 64 * 1024, maxBytes: 1024 * 1024, fsync: 'never' }));
      const p = start({ sink, metrics, threads: 1, spool, pipeline: pipelineConfig({ batchSize: 100, maxRecords: 200 }) });
      await p.ready();
      let n = 0;
      while (p.writable && n < 100_000) p.offerFrames([Buffer.from(line(n++))], { transport: 'tcp' });
      expect(p.writable).toBe(false);
      expect(p.refusalReason).toBe('spool_full');
      expect(spool.bytes).toBeGreaterThanOrEqual(1024 * 1024);
      const drained = new Promise<void>((resolve) => p.onDrain(resolve));
      await sink.start();
      await drained;
      expect(p.writable).toBe(true);
      await sink.waitForRecords(n, 20_000);
      expect(new Set(sink.records.map(idOf)).size).toBe(Math.min(n, 65536));
    });
  });

  describe.skipIf(!shouldRun(rootReq))('with the spool on a disk that fills up (a 1 MiB tmpfs)', () => {
    let mnt = '';
    let spool: Spool | undefined;
    afterEach(() => {
      spool?.close();
      spool = undefined;
      if (mnt !== '') execFileSync('umount', [mnt]);
      mnt = '';
    });

    it('a write that fails with ENOSPC pauses intake instead of crashing, keeps the batch, and intake resumes once there is room', async () => {
      assertRequirement(rootReq);
      mnt = mkdtempSync(join(tmpdir(), 'tp-enospc-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
      sink = await startOtlpSink();
      await sink.stop();
      const metrics = new Metrics();
      const failures: unknown[] = [];
      spool = Spool.open(resolveSpoolConfig({ directory: join(mnt, 'spool'), segmentBytes: 64 * 1024, maxBytes: 64 * 1024 * 1024, fsync: 'never' }), {
        observer: { writeFailed: (e) => failures.push(e) },
      });
      const p = start({ sink, metrics, threads: 1, spool, pipeline: pipelineConfig({ batchSize: 50 }) });
      await p.ready();
      // Leave ~64 KiB free on the filesystem.
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4096', `count=${Math.floor((1024 * 1024 - 64 * 1024) / 4096) - 8}`], { stdio: 'ignore' });
      let n = 0;
      while (p.writable && n < 10_000) p.offerFrames([Buffer.from(line(n++))], { transport: 'tcp' });
      expect(p.writable).toBe(false);
      expect(failures.some((e) => (e as NodeJS.ErrnoException).code === 'ENOSPC')).toBe(true);
      expect(logs.some((l) => l.level === 'error' && l.msg.startsWith('the spool could not be written'))).toBe(true);
      const resumed = new Promise<void>((resolve) => p.onDrain(resolve));
      rmSync(join(mnt, 'filler'));
      await resumed;
      expect(p.writable).toBe(true);
      await sink.start();
      await sink.waitForRecords(n, 20_000);
      expect(new Set(sink.records.map(idOf)).size).toBe(n);
      expect(await counter(metrics, 'dropped')).toBe(0);
    });
  });

  it('setParser: frames offered after the change are parsed with the new options', async () => {
    sink = await startOtlpSink();
    const metrics = new Metrics();
    const p = start({ sink, metrics, pipeline: pipelineConfig({ batchSize: 100, lingerMs: 200 }) });
    await p.ready();
    p.offerFrames([Buffer.from(line(1))], { transport: 'tcp' });
    p.setParser({ ...PARSER, dataset: 'fw.b' });
    p.offerFrames([Buffer.from(line(2))], { transport: 'tcp' });
    await sink.waitForRecords(2);
    const ds = new Map(sink.records.map((r) => [idOf(r), str(r, 'data_stream.dataset')]));
    expect(ds.get(1)).toBe('iptables.log');
    expect(ds.get(2)).toBe('fw.b');
  });
});
