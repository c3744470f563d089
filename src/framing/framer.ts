/**
 * The framing contract: a framer turns a byte stream (TCP/TLS reads) into frames.
 *
 * Framing is separate from decoding: a framer knows nothing about syslog beyond
 * where one message ends and the next begins. Each framer is a small state machine
 * that is fed chunks as they arrive and calls `emit` once per complete frame.
 *
 * Frames that lie entirely within one chunk are emitted as `subarray`s of that
 * chunk (no copy); only frames split across chunks are copied. A consumer that
 * keeps a frame beyond the `emit` call keeps the chunk's memory alive, so decoders
 * should turn frames into strings/records right away.
 */

/** Why a framer discarded bytes. The stream always re-syncs; the connection stays up. */
export type FramingErrorReason =
  /** A frame (delimited or counted) longer than `maxFrameSize`: it is skipped. */
  | 'oversize'
  /** Strict octet counting: the bytes where a count was expected are not `[1-9][0-9]* `. */
  | 'bad_octet_count'
  /** End of stream in the middle of an octet-counted frame: the partial body is dropped. */
  | 'truncated';

/** A framing problem, reported through `FramerOptions.onError`. */
export interface FramingError {
  reason: FramingErrorReason;
  /** Human-readable detail for logs (never contains the frame bytes). */
  message: string;
}

/** Options common to every framer. */
export interface FramerOptions {
  /** Largest frame accepted, in bytes; larger frames are reported and skipped. Default 64 KiB. */
  maxFrameSize?: number;
  /** Called for every framing error; the framer has already re-synced. */
  onError?: (error: FramingError) => void;
}

/** Callback receiving one complete, non-empty frame. */
export type FrameSink = (frame: Buffer) => void;

/** A byte-stream framer. Not thread-safe, one instance per connection. */
export interface Framer {
  /** Push the next chunk of the stream; `emit` is called for every frame it completes. */
  feed(chunk: Buffer, emit: FrameSink): void;
  /**
   * Signal end of stream: a final delimited frame without its delimiter is emitted;
   * an incomplete octet-counted frame is reported as `truncated`. The framer is reset.
   */
  flush(emit: FrameSink): void;
  /** Bytes currently held for a frame split across chunks (never more than `maxFrameSize`). */
  readonly buffered: number;
}

/** Framing modes selectable per listener. */
export const FRAMING_MODES = ['auto', 'lf', 'nul', 'octet'] as const;
export type FramingMode = (typeof FRAMING_MODES)[number];

/** Default largest frame: 64 KiB, the largest UDP syslog message as well. */
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024;

/** Largest number of digits accepted in an octet count (counts stay well below 2^53). */
export const MAX_COUNT_DIGITS = 10;

/** Resolved options, shared by the framer implementations. */
export interface ResolvedFramerOptions {
  maxFrameSize: number;
  onError: (error: FramingError) => void;
}

const ignoreError = (): void => {};

/** Fill in framer defaults (used by each framer's constructor). */
export function resolveFramerOptions(options: FramerOptions = {}): ResolvedFramerOptions {
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < 1) {
    throw new RangeError(`maxFrameSize must be a positive integer, got ${String(maxFrameSize)}`);
  }
  return { maxFrameSize, onError: options.onError ?? ignoreError };
}
