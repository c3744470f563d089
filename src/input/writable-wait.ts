/** How often a wait looks at the sink again by itself, ms. */
const RETRY_MS = 20;

/**
 * Waits for a full sink to take data again, for a datagram input that holds what it read
 * (or leaves it in the kernel's buffer) instead of dropping it.
 *
 * `resume` runs once per `start()`: on the sink's drain signal, or at the latest after
 * `retryMs`, because the drain signal can be missed (the sink may turn writable without
 * passing its low-water mark, or drain between the caller's check and `start()`). The caller
 * checks `writable` again and calls `start()` again if it must.
 *
 * However long the sink stays full, at most one drain listener is registered: the sink keeps
 * its listeners until it drains, so one per retry would grow for the length of an outage.
 */
export class WritableWait {
  private waiting = false;
  private listening = false;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param onDrain registers a one-shot listener for the sink's drain (`FrameSink.onDrain`).
   * @param resume what to do once the sink may be writable.
   */
  constructor(
    private readonly onDrain: (listener: () => void) => void,
    private readonly resume: () => void,
    private readonly retryMs = RETRY_MS,
  ) {}

  /** True between `start()` and the `resume` call (or `cancel()`). */
  get active(): boolean {
    return this.waiting;
  }

  /** Call `resume` once the sink drains, or after `retryMs`; a second call while waiting does nothing. */
  start(): void {
    if (this.waiting) return;
    this.waiting = true;
    this.timer = setTimeout(this.fire, this.retryMs);
    if (!this.listening) {
      this.listening = true;
      this.onDrain(() => {
        this.listening = false;
        this.fire();
      });
    }
  }

  /** Stop waiting: `resume` is not called for this wait (a drain listener still registered does nothing). */
  cancel(): void {
    this.waiting = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    if (!this.waiting) return;
    this.cancel();
    this.resume();
  };
}
