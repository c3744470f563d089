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
const LT = 0x3c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * How many bytes of a counted body the plausibility check reads: `<` and the PRI's first
 * digit. A count below this cannot hold a syslog message and is a `bad_octet_count`.
 */
export const PLAUSIBLE_START_LENGTH = 2;

/**
 * True when `b` may be byte `index` (0 or 1) of a counted body: RFC 6587 §3.4.1 and RFC 5425
 * count a SYSLOG-MSG, and every syslog message (RFC 5424 `<PRI>1 `, RFC 3164 `<PRI>`) starts
 * with `<` and a digit. Every sender in the captures does so.
 */
export function plausibleStartByte(index: number, b: number): boolean {
  return index === 0 ? b === LT : b >= DIGIT_0 && b <= DIGIT_9;
}

const enum State {
  /** Reading `MSG-LEN SP` (or skipping LF/CR/NUL/SP between frames). */
  Count,
  /** Reading the counted body (its first bytes checked by `plausibleStartByte`). */
  Body,
  /** After a bad or oversize count: skipping to the next LF or NUL. */
  Resync,
}

/**
 * RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, as sent by rsyslog
 * (`TCP_Framing="octet-counted"`), syslog-ng's `syslog()` destination, `logger
 * --octet-count` and every RFC 5425 (TLS) sender. LF, CR, NUL and SP between frames
 * are ignored (several senders add an LF after each counted frame).
 *
 * A count is trusted only when it is plausible: `[1-9][0-9]{0,9}`, then SP, then a body
 * starting with `<` and a digit (the PRI). A count above `maxFrameSize` is reported as
 * `oversize`; anything else where a count was expected (no digits, no SP, a body that
 * does not start with `<digit`, so also a bare message without PRI) as `bad_octet_count`.
 * Either way only that frame is lost: the framer falls back to LF framing the way
 * rsyslog's imtcp does, skipping to the next LF or NUL, and reads counts again after it.
 * So one garbage count (`999999999 x`) cannot swallow the frames that follow; an honest
 * frame above the cap costs the bytes up to the next LF or NUL.
 */
export class OctetCountingFramer extends ScanningFramer {
  private readonly opts: ResolvedFramerOptions;
  private state = State.Count;
  private count = 0;
  private digits = 0;
  private remaining = 0;
  /** Body bytes already checked by `plausibleStartByte` (up to PLAUSIBLE_START_LENGTH). */
  private checked = 0;
  /** Body of a frame split across chunks, allocated once at its final size. */
  private body: Buffer | undefined;
  private filled = 0;

  constructor(options: FramerOptions = {}) {
    super();
    this.opts = resolveFramerOptions(options);
  }

  /** Bytes held for a frame split across chunks: the whole body buffer, allocated at its count, not only what is filled. */
  get buffered(): number {
    return this.body?.length ?? this.filled;
  }

  /** True when a frame (count or body) has started but not ended, or a re-sync is under way. */
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
    if (this.state === State.Body || (this.state === State.Count && this.digits > 0)) {
      this.opts.onError({
        reason: 'truncated',
        message:
          this.state === State.Count
            ? 'stream ended inside an octet count'
            : `stream ended ${this.remaining} bytes before the end of an octet-counted frame`,
      });
    }
    this.endFrame();
  }

  /**
   * Start a frame whose count and plausible start (`<` and a digit) the caller has checked
   * (the auto-detecting framer). `consumed` is what the caller has already read of the body
   * (copied); the rest follows in the chunk. A count above `maxFrameSize` is reported as
   * `oversize` and the framer re-syncs at the next LF or NUL.
   */
  beginCheckedBody(count: number, consumed?: Buffer): void {
    this.startBody(count, PLAUSIBLE_START_LENGTH);
    if (this.state === State.Body && consumed !== undefined && consumed.length > 0) {
      this.body = Buffer.allocUnsafe(count);
      consumed.copy(this.body, 0);
      this.filled = consumed.length;
      this.remaining = count - consumed.length;
    }
  }

  /**
   * Process bytes from `pos` until one frame is complete (recorded in `out`), a re-sync is
   * done, or the chunk ends. Returns the position after what was consumed.
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
            this.startBody(this.count, 0);
          } else if (this.digits === 0 && (b === LF || b === CR || b === NUL || b === SP)) {
            pos++; // separators between frames
          } else {
            this.garbled(`unexpected byte 0x${b.toString(16).padStart(2, '0')} where an octet count was expected`);
          }
          break;
        }
        case State.Body: {
          // Bytes before `pos` that were checked are `<` or a digit, never LF or NUL, so a
          // re-sync from `pos` finds the same delimiter as one from the body's start.
          if (this.checked < PLAUSIBLE_START_LENGTH && !this.checkStart(chunk, pos)) break;
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
        case State.Resync: {
          const lf = chunk.indexOf(LF, pos);
          const nul = lf < 0 ? chunk.indexOf(NUL, pos) : chunk.subarray(0, lf).indexOf(NUL, pos);
          const end = lf < 0 ? nul : nul < 0 ? lf : nul;
          if (end < 0) return length;
          this.endFrame();
          return end + 1;
        }
      }
    }
    return pos;
  }

  /** After `COUNT SP`: a body, or a framing error when the count is oversize or too small. */
  private startBody(count: number, checked: number): void {
    if (count > this.opts.maxFrameSize) {
      this.resync();
      this.opts.onError({
        reason: 'oversize',
        message: `octet count ${count} exceeds the maximum frame size ${this.opts.maxFrameSize}; skipped to the next LF or NUL`,
      });
      return;
    }
    if (count < PLAUSIBLE_START_LENGTH) {
      this.garbled(`octet count ${count} is too small for a syslog message`);
      return;
    }
    this.state = State.Body;
    this.count = count;
    this.digits = 0;
    this.remaining = count;
    this.checked = checked;
    this.body = undefined;
    this.filled = 0;
  }

  /**
   * Check the body bytes of this chunk that `plausibleStartByte` has not seen (the body's
   * bytes `filled..` are `chunk[pos..]`). False, after reporting, when one does not fit.
   */
  private checkStart(chunk: Buffer, pos: number): boolean {
    for (let at = pos + this.checked - this.filled; this.checked < PLAUSIBLE_START_LENGTH && at < chunk.length; at++) {
      if (!plausibleStartByte(this.checked, chunk[at]!)) {
        this.garbled(`octet count ${this.count} is not followed by a syslog PRI ('<' and a digit)`);
        return false;
      }
      this.checked++;
    }
    return true;
  }

  private garbled(message: string): void {
    this.resync();
    this.opts.onError({ reason: 'bad_octet_count', message: `${message}; skipped to the next LF or NUL` });
  }

  private resync(): void {
    this.endFrame();
    this.state = State.Resync;
  }

  private endFrame(): void {
    this.state = State.Count;
    this.count = 0;
    this.digits = 0;
    this.remaining = 0;
    this.checked = 0;
    this.body = undefined;
    this.filled = 0;
  }
}
