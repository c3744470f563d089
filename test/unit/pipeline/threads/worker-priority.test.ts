import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { currentThreadId, lowerThreadPriority } from '../../../../src/pipeline/threads/worker-priority.js';
import { assertRequirement, requirement, shouldRun } from '../../../helpers/requirements.js';

const linux = requirement(process.platform === 'linux', 'per-thread nice values are a Linux feature');

describe.skipIf(!shouldRun(linux))('worker thread priority', () => {
  it('the main thread id is the process id', () => {
    assertRequirement(linux);
    expect(currentThreadId()).toBe(process.pid);
  });

  it('lowers the calling worker thread only, never the main thread that reads the sockets', async () => {
    assertRequirement(linux);
    const mainBefore = getPriority(process.pid);
    // Run from source like the pipeline workers in tests (see worker-entry.ts).
    const loader = new URL('../../../../src/ops/ts-source-register.mjs', import.meta.url).href;
    const w = new Worker(new URL('./fixtures/priority-worker.ts', import.meta.url), { execArgv: ['--import', loader] });
    const got = await new Promise<{ nice: number; tid: number; own: number; main: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(got.tid).not.toBe(process.pid);
    expect(got.nice).toBe(Math.min(19, mainBefore + 3));
    expect(got.own).toBe(got.nice);
    expect(got.main).toBe(mainBefore);
    expect(getPriority(process.pid)).toBe(mainBefore);
  });

  it('a zero offset changes nothing', () => {
    expect(lowerThreadPriority(0)).toBeUndefined();
  });
});
