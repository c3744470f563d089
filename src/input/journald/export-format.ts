/**
 * A streaming parser for the journal export format (`journalctl --output=export`, see
 * systemd's "Journal Export Formats"): each entry is a run of fields, then an empty line.
 * A field is either `KEY=value\n` (text without LF) or, for values holding LF or bytes that
 * are not printable text, `KEY\n` + a 64-bit little-endian length + the bytes + `\n`.
 *
 * Memory is bounded: an entry larger than `maxEntrySize` bytes is not kept. The parser keeps
 * following the structure (binary lengths included, so an empty line inside a binary value
 * cannot end the entry early) while it discards the entry's bytes, and reports it once with
 * its cursor when that came before the limit.
 */

/** One journal entry: field name -> value. A repeated field keeps its first value. */
export type JournalEntry = Map<string, Buffer>;

/** Why the parser dropped an entry. */
export interface ExportFormatError {
  reason: 'oversize' | 'malformed';
  message: string;
  /** `__CURSOR` of the dropped entry, when it was read before the problem. */
  cursor?: string;
}

/** Options of `ExportFormatParser`. */
export interface ExportFormatParserOptions {
  /** Largest entry kept (sum of its field names and values), bytes. */
  maxEntrySize: number;
  /** Receives each complete entry, in stream order. */
  onEntry: (entry: JournalEntry) => void;
  /** Receives each dropped entry's problem (once per entry). */
  onError?: (error: ExportFormatError) => void;
}

const LF = 0x0a;
const EQ = 0x3d;

/** Where in a field the parser is. */
const enum State {
  /** A field line (`KEY=value`, `KEY` of a binary field, or the empty line ending the entry). */
  Line,
  /** The 8 length bytes of a binary field. */
  Length,
  /** The bytes of a binary field. */
  Binary,
  /** The LF after a binary field. */
  BinaryEnd,
  /** Out of step (a binary field without its LF): skip to the next empty line. */
  Resync,
}

/**
 * Feed chunks as they arrive (`push`); entries come out through `onEntry`. One parser per
 * journalctl process.
 */
export class ExportFormatParser {
  private readonly opts: ExportFormatParserOptions;
  private state = State.Line;
  private entry: JournalEntry = new Map();
  private entryBytes = 0;
  /** The current entry is being dropped (oversize or malformed): fields are parsed, not kept. */
  private discarding = false;
  /** Copies of the pieces of a line split across chunks (not kept while discarding). */
  private parts: Buffer[] = [];
  /** Bytes of the current line so far (also counted while discarding). */
  private lineLength = 0;
  /** The current line has an `=` so far (while discarding, the only fact kept about it). */
  private lineHasEq = false;
  private binaryName = '';
  private readonly lengthBytes = Buffer.alloc(8);
  private lengthHave = 0;
  private binaryLeft = 0;
  private binaryParts: Buffer[] = [];
  /** In `Resync`: the previous byte was LF. */
  private resyncAfterLf = false;

  constructor(options: ExportFormatParserOptions) {
    this.opts = options;
  }

  /** Bytes held for the entry being read (at most about `maxEntrySize`). */
  get buffered(): number {
    return this.entryBytes + (this.discarding ? 0 : this.lineLength);
  }

  /** Parse the next chunk of the stream. */
  push(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.state === State.Line) {
        const lf = chunk.indexOf(LF, pos);
        const stop = lf < 0 ? n : lf;
        if (!this.lineHasEq && chunk.indexOf(EQ, pos) >= 0 && chunk.indexOf(EQ, pos) < stop) this.lineHasEq = true;
        this.linePiece(chunk.subarray(pos, stop));
        pos = stop;
        if (lf >= 0) {
          pos = lf + 1;
          this.endLine();
        }
      } else if (this.state === State.Length) {
        const take = Math.min(8 - this.lengthHave, n - pos);
        chunk.copy(this.lengthBytes, this.lengthHave, pos, pos + take);
        this.lengthHave += take;
        pos += take;
        if (this.lengthHave === 8) this.startBinary(this.lengthBytes.readBigUInt64LE(0));
      } else if (this.state === State.Binary) {
        const take = Math.min(this.binaryLeft, n - pos);
        // Copy: the chunk is a pipe read; the entry outlives it.
        if (!this.discarding) this.binaryParts.push(Buffer.from(chunk.subarray(pos, pos + take)));
        this.binaryLeft -= take;
        pos += take;
        if (this.binaryLeft === 0) this.state = State.BinaryEnd;
      } else if (this.state === State.Resync) {
        const byte = chunk[pos++];
        if (byte === LF && this.resyncAfterLf) {
          this.state = State.Line;
          this.endEntry();
        }
        this.resyncAfterLf = byte === LF;
      } else {
        const byte = chunk[pos++];
        this.state = State.Line;
        if (byte !== LF) {
          if (!this.discarding) this.drop('malformed', `binary field ${this.binaryName} is not followed by a newline`);
          this.binaryParts = [];
          this.state = State.Resync;
          this.resyncAfterLf = false;
          continue;
        }
        if (!this.discarding) {
          const value = this.binaryParts.length === 1 ? this.binaryParts[0]! : Buffer.concat(this.binaryParts);
          this.addField(this.binaryName, value);
        }
        this.binaryParts = [];
      }
    }
  }

  /**
   * End of stream: an entry without its closing empty line (journalctl killed mid-entry) is
   * dropped and reported, since it may lack fields. Resets the parser.
   */
  end(): void {
    if (!this.discarding && (this.entry.size > 0 || this.lineLength > 0 || this.state !== State.Line)) {
      this.opts.onError?.({ reason: 'malformed', message: 'stream ended inside an entry', ...this.cursorOf() });
    }
    this.entry = new Map();
    this.entryBytes = 0;
    this.discarding = false;
    this.state = State.Line;
    this.resetLine();
    this.binaryParts = [];
    this.lengthHave = 0;
    this.binaryLeft = 0;
  }

  private linePiece(piece: Buffer): void {
    if (piece.length === 0) return;
    this.lineLength += piece.length;
    if (this.discarding) return;
    if (this.entryBytes + this.lineLength > this.opts.maxEntrySize) {
      this.drop('oversize', `entry longer than ${this.opts.maxEntrySize} bytes`);
      return;
    }
    this.parts.push(Buffer.from(piece));
  }

  /** The LF of a line in `Line` state. */
  private endLine(): void {
    const length = this.lineLength;
    const hasEq = this.lineHasEq;
    const line = this.discarding ? undefined : this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, length);
    this.resetLine();
    if (length === 0) {
      this.endEntry();
      return;
    }
    if (!hasEq) {
      // `KEY` of a binary field: the length and bytes follow.
      this.binaryName = line?.toString('latin1') ?? '';
      this.lengthHave = 0;
      this.state = State.Length;
      return;
    }
    if (line === undefined) return;
    const eq = line.indexOf(EQ);
    if (eq === 0) {
      this.drop('malformed', 'a field without a name');
      return;
    }
    this.addField(line.toString('latin1', 0, eq), line.subarray(eq + 1));
  }

  private startBinary(length: bigint): void {
    if (!this.discarding && length > BigInt(this.opts.maxEntrySize - this.entryBytes)) {
      this.drop('oversize', `binary field ${this.binaryName} of ${length} bytes makes the entry longer than ${this.opts.maxEntrySize} bytes`);
    }
    if (length > BigInt(Number.MAX_SAFE_INTEGER)) {
      // Not a length journalctl writes: the stream is out of step. Resync at the next empty line.
      if (!this.discarding) this.drop('malformed', `binary field ${this.binaryName} has an impossible length`);
      this.state = State.Line;
      return;
    }
    this.binaryLeft = Number(length);
    this.binaryParts = [];
    this.state = this.binaryLeft > 0 ? State.Binary : State.BinaryEnd;
  }

  private endEntry(): void {
    const entry = this.entry;
    const kept = !this.discarding && entry.size > 0;
    this.entry = new Map();
    this.entryBytes = 0;
    this.discarding = false;
    if (kept) this.opts.onEntry(entry);
  }

  private addField(name: string, value: Buffer): void {
    this.entryBytes += name.length + value.length + 1;
    if (!this.entry.has(name)) this.entry.set(name, value);
  }

  private cursorOf(): { cursor?: string } {
    const c = this.entry.get('__CURSOR');
    return c !== undefined ? { cursor: c.toString('utf8') } : {};
  }

  /** Give up on the current entry: report it once, keep parsing its structure, keep nothing. */
  private drop(reason: ExportFormatError['reason'], message: string): void {
    this.opts.onError?.({ reason, message, ...this.cursorOf() });
    this.discarding = true;
    this.entry = new Map();
    this.entryBytes = 0;
    this.parts = [];
    this.binaryParts = [];
  }

  private resetLine(): void {
    this.parts = [];
    this.lineLength = 0;
    this.lineHasEq = false;
  }
}
