/**
 * Spaces out checkpoint saves (`checkpointInterval`): the first advance schedules one save
 * `intervalMs` later (0: on the next turn of the event loop, so the advances of one event -- an
 * acknowledged batch, a truncation -- give one save), which then saves the latest state. Each save
 * is two fsyncs; on a slow disk a longer interval spends fewer. `flush()` saves a pending one at once
 * (stop). The duplicate window after a SIGKILL grows by at most `intervalMs` of acknowledged lines.
 */
export class CheckpointThrottle {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private pending = false;

  constructor(
    private readonly write: () => void,
    private readonly intervalMs: number,
  ) {}

  /** The state advanced: write it soon. */
  request(): void {
    if (this.pending) return;
    this.pending = true;
    const run = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      this.flush();
    };
    if (this.intervalMs <= 0) this.immediate = setImmediate(run);
    else {
      this.timer = setTimeout(run, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Write now if a write is pending. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.pending) return;
    this.pending = false;
    this.write();
  }
}
