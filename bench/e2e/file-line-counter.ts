/**
 * Follows a growing output file and counts its LF-terminated lines, reading only
 * the bytes appended since the last poll. The time the last line landed is the
 * file's mtime, so the poll interval does not blur the measurement.
 */
import { openSync, readSync, fstatSync, closeSync, existsSync } from 'node:fs';

/** Incremental line counter for one file. */
export class FileLineCounter {
  private fd: number | undefined;
  private offset = 0;
  private lines = 0;
  private readonly buf = Buffer.allocUnsafe(4 << 20);

  constructor(private readonly path: string) {}

  /** Read what was appended and return the total line count so far. */
  poll(): number {
    if (this.fd === undefined) {
      if (!existsSync(this.path)) return 0;
      this.fd = openSync(this.path, 'r');
    }
    for (let guard = 0; guard < 10_000; guard++) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      let i = this.buf.indexOf(10, 0);
      while (i !== -1 && i < n) {
        this.lines++;
        i = this.buf.indexOf(10, i + 1);
      }
    }
    return this.lines;
  }

  /** Last modification time of the file (ms since the epoch), or 0 before it exists. */
  mtimeMs(): number {
    return this.fd === undefined ? 0 : fstatSync(this.fd).mtimeMs;
  }

  /** Release the file descriptor. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Count occurrences of `needle` in the file at `path` (streaming, chunk-boundary safe). */
export function countOccurrences(path: string, needle: string): number {
  if (!existsSync(path)) return 0;
  const pat = Buffer.from(needle);
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  let pos = 0;
  let count = 0;
  try {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      let i = buf.indexOf(pat, 0);
      while (i !== -1 && i + pat.length <= n) {
        count++;
        i = buf.indexOf(pat, i + pat.length);
      }
      if (n < buf.length) break;
      // Step back so a match straddling the chunk boundary is seen in the next chunk.
      pos += n - (pat.length - 1);
    }
  } finally {
    closeSync(fd);
  }
  return count;
}
