import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The checkpoints' subdirectory of the state directory. */
export const CHECKPOINT_SUBDIRECTORY = 'checkpoints';

/** A checkpoint file that exists but cannot be read or parsed; the message names the file. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/**
 * One small JSON file per input name in `directory`, replaced atomically (write a temporary
 * file, fsync it, rename it over the old one, fsync the directory), so a crash or power loss
 * leaves the old or the new checkpoint, never a torn one. Synchronous: a write is a few
 * hundred bytes, done once per acknowledged batch.
 */
export class CheckpointStore {
  private created = false;

  constructor(readonly directory: string) {}

  /** The file of input `name`: a readable stem plus a hash of the full name (names hold `/` and `:`). */
  fileOf(name: string): string {
    const stem = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
    return join(this.directory, `${stem}-${hash}.json`);
  }

  /** The stored value of `name`, or undefined when there is none. Throws `CheckpointError` when it is unreadable. */
  read<T>(name: string): T | undefined {
    const file = this.fileOf(name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointError(`checkpoint ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new CheckpointError(`checkpoint ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Replace the checkpoint of `name` with `value` (JSON), atomically and durably. */
  write(name: string, value: unknown): void {
    if (!this.created) {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      this.created = true;
    }
    const file = this.fileOf(name);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(value)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    // The rename itself is durable only once the directory is synced.
    const dir = openSync(this.directory, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
