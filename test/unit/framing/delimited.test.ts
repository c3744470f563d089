import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DelimitedFramer } from '../../../src/framing/delimited.js';
import type { FramingError } from '../../../src/framing/framer.js';
import { bytewise, cut, run } from './framing-helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('DelimitedFramer (LF)', () => {
  it('splits on LF, drops CR before LF, leading spaces and empty frames', () => {
    const frames = run(new DelimitedFramer(), [b('<4>a\r\n\n\n <4>b\n<4>c\n')]);
    expect(frames).toEqual(['<4>a', '<4>b', '<4>c']);
  });

  it('emits a whitespace-only frame as sent (the parser makes it an empty_frame record)', () => {
    const stream = b('<4>a\n \n\r\n  \r\n\n\t\n<4>b\n  ');
    const expected = ['<4>a', ' ', '\r', '  \r', '\t', '<4>b', '  '];
    expect(run(new DelimitedFramer(), [stream])).toEqual(expected);
    expect(run(new DelimitedFramer(), bytewise(stream))).toEqual(expected);
  });

  it('joins a frame split across chunks, byte by byte', () => {
    const stream = b('<4>Nov 26 14:19:13 vm kernel: one\n<4>two\n');
    expect(run(new DelimitedFramer(), bytewise(stream))).toEqual(['<4>Nov 26 14:19:13 vm kernel: one', '<4>two']);
  });

  it('emits a subarray of the chunk (no copy) for a frame inside one chunk', () => {
    const chunk = b('<4>a\n<4>b\n');
    const got: Buffer[] = [];
    new DelimitedFramer().feed(chunk, (f) => got.push(f));
    expect(got).toHaveLength(2);
    expect(got[0]!.buffer).toBe(chunk.buffer);
  });

  it('emits a final frame without delimiter at EOF', () => {
    expect(run(new DelimitedFramer(), [b('<4>a\n<4>par'), b('tial')])).toEqual(['<4>a', '<4>partial']);
  });

  it('reports an oversize frame once and resyncs at the next LF', () => {
    const errors: FramingError[] = [];
    const f = new DelimitedFramer({ maxFrameSize: 10, onError: (e) => errors.push(e) });
    const frames = run(f, [b('ok1\n' + 'x'.repeat(25)), b('y'.repeat(30)), b('zz\nok2\n')], errors);
    expect(frames).toEqual(['ok1', 'ok2']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize']);
    expect(f.buffered).toBe(0);
  });

  it('an oversize frame inside one chunk is skipped too', () => {
    const errors: FramingError[] = [];
    const f = new DelimitedFramer({ maxFrameSize: 4, onError: (e) => errors.push(e) });
    expect(run(f, [b('abcd\nabcdef\nab\n')], errors)).toEqual(['abcd', 'ab']);
    expect(errors).toHaveLength(1);
  });

  it('never buffers more than maxFrameSize for a connection that never sends LF', () => {
    const errors: FramingError[] = [];
    const f = new DelimitedFramer({ maxFrameSize: 1000, onError: (e) => errors.push(e) });
    let max = 0;
    for (let i = 0; i < 200; i++) {
      f.feed(Buffer.alloc(333, 0x41), () => expect.unreachable());
      max = Math.max(max, f.buffered);
    }
    expect(max).toBeLessThanOrEqual(1000);
    expect(errors).toHaveLength(1);
  });

  it('an oversize frame discarded at EOF emits nothing', () => {
    const f = new DelimitedFramer({ maxFrameSize: 3 });
    expect(run(f, [b('abcdefgh')])).toEqual([]);
  });
});

describe('DelimitedFramer (NUL)', () => {
  it('splits on NUL and keeps LF inside a frame', () => {
    expect(run(new DelimitedFramer({ delimiter: 'nul' }), [b('<4>a\n\x00<4>b\x00\x00<4>c')])).toEqual(['<4>a\n', '<4>b', '<4>c']);
  });

  it('emits whitespace-only frames as sent, skips zero-length ones', () => {
    expect(run(new DelimitedFramer({ delimiter: 'nul' }), [b('\x00 \x00\x00\r\x00 <4>a\r\x00')])).toEqual([' ', '\r', '<4>a\r']);
  });
});

describe('DelimitedFramer: the maxFrameSize boundary', () => {
  for (const delimiter of ['lf', 'nul', 'lf_or_nul'] as const) {
    const d = delimiter === 'nul' ? '\x00' : '\n';
    for (const max of [16, 1024]) {
      const frame = (n: number): string => '<1>' + 'x'.repeat(n - 3);
      it(`${delimiter}: a frame of exactly maxFrameSize (${max}) is accepted, one more is oversize`, () => {
        for (const chunking of [(s: Buffer): Buffer[] => [s], bytewise, (s: Buffer): Buffer[] => cut(s, [max - 1, max, max + 1, max + 2])]) {
          const errors: FramingError[] = [];
          const ok = new DelimitedFramer({ delimiter, maxFrameSize: max, onError: (e) => errors.push(e) });
          expect(run(ok, chunking(b(`${frame(max)}${d}<1>next${d}`)), errors)).toEqual([frame(max), '<1>next']);
          // The same at EOF, without the delimiter.
          expect(run(ok, chunking(b(frame(max))), errors)).toEqual([frame(max)]);
          expect(errors).toEqual([]);
          const over = new DelimitedFramer({ delimiter, maxFrameSize: max, onError: (e) => errors.push(e) });
          expect(run(over, chunking(b(`${frame(max + 1)}${d}<1>next${d}`)), errors)).toEqual(['<1>next']);
          expect(run(over, chunking(b(frame(max + 1))), errors)).toEqual([]);
          expect(errors.map((e) => e.reason)).toEqual(['oversize', 'oversize']);
        }
      });
    }
  }

  it('the limit counts the CR and leading spaces that trimming removes', () => {
    const errors: FramingError[] = [];
    expect(run(new DelimitedFramer({ maxFrameSize: 4, onError: (e) => errors.push(e) }), [b('abcd\r\n abcd\nabc\r\n')], errors)).toEqual(['abc']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize', 'oversize']);
  });
});

describe('DelimitedFramer (LF or NUL)', () => {
  it('ends a frame at whichever comes first', () => {
    expect(run(new DelimitedFramer({ delimiter: 'lf_or_nul' }), [b('a\x00b\nc\x00d\n\x00e')])).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('DelimitedFramer properties', () => {
  const frameArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\r', '<', '4', '>', '1'), minLength: 0, maxLength: 20 });
  for (const delimiter of ['lf', 'nul', 'lf_or_nul'] as const) {
    it(`any chunking gives the same frames (${delimiter})`, () => {
      fc.assert(
        fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(400), { maxLength: 10 }), fc.constantFrom('\n', '\x00'), (frames, points, sep) => {
          const d = delimiter === 'lf' ? '\n' : delimiter === 'nul' ? '\x00' : sep;
          const stream = b(frames.join(d));
          const whole = run(new DelimitedFramer({ delimiter }), [stream]);
          expect(run(new DelimitedFramer({ delimiter }), cut(stream, points))).toEqual(whole);
          expect(run(new DelimitedFramer({ delimiter }), bytewise(stream))).toEqual(whole);
        }),
        { numRuns: 300 },
      );
    });
  }
});
