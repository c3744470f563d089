import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OctetCountingFramer } from '../../../src/framing/octet-counting.js';
import type { FramingError } from '../../../src/framing/framer.js';
import { bytewise, cut, oc, run } from './framing-helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Frames and error reasons of `chunks` through a fresh strict octet-counting framer. */
function octet(chunks: Buffer[], maxFrameSize?: number): { frames: string[]; reasons: string[] } {
  const errors: FramingError[] = [];
  const framer = new OctetCountingFramer({ ...(maxFrameSize !== undefined ? { maxFrameSize } : {}), onError: (e) => errors.push(e) });
  const frames = run(framer, chunks, errors);
  return { frames, reasons: errors.map((e) => e.reason) };
}

describe('OctetCountingFramer', () => {
  it('reads counted frames, including an LF counted in the body', () => {
    const m1 = '<12>1 2026-11-26T14:19:13.283484+00:00 vm kernel - - -  iptables-dropped: x\n';
    const m2 = '<4>Nov 26 14:20:01 fw1 kernel: y';
    expect(run(new OctetCountingFramer(), [b(oc(m1) + oc(m2))])).toEqual([m1, m2]);
  });

  it('ignores LF / CR / NUL / SP between frames', () => {
    expect(run(new OctetCountingFramer(), [b('5 <1>ab\n\n5 <1>cd\x00 \r\n3 <1>')])).toEqual(['<1>ab', '<1>cd', '<1>']);
  });

  it('handles a count split across chunks and a body split byte by byte', () => {
    const stream = b(oc('<1>hello world') + oc('<1>' + 'x'.repeat(123)));
    expect(run(new OctetCountingFramer(), bytewise(stream))).toEqual(['<1>hello world', '<1>' + 'x'.repeat(123)]);
    expect(run(new OctetCountingFramer(), [b('1'), b('4'), b(' <'), b('1'), b('>hello'), b(' world')])).toEqual(['<1>hello world']);
  });

  it('emits subarrays for frames inside one chunk', () => {
    const chunk = b('5 <1>ab5 <1>cd');
    const got: Buffer[] = [];
    new OctetCountingFramer().feed(chunk, (f) => got.push(f));
    expect(got.map((f) => f.buffer === chunk.buffer)).toEqual([true, true]);
  });

  it('a count above the cap is oversize for that frame only: the stream re-syncs at the next LF', () => {
    const big = '<1>' + 'z'.repeat(50);
    const stream = b(oc('<1>ok1') + oc(big) + '\n' + oc('<1>ok2'));
    expect(octet(cut(stream, [3, 10, 30, 55]), 10)).toEqual({ frames: ['<1>ok1', '<1>ok2'], reasons: ['oversize'] });
  });

  it('one garbage count does not swallow the 1,000 frames after it', () => {
    const good = Array.from({ length: 1000 }, (_, i) => oc(`<4>Nov 26 14:20:01 fw1 kernel: line ${i}`) + (i % 2 === 0 ? '\n' : '')).join('');
    for (const garbage of ['999999999 x\n', '999999999 <4>claims to be huge\n', '12 x\n', '70 hello there, no PRI\n', 'GET / HTTP/1.1\r\n']) {
      const stream = b(garbage + good);
      const expected = Array.from({ length: 1000 }, (_, i) => `<4>Nov 26 14:20:01 fw1 kernel: line ${i}`);
      const reason = garbage.startsWith('999999999') ? 'oversize' : 'bad_octet_count';
      expect(octet([stream])).toEqual({ frames: expected, reasons: [reason] });
      expect(octet(cut(stream, [5, 11, 12, 13, 500]))).toEqual({ frames: expected, reasons: [reason] });
    }
  });

  it('a count must be followed by SP and "<digit": anything else re-syncs at the next LF or NUL', () => {
    const cases: Array<[string, string]> = [
      ['3 abc\n', 'a bare message (no PRI)'],
      ['5 <x>ab\n', 'no digit after <'],
      ['1 <\n', 'too small for a PRI'],
      ['5 \n', 'LF right after the SP'],
      ['0 <1>\n', 'leading zero'],
      ['12345678901 <1>x\n', 'eleven digits'],
      ['12x <1>\x00', 'no SP'],
      ['<13>Nov 26 lf framed\n', 'an LF sender on an octet port'],
    ];
    for (const [garbage, why] of cases) {
      expect(octet([b(`${oc('<1>a')}${garbage}${oc('<1>b')}`)]), why).toEqual({ frames: ['<1>a', '<1>b'], reasons: ['bad_octet_count'] });
    }
  });

  it('checks the PRI start when it is split across chunks', () => {
    expect(octet([b('5 '), b('<'), b('1>ab'), b('5 <'), b('x>ab\n'), b('5 <1>cd')])).toEqual({ frames: ['<1>ab', '<1>cd'], reasons: ['bad_octet_count'] });
  });

  it('reports a partial frame at EOF as truncated', () => {
    expect(octet([b('5 <1>ab10 <1>short')])).toEqual({ frames: ['<1>ab'], reasons: ['truncated'] });
    expect(octet([b('12')])).toEqual({ frames: [], reasons: ['truncated'] });
    expect(octet([b('12 ')])).toEqual({ frames: [], reasons: ['truncated'] });
    expect(octet([b('12 <')])).toEqual({ frames: [], reasons: ['truncated'] });
    // A re-sync under way at EOF has been reported already.
    expect(octet([b('12 x no LF')])).toEqual({ frames: [], reasons: ['bad_octet_count'] });
  });

  it('each framing error says what was wrong, and where the stream goes on', () => {
    // What a log line shows an operator: the reason alone does not say which byte or count it was.
    const cases: Array<[string, string, string]> = [
      ['0 <1>a\n', 'bad_octet_count', 'octet count starts with 0; skipped to the next LF or NUL'],
      ['12345678901 <1>a\n', 'bad_octet_count', 'octet count has too many digits; skipped to the next LF or NUL'],
      ['x\n', 'bad_octet_count', 'unexpected byte 0x78 where an octet count was expected; skipped to the next LF or NUL'],
      ['\x01\n', 'bad_octet_count', 'unexpected byte 0x01 where an octet count was expected; skipped to the next LF or NUL'],
      ['99 <1>a\n', 'oversize', 'octet count 99 exceeds the maximum frame size 16; skipped to the next LF or NUL'],
      ['1 x\n', 'bad_octet_count', 'octet count 1 is too small for a syslog message; skipped to the next LF or NUL'],
      ['5 hello\n', 'bad_octet_count', "octet count 5 is not followed by a syslog PRI ('<' and a digit); skipped to the next LF or NUL"],
      ['12', 'truncated', 'stream ended inside an octet count'],
      ['10 <1>a', 'truncated', 'stream ended 6 bytes before the end of an octet-counted frame'],
    ];
    for (const [text, reason, message] of cases) {
      const errors: FramingError[] = [];
      run(new OctetCountingFramer({ maxFrameSize: 16, onError: (e) => errors.push(e) }), [b(text)]);
      expect(errors, JSON.stringify(text)).toEqual([{ reason, message }]);
    }
  });

  it('midFrame: true from the first digit of a count until its frame or re-sync ends', () => {
    const framer = new OctetCountingFramer({ onError: () => {} });
    const states = ['', '1', '2', ' ', '<1>abcdefghi', '9', 'x', '\n'].map((c) => {
      if (c !== '') framer.feed(b(c), () => {});
      return framer.midFrame;
    });
    expect(states).toEqual([false, true, true, true, false, true, true, false]);
  });

  it('a whitespace body is not a syslog message: bad_octet_count, counted, not silent', () => {
    expect(octet([b('3    \n5 <1>ab')])).toEqual({ frames: ['<1>ab'], reasons: ['bad_octet_count'] });
  });

  describe('the maxFrameSize boundary', () => {
    for (const max of [16, 1024]) {
      const body = (n: number): string => '<1>' + 'x'.repeat(n - 3);
      it(`a count of exactly maxFrameSize (${max}) is accepted, one more is oversize`, () => {
        expect(octet([b(oc(body(max)) + oc('<1>after'))], max)).toEqual({ frames: [body(max), '<1>after'], reasons: [] });
        expect(octet(bytewise(b(oc(body(max)) + oc('<1>after'))), max)).toEqual({ frames: [body(max), '<1>after'], reasons: [] });
        expect(octet([b(oc(body(max + 1)) + '\n' + oc('<1>after'))], max)).toEqual({ frames: ['<1>after'], reasons: ['oversize'] });
        expect(octet(bytewise(b(oc(body(max + 1)) + '\n' + oc('<1>after'))), max)).toEqual({ frames: ['<1>after'], reasons: ['oversize'] });
        expect(new OctetCountingFramer({ maxFrameSize: max }).buffered).toBe(0);
      });
    }
  });

  it('any chunking gives the same frames (property)', () => {
    const msg = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '1', '<', '\x00'), minLength: 0, maxLength: 30 }).map((m) => `<7>${m}`);
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 10 }), fc.array(fc.nat(300), { maxLength: 10 }), (msgs, points) => {
        const stream = b(msgs.map(oc).join(''));
        expect(run(new OctetCountingFramer(), cut(stream, points))).toEqual(msgs);
        expect(run(new OctetCountingFramer(), bytewise(stream))).toEqual(msgs);
      }),
      { numRuns: 300 },
    );
  });
});
