/**
 * Where the netfilter text starts inside MSG: past leading spaces, a printk stamp
 * `[ 1234.567890]` (kept in MSG, reported as kernel uptime) and a printk caller id `[  T123]`.
 */

/** Result of the last `contentStartOf` call (module-level: decoding is synchronous). */
export const printk = { uptime: -1 };

const FRACTION_SCALE = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

function skipSpaces(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === 0x20) i++;
  return i;
}

/**
 * Parses `[ spaces digits . digits ]` at i. Returns the index after `]` (and sets printk.uptime),
 * or -1.
 */
function uptimeStampAt(s: string, i: number, end: number): number {
  if (s.charCodeAt(i) !== 0x5b) return -1;
  let j = skipSpaces(s, i + 1, end);
  let whole = 0;
  const intStart = j;
  while (j < end) {
    const d = s.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
    j++;
  }
  if (j === intStart || j - intStart > 12 || s.charCodeAt(j) !== 0x2e) return -1;
  j++;
  let frac = 0;
  const fracStart = j;
  while (j < end) {
    const d = s.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) break;
    frac = frac * 10 + d;
    j++;
  }
  const n = j - fracStart;
  if (n === 0 || n > 9 || s.charCodeAt(j) !== 0x5d) return -1;
  printk.uptime = whole + frac / FRACTION_SCALE[n]!;
  return j + 1;
}

/** `[  T123]` / `[C2]` (CONFIG_PRINTK_CALLER) at i: index after `]`, or -1. */
function callerIdAt(s: string, i: number, end: number): number {
  if (s.charCodeAt(i) !== 0x5b) return -1;
  let j = skipSpaces(s, i + 1, end);
  const k = s.charCodeAt(j);
  if (k !== 0x54 && k !== 0x43) return -1;
  j++;
  const digitsStart = j;
  while (j < end && j - digitsStart < 10) {
    const d = s.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) break;
    j++;
  }
  return j > digitsStart && s.charCodeAt(j) === 0x5d ? j + 1 : -1;
}

/**
 * Index in s where the content of MSG [msgStart, end) starts: after leading spaces and an
 * optional printk stamp (plus caller id) and the spaces after it. Sets printk.uptime to the
 * stamp's seconds, or -1 when there is none.
 */
export function contentStartOf(s: string, msgStart: number, end: number): number {
  printk.uptime = -1;
  let i = skipSpaces(s, msgStart, end);
  const afterStamp = uptimeStampAt(s, i, end);
  if (afterStamp < 0) return i;
  i = afterStamp;
  const afterCaller = callerIdAt(s, i, end);
  if (afterCaller >= 0) i = afterCaller;
  return skipSpaces(s, i, end);
}
