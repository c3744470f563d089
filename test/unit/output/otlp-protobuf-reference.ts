/**
 * FROZEN REFERENCE — do not optimise or change. A verbatim copy of src/output/otlp-protobuf.ts as it
 * was before the encoder was rewritten for speed: the golden test (otlp-protobuf-golden.test.ts)
 * compares the live encoder's bytes against this one on every input it can build, so that any change
 * of the wire output, however small, fails a test. Only the imports differ.
 */
import type { HrTime } from '@opentelemetry/api';
import type { AttributeValue, FirewallLogRecord } from '../../../src/mapping/record.js';

/** Resource attributes as they go on the wire (strings, numbers, booleans). */
export type ResourceAttributes = Record<string, string | number | boolean>;

/** The instrumentation scope of every record we send. */
export interface InstrumentationScopeInfo {
  name: string;
  version?: string;
}

/** Options of `OtlpProtobufEncoder`. */
export interface OtlpProtobufEncoderOptions {
  /**
   * Attribute names whose numbers are OTLP `doubleValue` even when integral (from the
   * attribute table). Any other number is an `intValue` when `Number.isInteger`, as in
   * the SDK and in `logRecordToOtlpJson`.
   */
  doubleKeys?: Iterable<string>;
  /** Initial buffer size in bytes (grows as needed). Default 256 KiB. */
  initialSize?: number;
}

const TWO_32 = 4294967296;

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  return 10;
}

/** Growable protobuf output buffer with the handful of wire types OTLP logs need. */
export class ProtobufWriter {
  buf: Buffer;
  pos = 0;
  private readonly spare: Buffer[] = [];
  private readonly f64 = new Float64Array(1);
  private readonly f64b = new Uint8Array(this.f64.buffer);

  constructor(initialSize = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Forget the content, keep the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
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

  /** Unsigned varint of a non-negative integer below 2^53. */
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

  /** int64 varint (negative numbers as ten-byte two's complement, like protobuf). */
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

  /** fixed64 nanoseconds since the epoch from an HrTime, exactly (no 2^53 rounding). */
  hrTime(t: HrTime): void {
    const sec = t[0];
    const nanos = t[1];
    // sec*1e9 exceeds 2^53: split seconds into 16-bit halves so every product stays exact.
    const low = (sec % 65536) * 1e9 + nanos;
    const high = Math.floor(sec / 65536) * 1e9; // to be multiplied by 2^16
    const lowSum = (high % 65536) * 65536 + (low % TWO_32);
    const lo = lowSum >>> 0;
    const hi = (Math.floor(high / 65536) + Math.floor(low / TWO_32) + Math.floor(lowSum / TWO_32)) >>> 0;
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
    if (n < 128) {
      // Short strings (keys, most values): optimistic ASCII copy with a 1-byte length.
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

  private longString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** Raw bytes (already encoded fields). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
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
    const buf = this.buf;
    let p = mark;
    let v = len;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  /** A copy of what has been written. */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
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

/** Encoded bytes on loan from an encoder; call `release()` exactly when they are no longer read. */
export interface EncodedRequest {
  bytes: Uint8Array;
  release(): void;
}

/** Spare buffers kept per writer (requests in flight beyond this allocate). */
const MAX_SPARE_BUFFERS = 4;

// Field tags (field number << 3 | wire type), OTLP logs/v1 and common/v1.
const TAG_LEN_1 = 0x0a; // field 1, length-delimited
const TAG_LEN_2 = 0x12; // field 2, length-delimited
const ANY_STRING = 0x0a; // AnyValue.string_value = 1
const ANY_BOOL = 0x10; // AnyValue.bool_value = 2
const ANY_INT = 0x18; // AnyValue.int_value = 3
const ANY_DOUBLE = 0x21; // AnyValue.double_value = 4 (fixed64)
const ANY_ARRAY = 0x2a; // AnyValue.array_value = 5
const LR_TIME = 0x09; // LogRecord.time_unix_nano = 1 (fixed64)
const LR_SEVERITY_NUMBER = 0x10; // = 2
const LR_SEVERITY_TEXT = 0x1a; // = 3
const LR_BODY = 0x2a; // = 5
const LR_ATTRIBUTE = 0x32; // = 6
const LR_OBSERVED_TIME = 0x59; // = 11 (fixed64)

function writeAnyValue(w: ProtobufWriter, v: AttributeValue | string | number | boolean, asDouble: boolean): void {
  switch (typeof v) {
    case 'string':
      w.byte(ANY_STRING);
      w.string(v);
      return;
    case 'number':
      if (!asDouble && Number.isInteger(v)) {
        w.byte(ANY_INT);
        w.int64(v);
      } else {
        w.byte(ANY_DOUBLE);
        w.double(v);
      }
      return;
    case 'boolean':
      w.byte(ANY_BOOL);
      w.byte(v ? 1 : 0);
      return;
    default: {
      w.byte(ANY_ARRAY);
      const arr = w.begin(1);
      for (let i = 0; i < v.length; i++) {
        w.byte(TAG_LEN_1); // ArrayValue.values = 1
        const m = w.begin(1);
        writeAnyValue(w, v[i] as string | number, asDouble);
        w.end(m, 1);
      }
      w.end(arr, 1);
    }
  }
}

function writeKeyValue(w: ProtobufWriter, key: string, value: AttributeValue, asDouble: boolean): void {
  const kv = w.begin(1);
  w.byte(TAG_LEN_1); // KeyValue.key = 1
  w.string(key);
  w.byte(TAG_LEN_2); // KeyValue.value = 2
  const av = w.begin(1);
  writeAnyValue(w, value, asDouble);
  w.end(av, 1);
  w.end(kv, 1);
}

/** Encode the attributes of a Resource or InstrumentationScope message body into standalone bytes. */
function encodeAttributes(attributes: ResourceAttributes, fieldTag: number): Uint8Array {
  const w = new ProtobufWriter(1024);
  for (const key in attributes) {
    w.byte(fieldTag);
    writeKeyValue(w, key, attributes[key] as AttributeValue, false);
  }
  return w.finish();
}

/**
 * Encodes batches of `FirewallLogRecord`s as one OTLP `ExportLogsServiceRequest`
 * (one ResourceLogs, one ScopeLogs). Resource and scope are encoded once at
 * construction. Not re-entrant: one encoder per output.
 */
export class OtlpProtobufEncoder {
  private readonly w: ProtobufWriter;
  private readonly resourceField: Uint8Array;
  private readonly scopeField: Uint8Array;
  private readonly doubleKeys: ReadonlySet<string>;
  private readonly anyDouble: boolean;
  private readonly keyFields = new Map<string, Uint8Array>();

  constructor(resource: ResourceAttributes, scope: InstrumentationScopeInfo, options: OtlpProtobufEncoderOptions = {}) {
    this.w = new ProtobufWriter(options.initialSize);
    this.doubleKeys = new Set(options.doubleKeys ?? []);
    this.anyDouble = this.doubleKeys.size > 0;
    // ResourceLogs.resource = 1 { Resource.attributes = 1 }
    const resBody = encodeAttributes(resource, TAG_LEN_1);
    this.resourceField = wrap(TAG_LEN_1, resBody);
    // ScopeLogs.scope = 1 { name = 1, version = 2 }
    const sw = new ProtobufWriter(256);
    sw.byte(TAG_LEN_1);
    sw.string(scope.name);
    if (scope.version) {
      sw.byte(TAG_LEN_2);
      sw.string(scope.version);
    }
    this.scopeField = wrap(TAG_LEN_1, sw.finish());
  }

  /** The request for `records`, as a fresh byte array the caller may keep. */
  encode(records: readonly FirewallLogRecord[]): Uint8Array {
    this.write(records);
    return this.w.finish();
  }

  /** The request for `records` on loan (no copy): call `release()` once it has been sent. */
  encodeLeased(records: readonly FirewallLogRecord[]): EncodedRequest {
    this.write(records);
    return this.w.lease();
  }

  private write(records: readonly FirewallLogRecord[]): void {
    const w = this.w;
    w.reset();
    w.byte(TAG_LEN_1); // ExportLogsServiceRequest.resource_logs = 1
    const rl = w.begin(4);
    w.raw(this.resourceField);
    w.byte(TAG_LEN_2); // ResourceLogs.scope_logs = 2
    const sl = w.begin(4);
    w.raw(this.scopeField);
    for (let i = 0; i < records.length; i++) {
      w.byte(TAG_LEN_2); // ScopeLogs.log_records = 2
      const m = w.begin(2);
      this.writeRecord(records[i] as FirewallLogRecord);
      w.end(m, 2);
    }
    w.end(sl, 4);
    w.end(rl, 4);
  }

  private keyField(key: string): Uint8Array {
    let k = this.keyFields.get(key);
    if (k === undefined) {
      k = encodeKeyField(key);
      // Bounded: names come from the attribute table, but a caller may add its own.
      if (this.keyFields.size < 4096) this.keyFields.set(key, k);
    }
    return k;
  }

  /**
   * The common attributes in one pass with every length known up front: a short ASCII
   * string or a small non-negative integer, in a KeyValue under 128 bytes. Returns false
   * (having written nothing) for anything else.
   */
  private fastAttribute(key: string, v: AttributeValue): boolean {
    const kf = this.keyField(key);
    const kn = kf.length;
    const w = this.w;
    if (typeof v === 'string') {
      const n = v.length;
      // KeyValue = key field + 0x12 len(AnyValue) + AnyValue(0x0a n chars)
      const kvLen = kn + 4 + n;
      if (kvLen >= 128) return false;
      w.ensure(kvLen + 2);
      const buf = w.buf;
      const start = w.pos;
      let p = start + 2;
      for (let i = 0; i < kn; i++) buf[p++] = kf[i] as number;
      buf[p++] = TAG_LEN_2;
      buf[p++] = n + 2;
      buf[p++] = ANY_STRING;
      buf[p++] = n;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) return false; // nothing committed: w.pos is unchanged
        buf[p++] = c;
      }
      buf[start] = LR_ATTRIBUTE;
      buf[start + 1] = kvLen;
      w.pos = p;
      return true;
    }
    if (typeof v === 'number' && v >= 0 && v < 0x10000000 && Number.isInteger(v)) {
      const vn = varintSize(v);
      const kvLen = kn + 3 + vn;
      if (kvLen >= 128) return false;
      w.ensure(kvLen + 2);
      const buf = w.buf;
      let p = w.pos;
      buf[p++] = LR_ATTRIBUTE;
      buf[p++] = kvLen;
      for (let i = 0; i < kn; i++) buf[p++] = kf[i] as number;
      buf[p++] = TAG_LEN_2;
      buf[p++] = vn + 1;
      buf[p++] = ANY_INT;
      let x = v;
      while (x > 0x7f) {
        buf[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      buf[p++] = x;
      w.pos = p;
      return true;
    }
    return false;
  }

  private writeRecord(r: FirewallLogRecord): void {
    const w = this.w;
    // Same rule as the SDK (LogRecordImpl): no event time means time = observed time.
    w.byte(LR_TIME);
    w.hrTime(r.timestamp ?? r.observedTimestamp);
    if (r.severityNumber) {
      w.byte(LR_SEVERITY_NUMBER);
      w.uvarint(r.severityNumber);
    }
    if (r.severityText) {
      w.byte(LR_SEVERITY_TEXT);
      w.string(r.severityText);
    }
    w.byte(LR_BODY);
    const b = w.begin(2);
    w.byte(ANY_STRING);
    w.string(r.body);
    w.end(b, 2);
    const attrs = r.attributes;
    const anyDouble = this.anyDouble;
    for (const key in attrs) {
      const v = attrs[key];
      // Same as logRecordToOtlpJson: a missing value is no attribute.
      if (v === undefined || v === null) continue;
      const asDouble = anyDouble && this.doubleKeys.has(key);
      if (!asDouble && this.fastAttribute(key, v)) continue;
      w.byte(LR_ATTRIBUTE);
      writeKeyValue(w, key, v, asDouble);
    }
    w.byte(LR_OBSERVED_TIME);
    w.hrTime(r.observedTimestamp);
  }
}

/** `KeyValue.key` field (tag, length, UTF-8) of an attribute name, cached: names repeat on every record. */
function encodeKeyField(key: string): Uint8Array {
  const w = new ProtobufWriter(key.length * 3 + 8);
  w.byte(TAG_LEN_1);
  w.string(key);
  return w.finish();
}

function wrap(tag: number, body: Uint8Array): Uint8Array {
  const w = new ProtobufWriter(body.length + 16);
  w.byte(tag);
  w.uvarint(body.length);
  w.raw(body);
  return w.finish();
}
