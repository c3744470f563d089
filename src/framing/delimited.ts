import {
  FrameSpans,
  resolveFramerOptions,
  ScanningFramer,
  type FramerOptions,
  type FrameSink,
  type ResolvedFramerOptions,
} from './framer.js';
import { keepOrCopy, releaseNow } from './owned-bytes.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;

/**
 * Which byte ends a frame: LF (traditional syslog over TCP), NUL (Graylog style),
 * or either one (used by the auto-detecting framer).
 */
export type Delimiter = 'lf' | 'nul' | 'lf_or_nul';

/** Options of the delimited framer. */
export interface DelimitedFramerOptions extends FramerOptions {
  /** Default `lf`. */
  delimiter?: Delimiter;
}

/**
 * Delimiter-terminated frames ("octet stuffing", RFC 6587 §3.4.2).
 *
 * Tolerances: a CR before the LF is dropped and leading spaces of a frame are dropped
 * (Cisco ASA sends `\n <PRI>...`). A frame longer than `maxFrameSize` (counted with
 * its CR and leading spaces) is reported as `oversize` and skipped up to its delimiter.
 *
 * Empty frames: zero bytes between two delimiters (`\n\n`, the LF some senders put after
 * an octet-counted frame) are not frames and are skipped uncounted, as rsyslog does: no
 * byte of content is lost. A frame of only spaces and CR (`" "`, `"\r"`), which trimming
 * would leave empty, is emitted untrimmed, so the parser turns it into a record with
 * `error.type=empty_frame` and the original text, as it does for a whitespace UDP datagram.
 * (A whitespace octet-counted body fails the count's plausibility rule instead.)
 */
export class DelimitedFramer extends ScanningFramer {
  private readonly opts: ResolvedFramerOptions;
  private readonly delimiter: Delimiter;
  /** The pieces of a frame split across chunks: copies, or the chunks' own bytes (see `keepOrCopy`). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** True while skipping the rest of an oversize frame. */
  private discarding = false;
  /** Cached NUL position for `lf_or_nul`, so each chunk is scanned once (not once per frame). */
  private nulChunk: Buffer | undefined;
  private nulIndex = -1;

  constructor(options: DelimitedFramerOptions = {}) {
    super();
    this.opts = resolveFramerOptions(options);
    this.delimiter = options.delimiter ?? 'lf';
  }

  /** Bytes held for a frame that started in an earlier chunk. */
  get buffered(): number {
    return this.partsLength;
  }

  /** True when a frame has started but not ended (used by the auto-detecting framer). */
  get midFrame(): boolean {
    return this.partsLength > 0 || this.discarding;
  }

  /** Push the next chunk; its frames go into `out` as offsets (see `Framer.scan`). */
  scan(chunk: Buffer, out: FrameSpans): void {
    out.reset(chunk);
    const length = chunk.length;
    let pos = 0;
    while (pos < length) pos = this.readFrame(chunk, pos, out);
  }

  /** End of stream: a final frame without delimiter is emitted. */
  flush(emit: FrameSink): void {
    if (this.partsLength > 0 && !this.discarding) {
      const frame = trim(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength), this.delimiter);
      this.reset();
      emit(frame);
      return;
    }
    this.reset();
  }

  /**
   * Seed the current frame with bytes that were read before the caller knew the
   * frame was delimited (the auto-detecting framer's digits). Copies `prefix`; a prefix
   * that alone exceeds `maxFrameSize` starts an `oversize` skip, like any other frame.
   */
  carry(prefix: Buffer): void {
    if (prefix.length === 0 || this.discarding) return;
    if (this.partsLength + prefix.length > this.opts.maxFrameSize) {
      this.startDiscarding(this.partsLength + prefix.length);
      return;
    }
    this.parts.push(Buffer.from(prefix));
    this.partsLength += prefix.length;
  }

  /**
   * Read at most one frame starting at `pos` into `out`. Returns the position after the
   * frame's delimiter, or `chunk.length` when the frame continues in the next chunk.
   */
  readFrame(chunk: Buffer, pos: number, out: FrameSpans): number {
    const end = this.findDelimiter(chunk, pos);
    if (end < 0) {
      this.nulChunk = undefined; // the chunk is done: do not keep it alive
      if (this.discarding) return chunk.length;
      const rest = chunk.length - pos;
      if (this.partsLength + rest > this.opts.maxFrameSize) {
        this.startDiscarding(this.partsLength + rest);
        return chunk.length;
      }
      // A copy unless the tail is most of a chunk the caller handed over (see `keepOrCopy`).
      this.parts.push(keepOrCopy(chunk.subarray(pos), this.opts.ownsChunks));
      this.partsLength += rest;
      return chunk.length;
    }
    if (end + 1 >= chunk.length) this.nulChunk = undefined;
    if (this.discarding) {
      this.discarding = false;
      return end + 1;
    }
    const length = this.partsLength + (end - pos);
    if (length > this.opts.maxFrameSize) {
      this.startDiscarding(length);
      this.discarding = false;
      return end + 1;
    }
    if (this.partsLength === 0) {
      if (end === pos) return end + 1; // two delimiters in a row: no frame (see the class comment)
      // The whole frame is in this chunk: trim it in place (CR before LF, leading spaces).
      let start = pos;
      let stop = end;
      if (this.delimiter !== 'nul' && chunk[stop - 1] === CR) stop--;
      while (start < stop && chunk[start] === SP) start++;
      // Only whitespace: emitted as sent, for an `empty_frame` record with its text.
      if (start < stop) out.push(start, stop);
      else out.push(pos, end);
      return end + 1;
    }
    const held = this.parts;
    held.push(chunk.subarray(pos, end));
    const frame = trim(Buffer.concat(held, length), this.delimiter);
    this.parts = [];
    this.partsLength = 0;
    // The held pieces (copies, or earlier chunks the caller handed over) are garbage now; the
    // last piece is the chunk being read. Freed at once, not at a collection (see owned-bytes.ts).
    if (this.opts.ownsChunks) for (let i = 0; i < held.length - 1; i++) releaseNow(held[i]!);
    out.setHead(frame);
    return end + 1;
  }

  private findDelimiter(chunk: Buffer, pos: number): number {
    if (this.delimiter === 'lf') return chunk.indexOf(LF, pos);
    if (this.delimiter === 'nul') return chunk.indexOf(NUL, pos);
    if (this.nulChunk !== chunk || (this.nulIndex >= 0 && this.nulIndex < pos)) {
      this.nulChunk = chunk;
      this.nulIndex = chunk.indexOf(NUL, pos);
    }
    // Search for LF only up to the NUL, so a NUL-delimited stream stays linear.
    const lf = this.nulIndex < 0 ? chunk.indexOf(LF, pos) : chunk.subarray(0, this.nulIndex).indexOf(LF, pos);
    return lf >= 0 ? lf : this.nulIndex;
  }

  private startDiscarding(length: number): void {
    this.parts = [];
    this.partsLength = 0;
    this.discarding = true;
    this.opts.onError({
      reason: 'oversize',
      message: `delimited frame longer than ${this.opts.maxFrameSize} bytes (at least ${length}); skipped to the next delimiter`,
    });
  }

  private reset(): void {
    this.parts = [];
    this.partsLength = 0;
    this.discarding = false;
    this.nulChunk = undefined;
    this.nulIndex = -1;
  }
}

/**
 * `frame` (never empty) without a CR before the delimiter (unless NUL-delimited) and leading
 * spaces; `frame` itself when that would leave nothing (see the class comment).
 */
function trim(frame: Buffer, delimiter: Delimiter): Buffer {
  let start = 0;
  let stop = frame.length;
  if (delimiter !== 'nul' && stop > 0 && frame[stop - 1] === CR) stop--;
  while (start < stop && frame[start] === SP) start++;
  if (start >= stop) return frame;
  return start === 0 && stop === frame.length ? frame : frame.subarray(start, stop);
}
