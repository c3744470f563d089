import type { FrameSpans } from '../framing/framer.js';
import type { ReceiveContext } from '../mapping/record.js';

/**
 * What an input hands raw frames to when parsing happens elsewhere (the threaded
 * pipeline: the main thread only reads and frames, worker threads parse, encode and
 * export). The frame-level twin of `RecordSink`, with the same backpressure contract:
 *
 * - `offerFrames()` always takes the frames it is given when it returns `true`; `false`
 *   means the bound is at or over its high-water mark: a stream input pauses and waits
 *   for `onDrain`.
 * - A datagram input (UDP), which cannot pause its sender, offers only while `writable`
 *   is true. Until `onDrain` it stops reading and holds what it read (the kernel's receive
 *   buffer takes the rest); what it cannot hold it counts as `dropped{reason="queue_full"}`.
 *
 * Frames may be subarrays of the socket's read buffer: the sink copies them before it
 * returns, so the caller may reuse that memory at once.
 */
export interface FrameSink {
  /** True while the bound is below its high-water mark. */
  readonly writable: boolean;
  /**
   * Why `writable` is false, as the `dropped{reason}` label for what a datagram input cannot offer:
   * `queue_full` (the default) or `spool_full` (the persistent spool is full or cannot be written).
   */
  readonly refusalReason?: 'queue_full' | 'spool_full';
  /** Take the frames of one socket read (all received with `ctx`); false = pause. */
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean;
  /**
   * The same for frames given as offsets into the read's chunk (`spans.head` first): no
   * Buffer per frame. The sink copies them out; it does not keep `spans`.
   */
  offerSpans(spans: FrameSpans, ctx: ReceiveContext): boolean;
  /** Call `listener` once, the next time the bound drains to its low-water mark. */
  onDrain(listener: () => void): void;
}
