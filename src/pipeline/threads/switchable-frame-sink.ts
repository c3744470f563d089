import type { ReceiveContext } from '../../mapping/record.js';
import type { FrameSink } from '../frame-sink.js';

/**
 * A `FrameSink` whose target can be replaced while inputs keep running (SIGHUP with new
 * outputs: a new threaded pipeline takes new frames, the old one drains). Inputs paused in
 * `onDrain` are woken on a switch; if the new target is full, their next offer returns
 * false and they pause again, so nothing is lost.
 */
export class SwitchableFrameSink implements FrameSink {
  private readonly pending = new Set<() => void>();

  constructor(private target: FrameSink) {}

  /** The sink frames currently go to. */
  get current(): FrameSink {
    return this.target;
  }

  /** True while the current target is below its high-water mark. */
  get writable(): boolean {
    return this.target.writable;
  }

  /** Forwards to the current target. */
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    return this.target.offerFrames(frames, ctx);
  }

  /** Registers `listener` with the current target; it fires once, from that target or from a switch. */
  onDrain(listener: () => void): void {
    let fired = false;
    const once = (): void => {
      if (fired) return;
      fired = true;
      this.pending.delete(once);
      listener();
    };
    this.pending.add(once);
    this.target.onDrain(once);
  }

  /** Sends new frames to `next` and wakes every input waiting for a drain. */
  switchTo(next: FrameSink): void {
    this.target = next;
    for (const l of [...this.pending]) l();
  }
}
