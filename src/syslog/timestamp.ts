import type { HrTime } from '@opentelemetry/api';
import { civilToEpochSeconds, yearOfEpochDay } from './civil-time.js';
import type { SyslogDecodeOptions } from './syslog-message.js';
import type { TimeZoneResolver } from './timezone.js';

/**
 * Header time stamps, scanned with charCodeAt (no regex, no Date parsing):
 * RFC 3164 `Mmm dd hh:mm:ss` (day space-padded or not, optional year and fraction) and
 * RFC 3339 `YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm)`, with or without the offset.
 */

/** The fields of the last parsed stamp (one module-level scratch: decoding is synchronous). */
export interface ParsedStamp {
  /** 0 when the stamp has no year (RFC 3164). */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Offset in seconds east of UTC when the stamp carries one. */
  hasOffset: boolean;
  offset: number;
}

export const stamp: ParsedStamp = {
  year: 0,
  month: 0,
  day: 0,
  hour: 0,
  minute: 0,
  second: 0,
  nanos: 0,
  hasOffset: false,
  offset: 0,
};

// 10^(9-n): scales an n-digit fraction to nanoseconds.
const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 0x30;
  return c >= 0 && c <= 9 ? c : -1;
}

function twoDigits(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/** Month number 1..12 for a three-letter English abbreviation (any case), else 0. */
function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i) | 0x20;
  const b = s.charCodeAt(i + 1) | 0x20;
  const c = s.charCodeAt(i + 2) | 0x20;
  switch (a) {
    case 0x6a: // j
      if (b === 0x61) return c === 0x6e ? 1 : 0; // jan
      if (b === 0x75) return c === 0x6e ? 6 : c === 0x6c ? 7 : 0; // jun, jul
      return 0;
    case 0x66: return b === 0x65 && c === 0x62 ? 2 : 0; // feb
    case 0x6d: // m
      if (b !== 0x61) return 0;
      return c === 0x72 ? 3 : c === 0x79 ? 5 : 0; // mar, may
    case 0x61: // a
      if (b === 0x70) return c === 0x72 ? 4 : 0; // apr
      if (b === 0x75) return c === 0x67 ? 8 : 0; // aug
      return 0;
    case 0x73: return b === 0x65 && c === 0x70 ? 9 : 0; // sep
    case 0x6f: return b === 0x63 && c === 0x74 ? 10 : 0; // oct
    case 0x6e: return b === 0x6f && c === 0x76 ? 11 : 0; // nov
    case 0x64: return b === 0x65 && c === 0x63 ? 12 : 0; // dec
    default: return 0;
  }
}

/** Reads `.fraction` at i into stamp.nanos (digits past 9 ignored); returns the index after it. */
function fractionAt(s: string, i: number, end: number): number {
  stamp.nanos = 0;
  if (i >= end || s.charCodeAt(i) !== 0x2e) return i;
  let j = i + 1;
  let n = 0;
  let v = 0;
  while (j < end) {
    const d = digit(s, j);
    if (d < 0) break;
    if (n < 9) {
      v = v * 10 + d;
      n++;
    }
    j++;
  }
  if (j === i + 1) return i; // a lone '.' is not a fraction
  stamp.nanos = v * NANO_SCALE[n]!;
  return j;
}

/** `hh:mm:ss` at i into stamp; returns the index after it, or -1. */
function clockAt(s: string, i: number, end: number): number {
  if (i + 8 > end || s.charCodeAt(i + 2) !== 0x3a || s.charCodeAt(i + 5) !== 0x3a) return -1;
  const h = twoDigits(s, i);
  const m = twoDigits(s, i + 3);
  const sec = twoDigits(s, i + 6);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return -1;
  stamp.hour = h;
  stamp.minute = m;
  stamp.second = sec;
  return i + 8;
}

/**
 * RFC 3164 stamp at i: `Mmm dd hh:mm:ss`, `Mmm  d hh:mm:ss`, `Mmm d hh:mm:ss`, optionally
 * `Mmm dd yyyy hh:mm:ss` and a `.fraction`. It must be followed by a space or the end.
 * Returns the index after the stamp (at the space), or -1.
 */
export function parseBsdStamp(s: string, i: number, end: number): number {
  if (i + 14 > end) return -1;
  const month = monthAt(s, i);
  if (month === 0 || s.charCodeAt(i + 3) !== 0x20) return -1;
  let j = i + 4;
  if (s.charCodeAt(j) === 0x20) j++; // space-padded day
  const d1 = digit(s, j);
  if (d1 < 0) return -1;
  let day = d1;
  j++;
  const d2 = digit(s, j);
  if (d2 >= 0) {
    day = d1 * 10 + d2;
    j++;
  }
  if (day < 1 || day > 31 || s.charCodeAt(j) !== 0x20) return -1;
  j++;
  let year = 0;
  // Some devices put the year between day and time: `Mmm dd yyyy hh:mm:ss`.
  if (s.charCodeAt(j + 4) === 0x20 && s.charCodeAt(j + 2) !== 0x3a) {
    const hi = twoDigits(s, j);
    const lo = twoDigits(s, j + 2);
    if (hi < 0 || lo < 0) return -1;
    year = hi * 100 + lo;
    j += 5;
  }
  j = clockAt(s, j, end);
  if (j < 0) return -1;
  j = fractionAt(s, j, end);
  if (j < end && s.charCodeAt(j) !== 0x20) return -1;
  stamp.year = year;
  stamp.month = month;
  stamp.day = day;
  stamp.hasOffset = false;
  stamp.offset = 0;
  return j;
}

/**
 * RFC 3339 stamp at i: `YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm|±hhmm]` (T or t, Z or z). It must
 * be followed by a space or the end. Returns the index after the stamp, or -1.
 */
export function parseIsoStamp(s: string, i: number, end: number): number {
  if (i + 19 > end) return -1;
  if (s.charCodeAt(i + 4) !== 0x2d || s.charCodeAt(i + 7) !== 0x2d || (s.charCodeAt(i + 10) | 0x20) !== 0x74) return -1;
  const y1 = twoDigits(s, i);
  const y2 = twoDigits(s, i + 2);
  const month = twoDigits(s, i + 5);
  const day = twoDigits(s, i + 8);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || day > 31) return -1;
  let j = clockAt(s, i + 11, end);
  if (j < 0) return -1;
  j = fractionAt(s, j, end);
  let hasOffset = false;
  let offset = 0;
  if (j < end) {
    const c = s.charCodeAt(j);
    if ((c | 0x20) === 0x7a) {
      hasOffset = true;
      j++;
    } else if (c === 0x2b || c === 0x2d) {
      const oh = twoDigits(s, j + 1);
      let k = j + 3;
      if (s.charCodeAt(k) === 0x3a) k++;
      const om = twoDigits(s, k);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
      offset = (oh * 3600 + om * 60) * (c === 0x2d ? -1 : 1);
      hasOffset = true;
      j = k + 2;
    }
  }
  if (j < end && s.charCodeAt(j) !== 0x20) return -1;
  stamp.year = y1 * 100 + y2;
  stamp.month = month;
  stamp.day = day;
  stamp.hasOffset = hasOffset;
  stamp.offset = offset;
  return j;
}

const SEVEN_DAYS = 7 * 86400;

/**
 * The local year that "now" falls in, for one zone, with the epoch second (local, read as UTC)
 * at which each month starts in that year and the one before: a yearless stamp then costs a
 * table lookup and a few additions instead of calendar arithmetic. Recomputed when now leaves
 * [yearFrom, yearTo) or the zone changes.
 */
let yearZone: TimeZoneResolver | undefined;
let yearFrom = 0;
let yearTo = -1;
const monthStarts = new Float64Array(13);
const prevMonthStarts = new Float64Array(13);

function loadYear(zone: TimeZoneResolver, now: number): void {
  const year = yearOfEpochDay(Math.floor((now + zone.offsetAt(now)) / 86400));
  for (let m = 1; m <= 12; m++) {
    monthStarts[m] = civilToEpochSeconds(year, m, 1, 0, 0, 0);
    prevMonthStarts[m] = civilToEpochSeconds(year - 1, m, 1, 0, 0, 0);
  }
  yearZone = zone;
  yearFrom = zone.toUtc(monthStarts[1]!);
  yearTo = zone.toUtc(civilToEpochSeconds(year + 1, 1, 1, 0, 0, 0));
}

/**
 * Epoch time of the parsed stamp. A stamp without an offset is read in `zone`; a stamp without a
 * year gets the current year in `zone` at "now" (options.nowMs, options.now, else the clock, read
 * only here), or the previous year if that puts it more than 7 days in the future (the
 * Collector's rule).
 */
export function stampToHrTime(zone: TimeZoneResolver, options: SyslogDecodeOptions): HrTime {
  const st = stamp;
  let seconds: number;
  if (st.year === 0) {
    let nowMs = options.nowMs ?? (options.now === undefined ? Date.now() : options.now.getTime());
    // An Invalid Date must not poison the year cache with NaN bounds.
    if (!Number.isFinite(nowMs)) nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    if (zone !== yearZone || now < yearFrom || now >= yearTo) loadYear(zone, now);
    const inMonth = (st.day - 1) * 86400 + st.hour * 3600 + st.minute * 60 + st.second;
    seconds = zone.toUtc(monthStarts[st.month]! + inMonth);
    if (seconds > now + SEVEN_DAYS) seconds = zone.toUtc(prevMonthStarts[st.month]! + inMonth);
  } else {
    const local = civilToEpochSeconds(st.year, st.month, st.day, st.hour, st.minute, st.second);
    seconds = st.hasOffset ? local - st.offset : zone.toUtc(local);
  }
  // Lines logged in the same second share one (read-only) HrTime: a new one costs ~80 bytes of
  // garbage per line (the seconds do not fit a small integer).
  if (seconds === lastTime[0] && st.nanos === lastTime[1]) return lastTime;
  lastTime = [seconds, st.nanos];
  return lastTime;
}

let lastTime: HrTime = [Number.NaN, 0];
