import type { SourceMark } from '../mapping/record.js';

/** One mark: frames handed over with the same position. */
interface Mark<P> {
  id: number;
  /** Frames not yet acknowledged. */
  left: number;
  position: P;
}

/**
 * Turns the pipeline's acknowledgements back into a source position an input may checkpoint.
 *
 * The input `track()`s each group of frames it offers with the position the source is at after
 * them and puts the returned mark on their context. Acknowledgements come per batch, and across
 * worker threads not in order: the tracker advances only over the contiguous prefix of marks
 * whose every frame is acknowledged, so a checkpoint never passes an unacknowledged frame.
 * Memory: one small object per mark still unacknowledged (the input bounds that with `outstanding`).
 */
export class AckTracker<P> {
  private readonly marks: Mark<P>[] = [];
  /** Index of the first mark still held in `marks` (marks before it are gone). */
  private head = 0;
  private nextId = 1;
  private firstId = 1;
  private frames = 0;
  /** The last position passed by acknowledgements not yet reported (see `acknowledged`'s `report`). */
  private unreported: { position: P } | undefined;

  /**
   * @param input the input's name (goes on every mark, routes acknowledgements back)
   * @param onAdvance called with the last position of the newly acknowledged prefix
   */
  constructor(
    readonly input: string,
    private readonly onAdvance: (position: P) => void,
  ) {}

  /** Frames tracked and not yet acknowledged (the input pauses above its bound). */
  get outstanding(): number {
    return this.frames;
  }

  /** Register `frames` about to be offered that end at `position`; put the result on their context. */
  track(frames: number, position: P): SourceMark {
    const id = this.nextId++;
    this.marks.push({ id, left: frames, position });
    this.frames += frames;
    return { input: this.input, id };
  }

  /**
   * `frames` of mark `id` were acknowledged (delivered to every output, or given up for a counted
   * reason). Unknown ids (an earlier run's, read back from a spool) are ignored. With `report`
   * false the advance is only noted, and `reportAdvance()` tells it once for a whole batch (the
   * router does this: one checkpoint per acknowledged batch, not per line).
   */
  acknowledged(id: number, frames: number, report = true): void {
    const idx = this.head + (id - this.firstId);
    if (id < this.firstId || idx >= this.marks.length) return;
    const m = this.marks[idx] as Mark<P>;
    const n = Math.min(frames, m.left);
    m.left -= n;
    this.frames -= n;
    let advanced: Mark<P> | undefined;
    while (this.head < this.marks.length && (this.marks[this.head] as Mark<P>).left === 0) {
      advanced = this.marks[this.head] as Mark<P>;
      this.head++;
      this.firstId++;
    }
    // Compact now and then, not per acknowledgement.
    if (this.head > 1024 && this.head * 2 > this.marks.length) {
      this.marks.splice(0, this.head);
      this.head = 0;
    }
    if (advanced !== undefined) this.unreported = { position: advanced.position };
    if (report) this.reportAdvance();
  }

  /** Call `onAdvance` with the furthest position passed since the last report, if any. */
  reportAdvance(): void {
    const u = this.unreported;
    if (u === undefined) return;
    this.unreported = undefined;
    this.onAdvance(u.position);
  }
}
