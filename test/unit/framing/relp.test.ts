import { describe, expect, it } from 'vitest';
import { FrameSpans, type FramingError } from '../../../src/framing/framer.js';
import { parseOffers, RELP_MAX_TXNR, RelpFramer } from '../../../src/framing/relp.js';
import { bytewise, cut } from './framing-helpers.js';

/** What librelp 1.11 (rsyslog omrelp) sends to open a session, byte for byte. */
const OPEN = '1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n';
const MSG1 = '<13>2026-12-02T03:39:16.748600+00:00 vm fw: hello one';
const MSG2 = '<13>2026-12-02T03:39:16.754118+00:00 vm fw: hello two';
const syslog = (txnr: number, msg: string): string => `${txnr} syslog ${Buffer.byteLength(msg)} ${msg}\n`;
const SESSION = OPEN + syslog(2, MSG1) + syslog(3, MSG2) + '4 close 0\n';

/** Feed chunks through `scan` (as the input does), collecting frames, replies after each chunk, and errors. */
function session(chunks: Buffer[], maxFrameSize?: number): { frames: string[]; replies: string; errors: FramingError[]; framer: RelpFramer } {
  const errors: FramingError[] = [];
  const framer = new RelpFramer({ software: 'test,1', onError: (e) => errors.push(e), ...(maxFrameSize !== undefined ? { maxFrameSize } : {}) });
  const frames: string[] = [];
  let replies = '';
  const spans = new FrameSpans();
  for (const c of chunks) {
    framer.scan(c, spans);
    spans.emitTo((f) => frames.push(f.toString('latin1')));
    spans.clear();
    replies += framer.takeReplies()?.toString('latin1') ?? '';
  }
  return { frames, replies, errors, framer };
}

const OPEN_REPLY = '1 rsp 58 200 OK\nrelp_version=0\nrelp_software=test,1\ncommands=syslog\n';

describe('RelpFramer', () => {
  it('answers open with its offers, acknowledges each syslog command, and answers close', () => {
    const { frames, replies, errors, framer } = session([Buffer.from(SESSION)]);
    expect(frames).toEqual([MSG1, MSG2]);
    expect(replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 0\n');
    expect(errors).toEqual([]);
    expect(framer.closing).toBe(true);
  });

  it('gives the same frames and replies split at every byte, and at every single cut point', () => {
    const buf = Buffer.from(SESSION);
    const whole = session([buf]);
    expect(session(bytewise(buf))).toMatchObject({ frames: whole.frames, replies: whole.replies, errors: [] });
    for (let p = 1; p < buf.length; p++) {
      const r = session(cut(buf, [p]));
      expect(r.frames, `cut at ${p}`).toEqual(whole.frames);
      expect(r.replies, `cut at ${p}`).toBe(whole.replies);
    }
  });

  it('answers only commands whose trailer arrived: a message split before its LF is acknowledged in the next read', () => {
    const buf = Buffer.from(OPEN + syslog(2, MSG1));
    const framer = new RelpFramer();
    const spans = new FrameSpans();
    framer.scan(buf.subarray(0, buf.length - 1), spans);
    expect(spans.frames).toBe(0);
    expect(framer.takeReplies()?.toString()).toMatch(/^1 rsp /);
    expect(framer.buffered).toBe(Buffer.byteLength(MSG1));
    framer.scan(buf.subarray(buf.length - 1), spans);
    expect(spans.head?.toString()).toBe(MSG1);
    expect(framer.takeReplies()?.toString()).toBe('2 rsp 6 200 OK\n');
    expect(framer.buffered).toBe(0);
  });

  it('a syslog command before open: answered 500, counted, and the session closes', () => {
    const { frames, replies, errors, framer } = session([Buffer.from(syslog(1, MSG1) + syslog(2, MSG2))]);
    expect(frames).toEqual([]);
    expect(replies).toBe('1 rsp 20 500 session not open\n');
    expect(errors).toEqual([{ reason: 'relp_protocol', message: 'RELP: syslog before open' }]);
    expect(framer.closing).toBe(true);
  });

  it.each([
    ['a letter in the transaction number', '3x syslog 3 abc\n'],
    ['a transaction number of 0', '0 syslog 3 abc\n'],
    ['a transaction number of ten digits', '1234567890 syslog 3 abc\n'],
    ['a DATALEN of ten digits', '3 syslog 1234567890 abc\n'],
    ['a non-numeric DATALEN', '3 syslog x abc\n'],
    ['DATA longer than DATALEN (no LF after it)', '3 syslog 2 abc\n'],
    ['DATALEN without DATA', '3 syslog 3\n'],
    ['a command with a digit', '3 sys1og 3 abc\n'],
  ])('%s: the commands before are answered, the error counted, the rest ignored and the session closes', (_what, bad) => {
    const { frames, replies, errors, framer } = session([Buffer.from(OPEN + syslog(2, MSG1) + bad + syslog(4, MSG2))]);
    expect(frames).toEqual([MSG1]);
    expect(replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.reason).toBe('relp_protocol');
    expect(framer.closing).toBe(true);
  });

  it('syslog DATA over maxFrameSize is skipped without being held, counted as oversize, and the session goes on', () => {
    const big = '<13>' + 'x'.repeat(500);
    const buf = Buffer.from(OPEN + syslog(2, big) + syslog(3, MSG2));
    const r = session(bytewise(buf), 128);
    expect(r.frames).toEqual([MSG2]);
    expect(r.errors.map((e) => e.reason)).toEqual(['oversize']);
    expect(r.replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n3 rsp 6 200 OK\n');
    expect(r.framer.closing).toBe(false);
    // While skipping, nothing of the oversize DATA is buffered.
    const f = new RelpFramer({ maxFrameSize: 128 });
    const spans = new FrameSpans();
    f.scan(buf.subarray(0, OPEN.length + 200), spans);
    expect(f.buffered).toBe(0);
  });

  it('an unknown command is answered 500 and the session goes on; stray LFs between commands are tolerated', () => {
    const r = session([Buffer.from(OPEN + '2 starttls 0\n' + '\n' + syslog(3, MSG1))]);
    expect(r.frames).toEqual([MSG1]);
    expect(r.replies).toBe(OPEN_REPLY + '2 rsp 25 500 command not supported\n3 rsp 6 200 OK\n');
    expect(r.errors).toEqual([]);
  });

  it('an open that does not offer the syslog command is refused', () => {
    const r = session([Buffer.from('1 open 14 relp_version=0\n')]);
    expect(r.replies).toBe('1 rsp 34 500 the syslog command is required\n');
    expect(r.errors).toEqual([{ reason: 'relp_protocol', message: 'RELP: open without commands=syslog' }]);
    expect(r.framer.closing).toBe(true);
  });

  it('a trailing LF inside DATA is trimmed; an empty syslog DATA is acknowledged and emits no frame', () => {
    const r = session([Buffer.from(OPEN + syslog(2, MSG1 + '\n') + '3 syslog 0 \n')]);
    expect(r.frames).toEqual([MSG1]);
    expect(r.replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n3 rsp 6 200 OK\n');
  });

  it('flush in the middle of a command emits nothing and ends the session (the client still holds it)', () => {
    const errors: FramingError[] = [];
    const f = new RelpFramer({ onError: (e) => errors.push(e) });
    const frames: string[] = [];
    f.feed(Buffer.from(OPEN + syslog(2, MSG1).slice(0, 20)), (b) => frames.push(b.toString()));
    expect(f.buffered).toBeGreaterThan(0);
    f.flush((b) => frames.push(b.toString()));
    expect(frames).toEqual([]);
    expect(f.buffered).toBe(0);
    expect(f.closing).toBe(true);
    expect(errors).toEqual([]);
  });

  it('parseOffers reads name=value lines, and a bare name as an empty value', () => {
    expect([...parseOffers('relp_version=0\nrelp_software=librelp,1.11.0,http://x\nstarttls\ncommands=syslog\n')]).toEqual([
      ['relp_version', '0'],
      ['relp_software', 'librelp,1.11.0,http://x'],
      ['starttls', ''],
      ['commands', 'syslog'],
    ]);
  });

  describe('edges, each pinned by what the client or an operator sees', () => {
    const opened = (more: string, maxFrameSize?: number) => session([Buffer.from(OPEN + more)], maxFrameSize);

    it('transaction numbers of several digits, zeros included, up to the largest, are echoed in the answers', () => {
      // DATALEN 19 and 90: digits 0 to 9 in both numbers.
      const short = '<13>' + 'x'.repeat(15);
      const long = '<13>' + 'y'.repeat(86);
      const r = opened(syslog(10, short) + syslog(205, long) + syslog(RELP_MAX_TXNR, MSG1) + syslog(12_345_678, MSG2));
      expect(r.frames).toEqual([short, long, MSG1, MSG2]);
      expect(r.replies).toBe(OPEN_REPLY + '10 rsp 6 200 OK\n205 rsp 6 200 OK\n999999999 rsp 6 200 OK\n12345678 rsp 6 200 OK\n');
    });

    it('CR, LF and NUL between commands are tolerated; after the digits of a transaction number they break the session', () => {
      expect(opened('\r\n\0' + syslog(2, MSG1))).toMatchObject({ frames: [MSG1], replies: OPEN_REPLY + '2 rsp 6 200 OK\n', errors: [] });
      expect(opened('2\n').errors).toEqual([{ reason: 'relp_protocol', message: 'RELP: bad transaction number' }]);
    });

    it.each([
      ['x', 'expected a transaction number'],
      [' 2 syslog 0\n', 'bad transaction number'],
      ['0 ', 'bad transaction number'],
      ['2 5yslog', 'bad command'],
      ['2 sys{og 0\n', 'bad command'],
      ['2  0\n', 'bad command'],
      [`2 ${'a'.repeat(33)} 0\n`, 'bad command'],
      ['2 syslog 1x', 'bad DATALEN'],
      ['2 syslog \n', 'bad DATALEN'],
      ['2 syslog 3\n', 'DATALEN without DATA'],
      ['2 syslog 3 abcd', 'no LF after DATA'],
      ['2 open 65537 ', 'open DATA of 65537 bytes'],
    ])('%j after open is reported as "RELP: %s" and ends the session', (bad, why) => {
      const r = opened(bad);
      expect(r.errors).toEqual([{ reason: 'relp_protocol', message: `RELP: ${why}` }]);
      expect(r.framer.closing).toBe(true);
    });

    it('command words of up to 32 letters in either case: an unknown one is answered 500; a client rsp is not answered', () => {
      const r = opened(`2 AZaz 0\n3 ${'b'.repeat(32)} 0\n4 rsp 0\n` + syslog(5, MSG1));
      expect(r.frames).toEqual([MSG1]);
      expect(r.replies).toBe(OPEN_REPLY + '2 rsp 25 500 command not supported\n3 rsp 25 500 command not supported\n5 rsp 6 200 OK\n');
      expect(r.errors).toEqual([]);
    });

    it('syslog DATA of exactly maxFrameSize is framed; one byte more is oversize, skipped and still answered, split or not', () => {
      const fits = '<13>' + 'x'.repeat(12);
      const text = OPEN + syslog(2, fits) + syslog(3, fits + 'y') + syslog(4, MSG1.slice(0, 16));
      // The open offers (86 bytes) are control DATA: maxFrameSize does not apply to them.
      for (const chunks of [[Buffer.from(text)], bytewise(Buffer.from(text))]) {
        const r = session(chunks, 16);
        expect(r.frames).toEqual([fits, MSG1.slice(0, 16)]);
        expect(r.errors).toEqual([{ reason: 'oversize', message: 'RELP syslog DATA of 17 bytes exceeds maxFrameSize 16' }]);
        expect(r.replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n');
      }
    });

    it('trailing LF, CR and NUL are trimmed from syslog DATA, split or not; DATA of nothing else is answered and emits no frame', () => {
      const text = OPEN + syslog(2, MSG1 + '\r\n\0') + syslog(3, '\n\r\0') + syslog(4, MSG2);
      for (const chunks of [[Buffer.from(text)], bytewise(Buffer.from(text))]) {
        const r = session(chunks);
        expect(r.frames).toEqual([MSG1, MSG2]);
        expect(r.replies).toBe(OPEN_REPLY + '2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n');
      }
    });

    it('what the input acts on: isOpen, takeReplies (undefined when none), endedByServer and the serverclose hint', () => {
      const f = new RelpFramer();
      const spans = new FrameSpans();
      expect(f.takeReplies()).toBeUndefined();
      expect(f.isOpen).toBe(false);
      f.scan(Buffer.from(OPEN), spans);
      expect(f.isOpen).toBe(true);
      expect(f.takeReplies()?.toString('latin1')).toBe('1 rsp 65 200 OK\nrelp_version=0\nrelp_software=iptables-otel\ncommands=syslog\n');
      expect(f.takeReplies()).toBeUndefined();
      f.flush(() => {});
      expect(f.endedByServer).toBe(true);
      expect(RelpFramer.serverClose().toString('latin1')).toBe('0 serverclose 0\n');
      // A session the client closed, or one never opened, was not ended by the server.
      const closed = session([Buffer.from(SESSION)]).framer;
      closed.flush(() => {});
      expect(closed.endedByServer).toBe(false);
      const never = new RelpFramer();
      never.flush(() => {});
      expect(never.endedByServer).toBe(false);
    });
  });
});
