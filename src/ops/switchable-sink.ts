import type { FirewallLogRecord } from '../mapping/record.js';
import type { RecordSink } from '../pipeline/record-sink.js';

/**
 * A `RecordSink` that forwards to a target which can be replaced while inputs keep running
 * (SIGHUP with new outputs: a new pipeline takes new records, the old one drains).
 * Paused inputs waiting in `onDrain` are resumed on a switch; if the new target is full,
 * their next `offer()` returns false and they pause again, so nothing is lost.
 */
export class SwitchableSink implements RecordSink {
  private readonly pending = new Set<() => void>();

  constructor(private target: RecordSink) {}

  /** The sink records currently go to. */
  get current(): RecordSink {
    return this.target;
  }

  get writable(): boolean {
    return this.target.writable;
  }

  /** Forwards to the current target. */
  offer(records: FirewallLogRecord[]): boolean {
    return this.target.offer(records);
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

  /** Sends new records to `next` and wakes every input waiting for a drain. */
  switchTo(next: RecordSink): void {
    this.target = next;
    const waiting = [...this.pending];
    for (const l of waiting) l();
  }
}
