import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** The checkpoints' subdirectory of the state directory. */
export const CHECKPOINT_SUBDIRECTORY = 'checkpoints';

/** A checkpoint file that exists but cannot be read or parsed; the message names the file. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** Per input name: the write in progress and the newest value waiting for it. */
interface Slot {
  writing: Promise<void> | undefined;
  pending: { value: unknown } | undefined;
}

/**
 * One small JSON file per input name in `directory`, replaced atomically (write a temporary
 * file, fsync it, rename it over the old one, fsync the directory), so a crash or power loss
 * leaves the old or the new checkpoint, never a torn one.
 *
 * `save()` does not wait: the write runs off the event loop (an fsync on a busy disk can take
 * far longer than reading a batch), one at a time per name, and a value saved while one is in
 * progress replaces any older one still waiting. So a write never lags more than one behind,
 * and the duplicate window after a SIGKILL is what was acknowledged during the write in progress.
 */
export class CheckpointStore {
  private created: Promise<unknown> | undefined;
  private readonly slots = new Map<string, Slot>();
  private failed: ((name: string, err: Error) => void) | undefined;

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

  /** Who hears of a failed write (the input logs it); the next save tries again. */
  onError(listener: (name: string, err: Error) => void): void {
    this.failed = listener;
  }

  /** Replace the checkpoint of `name` with `value` (JSON) soon, atomically and durably (see the class comment). */
  save(name: string, value: unknown): void {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = { writing: undefined, pending: undefined };
      this.slots.set(name, slot);
    }
    slot.pending = { value };
    if (slot.writing === undefined) slot.writing = this.drain(name, slot);
  }

  /** Resolves when every saved value is on disk (or failed). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.slots.values()].map((s) => s.writing).filter((w) => w !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  /** Replace the checkpoint of `name` with `value` now; resolves once it is durable. */
  async write(name: string, value: unknown): Promise<void> {
    this.created ??= mkdir(this.directory, { recursive: true, mode: 0o700 });
    await this.created;
    const file = this.fileOf(name);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(value)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    // The rename itself is durable only once the directory is synced.
    const dir = await open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async drain(name: string, slot: Slot): Promise<void> {
    while (slot.pending !== undefined) {
      const { value } = slot.pending;
      slot.pending = undefined;
      try {
        await this.write(name, value);
      } catch (err) {
        this.created = undefined;
        this.failed?.(name, err as Error);
      }
    }
    slot.writing = undefined;
  }
}
