import { getPriority, setPriority } from 'node:os';
import { currentThreadId } from '../../ops/thread-id.js';

export { currentThreadId };

/**
 * How much lower than the main thread's the pipeline workers' scheduling priority is (nice
 * steps). The main thread (and the UDP reader thread, which keeps the process's priority) read
 * the sockets: UDP cannot be paused, so when the cores are busy it is the readers that must
 * run, and the workers that wait (their input is bounded and
 * buffered; a datagram the reader does not fetch in time is lost in the kernel). At nice +5
 * the kernel gives a busy worker about a third of the main thread's share of a contended
 * core; on idle cores it changes nothing. See docs/performance.md ("UDP").
 */
export const WORKER_NICE_OFFSET = 5;

/**
 * Lower the calling thread's priority by `offset` nice steps (never above 19). Returns the new
 * nice value, or undefined where it cannot be done (not Linux, or refused): then the thread
 * keeps the process's priority, which is only slower under contention, not wrong.
 */
export function lowerThreadPriority(offset = WORKER_NICE_OFFSET): number | undefined {
  const tid = currentThreadId();
  if (tid === undefined || offset <= 0) return undefined;
  try {
    const nice = Math.min(19, getPriority(tid) + offset);
    setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
