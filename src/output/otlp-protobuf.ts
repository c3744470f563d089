/**
 * A minimal protobuf writer for exactly one message: OTLP `ExportLogsServiceRequest`
 * built from `FirewallLogRecord`s (opentelemetry/proto logs/v1, common/v1).
 *
 * Why hand-written: the SDK path builds a `LogRecordImpl` per record and serialises it
 * through generic code, ~10–20 µs/record; this writes straight into one growable buffer
 * that is reused across batches (the finished request is lent out, not copied).
 *
 * Where the time goes (docs/performance.md, "Serializer"): a parsed record has ~44
 * attributes and ~1,750 bytes of OTLP, so the cost is per attribute (lookups, compares,
 * calls) and per byte written from JavaScript. What this does about it:
 * - Every attribute name has a `KeyEntry`: its encoded `KeyValue.key` field and caches.
 *   Records from the parser repeat a few key orders, so each entry remembers the entries
 *   that followed it (two-way): finding the entry is a pointer comparison, not a Map lookup.
 * - Complete encoded attribute fields (tag, length, KeyValue) are cached per key for values
 *   that repeat: the last string / number / frozen array (compared by type, so the compare
 *   is cheap), a few short strings (searched linearly: fresh strings from the parser would
 *   have to be hashed for a Map), integers and booleans (a Map), frozen arrays by identity
 *   (the parser's constant arrays) and one-string arrays (`["DF"]`). A key whose values
 *   rarely repeat (addresses, ids) has its value cache switched off after a review.
 * - Fields whose value equals the key's last one are queued and copied as one run; runs
 *   are cached, so a stretch of constant attributes (event.*, data_stream.*, log.syslog.*)
 *   costs one native copy instead of one per attribute.
 * - Other values are written with every length known up front: the field's head (tag,
 *   lengths, key) is cached per value length and joins the queued run; short ASCII strings
 *   follow with a `charCodeAt` loop, longer ones with Node's native UTF-8 writer behind
 *   length prefixes guessed from the UTF-16 length and moved (memmove) in the rare case that
 *   the guess was short. The body is written the same way.
 * The output is canonical protobuf (minimal varints, fields in order), byte for byte the
 * same as the straightforward encoding (test/unit/output/otlp-protobuf-golden.test.ts) —
 * except integral numbers beyond int64 (|n| >= 2^63), now doubles instead of a wrapped or
 * overlong varint.
 */
import type { AttributeValue, FirewallLogRecord, RecordAttributes } from '../mapping/record.js';
import { ProtobufWriter, putVarint32, varintSize, writeUtf8, type EncodedRequest } from './protobuf-writer.js';
import type { EncodedLogRecord } from './otlp-direct.js';

export { ProtobufWriter, type EncodedRequest } from './protobuf-writer.js';

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
  /** Write into this writer instead of one of its own (for `appendLogRecord`, see otlp-direct.ts). */
  writer?: ProtobufWriter;
}

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

/** int64 range: integral numbers outside it are written as doubles (a varint cannot hold them). */
const INT64_LIMIT = 2 ** 63;
/** Strings up to this length are copied with a `charCodeAt` loop; longer ones natively. */
const LOOP_MAX = 20;
/** String values up to this length are looked up in the per-key value cache. */
const CACHED_STRING_MAX = 64;
/** Cached string values per key (searched linearly: no hashing of fresh strings). */
const STRINGS_PER_KEY = 8;
/** Cached integer or boolean values per key. */
const NUMBERS_PER_KEY = 64;
/** Frozen arrays cached per key. */
const ARRAYS_PER_KEY = 16;
/** The value cache of a key is reviewed after this many lookups and dropped below a 50% hit rate. */
const REVIEW_EVERY = 1024;
/** Keys with an entry (names come from the attribute table, but a caller may add its own). */
const MAX_KEYS = 4096;
/** Fields queued to be copied as one run. */
const PENDING_MAX = 64;
/** Runs remembered per starting key. */
const RUNS_PER_KEY = 8;
/** Runs built per starting key before each further build needs 8 uses of the key's runs. */
const FREE_RUN_BUILDS = 16;

const NO_FIELD = new Uint8Array(0);
const NO_RELEASE = (): void => {};

/**
 * Bytes `OtlpDirectEncoder` leaves free at the start of every chunk: a request made of a chunk's
 * leading records gets its envelope (resource, scope, lengths) written there and is sent from the
 * chunk itself, with no copy into a request buffer (see `encodeEncodedLeased`).
 */
export const CHUNK_HEAD_ROOM = 1024;
/** An array no record holds. */
const NO_ARRAY: readonly unknown[] = Object.freeze([]);

function writeAnyValue(w: ProtobufWriter, v: AttributeValue | string | number | boolean, asDouble: boolean): void {
  switch (typeof v) {
    case 'string':
      w.byte(ANY_STRING);
      w.string(v);
      return;
    case 'number':
      if (!asDouble && Number.isInteger(v) && v < INT64_LIMIT && v >= -INT64_LIMIT) {
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

/**
 * A flat sequential copy of `s` to keep in a cache. Fresh values from the parser are often
 * slices of the line; comparing a slice with a flat string is a few times cheaper than with
 * another slice (V8 compares two slices in the runtime), and the cache does not keep the
 * line alive. (Not internalized: comparing with an internalized string is slower still.)
 */
export function flatCopy(s: string): string {
  const c = Buffer.from(s, 'utf8').toString('utf8');
  // Lone surrogates do not survive the round trip: keep the original then.
  return c === s ? c : s;
}

/**
 * A complete attribute field (tag 6, length, KeyValue) through the general writer with length
 * placeholders. `keyField` is the encoded `KeyValue.key` field (tag, length, UTF-8).
 */
export function writeGenericField(w: ProtobufWriter, keyField: Uint8Array, v: AttributeValue, asDouble: boolean): void {
  w.byte(LR_ATTRIBUTE);
  const kv = w.begin(1);
  w.raw(keyField);
  w.byte(TAG_LEN_2); // KeyValue.value = 2
  const av = w.begin(1);
  writeAnyValue(w, v, asDouble);
  w.end(av, 1);
  w.end(kv, 1);
}

/**
 * Head of an array-of-strings attribute field whose ArrayValue body has `body` bytes, at `p`;
 * the position after it, or -1 when a length would not fit one byte (nothing written then).
 */
export function putArrayHead(buf: Uint8Array, p: number, kf: Uint8Array, body: number): number {
  const anyLen = body + 2;
  const kvLen = kf.length + 2 + anyLen;
  if (body >= 128 || kvLen >= 128) return -1;
  buf[p++] = LR_ATTRIBUTE;
  buf[p++] = kvLen;
  buf.set(kf, p);
  p += kf.length;
  buf[p++] = TAG_LEN_2;
  buf[p++] = anyLen;
  buf[p++] = ANY_ARRAY;
  buf[p++] = body;
  return p;
}

/** One ArrayValue element (AnyValue string) of ASCII `s` at `p`; -1 when `s` is not ASCII. */
export function putAsciiElement(buf: Uint8Array, p: number, s: string): number {
  const n = s.length;
  buf[p++] = TAG_LEN_1;
  buf[p++] = n + 2;
  buf[p++] = ANY_STRING;
  buf[p++] = n;
  for (let j = 0; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c >= 0x80) return -1;
    buf[p++] = c;
  }
  return p;
}

/** `KeyValue.key` field (tag, length, UTF-8) of an attribute name. */
export function encodeKeyField(key: string): Uint8Array {
  const w = new ProtobufWriter(key.length * 3 + 8);
  w.byte(TAG_LEN_1);
  w.string(key);
  return w.finish();
}

/**
 * The head of an attribute field whose value is an ASCII string of `n` characters: tag 6,
 * KeyValue length, the key field, tag 2, AnyValue length, string tag, `n`. All lengths fit one
 * byte (the caller checks `keyField.length + n + 4 < 128`).
 */
export function stringFieldHead(keyField: Uint8Array, n: number): Uint8Array {
  const kn = keyField.length;
  const h = new Uint8Array(kn + 6);
  h[0] = LR_ATTRIBUTE;
  h[1] = kn + 4 + n;
  h.set(keyField, 2);
  h[kn + 2] = TAG_LEN_2;
  h[kn + 3] = n + 2;
  h[kn + 4] = ANY_STRING;
  h[kn + 5] = n;
  return h;
}

/** The head of an attribute field whose int value's varint has `vn` bytes (up to the int tag). */
export function intFieldHead(keyField: Uint8Array, vn: number): Uint8Array {
  const kn = keyField.length;
  const h = new Uint8Array(kn + 5);
  h[0] = LR_ATTRIBUTE;
  h[1] = kn + 3 + vn;
  h.set(keyField, 2);
  h[kn + 2] = TAG_LEN_2;
  h[kn + 3] = vn + 1;
  h[kn + 4] = ANY_INT;
  return h;
}

/**
 * A complete string attribute field for any string: UTF-8 written natively behind length
 * prefixes guessed from the UTF-16 length, moved (memmove) in the rare case the guess was short.
 */
export function writeStringField(w: ProtobufWriter, keyField: Uint8Array, v: string): void {
  const kn = keyField.length;
  const n = v.length;
  // field = 0x32 len(KV) | KV = keyField 0x12 len(Any) | Any = 0x0a len(str) str
  const l3 = varintSize(n);
  const l2 = varintSize(1 + l3 + n);
  const l1 = varintSize(kn + 2 + l2 + l3 + n);
  const head = 1 + l1 + kn + 1 + l2 + 1 + l3;
  w.ensure(head + 3 + 3 * n);
  const buf = w.buf;
  const start = w.pos;
  const len = writeUtf8(buf, v, start + head);
  let n3 = l3;
  let n2 = l2;
  let n1 = l1;
  if (len !== n) {
    n3 = varintSize(len);
    n2 = varintSize(1 + n3 + len);
    n1 = varintSize(kn + 2 + n2 + n3 + len);
    // UTF-8 is never shorter than UTF-16: the prefixes can only grow, the text only move right.
    const grow = n1 + n2 + n3 - l1 - l2 - l3;
    if (grow !== 0) buf.copyWithin(start + head + grow, start + head, start + head + len);
  }
  buf[start] = LR_ATTRIBUTE;
  let p = putVarint32(buf, start + 1, kn + 2 + n2 + n3 + len);
  buf.set(keyField, p);
  p += kn;
  buf[p++] = TAG_LEN_2;
  p = putVarint32(buf, p, 1 + n3 + len);
  buf[p++] = ANY_STRING;
  p = putVarint32(buf, p, len);
  w.pos = p + len;
}

/** `LogRecord.body` = AnyValue { string_value }: both lengths guessed from the UTF-16 length. */
export function writeBodyField(w: ProtobufWriter, s: string): void {
  const n = s.length;
  const l2 = varintSize(n);
  const l1 = varintSize(1 + l2 + n);
  w.ensure(3 * n + 12);
  const buf = w.buf;
  const start = w.pos;
  const head = 2 + l1 + l2;
  const len = writeUtf8(buf, s, start + head);
  let need2 = l2;
  let need1 = l1;
  if (len !== n) {
    need2 = varintSize(len);
    need1 = varintSize(1 + need2 + len);
    // UTF-8 is never shorter than UTF-16: the prefixes can only grow, the text only move right.
    if (need1 + need2 !== l1 + l2) buf.copyWithin(start + 2 + need1 + need2, start + head, start + head + len);
  }
  buf[start] = LR_BODY;
  let p = putVarint32(buf, start + 1, 1 + need2 + len);
  buf[p++] = ANY_STRING;
  p = putVarint32(buf, p, len);
  w.pos = p + len;
}

/** Consecutive cached fields, and their bytes concatenated: copied with one call. */
class Run {
  constructor(
    readonly fields: readonly Uint8Array[],
    readonly bytes: Uint8Array,
  ) {}
}

/** One attribute name: its encoded key and the caches of its encoded fields. */
class KeyEntry {
  readonly keyField: Uint8Array;
  /** The entries of the attributes that followed this one in the last two record shapes that had it. */
  next: KeyEntry | null = null;
  alt: KeyEntry | null = null;
  /**
   * One-slot caches by type, so that the hot loop compares like with like: the last string,
   * number and frozen array cached, and their complete fields (tag 6, length, KeyValue).
   * They start as the empty string, zero (NaN for double keys: -0 would match) and an array
   * no record holds, whose fields are ready from the start.
   */
  lastStr = '';
  lastStrField: Uint8Array;
  lastNum: number;
  lastNumField: Uint8Array;
  lastArr: readonly unknown[] = NO_ARRAY;
  lastArrField: Uint8Array = NO_FIELD;
  /** Short string values and their fields (parallel arrays). */
  readonly strings: string[] = [];
  readonly stringFields: Uint8Array[] = [];
  /** Integer or boolean value -> field. */
  numbers: Map<number | boolean, Uint8Array> | null = null;
  /** Set for keys whose values rarely repeat (addresses, ids): caching them costs more than it saves. */
  valuesOff = false;
  lookups = 0;
  hits = 0;
  /** Frozen array (by identity) -> field. */
  arrays: Map<readonly unknown[], Uint8Array> | null = null;
  /** Elements of one-string arrays (`["DF"]`, `["SYN"]`: fresh arrays, few values) and their fields. */
  readonly singles: string[] = [];
  readonly singleFields: Uint8Array[] = [];
  /** Field up to the string bytes (tag 6, lengths, key) of an ASCII string value, by length. */
  readonly stringHeads: (Uint8Array | undefined)[] = [];
  /** Field up to the varint (tag 6, lengths, key, tag) of an int value, by varint size. */
  readonly intHeads: (Uint8Array | undefined)[] = [];
  /** Runs that start with this key's field, and what building them has paid. */
  readonly runs: Run[] = [];
  runBuilds = 0;
  runUses = 0;
  /** Signature of the last unknown sequence that started here (see runFor). */
  missN = 0;
  missMid: Uint8Array = NO_FIELD;
  missTail: Uint8Array = NO_FIELD;
  constructor(
    readonly key: string,
    readonly asDouble: boolean,
  ) {
    this.keyField = encodeKeyField(key);
    this.lastStrField = this.field('');
    this.lastNum = asDouble ? NaN : 0;
    this.lastNumField = this.field(0);
  }

  /** The complete field of `v`, through the general writer. */
  private field(v: AttributeValue): Uint8Array {
    const w = new ProtobufWriter(this.keyField.length + 32);
    writeGenericField(w, this.keyField, v, this.asDouble);
    return w.finish();
  }

  /** `stringHeads[n]`, built on first use. */
  stringHead(n: number): Uint8Array {
    return (this.stringHeads[n] ??= stringFieldHead(this.keyField, n));
  }

  /** `intHeads[vn]`, built on first use. */
  intHead(vn: number): Uint8Array {
    return (this.intHeads[vn] ??= intFieldHead(this.keyField, vn));
  }

  /** Counts a cache lookup; switches the value caches off for keys whose values rarely repeat. */
  review(hit: boolean): void {
    this.lookups++;
    if (hit) this.hits++;
    if (this.lookups >= REVIEW_EVERY) {
      if (this.hits * 2 < this.lookups) {
        this.valuesOff = true;
        this.numbers = null;
        this.strings.length = 0;
        this.stringFields.length = 0;
      }
      this.lookups = 0;
      this.hits = 0;
    }
  }
}

/** Encode the attributes of a Resource or InstrumentationScope message body into standalone bytes. */
function encodeAttributes(attributes: ResourceAttributes, fieldTag: number): Uint8Array {
  const w = new ProtobufWriter(1024);
  for (const key in attributes) {
    w.byte(fieldTag);
    const kv = w.begin(1);
    w.byte(TAG_LEN_1); // KeyValue.key = 1
    w.string(key);
    w.byte(TAG_LEN_2); // KeyValue.value = 2
    const av = w.begin(1);
    writeAnyValue(w, attributes[key] as AttributeValue, false);
    w.end(av, 1);
    w.end(kv, 1);
  }
  return w.finish();
}

function wrap(tag: number, body: Uint8Array): Uint8Array {
  const w = new ProtobufWriter(body.length + 16);
  w.byte(tag);
  w.uvarint(body.length);
  w.raw(body);
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
  private readonly entries = new Map<string, KeyEntry>();
  /** The entries of the first attribute of the last two record shapes. */
  private firstEntry: KeyEntry | null = null;
  private firstAlt: KeyEntry | null = null;
  private lastSeverityText: string | null = null;
  private lastSeverityField: Uint8Array = NO_FIELD;
  /** Cached fields queued to be copied (see writeAttributes). */
  private readonly pend: Uint8Array[] = new Array<Uint8Array>(PENDING_MAX).fill(NO_FIELD);
  private pendCount = 0;
  private pendBytes = 0;
  private pendEntry: KeyEntry | null = null;
  constructor(resource: ResourceAttributes, scope: InstrumentationScopeInfo, options: OtlpProtobufEncoderOptions = {}) {
    this.w = options.writer ?? new ProtobufWriter(options.initialSize);
    this.doubleKeys = new Set(options.doubleKeys ?? []);
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

  /**
   * The request for records already encoded by `OtlpDirectEncoder`, on loan like
   * `encodeLeased`. Records adjacent in one chunk are copied as one run.
   */
  encodeEncodedLeased(records: readonly EncodedLogRecord[]): EncodedRequest {
    const inPlace = this.inPlace(records);
    if (inPlace !== undefined) return inPlace;
    const w = this.w;
    w.reset();
    let total = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as EncodedLogRecord;
      total += r.end - r.start;
    }
    w.ensure(total + this.resourceField.length + this.scopeField.length + 16);
    w.byte(TAG_LEN_1); // ExportLogsServiceRequest.resource_logs = 1
    const rl = w.begin(4);
    w.raw(this.resourceField);
    w.byte(TAG_LEN_2); // ResourceLogs.scope_logs = 2
    const sl = w.begin(4);
    w.raw(this.scopeField);
    let i = 0;
    while (i < records.length) {
      const first = records[i] as EncodedLogRecord;
      let end = first.end;
      let j = i + 1;
      while (j < records.length) {
        const r = records[j] as EncodedLogRecord;
        if (r.chunk !== first.chunk || r.start !== end) break;
        end = r.end;
        j++;
      }
      w.raw(first.chunk.subarray(first.start, end));
      i = j;
    }
    w.end(sl, 4);
    w.end(rl, 4);
    return w.lease();
  }

  /**
   * The request sent from the chunk itself: when `records` are a chunk's leading records, in
   * order, the envelope fits the room the direct encoder left before them (CHUNK_HEAD_ROOM).
   * The bytes are the same as the copy's. Undefined otherwise.
   */
  private inPlace(records: readonly EncodedLogRecord[]): EncodedRequest | undefined {
    const n = records.length;
    const first = records[0] as EncodedLogRecord;
    if (n === 0 || first.start !== CHUNK_HEAD_ROOM) return undefined;
    let end = first.start;
    for (let i = 0; i < n; i++) {
      const r = records[i] as EncodedLogRecord;
      if (r.chunk !== first.chunk || r.start !== end) return undefined;
      end = r.end;
    }
    const res = this.resourceField;
    const scope = this.scopeField;
    const slLen = scope.length + (end - first.start);
    const rlLen = res.length + 1 + varintSize(slLen) + slLen;
    const headLen = 1 + varintSize(rlLen) + res.length + 1 + varintSize(slLen) + scope.length;
    if (headLen > first.start) return undefined;
    const buf = first.chunk;
    const at = first.start - headLen;
    buf[at] = TAG_LEN_1; // ExportLogsServiceRequest.resource_logs = 1
    let p = putVarint32(buf, at + 1, rlLen);
    buf.set(res, p);
    p += res.length;
    buf[p++] = TAG_LEN_2; // ResourceLogs.scope_logs = 2
    p = putVarint32(buf, p, slLen);
    buf.set(scope, p);
    return { bytes: buf.subarray(at, end), release: NO_RELEASE };
  }

  /** Appends one `ScopeLogs.log_records` field (tag, length, LogRecord) for `r` at the writer's position. */
  appendLogRecord(r: FirewallLogRecord): void {
    const w = this.w;
    w.byte(TAG_LEN_2); // ScopeLogs.log_records = 2
    const m = w.begin(2);
    this.writeRecord(r);
    w.end(m, 2);
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

  private writeRecord(r: FirewallLogRecord): void {
    const w = this.w;
    // Same rule as the SDK (LogRecordImpl): no event time means time = observed time.
    w.byte(LR_TIME);
    w.hrTime(r.timestamp ?? r.observedTimestamp);
    if (r.severityNumber) {
      w.byte(LR_SEVERITY_NUMBER);
      w.uvarint(r.severityNumber);
    }
    const st = r.severityText;
    if (st) {
      if (st !== this.lastSeverityText) {
        const start = w.pos;
        w.byte(LR_SEVERITY_TEXT);
        w.string(st);
        this.lastSeverityText = st;
        this.lastSeverityField = w.copyFrom(start);
      } else {
        w.raw(this.lastSeverityField);
      }
    }
    writeBodyField(this.w, r.body);
    this.writeAttributes(r.attributes);
    w.byte(LR_OBSERVED_TIME);
    w.hrTime(r.observedTimestamp, 1);
  }

  private entryFor(key: string): KeyEntry {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = new KeyEntry(key, this.doubleKeys.has(key));
      // Past the cap, the entry serves this one attribute and is forgotten.
      if (this.entries.size < MAX_KEYS) this.entries.set(key, e);
    }
    return e;
  }

  /**
   * Attributes. A field whose value is the key's last one (the one-slot caches) is not copied
   * at once but queued, and the queue is copied as one run (itself cached, see `runFor`) when
   * bytes must be written otherwise or the record ends; the constant head of a value written
   * byte by byte (tag, lengths, key) joins the queue too. Values found in a key's value cache
   * are copied on their own, so that runs are made of values that repeat record after record
   * and their number stays small.
   */
  private writeAttributes(attrs: RecordAttributes): void {
    let guess = this.firstEntry;
    let guessAlt = this.firstAlt;
    let prevEntry: KeyEntry | null = null;
    for (const key in attrs) {
      const v = attrs[key];
      // Same as logRecordToOtlpJson: a missing value is no attribute.
      if (v === undefined || v === null) continue;
      let e = guess;
      if (e === null || e.key !== key) {
        // Two-way, most recent first: TCP, UDP and ICMP records alternate.
        e = guessAlt !== null && guessAlt.key === key ? guessAlt : this.entryFor(key);
        if (prevEntry === null) {
          this.firstAlt = this.firstEntry;
          this.firstEntry = e;
        } else {
          prevEntry.alt = prevEntry.next;
          prevEntry.next = e;
        }
      }
      guess = e.next;
      guessAlt = e.alt;
      prevEntry = e;
      let f: Uint8Array;
      if (typeof v === 'string') {
        if (v !== e.lastStr) {
          this.stringAttribute(e, v);
          continue;
        }
        f = e.lastStrField;
      } else if (typeof v === 'number') {
        // -0 === 0, both the same int; double keys start with NaN and never fill this slot.
        if (v !== e.lastNum) {
          this.numberAttribute(e, v);
          continue;
        }
        f = e.lastNumField;
      } else if (typeof v === 'object') {
        if (v !== e.lastArr) {
          this.arrayAttribute(e, v);
          continue;
        }
        f = e.lastArrField;
      } else {
        this.booleanAttribute(e, v);
        continue;
      }
      this.push(e, f);
    }
    this.flush();
  }

  /** Queue a cached field (the first one names the run's key). */
  private push(e: KeyEntry, f: Uint8Array): void {
    const c = this.pendCount;
    if (c === 0) this.pendEntry = e;
    this.pend[c] = f;
    this.pendBytes += f.length;
    this.pendCount = c + 1;
    if (c + 1 === PENDING_MAX) this.flush();
  }

  /** Copy the queued fields: one run if the sequence is known, else field by field. Must precede any direct write. */
  private flush(): void {
    const n = this.pendCount;
    if (n === 0) return;
    const w = this.w;
    const pend = this.pend;
    w.ensure(this.pendBytes);
    const buf = w.buf;
    let p = w.pos;
    const run = n === 1 ? null : this.runFor(this.pendEntry as KeyEntry, n);
    if (run !== null) {
      buf.set(run, p);
      p += run.length;
    } else {
      for (let i = 0; i < n; i++) {
        const f = pend[i] as Uint8Array;
        buf.set(f, p);
        p += f.length;
      }
    }
    w.pos = p;
    this.pendCount = 0;
    this.pendBytes = 0;
  }

  /** The bytes of the queued `n` fields starting at `e` as one run, or null (not known, and not built). */
  private runFor(e: KeyEntry, n: number): Uint8Array | null {
    const pend = this.pend;
    const runs = e.runs;
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k] as Run;
      const fields = run.fields;
      if (fields.length !== n) continue;
      let i = 0;
      while (i < n && fields[i] === pend[i]) i++;
      if (i === n) {
        e.runUses++;
        return run.bytes;
      }
    }
    // Built for a sequence seen twice in a row (judged by its length and two of its fields),
    // and only while builds pay for themselves: a sequence that changes every record would
    // otherwise allocate a run per record.
    const mid = pend[n >> 1] as Uint8Array;
    const tail = pend[n - 1] as Uint8Array;
    if (e.missN !== n || e.missMid !== mid || e.missTail !== tail) {
      e.missN = n;
      e.missMid = mid;
      e.missTail = tail;
      return null;
    }
    if (e.runBuilds >= FREE_RUN_BUILDS && e.runBuilds * 8 > e.runUses) return null;
    e.runBuilds++;
    const bytes = new Uint8Array(this.pendBytes);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const f = pend[i] as Uint8Array;
      bytes.set(f, p);
      p += f.length;
    }
    const run = new Run(pend.slice(0, n), bytes);
    if (runs.length < RUNS_PER_KEY) runs.push(run);
    else runs[e.runBuilds % RUNS_PER_KEY] = run;
    return bytes;
  }

  /** Copy a cached field now, after the queue. */
  private copy(f: Uint8Array): void {
    if (this.pendCount !== 0) this.flush();
    const w = this.w;
    w.ensure(f.length);
    w.buf.set(f, w.pos);
    w.pos += f.length;
  }

  private stringAttribute(e: KeyEntry, v: string): void {
    const n = v.length;
    if (n <= CACHED_STRING_MAX && !e.valuesOff) {
      const strings = e.strings;
      for (let i = 0; i < strings.length; i++) {
        const c = strings[i] as string;
        if (c === v) {
          const f = e.stringFields[i] as Uint8Array;
          e.lastStr = c;
          e.lastStrField = f;
          e.review(true);
          this.copy(f);
          return;
        }
      }
      e.review(false);
      if (strings.length < STRINGS_PER_KEY && !e.valuesOff) {
        this.flush();
        const w = this.w;
        const start = w.pos;
        this.writeString(e, v);
        const f = w.copyFrom(start);
        const c = flatCopy(v);
        strings.push(c);
        e.stringFields.push(f);
        e.lastStr = c;
        e.lastStrField = f;
        return;
      }
    }
    this.writeString(e, v);
  }

  /** Attribute field of a string value: tag 6, KeyValue { key, AnyValue { string_value } }. */
  private writeString(e: KeyEntry, v: string): void {
    const n = v.length;
    if (n <= LOOP_MAX && e.keyField.length + n + 4 < 128) {
      // All lengths fit one byte if the string is ASCII: the head joins the queued run.
      const head = e.stringHead(n);
      this.push(e, head);
      this.flush();
      const w = this.w;
      w.ensure(n);
      const buf = w.buf;
      const start = w.pos;
      let p = start;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) {
          w.pos = start - head.length; // take the head back
          this.writeLongString(e, v);
          return;
        }
        buf[p++] = c;
      }
      w.pos = p;
      return;
    }
    this.flush();
    this.writeLongString(e, v);
  }

  /** Any string, natively (see `writeStringField`). */
  private writeLongString(e: KeyEntry, v: string): void {
    writeStringField(this.w, e.keyField, v);
  }

  private numberAttribute(e: KeyEntry, v: number): void {
    if (e.asDouble) {
      this.flush();
      this.genericAttribute(e, v);
      return;
    }
    const w = this.w;
    const kf = e.keyField;
    const kn = kf.length;
    if (Number.isInteger(v)) {
      if (!e.valuesOff) {
        let numbers = e.numbers;
        if (numbers === null) numbers = e.numbers = new Map();
        const f = numbers.get(v);
        e.review(f !== undefined);
        if (f !== undefined) {
          e.lastNum = v;
          e.lastNumField = f;
          this.copy(f);
          return;
        }
        if (numbers.size < NUMBERS_PER_KEY && !e.valuesOff) {
          this.flush();
          const start = w.pos;
          this.writeInt(e, v);
          const field = w.copyFrom(start);
          numbers.set(v, field);
          e.lastNum = v;
          e.lastNumField = field;
          return;
        }
      }
      this.writeInt(e, v);
      return;
    }
    this.flush();
    if (kn < 115) {
      // field = 0x32 len | keyField 0x12 0x09 | 0x21 fixed64
      const kvLen = kn + 11;
      w.ensure(kvLen + 2);
      const buf = w.buf;
      const start = w.pos;
      buf[start] = LR_ATTRIBUTE;
      buf[start + 1] = kvLen;
      buf.set(kf, start + 2);
      const p = start + 2 + kn;
      buf[p] = TAG_LEN_2;
      buf[p + 1] = 9;
      buf[p + 2] = ANY_DOUBLE;
      w.pos = p + 3;
      w.double(v);
    } else {
      this.genericAttribute(e, v);
    }
  }

  /** An integral number: small non-negative ones with the cached head, others through the general writer. */
  private writeInt(e: KeyEntry, v: number): void {
    if (v >= 0 && v < 0x10000000 && e.keyField.length < 118) {
      const vn = varintSize(v);
      this.push(e, e.intHead(vn));
      this.flush();
      const w = this.w;
      w.ensure(4);
      w.pos = putVarint32(w.buf, w.pos, v);
      return;
    }
    this.flush();
    this.genericAttribute(e, v);
  }

  private booleanAttribute(e: KeyEntry, v: boolean): void {
    if (!e.valuesOff) {
      let numbers = e.numbers;
      if (numbers === null) numbers = e.numbers = new Map();
      const f = numbers.get(v);
      if (f !== undefined) {


        this.copy(f);
        return;
      }
      this.flush();
      const w = this.w;
      const start = w.pos;
      this.genericAttribute(e, v);
      numbers.set(v, w.copyFrom(start));
      return;
    }
    this.flush();
    this.genericAttribute(e, v);
  }

  private arrayAttribute(e: KeyEntry, v: string[] | number[]): void {
    const w = this.w;
    // Every path below writes or copies now.
    this.flush();
    if (Object.isFrozen(v)) {
      // Frozen arrays cannot change: the parser's constant arrays are cached by identity.
      let arrays = e.arrays;
      if (arrays === null) arrays = e.arrays = new Map();
      const f = arrays.get(v);
      if (f !== undefined) {
        e.lastArr = v;
        e.lastArrField = f;
        this.copy(f);
        return;
      }
      const start = w.pos;
      if (!this.asciiArray(e, v)) this.genericAttribute(e, v);
      if (arrays.size < ARRAYS_PER_KEY) {
        const field = w.copyFrom(start);
        arrays.set(v, field);
        e.lastArr = v;
        e.lastArrField = field;
      }
      return;
    }
    const first = v[0];
    if (v.length === 1 && typeof first === 'string' && first.length <= CACHED_STRING_MAX) {
      const singles = e.singles;
      for (let i = 0; i < singles.length; i++) {
        if (singles[i] === first) {
          this.copy(e.singleFields[i] as Uint8Array);
          return;
        }
      }
      const start = w.pos;
      if (!this.asciiArray(e, v)) this.genericAttribute(e, v);
      if (singles.length < STRINGS_PER_KEY) {
        singles.push(flatCopy(first));
        e.singleFields.push(w.copyFrom(start));
      }
      return;
    }
    if (!this.asciiArray(e, v)) this.genericAttribute(e, v);
  }

  /**
   * A small array of short ASCII strings with every length known up front. Returns false
   * (having committed nothing) for anything else.
   */
  private asciiArray(e: KeyEntry, v: readonly unknown[]): boolean {
    const kf = e.keyField;
    const kn = kf.length;
    const m = v.length;
    // ArrayValue body: per element 0x0a len(Any) 0x0a len(str) str
    let body = 0;
    for (let i = 0; i < m; i++) {
      const s = v[i];
      if (typeof s !== 'string' || s.length > 100) return false;
      body += s.length + 4;
    }
    const anyLen = body + 2; // 0x2a len(body) body
    const kvLen = kn + 2 + anyLen;
    if (body >= 128 || kvLen >= 128) return false;
    const w = this.w;
    w.ensure(kvLen + 2);
    let p = putArrayHead(w.buf, w.pos, kf, body);
    for (let i = 0; i < m && p >= 0; i++) p = putAsciiElement(w.buf, p, v[i] as string);
    if (p < 0) return false; // nothing committed: w.pos is unchanged
    w.pos = p;
    return true;
  }

  /** Any value, through the general writer with length placeholders. */
  private genericAttribute(e: KeyEntry, v: AttributeValue): void {
    writeGenericField(this.w, e.keyField, v, e.asDouble);
  }
}
