import type { FrameDecoder } from '../../../src/input/input.js';
import type { FirewallLogRecord, ReceiveContext } from '../../../src/mapping/record.js';
import type { RecordSink } from '../../../src/pipeline/record-sink.js';

/** A record as the test decoder makes it: the frame text plus the context. */
export interface CapturedRecord extends FirewallLogRecord {
  ctx: ReceiveContext;
}

/** Keeps the frame text (latin1, byte-exact) and the receive context. */
export const textDecoder: FrameDecoder = (frame, ctx) => {
  const rec: CapturedRecord = {
    observedTimestamp: ctx.receivedAt ?? [0, 0],
    severityNumber: 0,
    body: frame.toString('latin1'),
    attributes: {},
    ctx,
  };
  return rec;
};

/** A RecordSink that stores everything; `full` makes `offer()` return false (it still takes the records). */
export class CaptureSink implements RecordSink {
  readonly records: CapturedRecord[] = [];
  offers = 0;
  full = false;
  private drainListeners: Array<() => void> = [];

  get writable(): boolean {
    return !this.full;
  }

  offer(records: FirewallLogRecord[]): boolean {
    this.offers++;
    for (const r of records) this.records.push(r as CapturedRecord);
    return !this.full;
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /** Drain listeners registered and not yet called. */
  get drainListenerCount(): number {
    return this.drainListeners.length;
  }

  /** Become writable and call the drain listeners. */
  drain(): void {
    this.full = false;
    const ls = this.drainListeners;
    this.drainListeners = [];
    for (const l of ls) l();
  }

  get bodies(): string[] {
    return this.records.map((r) => r.body);
  }
}

/** Poll `cond` every 10 ms until true or `timeoutMs` passes; throws with `what` on timeout. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The value of a metric (summed over label sets matching `labels`). */
export async function metricValue(
  metrics: { registry: { getSingleMetric(name: string): unknown } },
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = metrics.registry.getSingleMetric(name) as { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> } | undefined;
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((s, v) => s + v.value, 0);
}

/** Wait `ms` (only to show that something does NOT happen). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Like `waitFor`, for an async condition (e.g. a metric value). */
export async function waitForAsync(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
