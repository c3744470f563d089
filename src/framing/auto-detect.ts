import { DelimitedFramer } from './delimited.js';
import { FrameSpans, MAX_COUNT_DIGITS, resolveFramerOptions, ScanningFramer, type FramerOptions, type FrameSink } from './framer.js';
import { OctetCountingFramer, PLAUSIBLE_START_LENGTH, plausibleStartByte } from './octet-counting.js';

const LF = 0x0a;
const NUL = 0x00;
const SP = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
/** The `<` a counted body starts with, when it was read in an earlier chunk. */
const LT_BYTE = Buffer.from('<', 'latin1');

const enum State {
  /** Between frames. */
  Start,
  /** Reading leading digits: a count if `SP <digit` follow, else part of a delimited frame. */
  Digits,
  /** After the digits' SP: reading the `<` and the digit that make them a count. */
  AfterCount,
  Delimited,
  Counted,
}

/**
 * Per-frame framing detection, the way rsyslog's imtcp does it: a frame that starts
 * with `[1-9][0-9]{0,9} SP` followed by the `<` and digit of a syslog PRI (the
 * plausibility rule of `OctetCountingFramer`) is RFC 6587 octet-counted; anything else
 * is delimited by LF (or NUL). So one port accepts rsyslog's `TCP_Framing="octet-counted"`,
 * syslog-ng's `syslog()`, RFC 5425 TLS senders and plain LF senders, even mixed on one
 * connection. A line that merely starts with digits (`2021-03-12T14:10:18Z host ...`,
 * `3 packets dropped`, `999999999 x`) is delimited, so it reaches the parser as text.
 *
 * A counted frame above `maxFrameSize` is reported (`oversize`) and the stream re-syncs
 * at the next LF or NUL, as in strict octet mode; a delimited one is skipped to its
 * delimiter. A frame starting with SP or CR is delimited (Cisco's `\n <PRI>`); an LF or
 * NUL at the start of a frame is an empty frame and skipped (see `DelimitedFramer`).
 */
export class AutoDetectFramer extends ScanningFramer {
  private readonly delimited: DelimitedFramer;
  private readonly counted: OctetCountingFramer;
  private state = State.Start;
  private count = 0;
  private digits = 0;
  /** Bytes of the PRI start matched after the SP (0 or 1 while in AfterCount). */
  private matched = 0;
  /** Where the digits began in the current chunk, or -1 when they began in an earlier one. */
  private digitsStart = -1;
  /** Where the body's `<` is in the current chunk, or -1 when it was in an earlier one. */
  private bodyStart = -1;
  /** Digits, SP and `<` read in earlier chunks (at most MAX_COUNT_DIGITS + 2 bytes). */
  private carried: Buffer | undefined;

  constructor(options: FramerOptions = {}) {
    super();
    const opts = resolveFramerOptions(options);
    this.delimited = new DelimitedFramer({ ...opts, delimiter: 'lf_or_nul' });
    this.counted = new OctetCountingFramer(opts);
  }

  /**
   * Bytes held for a frame split across chunks: at most `maxFrameSize`, or the up to 12
   * bytes of a count whose framing the next chunk decides.
   */
  get buffered(): number {
    return this.delimited.buffered + this.counted.buffered + (this.carried?.length ?? 0);
  }

  /** Push the next chunk; its frames go into `out` as offsets (see `Framer.scan`). */
  scan(chunk: Buffer, out: FrameSpans): void {
    out.reset(chunk);
    const length = chunk.length;
    let pos = 0;
    this.digitsStart = -1;
    this.bodyStart = -1;
    while (pos < length) {
      switch (this.state) {
        case State.Start: {
          const b = chunk[pos]!;
          if (b === LF || b === NUL) {
            pos++; // an empty frame, or the LF some senders put after a counted frame
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
          } else if (b === SP && this.count >= PLAUSIBLE_START_LENGTH) {
            pos++;
            this.state = State.AfterCount;
            this.matched = 0;
          } else {
            pos = this.toDelimited();
          }
          break;
        }
        case State.AfterCount: {
          if (!plausibleStartByte(this.matched, chunk[pos]!)) {
            pos = this.toDelimited();
            break;
          }
          if (this.matched === 0) this.bodyStart = pos;
          if (++this.matched < PLAUSIBLE_START_LENGTH) {
            pos++;
            break;
          }
          // A count: the body starts at its `<`, in this chunk (no copy) or the previous one
          // (then `pos` is at the digit, the body's second byte).
          this.state = State.Counted;
          this.carried = undefined;
          if (this.bodyStart >= 0) {
            pos = this.bodyStart;
            this.counted.beginCheckedBody(this.count);
          } else {
            this.counted.beginCheckedBody(this.count, LT_BYTE);
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
    if (this.state === State.Digits || this.state === State.AfterCount) {
      // Keep the count of this chunk (and any before) in case it turns out to be text.
      const tail = chunk.subarray(this.digitsStart >= 0 ? this.digitsStart : 0);
      this.carried = this.carried === undefined ? Buffer.from(tail) : Buffer.concat([this.carried, tail]);
    }
  }

  /** End of stream: pending digits or a delimited frame are emitted; a partial counted frame is reported. */
  flush(emit: FrameSink): void {
    if ((this.state === State.Digits || this.state === State.AfterCount) && this.carried !== undefined) {
      // Undecided at EOF: text, framed (and size-checked) like any delimited frame.
      this.delimited.carry(this.carried);
    }
    this.delimited.flush(emit);
    this.counted.flush(emit);
    this.state = State.Start;
    this.carried = undefined;
    this.count = 0;
    this.digits = 0;
    this.matched = 0;
  }

  /** Not a count: the frame is delimited and starts at the digits. Returns where to read it from. */
  private toDelimited(): number {
    this.state = State.Delimited;
    if (this.digitsStart >= 0) return this.digitsStart;
    if (this.carried !== undefined) this.delimited.carry(this.carried);
    this.carried = undefined;
    return 0;
  }
}
