import { closeSync, fstatSync, openSync, read } from 'node:fs';
import { fingerprintOf, sameStart, type FileCheckpoint, type FileIdentity } from './file-identity.js';
import { LineSplitter, type FileLine } from './line-splitter.js';

/** One read of a file: the bytes read, or 0 at its current end. */
function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * One open file being tailed: its descriptor, identity, read position, line splitter and the
 * offset acknowledged so far. Knows nothing of the pipeline; `FileInput` drives it.
 */
export class TailedFile {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** The path the file was found at (`log.file.path`; kept after a rename). */
  readonly path: string;
  fingerprint: string;
  fingerprintLength: number;
  /** Next byte to read. */
  readOffset: number;
  /** Offset after the last acknowledged line (what the checkpoint says). */
  ackedOffset: number;
  /** Bumped on truncation: acknowledgements of lines from before it no longer move `ackedOffset`. */
  generation = 0;
  /** The path no longer names this file (renamed or deleted): read to its end, then close. */
  moved = false;
  /** When the file last grew (or was opened), ms since the epoch. */
  lastGrowthMs = Date.now();
  /** Closed after its end was read; kept until its last lines are acknowledged. */
  closed = false;
  /** Offset after the file's last line when it was closed. */
  finalOffset = 0;
  readonly splitter: LineSplitter;

  private constructor(path: string, fd: number, dev: number, ino: number, offset: number, maxFrameSize: number, onCut: (offset: number) => void) {
    this.path = path;
    this.fd = fd;
    this.dev = dev;
    this.ino = ino;
    this.readOffset = offset;
    this.ackedOffset = offset;
    this.fingerprint = '';
    this.fingerprintLength = 0;
    this.splitter = new LineSplitter(offset, maxFrameSize, onCut);
  }

  /** Open `path` for reading at `offset` (no fingerprint yet: see `refreshFingerprint`). */
  static open(path: string, offset: number, maxFrameSize: number, onCut: (offset: number) => void): TailedFile {
    const fd = openSync(path, 'r');
    const st = fstatSync(fd);
    return new TailedFile(path, fd, st.dev, st.ino, offset, maxFrameSize, onCut);
  }

  /** `dev:ino`, the key of the file among those being read. */
  get key(): string {
    return `${this.dev}:${this.ino}`;
  }

  /** The identity as stored in a checkpoint. */
  get identity(): FileIdentity {
    return { dev: this.dev, ino: this.ino, fingerprint: this.fingerprint, fingerprintLength: this.fingerprintLength };
  }

  /** Checkpoint entry: the identity and the acknowledged offset. */
  checkpoint(): FileCheckpoint {
    return { path: this.path, ...this.identity, offset: this.ackedOffset };
  }

  /**
   * Extend the fingerprint while the file is shorter than `bytes` (a new file grows into it).
   * Only bytes already read are hashed, so a checkpoint never vouches for unread content.
   */
  refreshFingerprint(bytes: number): void {
    if (this.fingerprintLength >= bytes || this.closed) return;
    const want = Math.min(bytes, this.readOffset);
    if (want <= this.fingerprintLength) return;
    const fp = fingerprintOf(this.fd, want);
    this.fingerprint = fp.fingerprint;
    this.fingerprintLength = fp.fingerprintLength;
  }

  /** True when the file still starts with the fingerprinted bytes. */
  startMatches(): boolean {
    return sameStart(this.fd, this);
  }

  /** Current size (fstat of the open descriptor; follows the file across renames). */
  size(): number {
    return fstatSync(this.fd).size;
  }

  /** Copytruncate: start over at 0 with a new fingerprint. A held partial line goes to `emit` first. */
  truncated(emit: (line: FileLine) => void): void {
    this.splitter.flush(emit);
    this.generation++;
    this.readOffset = 0;
    this.ackedOffset = 0;
    this.fingerprint = '';
    this.fingerprintLength = 0;
    this.splitter.reset(0);
  }

  /** Read the next chunk into `buf` and split it; returns the bytes read (0 at the end). */
  async readChunk(buf: Buffer, emit: (line: FileLine) => void): Promise<number> {
    const n = await readAt(this.fd, buf, this.readOffset);
    if (n > 0) {
      this.readOffset += n;
      this.lastGrowthMs = Date.now();
      this.splitter.push(buf.subarray(0, n), emit);
    }
    return n;
  }

  /** Close the descriptor without emitting anything (stop: the partial line is read again after a restart). */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.finalOffset = this.readOffset;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  /** Done with the file: emit its partial last line and close the descriptor. */
  close(emit: (line: FileLine) => void): void {
    if (this.closed) return;
    this.splitter.flush(emit);
    this.finalOffset = this.readOffset;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed: nothing left to release.
    }
  }
}
