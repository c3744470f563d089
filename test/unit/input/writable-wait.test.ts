import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WritableWait } from '../../../src/input/writable-wait.js';

/** A sink's drain signal: listeners registered until `drain()` calls them once. */
function drainSignal() {
  let listeners: Array<() => void> = [];
  return {
    onDrain: (l: () => void) => void listeners.push(l),
    drain: () => {
      const ls = listeners;
      listeners = [];
      for (const l of ls) l();
    },
    get count() {
      return listeners.length;
    },
  };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('WritableWait', () => {
  it('resumes once on the drain signal', () => {
    const sig = drainSignal();
    const resume = vi.fn();
    const w = new WritableWait(sig.onDrain, resume, 20);
    w.start();
    w.start(); // already waiting
    expect(w.active).toBe(true);
    sig.drain();
    expect(resume).toHaveBeenCalledTimes(1);
    expect(w.active).toBe(false);
    vi.advanceTimersByTime(100);
    expect(resume).toHaveBeenCalledTimes(1); // the retry timer went with it
  });

  it('resumes after retryMs when the drain signal is missed, and registers one listener however long it waits', () => {
    const sig = drainSignal();
    let resumes = 0;
    const counting = new WritableWait(sig.onDrain, () => {
      resumes++;
      counting.start();
    }, 20);
    counting.start();
    vi.advanceTimersByTime(1000);
    expect(resumes).toBe(50);
    expect(sig.count).toBe(1);
    sig.drain();
    expect(resumes).toBe(51);
    expect(sig.count).toBe(1); // the resume waited again: a new listener for the next drain
  });

  it('does not resume after cancel()', () => {
    const sig = drainSignal();
    const resume = vi.fn();
    const w = new WritableWait(sig.onDrain, resume, 20);
    w.start();
    w.cancel();
    vi.advanceTimersByTime(100);
    sig.drain();
    expect(resume).not.toHaveBeenCalled();
    expect(w.active).toBe(false);
  });
});
