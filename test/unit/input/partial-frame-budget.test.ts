import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import {
  createPartialFrameBudget,
  validatePartialFrameBudgetConfig,
  PARTIAL_FRAME_BUDGET_DEFAULTS,
  type PartialFrameBudget,
  type PartialFrameHolder,
} from '../../../src/input/partial-frame-budget.js';
import { metricValue, sleep, waitFor } from './capture-sink.js';
import { connect, runCleanups, startTcp, write } from './stream-harness.js';

afterEach(runCleanups);

class FakeHolder implements PartialFrameHolder {
  paused = false;
  cuts = 0;
  constructor(private readonly budget: () => PartialFrameBudget) {}
  pauseForBudget(): void {
    this.paused = true;
  }
  resumeFromBudget(): void {
    this.paused = false;
  }
  cutPartial(): void {
    this.cuts++;
  }
  hold(bytes: number): void {
    this.budget().update(this, bytes);
  }
}

function fakes(maxBytes: number, stallMs = 60_000) {
  const metrics = new Metrics();
  const budget = createPartialFrameBudget({ maxBytes, stallMs }, metrics);
  const holder = (): FakeHolder => new FakeHolder(() => budget);
  return { budget, holder, metrics };
}

describe('PartialFrameBudget', () => {
  it('has defaults and validates keys by name', () => {
    expect(PARTIAL_FRAME_BUDGET_DEFAULTS).toEqual({ maxBytes: 8 * 1024 * 1024, stallMs: 1000 });
    expect(validatePartialFrameBudgetConfig({ maxBytes: -1, stallMs: 0 }, 'inputs.partialFrames').map((i) => i.key)).toEqual([
      'inputs.partialFrames.maxBytes',
      'inputs.partialFrames.stallMs',
    ]);
  });

  it('pauses a connection whose partial grows above the budget; others are not touched; resumes at 3/4', async () => {
    const { budget, holder, metrics } = fakes(1000);
    const [a, b, c] = [holder(), holder(), holder()];
    a.hold(600);
    b.hold(300);
    expect(a.paused || b.paused).toBe(false);
    c.hold(200); // 1100 > 1000: c grew, c pauses
    expect([a.paused, b.paused, c.paused]).toEqual([false, false, true]);
    expect(await metricValue(metrics, 'iptables_otel_partial_frame_bytes')).toBe(1100);
    a.hold(0); // a's frame completed: 500 <= 750
    expect(c.paused).toBe(false);
    expect(budget.total).toBe(500);
    expect([a.cuts, b.cuts, c.cuts]).toEqual([0, 0, 0]);
  });

  it('above twice the budget, cuts the oldest partials down to the budget', () => {
    const { budget, holder } = fakes(1000);
    const hs = Array.from({ length: 5 }, holder);
    for (const h of hs) h.hold(450); // the 3rd and 4th pause; 2250 > 2000 on the 5th
    expect(hs.map((h) => h.cuts)).toEqual([1, 1, 1, 0, 0]);
    expect(budget.total).toBe(900);
    // The cut 3rd resumes (it holds nothing now); the 4th waits for 3/4 of the budget.
    expect(hs.map((h) => h.paused)).toEqual([false, false, false, true, false]);
  });

  it('never deadlocks: paused holders with silent peers get the oldest partials cut after stallMs', async () => {
    const { budget, holder } = fakes(1000, 50);
    const [a, b, c] = [holder(), holder(), holder()];
    a.hold(500);
    b.hold(400);
    c.hold(300); // c paused; a and b never send again
    expect(c.paused).toBe(true);
    await waitFor(() => !c.paused, 'c resumed after the stall cut', 2000);
    expect(a.cuts).toBe(1);
    expect(budget.total).toBeLessThanOrEqual(750);
    budget.stop();
  });

  it('maxBytes 0 means no budget', () => {
    const { budget, holder } = fakes(0);
    const h = holder();
    h.hold(10 ** 9);
    expect(h.paused).toBe(false);
    expect(budget.total).toBe(10 ** 9);
  });
});

describe('the budget on real connections', () => {
  const FRAME = 60_000;

  async function setup(maxBytes: number, stallMs: number) {
    const metrics = new Metrics();
    const budget = createPartialFrameBudget({ maxBytes, stallMs }, metrics);
    let peak = 0;
    const update = budget.update.bind(budget);
    budget.update = (h, bytes) => {
      update(h, bytes);
      peak = Math.max(peak, budget.total);
    };
    const started = await startTcp({ framing: 'lf', maxFrameSize: 65_536 }, { metrics, partialFrames: budget });
    return { ...started, budget, peak: () => peak };
  }

  it('300 connections each holding a 60,000-byte partial frame stay within the budget, and no byte is lost', async () => {
    const maxBytes = 2 * 1024 * 1024;
    const { input, sink, metrics, budget, peak, port } = await setup(maxBytes, 200);
    const sockets = [];
    for (let i = 0; i < 300; i++) sockets.push(await connect(port));
    await waitFor(() => input.connectionCount === 300, '300 connections');
    const body = 'x'.repeat(FRAME);
    await Promise.all(sockets.map((s) => write(s, body)));
    await sleep(200);
    // Without the budget this is 300 × 60,000 = 18 MB held.
    expect(budget.total).toBeLessThanOrEqual(2 * maxBytes);
    for (const s of sockets) s.end('\n');
    await waitFor(() => sink.bodies.reduce((n, b) => n + b.length, 0) === 300 * FRAME, 'every byte framed', 30_000);
    expect(peak()).toBeLessThanOrEqual(2 * maxBytes);
    const cuts = await metricValue(metrics, 'iptables_otel_framing_errors_total', { reason: 'partial_budget' });
    // A cut frame arrives as what was held, then the rest (if any besides the LF): nothing is dropped.
    expect(cuts).toBeGreaterThan(0);
    expect(sink.records.length).toBeGreaterThanOrEqual(300);
    expect(sink.records.length).toBeLessThanOrEqual(300 + cuts);
    await waitFor(() => budget.total === 0, 'nothing held');
    expect(await metricValue(metrics, 'iptables_otel_partial_frame_bytes')).toBe(0);
  }, 60_000);

  it('a connection paused by the budget reads nothing more while its sender keeps sending', async () => {
    const { input, budget, port } = await setup(100_000, 60_000);
    const a = await connect(port);
    await write(a, 'a'.repeat(FRAME));
    await waitFor(() => budget.total === FRAME, 'a holds its partial');
    const b = await connect(port);
    await write(b, 'b'.repeat(FRAME));
    await waitFor(() => budget.pausedCount === 1, 'b paused');
    const held = budget.total;
    b.write('b'.repeat(500_000));
    await sleep(200);
    const conns = [...(input as unknown as { connections: Set<{ socket: import('node:net').Socket; pausedBudget: boolean }> }).connections];
    const paused = conns.find((c) => c.pausedBudget)!;
    // Not in the framer, and not in the stream buffer either: the bytes wait in the kernel.
    expect(paused.socket.readableLength).toBe(0);
    expect(budget.total).toBe(held);
  });

  it('a sender of complete lines is served while stuck partials exhaust the budget', async () => {
    const maxBytes = 1024 * 1024;
    const { sink, metrics, budget, port } = await setup(maxBytes, 60_000);
    const body = 'y'.repeat(FRAME);
    const stuck = [];
    for (let i = 0; i < 25; i++) {
      const s = await connect(port);
      await write(s, body);
      stuck.push(s);
    }
    await waitFor(() => budget.total > maxBytes && budget.pausedCount > 0, 'budget exceeded, a holder paused');
    const good = await connect(port);
    for (let i = 0; i < 100; i++) await write(good, `<4>good ${i}\n`);
    await waitFor(() => sink.bodies.filter((b) => b.startsWith('<4>good')).length === 100, '100 good lines');
    expect(await metricValue(metrics, 'iptables_otel_framing_errors_total', { reason: 'partial_budget' })).toBe(0);
    expect(budget.total).toBeGreaterThan(maxBytes);
    for (const s of stuck) s.destroy();
    await waitFor(() => budget.total === 0, 'released on close');
    expect(budget.pausedCount).toBe(0);
  });
});
