import { DelimitedFramer } from './delimited.js';
import { FrameSpans, MAX_COUNT_DIGITS, resolveFramerOptions, ScanningFramer, type FramerOptions, type FrameSink } from './framer.js';
import { OctetCountingFramer } from './octet-counting.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;

const enum State {
  /** Between frames. */
  Start,
  /** Reading leading digits: a count if they end in SP, else part of a delimited frame. */
  Digits,
  Delimited,
  Counted,
}

/**
 * Per-frame framing detection, the way rsyslog's imtcp does it: a frame that starts
 * with `[1-9][0-9]* ` (at most 10 digits, then a space) is RFC 6587 octet-counted;
 * anything else is delimited by LF (or NUL). So one port accepts rsyslog's
 * `TCP_Framing="octet-counted"`, syslog-ng's `syslog()`, RFC 5425 TLS senders and
 * plain LF senders, even mixed on one connection. A line that merely starts with
 * digits (`2021-03-12T14:10:18Z host kernel: ...`) is delimited.
 *
 * A counted frame above `maxFrameSize` is reported (`oversize`) and its counted
 * bytes skipped; a delimited one is skipped to its delimiter.
 */
export class AutoDetectFramer extends ScanningFramer {
  private readonly delimited: DelimitedFramer;
  private readonly counted: OctetCountingFramer;
  private state = State.Start;
  private count = 0;
  private digits = 0;
  /** Where the digits began in the current chunk, or -1 when they began in an earlier one. */
  private digitsStart = -1;
  /** Digits read in earlier chunks (at most MAX_COUNT_DIGITS bytes). */
  private carried: Buffer | undefined;
  /** Scratch for `feed`. */

  constructor(options: FramerOptions = {}) {
    super();
    const opts = resolveFramerOptions(options);
    this.delimited = new DelimitedFramer({ ...opts, delimiter: 'lf_or_nul' });
    this.counted = new OctetCountingFramer(opts);
  }

  /** Bytes held for a frame split across chunks. */
  get buffered(): number {
    return this.delimited.buffered + this.counted.buffered + (this.carried?.length ?? 0);
  }

  /** Push the next chunk; its frames go into `out` as offsets (see `Framer.scan`). */
  scan(chunk: Buffer, out: FrameSpans): void {
    out.reset(chunk);
    const length = chunk.length;
    let pos = 0;
    if (this.state === State.Digits) this.digitsStart = -1;
    while (pos < length) {
      switch (this.state) {
        case State.Start: {
          const b = chunk[pos]!;
          if (b === LF || b === CR || b === NUL || b === SP) {
            pos++; // empty frames and the Cisco-style leading space
          } else if (b >= DIGIT_1 && b <= DIGIT_9) {
            this.state = State.Digits;
            this.count = 0;
            this.digits = 0;
            this.digitsStart = pos;
          } else {
            this.state = State.Delimited;
          }
          break;
        }
        case State.Digits: {
          const b = chunk[pos]!;
          if (b >= DIGIT_0 && b <= DIGIT_9 && this.digits < MAX_COUNT_DIGITS) {
            this.count = this.count * 10 + (b - DIGIT_0);
            this.digits++;
            pos++;
          } else if (b === SP) {
            pos++;
            this.carried = undefined;
            this.state = State.Counted;
            this.counted.beginBody(this.count);
          } else {
            // Not a count: the digits start a delimited frame. Re-read them as such.
            this.state = State.Delimited;
            if (this.digitsStart >= 0) {
              pos = this.digitsStart;
            } else {
              if (this.carried !== undefined) this.delimited.carry(this.carried);
              this.carried = undefined;
              pos = 0;
            }
          }
          break;
        }
        case State.Delimited:
          pos = this.delimited.readFrame(chunk, pos, out);
          if (!this.delimited.midFrame) this.state = State.Start;
          break;
        case State.Counted:
          pos = this.counted.readFrame(chunk, pos, out);
          if (!this.counted.midFrame) this.state = State.Start;
          break;
      }
    }
    if (this.state === State.Digits) {
      // Keep the digits of this chunk (and any before) in case they turn out to be text.
      const tail = chunk.subarray(this.digitsStart >= 0 ? this.digitsStart : 0);
      this.carried = this.carried === undefined ? Buffer.from(tail) : Buffer.concat([this.carried, tail]);
    }
  }

  /** End of stream: pending digits or a delimited frame are emitted; a partial counted frame is reported. */
  flush(emit: FrameSink): void {
    if (this.state === State.Digits && this.carried !== undefined) {
      const frame = this.carried;
      this.carried = undefined;
      emit(frame);
    }
    this.delimited.flush(emit);
    this.counted.flush(emit);
    this.state = State.Start;
    this.carried = undefined;
    this.count = 0;
    this.digits = 0;
  }
}
