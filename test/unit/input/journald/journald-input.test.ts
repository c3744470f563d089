/**
 * The journald input's process handling with a stand-in journalctl (a shell script that logs
 * its arguments and prints export-format entries, then exits): restart with backoff resuming
 * after the last entry handed over, the cursor checkpoint moving only on acknowledgement and
 * used by the next start, and a missing binary. The real journalctl on real journal files is
 * tested in test/integration/journald/.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FrameSpans } from '../../../../src/framing/framer.js';
import { AckRouter } from '../../../../src/input/ack-router.js';
import { CheckpointStore } from '../../../../src/input/checkpoint-store.js';
import { JournaldInput, type JournaldCheckpoint } from '../../../../src/input/journald/journald-input.js';
import { validateJournaldInputConfig } from '../../../../src/input/journald/journald-input-config.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import type { FrameSink } from '../../../../src/pipeline/frame-sink.js';
import { waitFor } from '../../../helpers/wait.js';

class CaptureFrames implements FrameSink {
  readonly got: Array<{ text: string; ctx: ReceiveContext }> = [];
  readonly writable = true;
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    for (const f of frames) this.got.push({ text: f.toString('latin1'), ctx });
    return true;
  }
  offerSpans(_s: FrameSpans, _c: ReceiveContext): boolean {
    throw new Error('not used');
  }
  onDrain(): void {}
}

describe('journald input process handling', () => {
  let dir: string;
  let frames: CaptureFrames;
  let router: AckRouter;
  let store: CheckpointStore;
  let input: JournaldInput | undefined;
  const warnings: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-journald-'));
    frames = new CaptureFrames();
    router = new AckRouter();
    store = new CheckpointStore(path.join(dir, 'checkpoints'));
    warnings.length = 0;
  });
  afterEach(async () => {
    await input?.stop();
    input = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A journalctl stand-in: appends its arguments to args.log, prints entries c<N>.. per run, exits 1. */
  function fakeJournalctl(): string {
    const script = path.join(dir, 'journalctl');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `echo "$*" >> ${dir}/args.log`,
        `n=$(wc -l < ${dir}/args.log)`,
        "printf '__CURSOR=c%s\\n_TRANSPORT=kernel\\nPRIORITY=4\\nMESSAGE=FW run %s: IN=eth0\\n\\n' $n $n",
        "printf 'MESSAGE=cut off' ",
        'echo "something failed" >&2',
        'exit 1',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    return script;
  }

  let metrics = new Metrics();
  function make(raw: Record<string, unknown>): JournaldInput {
    metrics = new Metrics();
    const config = validateJournaldInputConfig({ restartDelay: 20, maxRestartDelay: 80, checkpointInterval: 0, ...raw });
    return new JournaldInput(config, {
      decode: () => undefined as never,
      sink: undefined as never,
      frameSink: frames,
      metrics,
      checkpoints: store,
      acks: router,
      logger: { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
  }

  it('restarts journalctl after it exits, resuming after the last entry handed over; logs why', async () => {
    input = make({ journalctl: fakeJournalctl(), startAt: 'beginning' });
    await input.start();
    await waitFor(() => frames.got.length >= 3, { what: 'three runs of journalctl', timeoutMs: 10_000 });
    const args = readFileSync(path.join(dir, 'args.log'), 'utf8').trim().split('\n');
    expect(args[0]).toContain('--no-tail');
    expect(args[1]).toContain('--after-cursor=c1');
    expect(args[2]).toContain('--after-cursor=c2');
    expect(args[0]!.endsWith('_TRANSPORT=kernel')).toBe(true);
    expect(frames.got[0]!.text).toBe('<4>1 - - kernel - - - FW run 1: IN=eth0');
    expect(frames.got[0]!.ctx.attributes).toEqual({ 'input.type': 'journald', 'systemd.transport': 'kernel' });
    expect(input.restarts).toBeGreaterThanOrEqual(2);
    const restarts = (await metrics.registry.getSingleMetric('iptables_otel_input_restarts_total')!.get()).values[0]?.value ?? 0;
    expect(restarts).toBeGreaterThanOrEqual(2);
    // The cut-off entry at each exit is reported, and the exit with journalctl's stderr.
    expect(warnings.some((w) => w.includes('journalctl exited with 1') && w.includes('something failed'))).toBe(true);
    expect(warnings.some((w) => w.includes('stream ended inside an entry'))).toBe(true);
    // Nothing acknowledged yet: no checkpoint.
    expect(store.read<JournaldCheckpoint>(input.name)).toBeUndefined();
  });

  it('the checkpoint is the last acknowledged cursor, and the next start resumes after it', async () => {
    input = make({ journalctl: fakeJournalctl(), startAt: 'beginning' });
    await input.start();
    await waitFor(() => frames.got.length >= 2, { what: 'two entries', timeoutMs: 10_000 });
    router.acknowledged([frames.got[0]!.ctx], [1]);
    await waitFor(() => store.read<JournaldCheckpoint>(input!.name) !== undefined, { what: 'the checkpoint', timeoutMs: 5000 });
    expect(store.read<JournaldCheckpoint>(input.name)).toEqual({ version: 1, cursor: 'c1' });
    await input.stop();
    rmSync(path.join(dir, 'args.log'));
    input = make({ journalctl: fakeJournalctl() });
    await input.start();
    await waitFor(() => existsSync(path.join(dir, 'args.log')), { what: 'journalctl to start', timeoutMs: 5000 });
    expect(readFileSync(path.join(dir, 'args.log'), 'utf8').split('\n')[0]).toContain('--after-cursor=c1');
  });

  it('a missing journalctl is named in the log and retried', async () => {
    input = make({ journalctl: path.join(dir, 'no-such-journalctl') });
    await input.start();
    await waitFor(() => input!.restarts >= 2, { what: 'retries', timeoutMs: 5000 });
    expect(warnings.some((w) => w.includes('not found: the journald input needs journalctl'))).toBe(true);
    // One failure per attempt: the 'close' after a failed spawn is not a second one (that raced
    // the message and doubled the restarts).
    expect(warnings.filter((w) => w.includes('exited with'))).toEqual([]);
    expect(input.health()).toMatchObject({ type: 'journald', journalctl: 'not running', lastError: expect.stringContaining('not found') });
  });
});
