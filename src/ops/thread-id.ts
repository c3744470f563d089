import { readlinkSync } from 'node:fs';

/**
 * The calling thread's id on Linux (`/proc/thread-self` -> `PID/task/TID`), else undefined.
 * `os.setPriority(pid)` is `setpriority(PRIO_PROCESS, pid)`, which on Linux applies to the one
 * thread whose id it is given; `top -H` and /proc/PID/task/TID show the thread by it.
 */
export function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
