/**
 * The persistent spool: every batch of frames the service reads is appended to a segment file
 * before it goes anywhere else, and leaves the spool once every output has acknowledged it.
 *
 * Layout of the directory:
 * - `0000000001.seg`, `0000000002.seg`, ...: append-only segment files of batch records
 *   (spool-record.ts), written by one process; a new one starts at `segmentBytes`;
 * - `0000000001.ack`, ...: beside each segment, the index (u32) of every batch acknowledged, in
 *   the order the acknowledgements came. Losing the tail of an ack file only re-sends batches.
 * - `lock`: the pid of the process using the directory.
 *
 * A segment is deleted once it is no longer written and all its batches are acknowledged. At
 * start-up every segment is read back and checked (CRC per record): damage from a crash
 * mid-write or a full disk is skipped (the reader re-syncs on the next valid record), counted
 * and logged, and every valid batch not acknowledged is handed back (`recovered`) to be sent
 * before anything new. Why our own segment files and not an embedded store: docs/performance.md
 * ("The spool") has the measurement.
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  unlink,
  writeFileSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../ops/logger.js';
import type { ReceiveContext } from '../../mapping/record.js';
import type { SpoolConfig } from './spool-config.js';
import { appendRecord, checkRecord, encodeRecord, newBatchBuilder, RECORD_HEADER_BYTES, RECORD_MAGIC, type SpoolBatch, type SpoolBatchBuilder } from './spool-record.js';

/** Where one batch lives in the spool. */
export interface SpoolRef {
  readonly segment: Segment;
  /** The batch's index in its segment (record header and .ack file). */
  readonly index: number;
  readonly offset: number;
  readonly length: number;
  /** Frames in the batch, and their bytes (the queue's units). */
  readonly frames: number;
  readonly bytes: number;
  /** When its first frame was received (ms since the epoch), for the oldest-record age. */
  readonly receivedAtMs: number;
  acked: boolean;
}

/** One segment file and its ack file. */
export interface Segment {
  readonly id: number;
  readonly path: string;
  readonly ackPath: string;
  fd: number;
  ackFd: number;
  size: number;
  refs: SpoolRef[];
  ackedCount: number;
  /** First ref not acknowledged yet (refs before it all are). */
  firstUnacked: number;
  /** No longer written: deleted once every batch in it is acknowledged. */
  sealed: boolean;
}

/** What the spool reports about damage found at start-up. */
export interface SpoolRecovery {
  /** Batches from before the restart that no output acknowledged, oldest first. */
  refs: SpoolRef[];
  frames: number;
  /** Bytes skipped as damaged (truncated tails, bad CRCs), over all segments. */
  corruptBytes: number;
  segments: number;
}

/** Hooks for the service's metrics. */
export interface SpoolObserver {
  /** Damaged bytes were skipped while reading the spool back. */
  corrupt?(bytes: number): void;
  /** A write or fsync failed. */
  writeFailed?(error: unknown): void;
}

/** Spool order (oldest first): segment, then index in it. */
export function compareSpoolRefs(a: SpoolRef, b: SpoolRef): number {
  return a.segment.id - b.segment.id || a.index - b.index;
}

/** Thrown when another live process holds the spool directory. */
export class SpoolLockedError extends Error {}

const SEGMENT_NAME = /^(\d{10})\.seg$/;

function segmentName(id: number, ext: 'seg' | 'ack'): string {
  return `${String(id).padStart(10, '0')}.${ext}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function receivedMs(ctxs: readonly ReceiveContext[]): number {
  const t = ctxs[0]?.receivedAt;
  return t !== undefined ? t[0] * 1000 + Math.floor(t[1] / 1e6) : Date.now();
}

/** The spool of one service process (see the file comment). Single-threaded: the main thread owns it. */
export class Spool {
  readonly config: SpoolConfig;
  private readonly logger: Pick<Logger, 'info' | 'warn' | 'error'> | undefined;
  private readonly observer: SpoolObserver;
  private readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private nextId = 1;
  /** Scratch for `readInto` (grown as needed). */
  private readBuf: Buffer = Buffer.allocUnsafeSlow(64 * 1024);
  private totalBytes = 0;
  private unackedFrames = 0;
  private dirty = false;
  private syncing = false;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly ackBuf = Buffer.alloc(4);
  /** What `open()` found from before. */
  readonly recovery: SpoolRecovery;

  private constructor(config: SpoolConfig, logger: Spool['logger'], observer: SpoolObserver) {
    this.config = config;
    this.logger = logger;
    this.observer = observer;
    mkdirSync(config.directory, { recursive: true, mode: 0o750 });
    this.lock();
    this.recovery = this.recover();
    if (config.fsync === 'interval') {
      this.fsyncTimer = setInterval(() => this.syncSoon(), config.fsyncIntervalMs);
      this.fsyncTimer.unref();
    }
  }

  /**
   * Open (creating if needed) and lock the spool directory, and read back what is in it.
   * Throws `SpoolLockedError` when another live process uses it, and the I/O error when the
   * directory cannot be created or written (both name the directory).
   */
  static open(config: SpoolConfig, deps: { logger?: Pick<Logger, 'info' | 'warn' | 'error'>; observer?: SpoolObserver } = {}): Spool {
    return new Spool(config, deps.logger, deps.observer ?? {});
  }

  /** Bytes of all live segment files. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Frames written and not yet acknowledged. */
  get frames(): number {
    return this.unackedFrames;
  }

  /** True once the spool holds `maxBytes`: the caller pauses intake. */
  get full(): boolean {
    return this.totalBytes >= this.config.maxBytes;
  }

  /** Receive time (ms since the epoch) of the oldest batch not acknowledged, or undefined when there is none. */
  oldestReceivedAtMs(): number | undefined {
    let oldest: number | undefined;
    for (const seg of this.segments) {
      const ref = seg.refs[seg.firstUnacked];
      if (ref !== undefined && (oldest === undefined || ref.receivedAtMs < oldest)) oldest = ref.receivedAtMs;
    }
    return oldest;
  }

  /**
   * Append `batch`; returns where it is. Throws the I/O error (ENOSPC, EIO, ...) after rolling the
   * segment back to its last good size, so the file holds no torn record from this process.
   */
  append(batch: SpoolBatch): SpoolRef {
    if (this.closed) throw new Error('the spool is closed');
    let seg = this.active;
    if (seg === undefined || seg.size >= this.config.segmentBytes) seg = this.rotate();
    const index = seg.refs.length;
    const { parts, length } = encodeRecord(batch, index);
    const offset = seg.size;
    try {
      let written = 0;
      while (written < length) {
        // writev may write less than asked; only then is the rest written with plain writes.
        if (written === 0) written = writevSync(seg.fd, parts, offset);
        else written += writeSync(seg.fd, Buffer.concat(parts).subarray(written), 0, length - written, offset + written);
      }
      if (this.config.fsync === 'batch') fdatasyncSync(seg.fd);
    } catch (err) {
      try {
        ftruncateSync(seg.fd, offset);
      } catch {
        // The reader at start-up skips a torn tail anyway.
      }
      this.observer.writeFailed?.(err);
      throw err;
    }
    seg.size += length;
    this.totalBytes += length;
    const frames = batch.count;
    const bytes = batch.count === 0 ? 0 : (batch.ends[batch.count - 1] as number);
    const ref: SpoolRef = { segment: seg, index, offset, length, frames, bytes, receivedAtMs: receivedMs(batch.ctxs), acked: false };
    seg.refs.push(ref);
    this.unackedFrames += frames;
    this.dirty = true;
    return ref;
  }

  /** Read a batch back (for a send that could not be kept in memory). `endsCapacity`: see `decodeRecord`. */
  read(ref: SpoolRef, endsCapacity = 0): SpoolBatch {
    const into = newBatchBuilder(ref.bytes, Math.max(ref.frames, endsCapacity));
    this.readInto(ref, into);
    const { bytes, ends, count, ctxs, ctxFirst } = into;
    return { bytes, ends, count, ctxs, ctxFirst };
  }

  /**
   * Read a batch back and append its frames to `into` (which has room for `ref.bytes` more
   * bytes and `ref.frames` more frames). Throws when the record cannot be read or is damaged.
   */
  readInto(ref: SpoolRef, into: SpoolBatchBuilder): void {
    // One scratch buffer for every read: the frames are copied out at once, and a fresh
    // buffer per batch read back was most of the main thread's garbage when reading back.
    if (this.readBuf.length < ref.length) this.readBuf = Buffer.allocUnsafeSlow(Math.max(ref.length, 2 * this.readBuf.length));
    const buf = this.readBuf;
    let got = 0;
    while (got < ref.length) {
      const n = readSync(ref.segment.fd, buf, got, ref.length - got, ref.offset + got);
      if (n === 0) break;
      got += n;
    }
    const rec = checkRecord(buf.subarray(0, got), 0);
    if (!rec.ok) throw new Error(`spool record ${ref.segment.path}@${ref.offset} unreadable: ${rec.reason}`);
    appendRecord(rec, into);
  }

  /** Every output has the batch: record that, and delete its segment once all of it is acknowledged. */
  ack(ref: SpoolRef): void {
    if (ref.acked) return;
    ref.acked = true;
    const seg = ref.segment;
    seg.ackedCount++;
    this.unackedFrames -= ref.frames;
    while (seg.firstUnacked < seg.refs.length && (seg.refs[seg.firstUnacked] as SpoolRef).acked) seg.firstUnacked++;
    if (this.closed) return;
    if (seg.sealed && seg.ackedCount === seg.refs.length) {
      this.remove(seg);
      return;
    }
    try {
      this.ackBuf.writeUInt32LE(ref.index, 0);
      writeSync(seg.ackFd, this.ackBuf, 0, 4);
    } catch (err) {
      // Only costs a re-send after a restart.
      this.observer.writeFailed?.(err);
    }
  }

  /** Make what was written durable now, and close every file. What is not acknowledged stays for the next start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fsyncTimer !== undefined) clearInterval(this.fsyncTimer);
    for (const seg of this.segments) {
      try {
        if (seg === this.active && this.config.fsync !== 'never') fdatasyncSync(seg.fd);
      } catch (err) {
        this.observer.writeFailed?.(err);
      }
      closeSync(seg.fd);
      closeSync(seg.ackFd);
    }
    // An active segment that is fully acknowledged is not needed by the next start.
    const active = this.active;
    if (active !== undefined && active.ackedCount === active.refs.length) {
      rmSync(active.path, { force: true });
      rmSync(active.ackPath, { force: true });
    }
    rmSync(join(this.config.directory, 'lock'), { force: true });
  }

  /** The `interval` policy: one fdatasync at a time, off the main thread (libuv's pool). */
  private syncSoon(): void {
    const seg = this.active;
    if (!this.dirty || this.syncing || seg === undefined || this.closed) return;
    this.dirty = false;
    this.syncing = true;
    fdatasync(seg.fd, (err) => {
      this.syncing = false;
      if (err && !this.closed) this.observer.writeFailed?.(err);
    });
  }

  private rotate(): Segment {
    const prev = this.active;
    if (prev !== undefined) {
      prev.sealed = true;
      if (this.config.fsync !== 'never') {
        const fd = prev.fd;
        fdatasync(fd, (err) => {
          if (err && !this.closed) this.observer.writeFailed?.(err);
        });
      }
      if (prev.ackedCount === prev.refs.length) this.remove(prev);
    }
    const id = this.nextId++;
    const path = join(this.config.directory, segmentName(id, 'seg'));
    const ackPath = join(this.config.directory, segmentName(id, 'ack'));
    const fd = openSync(path, 'w+', 0o640);
    const ackFd = openSync(ackPath, 'w', 0o640);
    const seg: Segment = { id, path, ackPath, fd, ackFd, size: 0, refs: [], ackedCount: 0, firstUnacked: 0, sealed: false };
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  private remove(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    if (this.active === seg) this.active = undefined;
    this.totalBytes -= seg.size;
    closeSync(seg.fd);
    closeSync(seg.ackFd);
    // Off the main thread: unlinking a 16 MiB segment frees its page-cache pages (~20 ms each on
    // the bench). The segment goes first: a crash between the two leaves an ack file without its
    // segment, which is harmless (a new segment of that id truncates it).
    unlink(seg.path, (err) => {
      if (err && err.code !== 'ENOENT') this.observer.writeFailed?.(err);
      unlink(seg.ackPath, () => {});
    });
  }

  private lock(): void {
    const path = join(this.config.directory, 'lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o640 });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new SpoolLockedError(`the spool directory ${this.config.directory} is in use by process ${pid}: give each instance its own pipeline.spool.directory (--spool-dir)`);
      }
      if (pid === process.pid) {
        throw new SpoolLockedError(`the spool directory ${this.config.directory} is already open in this process`);
      }
      // A stale lock from a process that died (SIGKILL, power loss).
      rmSync(path, { force: true });
    }
    throw new SpoolLockedError(`could not lock the spool directory ${this.config.directory}`);
  }

  /** Read back every segment (oldest first); see the file comment. */
  private recover(): SpoolRecovery {
    const dir = this.config.directory;
    const ids = readdirSync(dir)
      .map((n) => SEGMENT_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const out: SpoolRecovery = { refs: [], frames: 0, corruptBytes: 0, segments: 0 };
    for (const id of ids) {
      this.nextId = Math.max(this.nextId, id + 1);
      const path = join(dir, segmentName(id, 'seg'));
      const ackPath = join(dir, segmentName(id, 'ack'));
      let data: Buffer;
      try {
        data = readFileSync(path);
      } catch (err) {
        // Deleted since the listing: this process acknowledged all of it a moment ago (unlinks run on libuv's pool).
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const acked = new Set<number>();
      try {
        const a = readFileSync(ackPath);
        for (let i = 0; i + 4 <= a.length; i += 4) acked.add(a.readUInt32LE(i));
      } catch {
        // No ack file: nothing in this segment was acknowledged.
      }
      const fd = openSync(path, 'r+');
      const ackFd = openSync(ackPath, 'a', 0o640);
      const seg: Segment = { id, path, ackPath, fd, ackFd, size: fstatSync(fd).size, refs: [], ackedCount: 0, firstUnacked: 0, sealed: true };
      let corrupt = 0;
      let pos = 0;
      while (pos < data.length) {
        // Checked, not copied: most batches are acknowledged already, or read back later one at a time.
        const rec = checkRecord(data, pos);
        if (rec.ok) {
          const ref: SpoolRef = {
            segment: seg,
            index: rec.index,
            offset: pos,
            length: rec.length,
            frames: rec.count,
            bytes: rec.length - rec.endsAt - rec.count * 4,
            receivedAtMs: receivedMs(rec.ctxs),
            acked: acked.has(rec.index),
          };
          seg.refs.push(ref);
          if (ref.acked) seg.ackedCount++;
          else {
            out.refs.push(ref);
            out.frames += ref.frames;
            this.unackedFrames += ref.frames;
          }
          pos += rec.length;
          continue;
        }
        // Damage: skip to the next offset where a valid record starts.
        const next = nextRecordStart(data, pos + 1);
        corrupt += next - pos;
        pos = next;
      }
      while (seg.firstUnacked < seg.refs.length && (seg.refs[seg.firstUnacked] as SpoolRef).acked) seg.firstUnacked++;
      out.corruptBytes += corrupt;
      if (corrupt > 0) {
        this.observer.corrupt?.(corrupt);
        this.logger?.error('spool segment damaged (a crash mid-write, a full disk or a bad disk): the damaged part is skipped, the rest is delivered', {
          segment: path,
          damagedBytes: corrupt,
          validBatches: seg.refs.length,
        });
      }
      this.segments.push(seg);
      this.totalBytes += seg.size;
      out.segments++;
      if (seg.ackedCount === seg.refs.length) this.remove(seg);
    }
    if (out.refs.length > 0) {
      this.logger?.info('spool: records from before the restart are sent first', { directory: dir, records: out.frames, batches: out.refs.length, segments: out.segments });
    }
    return out;
  }
}

/** The first offset at or after `from` where a record with a valid CRC starts, else `data.length`. */
function nextRecordStart(data: Buffer, from: number): number {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(RECORD_MAGIC, 0);
  let at = from;
  while (at + RECORD_HEADER_BYTES <= data.length) {
    const hit = data.indexOf(magic, at);
    if (hit < 0) break;
    if (checkRecord(data, hit).ok) return hit;
    at = hit + 1;
  }
  return data.length;
}

/** For tests: the segment files of a spool directory, oldest first. */
export function spoolSegmentFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((n) => SEGMENT_NAME.test(n))
    .sort()
    .map((n) => join(directory, n));
}
