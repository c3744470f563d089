/**
 * CPU time and peak memory of a process tree, read from /proc. Used by the
 * end-to-end benchmark to charge each receiver for its own work (all threads,
 * and every descendant process such as cluster workers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatLine {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  return { ppid, ticks };
}

/** `pid` and all its live descendants (scans /proc once). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child) || child <= 0) continue;
    const st = readStat(child);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(child);
    else children.set(st.ppid, [child]);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 10_000) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** Sum of user+system CPU seconds of the given processes (children they reaped included). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / ticksPerSecond();
}

/** Peak resident set (VmHWM) in MiB, summed over the given processes. */
export function peakRssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m) kib += Number(m[1]);
    } catch {
      // The process exited between the scan and the read; it no longer holds memory.
    }
  }
  return kib / 1024;
}

/**
 * Bytes the given processes caused to be written to storage (`write_bytes` of /proc/PID/io:
 * counted when a page of a file is first dirtied, so a file deleted before writeback still
 * counts, and a small write to a page already dirty does not). Socket traffic is not included.
 * Threads are included (the file is per process); a process that exited reads as 0.
 */
export function diskWriteBytes(pids: readonly number[]): number {
  let bytes = 0;
  for (const pid of pids) {
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'latin1');
      const m = /^write_bytes:\s+(\d+)$/m.exec(io);
      if (m) bytes += Number(m[1]);
    } catch {
      // Exited, or not ours to read.
    }
  }
  return bytes;
}
