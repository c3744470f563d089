/**
 * Splits the bytes of a file, read in chunks, into lines with their byte offsets. Unlike the
 * network framer it knows where each line starts in the file: `log.offset` and the checkpoint
 * need that.
 *
 * - A line ends at LF; a CR before it is dropped. Empty lines produce nothing.
 * - A partial last line is kept (copied, at most `maxFrameSize` bytes) until its LF arrives,
 *   or until `flush()` (the file rotated away and went quiet) emits it as it is.
 * - A line longer than `maxFrameSize` is cut: its first `maxFrameSize` bytes are emitted as a
 *   line with `cut: true`, the rest up to its LF is skipped (and `onCut` counts it).
 */

/** One line of a file. */
export interface FileLine {
  /** The line without LF (and CR); a copy or a view of the chunk, valid until the next `push`. */
  text: Buffer;
  /** Byte offset of the line's first byte in the file (`log.offset`). */
  offset: number;
  /**
   * Where reading resumes once this line is acknowledged: after its LF. For a cut line whose
   * LF has not been read yet, the line's start (a restart re-reads it: one duplicate at most).
   */
  resumeOffset: number;
  /** True when the line was longer than `maxFrameSize` and this is its head. */
  cut: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/** Line splitting state of one open file. */
export class LineSplitter {
  /** Copies of the pieces of the line that started in an earlier chunk. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Offset of the line being assembled (or skipped). */
  private lineStart = 0;
  /** Offset of the next byte to be pushed. */
  private position: number;
  /** Skipping the rest of a cut line up to its LF. */
  private skipping = false;

  constructor(
    startOffset: number,
    private readonly maxFrameSize: number,
    private readonly onCut: (offset: number) => void = () => {},
  ) {
    this.position = startOffset;
    this.lineStart = startOffset;
  }

  /** Offset of the next byte expected (where the last chunk ended). */
  get nextOffset(): number {
    return this.position;
  }

  /** Bytes held for a partial line. */
  get buffered(): number {
    return this.partsLength;
  }

  /** Offset where the held partial line starts (or `nextOffset` when none is held). */
  get partialStart(): number {
    return this.partsLength > 0 || this.skipping ? this.lineStart : this.position;
  }

  /** Split the chunk that starts at `nextOffset`; each complete line goes to `emit`. */
  push(chunk: Buffer, emit: (line: FileLine) => void): void {
    const base = this.position;
    this.position += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        this.hold(chunk.subarray(pos), emit);
        return;
      }
      const end = base + lf + 1;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.partsLength === 0) {
        this.emitLine(chunk.subarray(pos, lf), base + pos, end, false, emit);
      } else {
        const piece = chunk.subarray(pos, lf);
        if (this.partsLength + piece.length > this.maxFrameSize) {
          // Cut where the limit falls; the rest of the line is dropped.
          const keep = piece.subarray(0, this.maxFrameSize - this.partsLength);
          const text = Buffer.concat([...this.parts, keep], this.maxFrameSize);
          this.onCut(this.lineStart);
          this.emitLine(text, this.lineStart, end, true, emit);
        } else {
          const text = Buffer.concat([...this.parts, piece], this.partsLength + piece.length);
          this.emitLine(text, this.lineStart, end, false, emit);
        }
        this.parts = [];
        this.partsLength = 0;
      }
      pos = lf + 1;
      this.lineStart = base + pos;
    }
  }

  /**
   * The file is done (rotated away and quiet, or deleted): a held partial line is emitted as it
   * is, resuming after its last byte.
   */
  flush(emit: (line: FileLine) => void): void {
    if (this.partsLength > 0) {
      const text = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
      this.emitLine(text, this.lineStart, this.position, false, emit);
    }
    this.skipping = false;
    this.lineStart = this.position;
  }

  /** Forget everything and continue at `offset` (after a truncation). */
  reset(offset: number): void {
    this.parts = [];
    this.partsLength = 0;
    this.skipping = false;
    this.position = offset;
    this.lineStart = offset;
  }

  /** Keep the unterminated rest of a chunk, cutting it at `maxFrameSize`. */
  private hold(rest: Buffer, emit: (line: FileLine) => void): void {
    if (this.skipping || rest.length === 0) return;
    if (this.partsLength + rest.length > this.maxFrameSize) {
      const keep = rest.subarray(0, this.maxFrameSize - this.partsLength);
      const text = Buffer.concat([...this.parts, keep], this.maxFrameSize);
      this.parts = [];
      this.partsLength = 0;
      this.skipping = true;
      this.onCut(this.lineStart);
      // Its LF is not read yet: resuming at the line's start re-reads it after a restart.
      this.emitLine(text, this.lineStart, this.lineStart, true, emit);
      return;
    }
    // Copy: the read buffer is reused for the next read.
    this.parts.push(Buffer.from(rest));
    this.partsLength += rest.length;
  }

  private emitLine(text: Buffer, offset: number, resumeOffset: number, cut: boolean, emit: (line: FileLine) => void): void {
    let stop = text.length;
    if (stop > 0 && text[stop - 1] === CR) stop--;
    if (stop === 0) return;
    if (!cut && stop > this.maxFrameSize) {
      this.onCut(offset);
      emit({ text: text.subarray(0, this.maxFrameSize), offset, resumeOffset, cut: true });
      return;
    }
    emit({ text: stop === text.length ? text : text.subarray(0, stop), offset, resumeOffset, cut });
  }
}
