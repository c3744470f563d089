/**
 * A growable protobuf output buffer with the handful of wire types OTLP logs need, and the
 * varint and UTF-8 helpers the OTLP encoder's hot path uses directly on its bytes.
 */
import type { HrTime } from '@opentelemetry/api';

export const TWO_32 = 4294967296;

/** Bytes of the varint of a non-negative integer below 2^53. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  return 8;
}

/** Writes the varint of `v` (a non-negative integer below 2^32) at `p`; returns the position after it. */
export function putVarint32(buf: Uint8Array, p: number, v: number): number {
  while (v > 0x7f) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** Node's own per-encoding writers on Buffer.prototype (`Buffer#write` is one of these plus argument parsing). */
interface NodeBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
}

// Called as a method on the Buffer (monomorphic, inlined call site): argument parsing in
// `Buffer#write` costs more than the copy for the strings we write. Fallback for runtimes without it.
const hasUtf8Write = typeof (Buffer.prototype as Partial<NodeBuffer>).utf8Write === 'function';

/**
 * Writes `s` as UTF-8 at `at` (the caller has made room for `3 * s.length` bytes); returns the
 * number of bytes written. Lone surrogates become U+FFFD, as in `Buffer.from(s)`.
 */
export function writeUtf8(buf: Buffer, s: string, at: number): number {
  return hasUtf8Write ? (buf as NodeBuffer).utf8Write(s, at) : buf.write(s, at, 'utf8');
}

// sec*1e9 + nanos exceeds 2^53: seconds are split into 16-bit halves so every product stays exact.
/** Low 32 bits of `sec * 1e9 + nanos` (mod 2^64). */
function nanosLo(sec: number, nanos: number): number {
  const low = (sec % 65536) * 1e9 + nanos;
  const high = Math.floor(sec / 65536) * 1e9; // to be multiplied by 2^16
  return ((high % 65536) * 65536 + (low % TWO_32)) >>> 0;
}

/** High 32 bits of `sec * 1e9 + nanos` (mod 2^64). */
function nanosHi(sec: number, nanos: number): number {
  const low = (sec % 65536) * 1e9 + nanos;
  const high = Math.floor(sec / 65536) * 1e9;
  const lowSum = (high % 65536) * 65536 + (low % TWO_32);
  return (Math.floor(high / 65536) + Math.floor(low / TWO_32) + Math.floor(lowSum / TWO_32)) >>> 0;
}

/** Encoded bytes on loan from an encoder; call `release()` exactly when they are no longer read. */
export interface EncodedRequest {
  bytes: Uint8Array;
  release(): void;
}

/** Spare buffers kept per writer (requests in flight beyond this allocate). */
const MAX_SPARE_BUFFERS = 2;

/** Growable protobuf output buffer with the handful of wire types OTLP logs need. */
export class ProtobufWriter {
  buf: Buffer;
  pos = 0;
  private readonly spare: Buffer[] = [];
  private readonly f64 = new Float64Array(1);
  private readonly f64b = new Uint8Array(this.f64.buffer);
  // hrTime's two caches: a second and its sec * 1e9 as 32-bit halves.
  private secA = -1;
  private loA = 0;
  private hiA = 0;
  private secB = -1;
  private loB = 0;
  private hiB = 0;

  constructor(initialSize = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Forget the content, keep the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A single byte (tags of fields < 16 are one byte). */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer below 2^64. */
  uvarint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    if (v < TWO_32) {
      while (v > 0x7f) {
        buf[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[p++] = v;
    } else {
      while (v > 0x7f) {
        buf[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      buf[p++] = v;
    }
    this.pos = p;
  }

  /** int64 varint (negative numbers as ten-byte two's complement, like protobuf); |v| <= 2^63. */
  int64(v: number): void {
    if (v >= 0) {
      this.uvarint(v);
      return;
    }
    let hi = Math.floor(v / TWO_32);
    let lo = (v - hi * TWO_32) >>> 0;
    hi >>>= 0;
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < 9; i++) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo & 0x01;
    this.pos = p;
  }

  /** Little-endian IEEE 754 double. */
  double(v: number): void {
    this.ensure(8);
    this.f64[0] = v;
    const b = this.f64b;
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < 8; i++) buf[p + i] = b[i] as number;
    this.pos = p + 8;
  }

  /**
   * fixed64 nanoseconds since the epoch from an HrTime, exactly (no 2^53 rounding). `slot`
   * (0 or 1) names one of two caches of `sec * 1e9`: give each timestamp field its own, as
   * consecutive records mostly share their seconds.
   */
  hrTime(t: HrTime, slot = 0): void {
    const sec = t[0];
    const nanos = t[1];
    let lo: number;
    let hi: number;
    if (sec >= 0 && sec < TWO_32 && nanos >= 0 && nanos < 1e9 && Number.isInteger(sec) && Number.isInteger(nanos)) {
      // sec * 1e9 as two 32-bit halves, cached per slot: consecutive records mostly share their second.
      if (slot === 0 ? sec !== this.secA : sec !== this.secB) {
        // sec*1e9 exceeds 2^53: split seconds into 16-bit halves so every product stays exact
        // (and no `%`, which is a call for doubles).
        const secHi = Math.floor(sec / 65536);
        const a = (sec - secHi * 65536) * 1e9; // < 2^46
        const aHi = Math.floor(a / TWO_32);
        const b = secHi * 1e9; // to be multiplied by 2^16
        const bHi = Math.floor(b / 65536);
        let l = a - aHi * TWO_32 + (b - bHi * 65536) * 65536; // < 2^33
        let h = aHi + bHi;
        if (l >= TWO_32) {
          l -= TWO_32;
          h++;
        }
        if (slot === 0) {
          this.secA = sec;
          this.loA = l;
          this.hiA = h;
        } else {
          this.secB = sec;
          this.loB = l;
          this.hiB = h;
        }
      }
      lo = (slot === 0 ? this.loA : this.loB) + nanos;
      hi = slot === 0 ? this.hiA : this.hiB;
      if (lo >= TWO_32) {
        lo -= TWO_32;
        hi++;
      }
      hi >>>= 0;
    } else {
      lo = nanosLo(sec, nanos);
      hi = nanosHi(sec, nanos);
    }
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = lo & 0xff;
    buf[p + 1] = (lo >>> 8) & 0xff;
    buf[p + 2] = (lo >>> 16) & 0xff;
    buf[p + 3] = lo >>> 24;
    buf[p + 4] = hi & 0xff;
    buf[p + 5] = (hi >>> 8) & 0xff;
    buf[p + 6] = (hi >>> 16) & 0xff;
    buf[p + 7] = hi >>> 24;
    this.pos = p + 8;
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): void {
    const n = s.length;
    if (n < 32) {
      // Short strings: an ASCII copy with a 1-byte length is cheaper than a native call.
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.longString(s);
          return;
        }
        buf[p++] = c;
      }
      buf[start] = n;
      this.pos = p;
      return;
    }
    this.longString(s);
  }

  /** Length prefix guessed from the UTF-16 length, bytes written natively, moved if the guess was short. */
  private longString(s: string): void {
    const n = s.length;
    const guess = varintSize(n);
    this.ensure(guess + 3 * n + 2);
    const start = this.pos;
    const len = writeUtf8(this.buf, s, start + guess);
    const need = varintSize(len);
    if (need !== guess) this.buf.copyWithin(start + need, start + guess, start + guess + len);
    this.pos = putVarint32(this.buf, start, len) + len;
  }

  /** Raw bytes (already encoded fields). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A copy of the bytes from `start` to the current position. */
  copyFrom(start: number): Uint8Array {
    return new Uint8Array(this.buf.subarray(start, this.pos));
  }

  /** Reserve `reserve` bytes for a length prefix; returns the mark to pass to `end`. */
  begin(reserve: number): number {
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark;
  }

  /** Write the length of what was written since `begin(reserve)`, moving the body if the guess was wrong. */
  end(mark: number, reserve: number): void {
    const bodyStart = mark + reserve;
    const len = this.pos - bodyStart;
    const need = varintSize(len);
    if (need !== reserve) {
      this.ensure(need - reserve);
      this.buf.copyWithin(mark + need, bodyStart, this.pos);
      this.pos += need - reserve;
    }
    putVarint32(this.buf, mark, len);
  }

  /** A copy of what has been written. */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }

  /**
   * What has been written, as bytes of its own (the writer starts over). A mostly full buffer is
   * handed over and replaced (no copy); a mostly empty one is copied, so small results do not pin
   * a large buffer. `next`, if given and large enough, becomes the new buffer (recycling).
   */
  take(next?: Buffer): Buffer {
    const n = this.pos;
    this.pos = 0;
    if (n * 2 >= this.buf.length) {
      const full = this.buf;
      this.buf = next !== undefined && next.length >= full.length ? next : Buffer.allocUnsafeSlow(full.length);
      return full.subarray(0, n);
    }
    const out = Buffer.allocUnsafeSlow(n);
    this.buf.copy(out, 0, 0, n);
    return out;
  }

  /**
   * What has been written, without a copy: the writer continues in a spare buffer, and
   * `release()` (once the bytes are sent) makes this one a spare. Saves the copy and the
   * page faults of a fresh batch-sized allocation per request.
   */
  lease(): EncodedRequest {
    const full = this.buf;
    const bytes = full.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(full.length);
    this.pos = 0;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        if (this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(full);
      },
    };
  }
}
