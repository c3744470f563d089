import os from 'node:os';
import type { SyslogMessage } from './syslog-message.js';
import { newMessage, setPriority } from './message.js';

/**
 * /dev/kmsg records: `PRI,SEQ,USEC,FLAGS[,more];MSG` followed by optional continuation lines
 * `\n KEY=value` (device metadata, not part of MSG). PRI is facility<<3|level, USEC the
 * monotonic clock in microseconds since boot.
 */

let defaultBootTimeMs: number | undefined;

/** Boot time (ms since epoch), derived once from os.uptime(). */
export function bootTimeMs(): number {
  if (defaultBootTimeMs === undefined) defaultBootTimeMs = Date.now() - os.uptime() * 1000;
  return defaultBootTimeMs;
}

/** Digits at i, at most maxDigits: sets numEnd/numValue; false if none or too many. */
let numEnd = 0;
let numValue = 0;
function numberAt(s: string, i: number, end: number, maxDigits: number): boolean {
  let v = 0;
  let j = i;
  while (j < end) {
    const d = s.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    j++;
  }
  if (j === i || j - i > maxDigits) return false;
  numEnd = j;
  numValue = v;
  return true;
}

/**
 * Decodes a /dev/kmsg record (frame s, trailing LF/CR/NUL already excluded by end). Returns
 * undefined if s is not one. The timestamp is bootTime + USEC; kernelUptime is USEC in seconds.
 */
export function decodeKmsg(s: string, end: number, bootMs: number | undefined): SyslogMessage | undefined {
  if (!numberAt(s, 0, end, 3) || s.charCodeAt(numEnd) !== 0x2c) return undefined;
  const pri = numValue;
  if (pri > 191) return undefined;
  if (!numberAt(s, numEnd + 1, end, 20) || s.charCodeAt(numEnd) !== 0x2c) return undefined;
  const seq = numValue;
  if (!numberAt(s, numEnd + 1, end, 16) || s.charCodeAt(numEnd) !== 0x2c) return undefined;
  const usec = numValue;
  // FLAGS and any further fields (`caller=T1`): short, no spaces or line breaks.
  let semi = -1;
  const limit = Math.min(end, numEnd + 65);
  for (let j = numEnd + 1; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x3b) {
      semi = j;
      break;
    }
    if (c === 0x20 || c === 0x0a) return undefined;
  }
  if (semi < 0) return undefined;
  const nl = s.indexOf('\n', semi + 1);
  const msgEnd = nl < 0 || nl > end ? end : nl;

  const m = newMessage('kmsg', s, semi + 1, msgEnd);
  setPriority(m, pri);
  m.sequence = seq;
  m.kernelUptime = usec / 1e6;
  const boot = bootMs !== undefined && Number.isFinite(bootMs) ? bootMs : bootTimeMs();
  const totalUs = Math.round(boot * 1000) + usec;
  const seconds = Math.floor(totalUs / 1e6);
  m.timestamp = [seconds, (totalUs - seconds * 1e6) * 1000];
  return m;
}
