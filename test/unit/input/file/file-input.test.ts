/**
 * The file input on real files in a temp directory, with a capturing frame sink that
 * acknowledges on demand: line offsets and attributes, checkpoints that move only on
 * acknowledgement, resume after a restart, rotation (rename and create, copytruncate, deletion)
 * while running and while stopped, oversize lines, a partial last line, and backpressure.
 */
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FrameSpans } from '../../../../src/framing/framer.js';
import { AckRouter } from '../../../../src/input/ack-router.js';
import { CheckpointStore } from '../../../../src/input/checkpoint-store.js';
import { FileInput } from '../../../../src/input/file/file-input.js';
import type { FileInputCheckpoint } from '../../../../src/input/file/file-identity.js';
import { validateFileInputConfig } from '../../../../src/input/file/file-input-config.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import type { FrameSink } from '../../../../src/pipeline/frame-sink.js';
import { waitFor } from '../../../helpers/wait.js';

/** Keeps every frame with its context; `full` makes offers return false until `drain()`. */
class CaptureFrames implements FrameSink {
  readonly got: Array<{ text: string; ctx: ReceiveContext }> = [];
  full = false;
  offers = 0;
  private listeners: Array<() => void> = [];
  get writable(): boolean {
    return !this.full;
  }
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    this.offers++;
    for (const f of frames) this.got.push({ text: f.toString('latin1'), ctx });
    return !this.full;
  }
  offerSpans(_spans: FrameSpans, _ctx: ReceiveContext): boolean {
    throw new Error('not used by the file input');
  }
  onDrain(listener: () => void): void {
    this.listeners.push(listener);
  }
  drain(): void {
    this.full = false;
    const ls = this.listeners;
    this.listeners = [];
    for (const l of ls) l();
  }
  texts(): string[] {
    return this.got.map((g) => g.text);
  }
}

describe('file input', () => {
  let dir: string;
  let log: string;
  let frames: CaptureFrames;
  let router: AckRouter;
  let store: CheckpointStore;
  let metrics: Metrics;
  let input: FileInput | undefined;
  /** How many captured frames were acknowledged so far. */
  let acked = 0;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-file-'));
    log = path.join(dir, 'kern.log');
    frames = new CaptureFrames();
    router = new AckRouter();
    store = new CheckpointStore(path.join(dir, 'state', 'checkpoints'));
    metrics = new Metrics();
    acked = 0;
  });
  afterEach(async () => {
    await input?.stop();
    input = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function make(raw: Record<string, unknown> = {}): FileInput {
    const config = validateFileInputConfig({ paths: [log], startAt: 'beginning', pollInterval: 20, rotateWait: 50, checkpointInterval: 0, ...raw });
    return new FileInput(config, { decode: () => undefined as never, sink: undefined as never, frameSink: frames, metrics, checkpoints: store, acks: router });
  }

  /** Acknowledge every frame captured so far, as the pipeline does for a delivered batch. */
  function ackAll(): void {
    const batch = frames.got.slice(acked);
    acked = frames.got.length;
    router.acknowledged(
      batch.map((g) => g.ctx),
      batch.map(() => 1),
    );
  }

  function checkpoint(): FileInputCheckpoint {
    return store.read<FileInputCheckpoint>(input?.name ?? `file://${log}`)!;
  }

  const waitLines = (n: number, what = `${n} lines`): Promise<void> => waitFor(() => frames.got.length >= n, { what, timeoutMs: 5000 });

  it('hands over each line with its path and offset; the checkpoint moves only on acknowledgement', async () => {
    writeFileSync(log, 'Dec  2 02:12:25 fw1 kernel: one\nDec  2 02:12:26 fw1 kernel: two\n');
    input = make();
    await input.start();
    await waitLines(2);
    expect(frames.got.map((g) => [g.text, g.ctx.attributes])).toEqual([
      ['Dec  2 02:12:25 fw1 kernel: one', { 'input.type': 'log', 'log.file.path': log, 'log.offset': 0 }],
      ['Dec  2 02:12:26 fw1 kernel: two', { 'input.type': 'log', 'log.file.path': log, 'log.offset': 32 }],
    ]);
    expect(frames.got[0]!.ctx.source?.input).toBe(input.name);
    await store.idle();
    expect(checkpoint().files[0]!.offset).toBe(0);
    ackAll();
    // Written once per acknowledged batch (checkpointInterval 0: on the next turn of the event loop).
    await waitFor(() => checkpoint().files[0]!.offset === 64, { what: 'the checkpoint to advance', timeoutMs: 5000 });
    expect(checkpoint().files[0]).toMatchObject({ path: log, offset: 64, fingerprintLength: 64 });
    // Lines appended later are picked up (watch event or poll).
    appendFileSync(log, 'three\n');
    await waitLines(3);
    expect(frames.got[2]!.ctx.attributes!['log.offset']).toBe(64);
    expect(input.health()).toMatchObject({ type: 'file', files: [{ path: log, readOffset: 70, checkpointOffset: 64 }], unacknowledged: 1, paused: false });
  });

  it('after a restart resumes at the acknowledged offset: unacknowledged lines are read again', async () => {
    writeFileSync(log, 'a\nb\nc\n');
    input = make();
    await input.start();
    await waitLines(3);
    // Acknowledge only the first line.
    router.acknowledged([frames.got[0]!.ctx], [1]);
    await input.stop();
    frames.got.length = 0;
    acked = 0;
    input = make();
    await input.start();
    await waitLines(2);
    expect(frames.texts()).toEqual(['b', 'c']);
  });

  it('startAt end skips what is there (after the last complete line) and a checkpoint is written at once', async () => {
    writeFileSync(log, 'old 1\nold 2\npart');
    input = make({ startAt: 'end' });
    await input.start();
    await waitFor(() => checkpoint()?.files[0]?.offset === 12, { what: 'the first checkpoint', timeoutMs: 5000 });
    appendFileSync(log, 'ial\nnew\n');
    await waitLines(2);
    expect(frames.texts()).toEqual(['partial', 'new']);
  });

  it('rename and create: the old file is read to its end (writer still appending), then the new one from 0', async () => {
    writeFileSync(log, 'l1\n');
    input = make();
    await input.start();
    await waitLines(1);
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'l2 late write to the renamed file\npartial-at-the-end');
    writeFileSync(log, 'n1\n');
    await waitLines(4, 'old rest, its partial line, and the new file');
    expect(new Set(frames.texts())).toEqual(new Set(['l1', 'l2 late write to the renamed file', 'partial-at-the-end', 'n1']));
    ackAll();
    await waitFor(() => checkpoint().files.length === 1, { what: 'the finished file to leave the checkpoint', timeoutMs: 5000 });
    expect(checkpoint().files[0]!.offset).toBe(3);
  });

  it('copytruncate: starts over at 0 even when the file has regrown past the old offset', async () => {
    writeFileSync(log, 'first line\n');
    input = make({ pollInterval: 1000 });
    await input.start();
    await waitLines(1);
    truncateSync(log, 0);
    appendFileSync(log, 'after truncation, a longer line\n');
    await waitLines(2);
    expect(frames.texts()).toEqual(['first line', 'after truncation, a longer line']);
  });

  it('a file deleted while open is read to its end', async () => {
    writeFileSync(log, 'x1\n');
    input = make();
    await input.start();
    await waitLines(1);
    appendFileSync(log, 'x2\n');
    unlinkSync(log);
    await waitLines(2);
    expect(frames.texts()).toEqual(['x1', 'x2']);
    await waitFor(() => input!.openFiles.length === 0, { what: 'the deleted file to be closed', timeoutMs: 5000 });
  });

  it('rotated while stopped: the rest of the old file (found by inode) first, then the new file', async () => {
    writeFileSync(log, 'r1\n');
    input = make();
    await input.start();
    await waitLines(1);
    ackAll();
    await input.stop();
    appendFileSync(log, 'r2\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'n1\n');
    frames.got.length = 0;
    acked = 0;
    input = make();
    await input.start();
    await waitLines(2);
    expect(frames.texts().sort()).toEqual(['n1', 'r2']);
    expect(frames.got.find((g) => g.text === 'r2')!.ctx.attributes!['log.file.path']).toBe(`${log}.1`);
  });

  it('copytruncate while stopped: the unread rest comes from the copy, then the file from 0', async () => {
    writeFileSync(log, 'c1\n');
    input = make();
    await input.start();
    await waitLines(1);
    ackAll();
    await input.stop();
    appendFileSync(log, 'c2\n');
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, 'after\n');
    frames.got.length = 0;
    acked = 0;
    input = make();
    await input.start();
    await waitLines(2);
    expect(frames.texts().sort()).toEqual(['after', 'c2']);
  });

  it('cuts and counts a line above maxFrameSize; keeps a partial line until its LF', async () => {
    writeFileSync(log, `${'z'.repeat(300)}\nok\nhalf`);
    input = make({ maxFrameSize: 128 });
    await input.start();
    await waitLines(2);
    expect(frames.got.map((g) => g.text.length)).toEqual([128, 2]);
    expect((await metrics.registry.getSingleMetricAsString('iptables_otel_framing_errors_total'))).toContain('reason="oversize"} 1');
    appendFileSync(log, ' done\n');
    await waitLines(3);
    expect(frames.got[2]!.text).toBe('half done');
  });

  it('stops reading while the sink refuses and above maxInFlight; resumes on drain and on acknowledgement', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} `.padEnd(60, 'x'));
    writeFileSync(log, lines.join('\n') + '\n');
    frames.full = true;
    input = make({ readBufferSize: 512 });
    await input.start();
    await waitLines(1);
    const seenWhileFull = frames.got.length;
    // The first read's lines are taken (offer returned false after taking them), then reading stops.
    expect(seenWhileFull).toBeLessThan(50);
    frames.drain();
    await waitLines(50);
    expect(frames.texts()).toEqual(lines);

    // maxInFlight: 10 lines wait for acknowledgement, no more.
    await input.stop();
    frames.got.length = 0;
    acked = 0;
    writeFileSync(log, lines.join('\n') + '\n');
    rmSync(path.join(dir, 'state'), { recursive: true, force: true });
    input = make({ maxInFlight: 10, readBufferSize: 512 });
    await input.start();
    await waitLines(10);
    const held = frames.got.length;
    expect(held).toBeLessThan(50);
    ackAll();
    await waitFor(() => frames.got.length > held, { what: 'reading to resume after the acknowledgement', timeoutMs: 5000 });
  });

  it('reads several files matched by a glob', async () => {
    writeFileSync(path.join(dir, 'a.log'), 'from a\n');
    writeFileSync(path.join(dir, 'b.log'), 'from b\n');
    writeFileSync(path.join(dir, '.hidden.log'), 'hidden\n');
    input = make({ paths: [path.join(dir, '*.log')] });
    await input.start();
    await waitLines(2);
    writeFileSync(path.join(dir, 'c.log'), 'from c\n');
    await waitLines(3);
    expect(frames.texts().sort()).toEqual(['from a', 'from b', 'from c']);
    await waitFor(() => JSON.stringify(store.read(input!.name) ?? '').includes('c.log'), { what: 'the new file in the checkpoint', timeoutMs: 5000 });
  });
});
