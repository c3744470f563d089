/**
 * One batch of frames as the spool stores it. A segment file is these records back to back:
 *
 * ```
 * offset  size  field
 *  0      4     magic "IOS1"
 *  4      4     CRC-32 of bytes 8 .. length (everything after this field)
 *  8      4     length of the whole record
 * 12      4     index of the batch in its segment (what the segment's .ack file lists)
 * 16      4     frame count
 * 20      4     length of the context table (JSON)
 * 24      ..    context table: {"c": [ReceiveContext...], "f": [first frame of each]}
 *         4*n   end offset of every frame (u32, little-endian)
 *         ..    the frames' bytes
 * ```
 *
 * All integers are little-endian. The CRC covers the header fields after it, so a torn
 * write, a zeroed page or a flipped bit anywhere is caught when the segment is read back.
 */
import { crc32 } from 'node:zlib';
import type { ReceiveContext } from '../../mapping/record.js';

/** A batch of frames: frame `i` is `bytes[i === 0 ? 0 : ends[i - 1] .. ends[i])`; frames `ctxFirst[k] ..` came with `ctxs[k]`. */
export interface SpoolBatch {
  bytes: Uint8Array;
  ends: Uint32Array;
  count: number;
  ctxs: ReceiveContext[];
  ctxFirst: number[];
}

export const RECORD_MAGIC = 0x3153_4f49; // "IOS1" read as little-endian
export const RECORD_HEADER_BYTES = 24;
/** A record longer than this is taken as damage, not as a batch (batches are a few hundred KiB). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * The buffers to write for `batch` (header + context table, ends, bytes: no copy of the frames),
 * and the record's total length.
 */
export function encodeRecord(batch: SpoolBatch, index: number): { parts: Uint8Array[]; length: number } {
  const ctxJson = Buffer.from(JSON.stringify({ c: batch.ctxs, f: batch.ctxFirst }));
  const used = batch.count === 0 ? 0 : (batch.ends[batch.count - 1] as number);
  const ends = new Uint8Array(batch.ends.buffer, batch.ends.byteOffset, batch.count * 4);
  const bytes = batch.bytes.subarray(0, used);
  const length = RECORD_HEADER_BYTES + ctxJson.length + ends.length + bytes.length;
  const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES + ctxJson.length);
  head.writeUInt32LE(RECORD_MAGIC, 0);
  head.writeUInt32LE(length, 8);
  head.writeUInt32LE(index, 12);
  head.writeUInt32LE(batch.count, 16);
  head.writeUInt32LE(ctxJson.length, 20);
  ctxJson.copy(head, RECORD_HEADER_BYTES);
  let crc = crc32(head.subarray(8));
  crc = crc32(ends, crc);
  crc = crc32(bytes, crc);
  head.writeUInt32LE(crc, 4);
  return { parts: [head, ends, bytes], length };
}

/** What `checkRecord` found at an offset: a record that is whole and intact, or why not. */
export type CheckedRecord =
  | { ok: true; index: number; length: number; count: number; ctxs: ReceiveContext[]; ctxFirst: number[]; record: Uint8Array; endsAt: number }
  | { ok: false; reason: 'truncated' | 'bad_magic' | 'bad_length' | 'bad_crc' | 'bad_context' };

/** What `decodeRecord` found at an offset. */
export type DecodedRecord = { ok: true; index: number; length: number; batch: SpoolBatch } | Extract<CheckedRecord, { ok: false }>;

/**
 * Check the record at `buf[offset..]` (magic, length, CRC, context table) without copying its
 * frames: what start-up needs for every record, most of which are never read back.
 */
export function checkRecord(buf: Uint8Array, offset: number): CheckedRecord {
  if (buf.length - offset < RECORD_HEADER_BYTES) return { ok: false, reason: 'truncated' };
  const view = new DataView(buf.buffer, buf.byteOffset + offset, RECORD_HEADER_BYTES);
  if (view.getUint32(0, true) !== RECORD_MAGIC) return { ok: false, reason: 'bad_magic' };
  const length = view.getUint32(8, true);
  const count = view.getUint32(16, true);
  const ctxLen = view.getUint32(20, true);
  if (length > MAX_RECORD_BYTES || length < RECORD_HEADER_BYTES + ctxLen + count * 4) return { ok: false, reason: 'bad_length' };
  if (buf.length - offset < length) return { ok: false, reason: 'truncated' };
  const record = buf.subarray(offset, offset + length);
  if (crc32(record.subarray(8)) !== view.getUint32(4, true)) return { ok: false, reason: 'bad_crc' };
  let table: { c?: unknown; f?: unknown };
  try {
    table = JSON.parse(Buffer.from(record.buffer, record.byteOffset + RECORD_HEADER_BYTES, ctxLen).toString('utf8')) as typeof table;
  } catch {
    return { ok: false, reason: 'bad_context' };
  }
  if (!Array.isArray(table.c) || !Array.isArray(table.f) || table.c.length !== table.f.length) return { ok: false, reason: 'bad_context' };
  const endsAt = RECORD_HEADER_BYTES + ctxLen;
  const dataLength = length - endsAt - count * 4;
  if (count > 0 && new DataView(record.buffer, record.byteOffset + endsAt + (count - 1) * 4, 4).getUint32(0, true) !== dataLength) {
    return { ok: false, reason: 'bad_length' };
  }
  return { ok: true, index: view.getUint32(12, true), length, count, ctxs: table.c as ReceiveContext[], ctxFirst: table.f as number[], record, endsAt };
}

/** A batch being filled from records read back (`appendRecord`): `used` bytes and `count` frames so far. */
export interface SpoolBatchBuilder extends SpoolBatch {
  used: number;
}

/** An empty builder with fresh buffers for `bytes` bytes and `frames` frames (safe to transfer). */
export function newBatchBuilder(bytes: number, frames: number): SpoolBatchBuilder {
  return { bytes: new Uint8Array(new ArrayBuffer(Math.max(bytes, 1))), ends: new Uint32Array(frames), count: 0, used: 0, ctxs: [], ctxFirst: [] };
}

/**
 * Append the frames of a checked record to `into`, which has room for them (its `bytes` and
 * `ends` were sized from the records' lengths): consecutive records read back become one
 * batch, so a worker gets full batches however small the reads were that wrote them.
 */
export function appendRecord(rec: Extract<CheckedRecord, { ok: true }>, into: SpoolBatchBuilder): void {
  const { count, record, endsAt } = rec;
  const base = into.used;
  const first = into.count;
  // A view, not a Uint32Array: the ends follow the JSON table, so they are not 4-byte aligned.
  const view = new DataView(record.buffer, record.byteOffset + endsAt, count * 4);
  for (let i = 0; i < count; i++) into.ends[first + i] = base + view.getUint32(4 * i, true);
  const data = record.subarray(endsAt + count * 4);
  into.bytes.set(data, base);
  for (let k = 0; k < rec.ctxs.length; k++) {
    into.ctxs.push(rec.ctxs[k] as ReceiveContext);
    into.ctxFirst.push(first + (rec.ctxFirst[k] as number));
  }
  into.count += count;
  into.used += data.length;
}

/**
 * Read the record at `buf[offset..]` (`checkRecord`), with its frames copied out. With
 * `endsCapacity`, the ends array is allocated with room for that many frames (the threaded
 * pipeline reuses batch buffers of one size). The batch's buffers are fresh, safe to transfer.
 */
export function decodeRecord(buf: Uint8Array, offset: number, endsCapacity = 0): DecodedRecord {
  const rec = checkRecord(buf, offset);
  if (!rec.ok) return rec;
  const into = newBatchBuilder(rec.length - rec.endsAt - rec.count * 4, Math.max(rec.count, endsCapacity));
  appendRecord(rec, into);
  const { bytes, ends, count, ctxs, ctxFirst } = into;
  return { ok: true, index: rec.index, length: rec.length, batch: { bytes, ends, count, ctxs, ctxFirst } };
}
