/**
 * One /dev/kmsg record, as one read() returns it (Documentation/ABI/testing/dev-kmsg):
 *
 *     PRI,SEQ,TS_USEC,FLAGS[,more fields];MESSAGE\n
 *      KEY=VALUE\n            (zero or more continuation lines: device metadata)
 *
 * PRI is facility << 3 | level; SEQ the record's sequence number (gaps = records lost);
 * TS_USEC the kernel's monotonic clock in microseconds since boot; FLAGS `-` or `c`
 * (continuation of a split line). In MESSAGE and VALUE the kernel writes bytes below 0x20
 * (other than the final LF), 0x7f and above, and the backslash itself as `\xNN`.
 */
export interface KmsgRecord {
  /** facility << 3 | level, as the kernel wrote it (user-space writers can set facilities above 23). */
  priority: number;
  facility: number;
  level: number;
  seq: number;
  /** Kernel monotonic time of the record, µs since boot. */
  usec: number;
  /** The FLAGS field and anything after it before `;` (`-`, `c`, `-,caller=T1`). */
  flags: string;
  /** MESSAGE with `\xNN` escapes decoded (UTF-8; invalid sequences become U+FFFD). */
  message: string;
  /** Continuation lines ` KEY=VALUE` (e.g. `SUBSYSTEM=net`, `DEVICE=n2`), escapes decoded. */
  dict: Record<string, string>;
}

const SEMI = 0x3b;
const LF = 0x0a;
const BACKSLASH = 0x5c;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * `bytes[start, end)` with every `\xNN` escape replaced by byte NN, as UTF-8 text. A backslash
 * not followed by `x` and two hex digits stays as it is (the kernel never writes one).
 */
export function decodeKmsgEscapes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let i = bytes.indexOf(BACKSLASH, start);
  if (i < 0 || i >= end) return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  let from = start;
  while (i >= 0 && i < end) {
    if (i + 3 < end && bytes[i + 1] === 0x78) {
      const hi = hexValue(bytes[i + 2]!);
      const lo = hexValue(bytes[i + 3]!);
      if (hi >= 0 && lo >= 0) {
        out.set(bytes.subarray(from, i), n);
        n += i - from;
        out[n++] = hi * 16 + lo;
        from = i + 4;
        i = bytes.indexOf(BACKSLASH, from);
        continue;
      }
    }
    i = bytes.indexOf(BACKSLASH, i + 1);
  }
  out.set(bytes.subarray(from, end), n);
  n += end - from;
  return out.toString('utf8', 0, n);
}

/** Decimal digits of `b[i, to)` up to `stop`: [value, index of `stop`], or undefined. */
function numberUntil(b: Uint8Array, i: number, to: number, stop: number): [number, number] | undefined {
  let v = 0;
  const first = i;
  while (i < to) {
    const c = b[i]!;
    if (c === stop) break;
    const d = c - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
    i++;
  }
  if (i === first || i >= to || i - first > 20) return undefined;
  return [v, i];
}

/**
 * Parses one record (`bytes[0, length)`, the result of one read). Undefined when the prefix is
 * not `PRI,SEQ,TS_USEC,FLAGS;` (never seen from a kernel; the input counts it).
 */
export function parseKmsgRecord(bytes: Uint8Array, length = bytes.length): KmsgRecord | undefined {
  const semi = bytes.indexOf(SEMI);
  if (semi < 0 || semi >= length) return undefined;
  const pri = numberUntil(bytes, 0, semi, 0x2c);
  if (pri === undefined) return undefined;
  const seq = numberUntil(bytes, pri[1] + 1, semi, 0x2c);
  if (seq === undefined) return undefined;
  const usec = numberUntil(bytes, seq[1] + 1, semi, 0x2c);
  if (usec === undefined) return undefined;
  const flags = Buffer.from(bytes.buffer, bytes.byteOffset + usec[1] + 1, semi - usec[1] - 1).toString('latin1');
  let nl = bytes.indexOf(LF, semi + 1);
  if (nl < 0 || nl >= length) nl = length;
  const message = decodeKmsgEscapes(bytes, semi + 1, nl);
  const dict: Record<string, string> = {};
  let i = nl + 1;
  while (i < length) {
    let e = bytes.indexOf(LF, i);
    if (e < 0 || e > length) e = length;
    // Continuation lines start with one space.
    if (bytes[i] === 0x20) {
      const line = decodeKmsgEscapes(bytes, i + 1, e);
      const eq = line.indexOf('=');
      if (eq > 0) dict[line.slice(0, eq)] = line.slice(eq + 1);
    }
    i = e + 1;
  }
  const priority = pri[0];
  return { priority, facility: priority >> 3, level: priority & 7, seq: seq[0], usec: usec[0], flags, message, dict };
}
