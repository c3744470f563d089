/**
 * RELP, the Reliable Event Logging Protocol of rsyslog's librelp (omrelp / imrelp): the
 * server side of a session, as a framer. Every message is a command the server answers:
 *
 *     TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *
 * TXNR is the transaction number (1 .. 999,999,999, then it wraps to 1), COMMAND a word of
 * letters, DATALEN the byte length of DATA (up to 9 digits; `0` needs no `SP DATA`). A client
 * opens a session with `open` (its offers, one `name=value` per line: `relp_version`,
 * `relp_software`, `commands`), sends `syslog` commands whose DATA is one syslog message, and
 * ends with `close`. The server answers each command, in order, with `TXNR rsp DATALEN DATA`,
 * DATA starting with a status (`200 OK`, `500 reason`). The client keeps every message until its
 * `rsp 200` arrives and resends unanswered ones on a new session: that is what makes the
 * transport reliable, so a server must answer only what it has made safe.
 *
 * This framer therefore does not answer by itself: `scan()` emits the DATA of each `syslog`
 * command as a frame and queues its answer; the input hands the frames on (the spool writes
 * them) and only then sends `takeReplies()`. A broken stream (bad header, bad trailer, a
 * command before `open`) cannot be re-synced, since the DATA is length-counted: it is reported
 * as `relp_protocol`, the commands before it are still answered, and `closing` tells the input
 * to end the connection; the client resends what was not answered on its next session.
 */
import { FrameSpans, resolveFramerOptions, ScanningFramer, type FramerOptions, type FrameSink, type ResolvedFramerOptions } from './framer.js';

/** The largest transaction number; the next one is 1 again. */
export const RELP_MAX_TXNR = 999_999_999;
/** Digits of TXNR and DATALEN. */
const MAX_DIGITS = 9;
/** Longest command word accepted (librelp's are at most 32). */
const MAX_COMMAND = 32;
/** Largest DATA of a command other than `syslog` (the `open` offers are a few hundred bytes). */
const MAX_CONTROL_DATA = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;

/** The RELP version this server speaks (the only one librelp defines). */
export const RELP_VERSION = '0';

/** Options of the RELP session framer. */
export interface RelpFramerOptions extends FramerOptions {
  /** `relp_software` offered in the answer to `open`, e.g. `iptables-otel,1.2.0,https://...`. */
  software?: string;
}

const enum State {
  Txnr,
  Command,
  /** DATALEN, then SP (DATA follows) or LF (DATALEN 0). */
  DataLen,
  Data,
  Trailer,
  /** The stream is broken or the session closed: every further byte is ignored. */
  Dead,
}

/**
 * The server side of one RELP session (one per connection). Emits the DATA of `syslog`
 * commands as frames, queues the answers, and reports a stream it cannot follow.
 */
export class RelpFramer extends ScanningFramer {
  private readonly opts: ResolvedFramerOptions;
  private readonly software: string;
  private state = State.Txnr;
  private txnr = 0;
  private digits = 0;
  private command = '';
  private dataLen = 0;
  /** DATA bytes still to come. */
  private remaining = 0;
  /** Start of DATA in the chunk being scanned, or -1 when it began in an earlier one. */
  private dataStart = -1;
  /** DATA split across chunks (only `syslog` within the limit, and control commands). */
  private carry: Buffer | undefined;
  private carried = 0;
  /** The DATA of a `syslog` command over `maxFrameSize` is skipped, counted as `oversize`. */
  private skipping = false;
  private opened = false;
  private replies: string[] = [];
  private closingNow = false;
  private endedOpen = false;

  constructor(options: RelpFramerOptions = {}) {
    super();
    this.opts = resolveFramerOptions(options);
    this.software = options.software ?? 'iptables-otel';
  }

  /** True once the client sent `close` or the stream broke: send the replies, then end the connection. */
  get closing(): boolean {
    return this.closingNow;
  }

  /**
   * True when `flush()` ended a session that was open (the server stops, or the partial-frame
   * budget cut it): the input should send `serverClose()` so the client reconnects at once.
   */
  get endedByServer(): boolean {
    return this.endedOpen;
  }

  /** True after a successful `open`. */
  get isOpen(): boolean {
    return this.opened;
  }

  /** Bytes held for DATA split across chunks. */
  get buffered(): number {
    return this.carried;
  }

  /**
   * The answers to the commands completed so far, in command order, as one buffer to write
   * (undefined when there are none). Send them only once the frames they answer are safe.
   */
  takeReplies(): Buffer | undefined {
    if (this.replies.length === 0) return undefined;
    const out = Buffer.from(this.replies.join(''), 'latin1');
    this.replies = [];
    return out;
  }

  /** The `serverclose` hint a server sends before it ends a session itself (txnr 0). */
  static serverClose(): Buffer {
    return Buffer.from('0 serverclose 0\n', 'latin1');
  }

  scan(chunk: Buffer, out: FrameSpans): void {
    out.reset(chunk);
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.Dead:
          return;
        case State.Txnr: {
          const b = chunk[i++]!;
          if (b >= 0x30 && b <= 0x39 && this.digits < MAX_DIGITS) {
            this.txnr = this.txnr * 10 + (b - 0x30);
            this.digits++;
          } else if (b === SP && this.digits > 0 && this.txnr > 0) {
            this.state = State.Command;
            this.digits = 0;
          } else if ((b === LF || b === CR || b === NUL) && this.digits === 0) {
            // Stray line ends between commands carry nothing; tolerate them.
          } else {
            this.broken(this.digits === 0 && b !== SP ? 'expected a transaction number' : 'bad transaction number');
            return;
          }
          break;
        }
        case State.Command: {
          const b = chunk[i++]!;
          if (((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a)) && this.command.length < MAX_COMMAND) {
            this.command += String.fromCharCode(b);
          } else if (b === SP && this.command.length > 0) {
            this.state = State.DataLen;
          } else {
            this.broken('bad command');
            return;
          }
          break;
        }
        case State.DataLen: {
          const b = chunk[i++]!;
          if (b >= 0x30 && b <= 0x39 && this.digits < MAX_DIGITS) {
            this.dataLen = this.dataLen * 10 + (b - 0x30);
            this.digits++;
          } else if ((b === SP || b === LF) && this.digits > 0) {
            this.digits = 0;
            if (b === LF) {
              if (this.dataLen !== 0) {
                this.broken('DATALEN without DATA');
                return;
              }
              this.command_(chunk, out, -1, -1);
            } else this.beginData(i);
          } else {
            this.broken('bad DATALEN');
            return;
          }
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          if (this.dataStart < 0 && !this.skipping && this.carry !== undefined) {
            chunk.copy(this.carry, this.carried, i, i + take);
            this.carried += take;
          }
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.Trailer;
          break;
        }
        case State.Trailer: {
          const b = chunk[i++]!;
          if (b !== LF) {
            this.broken('no LF after DATA');
            return;
          }
          this.command_(chunk, out, this.dataStart, i - 1);
          break;
        }
      }
    }
    // DATA that began in this chunk and continues in the next: copy what is here.
    if ((this.state === State.Data || this.state === State.Trailer) && this.dataStart >= 0) this.startCarry(chunk, n);
  }

  /**
   * End of stream: a command cut short was never answered, so its client still holds it and
   * resends it on its next session; nothing is emitted or counted. The session is over.
   */
  flush(_emit: FrameSink): void {
    if (this.opened && !this.closingNow) this.endedOpen = true;
    this.carry = undefined;
    this.carried = 0;
    this.state = State.Dead;
    this.closingNow = true;
  }

  /** After `SP` following DATALEN: DATA starts at `i`. */
  private beginData(i: number): void {
    this.dataStart = i;
    this.remaining = this.dataLen;
    this.skipping = false;
    const limit = this.command === 'syslog' ? this.opts.maxFrameSize : MAX_CONTROL_DATA;
    if (this.dataLen > limit) {
      if (this.command !== 'syslog') {
        this.broken(`${this.command} DATA of ${this.dataLen} bytes`);
        return;
      }
      // Skipped without buffering; answered, since it is counted, as the other framers count an oversize frame.
      this.skipping = true;
      this.opts.onError({ reason: 'oversize', message: `RELP syslog DATA of ${this.dataLen} bytes exceeds maxFrameSize ${this.opts.maxFrameSize}` });
    }
    this.state = this.dataLen === 0 ? State.Trailer : State.Data;
  }

  /** The chunk ends inside DATA (or before its trailer) that began in it: keep a copy. */
  private startCarry(chunk: Buffer, n: number): void {
    if (!this.skipping) {
      this.carry = Buffer.allocUnsafe(this.dataLen);
      this.carried = n - this.dataStart;
      chunk.copy(this.carry, 0, this.dataStart, n);
    }
    this.dataStart = -1;
  }

  /** A complete command (its trailer seen): DATA is `chunk[start, end)` or the carry (`start` -1). */
  private command_(chunk: Buffer, out: FrameSpans, start: number, end: number): void {
    const { txnr, command } = this;
    const carried = start < 0 && this.dataLen > 0 ? this.carry : undefined;
    this.txnr = 0;
    this.digits = 0;
    this.command = '';
    this.dataStart = -1;
    this.carry = undefined;
    this.carried = 0;
    this.state = State.Txnr;
    const skipped = this.skipping;
    this.skipping = false;
    const dataLen = this.dataLen;
    this.dataLen = 0;
    switch (command) {
      case 'syslog': {
        if (!this.opened) {
          this.reply(txnr, '500 session not open');
          this.broken('syslog before open');
          return;
        }
        if (!skipped && dataLen > 0) {
          if (carried !== undefined) {
            const len = trimmedLength(carried, 0, carried.length);
            if (len > 0) out.setHead(len === carried.length ? carried : carried.subarray(0, len));
          } else {
            const len = trimmedLength(chunk, start, end);
            if (len > 0) out.push(start, start + len);
          }
        }
        this.reply(txnr, '200 OK');
        return;
      }
      case 'open': {
        const data = carried ?? (dataLen > 0 ? chunk.subarray(start, end) : Buffer.alloc(0));
        const offers = parseOffers(data.toString('latin1'));
        if (!(offers.get('commands') ?? '').split(',').includes('syslog')) {
          this.reply(txnr, '500 the syslog command is required');
          this.broken('open without commands=syslog');
          return;
        }
        this.opened = true;
        this.reply(txnr, `200 OK\nrelp_version=${RELP_VERSION}\nrelp_software=${this.software}\ncommands=syslog`);
        return;
      }
      case 'close':
        this.reply(txnr, '');
        this.state = State.Dead;
        this.closingNow = true;
        return;
      case 'rsp':
        // A client's answer to our serverclose hint: nothing to do.
        return;
      default:
        this.reply(txnr, '500 command not supported');
    }
  }

  private reply(txnr: number, data: string): void {
    this.replies.push(data === '' ? `${txnr} rsp 0\n` : `${txnr} rsp ${Buffer.byteLength(data, 'latin1')} ${data}\n`);
  }

  /** The stream cannot be followed any further: report it, stop reading, let the input close. */
  private broken(why: string): void {
    this.opts.onError({ reason: 'relp_protocol', message: `RELP: ${why}` });
    this.carry = undefined;
    this.carried = 0;
    this.state = State.Dead;
    this.closingNow = true;
  }
}

/** Length of `buf[start, end)` without trailing LF, CR and NUL (a template may end the message with LF). */
function trimmedLength(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && (buf[e - 1] === LF || buf[e - 1] === CR || buf[e - 1] === NUL)) e--;
  return e - start;
}

/** The offers of an `open`: one `name=value` (or bare `name`) per line. */
export function parseOffers(text: string): Map<string, string> {
  const offers = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    offers.set(eq < 0 ? line : line.slice(0, eq), eq < 0 ? '' : line.slice(eq + 1));
  }
  return offers;
}
