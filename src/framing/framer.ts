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

/**
 * Why a framer discarded bytes. The stream always re-syncs; the connection stays up. Frames
 * of only whitespace are not discarded (they reach the parser, which records them as
 * `empty_frame`); zero bytes between two delimiters are no frame at all.
 */
export type FramingErrorReason =
  /**
   * A frame longer than `maxFrameSize`: a delimited one is skipped to its delimiter; after an
   * octet count above the cap the stream re-syncs at the next LF or NUL.
   */
  | 'oversize'
  /**
   * Strict octet counting: where a count was expected there is no plausible one,
   * `[1-9][0-9]{0,9} SP` and then a body starting with `<` and a digit (the syslog PRI).
   * The framer re-syncs at the next LF or NUL.
   */
  | 'bad_octet_count'
  /** End of stream in the middle of an octet-counted frame: the partial body is dropped. */
  | 'truncated'
  /**
   * RELP: a stream the session cannot follow (bad header or trailer, a command before `open`).
   * Nothing is lost: the connection is closed and the client resends what was not answered.
   */
  | 'relp_protocol';

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
  /**
   * The caller hands each chunk over: it never touches a chunk after `feed`/`scan` (true of
   * socket reads: Node allocates a new buffer, sized to what was read, for every read), and
   * every frame is copied by its consumer before the next call (a frame sink). A framer may
   * then keep a reference to a partial frame that fills most of its chunk's memory instead of
   * copying it (see `keepOrCopy`), and free the pieces it held once their frame is assembled
   * (`releaseNow`). Default false: partials are copied and left to the collector.
   */
  ownsChunks?: boolean;
}

/** Callback receiving one complete, non-empty frame. */
export type FrameSink = (frame: Buffer) => void;

const NO_CHUNK = Buffer.alloc(0);

/**
 * The frames `Framer.scan` found in one chunk, as offsets rather than one Buffer view per
 * frame (a consumer that copies frames out, like the threaded pipeline, needs no objects
 * per frame). Reusable: `scan` starts by resetting it.
 *
 * Frame `i` (trimmed, non-empty) is `chunk[offsets[2i] .. offsets[2i + 1])`. A frame that
 * began in an earlier chunk is assembled into a copy, `head`, which comes before them: at
 * most one frame per chunk can have started earlier, and it is the chunk's first.
 */
export class FrameSpans {
  /** The chunk the offsets point into. */
  chunk: Buffer = NO_CHUNK;
  /** The frame completed in this chunk that began in an earlier one, else undefined. */
  head: Buffer | undefined = undefined;
  /** Number of frames in `offsets` (not counting `head`). */
  count = 0;
  /** Sum of the lengths of those frames. */
  bytes = 0;
  /** Start and end offset of each frame, in pairs; grows as needed. */
  offsets = new Uint32Array(512);

  /** Frames in total, `head` included. */
  get frames(): number {
    return this.head === undefined ? this.count : this.count + 1;
  }

  /** Start over for `chunk`. */
  reset(chunk: Buffer): void {
    this.chunk = chunk;
    this.head = undefined;
    this.count = 0;
    this.bytes = 0;
  }

  /** Drop the references to the chunk and head, so an idle connection pins no memory. */
  clear(): void {
    this.reset(NO_CHUNK);
  }

  /** Record the frame `chunk[start .. end)`. */
  push(start: number, end: number): void {
    const i = this.count << 1;
    if (i >= this.offsets.length) {
      const next = new Uint32Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    this.offsets[i] = start;
    this.offsets[i + 1] = end;
    this.count++;
    this.bytes += end - start;
  }

  /** Record the frame that began in an earlier chunk (a copy the consumer may keep). */
  setHead(frame: Buffer): void {
    // A frame ends before the next one starts, so only the chunk's first frame can be carried over.
    if (this.head !== undefined || this.count > 0) throw new Error('FrameSpans: a carried-over frame must come first');
    this.head = frame;
  }

  /** Call `emit` for every frame, in stream order (`head` first, then views of `chunk`). */
  emitTo(emit: FrameSink): void {
    if (this.head !== undefined) emit(this.head);
    const { chunk, offsets } = this;
    for (let i = 0, n = this.count << 1; i < n; i += 2) emit(chunk.subarray(offsets[i], offsets[i + 1]));
  }
}

/** A byte-stream framer. Not thread-safe, one instance per connection. */
export interface Framer {
  /**
   * Push the next chunk of the stream; `emit` is called for every frame it completes (after
   * the chunk's framing errors, if any, were reported).
   */
  feed(chunk: Buffer, emit: FrameSink): void;
  /**
   * Like `feed`, but the frames go into `out` (reset first) as offsets into `chunk`. Framing
   * errors are reported while scanning, so before the chunk's frames reach the consumer.
   */
  scan(chunk: Buffer, out: FrameSpans): void;
  /**
   * Signal end of stream: a final delimited frame without its delimiter is emitted;
   * an incomplete octet-counted frame is reported as `truncated`. The framer is reset.
   */
  flush(emit: FrameSink): void;
  /**
   * Bytes currently held for a frame split across chunks: never more than `maxFrameSize`, but
   * for the up to 12 bytes of an octet count the auto-detecting framer holds while undecided.
   */
  readonly buffered: number;
}

/** What the framers share: `feed` is `scan` and then one `emit` per frame found. */
export abstract class ScanningFramer implements Framer {
  private spans: FrameSpans | undefined;

  abstract scan(chunk: Buffer, out: FrameSpans): void;
  abstract flush(emit: FrameSink): void;
  abstract readonly buffered: number;

  /** Push the next chunk; emits every frame it completes. */
  feed(chunk: Buffer, emit: FrameSink): void {
    const out = (this.spans ??= new FrameSpans());
    this.scan(chunk, out);
    out.emitTo(emit);
    out.clear();
  }
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
  ownsChunks: boolean;
}

const ignoreError = (): void => {};

/** Fill in framer defaults (used by each framer's constructor). */
export function resolveFramerOptions(options: FramerOptions = {}): ResolvedFramerOptions {
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < 1) {
    throw new RangeError(`maxFrameSize must be a positive integer, got ${String(maxFrameSize)}`);
  }
  return { maxFrameSize, onError: options.onError ?? ignoreError, ownsChunks: options.ownsChunks ?? false };
}
