import {
  FrameSpans,
  MAX_COUNT_DIGITS,
  resolveFramerOptions,
  ScanningFramer,
  type FramerOptions,
  type FrameSink,
  type ResolvedFramerOptions,
} from './framer.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

const enum State {
  /** Reading `MSG-LEN SP` (or skipping LF/NUL/SP between frames). */
  Count,
  /** Reading the counted body. */
  Body,
  /** Skipping the body of an oversize frame. */
  Skip,
  /** After a garbled count: skipping to the next LF or NUL. */
  Resync,
}

/**
 * RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, as sent by rsyslog
 * (`TCP_Framing="octet-counted"`), syslog-ng's `syslog()` destination, `logger
 * --octet-count` and every RFC 5425 (TLS) sender.
 *
 * Strict: bytes that are not a count are reported as `bad_octet_count` and skipped
 * to the next LF or NUL. A count above `maxFrameSize` is reported as `oversize` and
 * its body skipped, so the stream stays in sync. LF, CR, NUL and SP between frames
 * are ignored (several senders add an LF after each counted frame).
 */
export class OctetCountingFramer extends ScanningFramer {
  private readonly opts: ResolvedFramerOptions;
  private state = State.Count;
  private count = 0;
  private digits = 0;
  private remaining = 0;
  /** Body of a frame split across chunks, allocated once at its final size. */
  private body: Buffer | undefined;
  private filled = 0;
  /** Scratch for `feed`. */

  constructor(options: FramerOptions = {}) {
    super();
    this.opts = resolveFramerOptions(options);
  }

  /** Bytes held for a frame split across chunks. */
  get buffered(): number {
    return this.filled;
  }

  /** True when a frame (count or body) has started but not ended. */
  get midFrame(): boolean {
    return this.state !== State.Count || this.digits > 0;
  }

  /** Push the next chunk; its frames go into `out` as offsets (see `Framer.scan`). */
  scan(chunk: Buffer, out: FrameSpans): void {
    out.reset(chunk);
    const length = chunk.length;
    let pos = 0;
    while (pos < length) pos = this.readFrame(chunk, pos, out);
  }

  /** End of stream: an incomplete frame is reported as `truncated` and dropped. */
  flush(_emit: FrameSink): void {
    if (this.state === State.Body || this.state === State.Skip || this.digits > 0) {
      const missing = this.state === State.Body || this.state === State.Skip ? this.remaining : undefined;
      this.opts.onError({
        reason: 'truncated',
        message:
          missing === undefined
            ? 'stream ended inside an octet count'
            : `stream ended ${missing} bytes before the end of an octet-counted frame`,
      });
    }
    this.state = State.Count;
    this.count = 0;
    this.digits = 0;
    this.remaining = 0;
    this.body = undefined;
    this.filled = 0;
  }

  /**
   * Start a frame whose count was parsed by someone else (the auto-detecting
   * framer). Reports and skips a count above `maxFrameSize`.
   */
  beginBody(count: number): void {
    this.count = count;
    this.digits = 0;
    this.remaining = count;
    this.filled = 0;
    this.body = undefined;
    if (count > this.opts.maxFrameSize) {
      this.state = State.Skip;
      this.opts.onError({
        reason: 'oversize',
        message: `octet count ${count} exceeds the maximum frame size ${this.opts.maxFrameSize}; frame skipped`,
      });
    } else {
      this.state = State.Body;
    }
  }

  /**
   * Process bytes from `pos` until one frame is complete (recorded in `out`) or the chunk
   * ends. Returns the position after what was consumed.
   */
  readFrame(chunk: Buffer, pos: number, out: FrameSpans): number {
    const length = chunk.length;
    while (pos < length) {
      switch (this.state) {
        case State.Count: {
          const b = chunk[pos]!;
          if (b >= DIGIT_0 && b <= DIGIT_9) {
            if ((this.digits === 0 && b === DIGIT_0) || this.digits >= MAX_COUNT_DIGITS) {
              this.garbled(this.digits === 0 ? 'octet count starts with 0' : 'octet count has too many digits');
              break;
            }
            this.count = this.count * 10 + (b - DIGIT_0);
            this.digits++;
            pos++;
          } else if (b === SP && this.digits > 0) {
            pos++;
            this.beginBody(this.count);
          } else if (this.digits === 0 && (b === LF || b === CR || b === NUL || b === SP)) {
            pos++; // separators between frames
          } else {
            this.garbled(`unexpected byte 0x${b.toString(16).padStart(2, '0')} where an octet count was expected`);
          }
          break;
        }
        case State.Body: {
          const n = Math.min(this.remaining, length - pos);
          if (this.body === undefined && n === this.remaining) {
            // Whole body inside this chunk: no copy.
            this.endFrame();
            out.push(pos, pos + n);
            return pos + n;
          }
          if (this.body === undefined) this.body = Buffer.allocUnsafe(this.count);
          chunk.copy(this.body, this.filled, pos, pos + n);
          this.filled += n;
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            const frame = this.body;
            this.endFrame();
            out.setHead(frame);
            return pos;
          }
          break;
        }
        case State.Skip: {
          const n = Math.min(this.remaining, length - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            this.endFrame();
            return pos;
          }
          break;
        }
        case State.Resync: {
          const lf = chunk.indexOf(LF, pos);
          const nul = chunk.indexOf(NUL, pos);
          const end = lf < 0 ? nul : nul < 0 ? lf : Math.min(lf, nul);
          if (end < 0) return length;
          this.endFrame();
          return end + 1;
        }
      }
    }
    return pos;
  }

  private garbled(message: string): void {
    this.state = State.Resync;
    this.count = 0;
    this.digits = 0;
    this.opts.onError({ reason: 'bad_octet_count', message: `${message}; skipped to the next LF` });
  }

  private endFrame(): void {
    this.state = State.Count;
    this.count = 0;
    this.digits = 0;
    this.remaining = 0;
    this.body = undefined;
    this.filled = 0;
  }
}
