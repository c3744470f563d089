/**
 * Waiting on a real condition instead of sleeping: on a loaded 2-core machine a fixed sleep is
 * either too short (flaky) or too long (slow). `waitFor` polls until the condition holds;
 * `holdsFor` checks that something does NOT happen over a window, and is only meaningful after
 * a `waitFor` on a positive signal that the state being observed has been reached.
 */

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
  /** Poll interval (default 10 ms). */
  intervalMs?: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `condition` until it returns true (or a promise of true); throws `timed out after N ms
 * waiting for <what>` otherwise. An exception from the condition fails at once.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const interval = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}`);
    await pause(interval);
  }
}

/**
 * Poll `value` until it returns something other than undefined, and return that.
 * Same timeout behaviour as `waitFor`.
 */
export async function waitForValue<T>(value: () => T | undefined | Promise<T | undefined>, options: WaitOptions): Promise<T> {
  let got: T | undefined;
  await waitFor(async () => (got = await value()) !== undefined, options);
  return got as T;
}

export interface HoldOptions {
  /** How long the condition must keep holding. */
  forMs: number;
  /** What must keep holding, for the failure message. */
  what: string;
  intervalMs?: number;
}

/**
 * Check that `condition` stays true for `forMs` (polled); throws at the first poll where it is
 * false. Use only after a `waitFor` on a positive signal (e.g. "the paused gauge is 1"), so that
 * the window observes the state it is meant to.
 */
export async function holdsFor(condition: () => boolean | Promise<boolean>, options: HoldOptions): Promise<void> {
  const interval = options.intervalMs ?? 10;
  const end = Date.now() + options.forMs;
  for (;;) {
    if (!(await condition())) throw new Error(`no longer true after ${options.forMs - (end - Date.now())} ms: ${options.what}`);
    if (Date.now() >= end) return;
    await pause(interval);
  }
}

/**
 * Wait until `value` has not changed for `stableMs` (e.g. a sender's completed writes once the
 * kernel buffers are full) and return it. Times out when it keeps changing for `timeoutMs`.
 */
export async function waitForStable<T>(value: () => T, options: WaitOptions & { stableMs: number }): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  for (;;) {
    await pause(options.intervalMs ?? 10);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= options.stableMs) return now;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what} (still changing: ${String(now)})`);
  }
}
