import type { FirewallLogRecord } from '../mapping/record.js';

/**
 * What an input hands its records to. The pipeline's bounded queue implements it.
 *
 * Backpressure contract: `offer()` always takes the records it is given when it
 * returns `true`. When it returns `false` the queue is at or over its high-water
 * mark: a stream input must pause reading and wait for `onDrain`; a datagram input
 * (UDP), which cannot pause its sender, must call `offer()` only while `writable`
 * is true: until `onDrain` it stops reading (the kernel's buffer holds the rest) and
 * counts as dropped only what it cannot hold.
 */
export interface RecordSink<T = FirewallLogRecord> {
  /** True while the queue is below its high-water mark. */
  readonly writable: boolean;
  /** Enqueue records; returns false when the caller should pause. */
  offer(records: T[]): boolean;
  /** Call `listener` once, the next time the queue drains below its low-water mark. */
  onDrain(listener: () => void): void;
}
