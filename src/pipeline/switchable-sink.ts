import type { FrameSpans } from '../framing/framer.js';
import type { FirewallLogRecord, ReceiveContext } from '../mapping/record.js';
import type { FrameSink } from './frame-sink.js';
import type { RecordSink } from './record-sink.js';

/** What the two sink contracts share: a high-water flag and a drain callback. */
interface DrainingTarget {
  readonly writable: boolean;
  onDrain(listener: () => void): void;
}

/**
 * A sink whose target can be replaced while inputs keep running (SIGHUP with new
 * outputs: a new pipeline takes new input, the old one drains). Inputs paused in
 * `onDrain` are woken on a switch; if the new target is full, their next offer returns
 * false and they pause again, so nothing is lost.
 */
abstract class SwitchableTarget<T extends DrainingTarget> {
  private readonly pending = new Set<() => void>();

  constructor(protected target: T) {}

  /** The sink input currently goes to. */
  get current(): T {
    return this.target;
  }

  /** True while the current target is below its high-water mark. */
  get writable(): boolean {
    return this.target.writable;
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

  /** Sends new input to `next` and wakes every input waiting for a drain. */
  switchTo(next: T): void {
    this.target = next;
    for (const l of [...this.pending]) l();
  }
}

/** A replaceable `RecordSink` (the single-thread path). */
export class SwitchableSink extends SwitchableTarget<RecordSink> implements RecordSink {
  /** Forwards to the current target. */
  offer(records: FirewallLogRecord[]): boolean {
    return this.target.offer(records);
  }
}

/** A replaceable `FrameSink` (the threaded path). */
export class SwitchableFrameSink extends SwitchableTarget<FrameSink> implements FrameSink {
  /** The current target's. */
  get refusalReason(): 'queue_full' | 'spool_full' {
    return this.target.refusalReason ?? 'queue_full';
  }

  /** Forwards to the current target. */
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    return this.target.offerFrames(frames, ctx);
  }

  /** Forwards to the current target. */
  offerSpans(spans: FrameSpans, ctx: ReceiveContext): boolean {
    return this.target.offerSpans(spans, ctx);
  }
}
