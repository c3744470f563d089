/**
 * `Framer.scan`: frames as offsets into the chunk (`FrameSpans`) instead of one Buffer per
 * frame. Checked directly (trimming, a frame carried over as `head`, oversize, resync) and
 * against `feed` for random streams cut at random points, for every framing mode.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AutoDetectFramer } from '../../../src/framing/auto-detect.js';
import { createFramer } from '../../../src/framing/create-framer.js';
import { DelimitedFramer } from '../../../src/framing/delimited.js';
import { FRAMING_MODES, FrameSpans, type Framer, type FramingError } from '../../../src/framing/framer.js';
import { OctetCountingFramer } from '../../../src/framing/octet-counting.js';
import { cut, oc } from './framing-helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The offsets of `spans` as [start, end] pairs. */
const pairs = (spans: FrameSpans): Array<[number, number]> =>
  Array.from({ length: spans.count }, (_, i) => [spans.offsets[2 * i]!, spans.offsets[2 * i + 1]!]);

/** Every frame of `spans` as text, `head` first. */
const texts = (spans: FrameSpans): string[] => {
  const out: string[] = [];
  spans.emitTo((f) => out.push(f.toString('latin1')));
  return out;
};

/** Scan `chunks` one by one, then flush; the frames as text. */
function scanAll(framer: Framer, chunks: Buffer[]): string[] {
  const spans = new FrameSpans();
  const out: string[] = [];
  for (const c of chunks) {
    framer.scan(c, spans);
    out.push(...texts(spans));
  }
  framer.flush((f) => out.push(f.toString('latin1')));
  return out;
}

describe('Framer.scan', () => {
  it('reports trimmed frames as offsets into the chunk: CR before LF, leading spaces and empty frames dropped', () => {
    const spans = new FrameSpans();
    const chunk = b('<4>a\r\n\n  <4>b\n \n<4>c\n<4>d');
    new DelimitedFramer().scan(chunk, spans);
    expect(spans.chunk).toBe(chunk);
    expect(spans.head).toBeUndefined();
    expect(pairs(spans)).toEqual([
      [0, 4],
      [9, 13],
      [16, 20],
    ]);
    expect(spans.count).toBe(3);
    expect(spans.frames).toBe(3);
    expect(spans.bytes).toBe(12);
  });

  it('a frame that began in an earlier chunk comes first, as a copy in `head`', () => {
    const f = new DelimitedFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>one\n<4>tw'), spans);
    expect(texts(spans)).toEqual(['<4>one']);
    const next = b('o\r\n<4>three\n');
    f.scan(next, spans);
    expect(spans.frames).toBe(2);
    expect(texts(spans)).toEqual(['<4>two', '<4>three']);
    next.fill(0x2e);
    expect(spans.head?.toString('latin1')).toBe('<4>two');
    expect(f.buffered).toBe(0);
  });

  it('scan resets the spans of the previous chunk; clear drops the chunk', () => {
    const f = new DelimitedFramer();
    const spans = new FrameSpans();
    f.scan(b('a\nb\n'), spans);
    f.scan(b('c\n'), spans);
    expect(texts(spans)).toEqual(['c']);
    spans.clear();
    expect(spans.chunk).toHaveLength(0);
    expect(spans.frames).toBe(0);
  });

  it('grows its offsets for a chunk of many small frames', () => {
    const spans = new FrameSpans();
    const frames = Array.from({ length: 5000 }, (_, i) => `f${i}`);
    new DelimitedFramer().scan(b(frames.join('\n') + '\n'), spans);
    expect(spans.count).toBe(5000);
    expect(texts(spans)).toEqual(frames);
  });

  it('delimited: an oversize frame is reported and skipped, in one chunk and across chunks', () => {
    const errors: FramingError[] = [];
    const f = new DelimitedFramer({ maxFrameSize: 4, onError: (e) => errors.push(e) });
    const spans = new FrameSpans();
    f.scan(b('abcd\nabcdef\nab\nxyzxyz'), spans);
    expect(texts(spans)).toEqual(['abcd', 'ab']);
    f.scan(b('xyz\nok\n'), spans);
    expect(texts(spans)).toEqual(['ok']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize', 'oversize']);
    expect(f.buffered).toBe(0);
  });

  it('octet counting: bodies inside the chunk are offsets, a body split across chunks is the head', () => {
    const f = new OctetCountingFramer();
    const spans = new FrameSpans();
    const chunk = b(`${oc('<4>one')}\n${oc('<4>two')}8 <4>thr`);
    f.scan(chunk, spans);
    expect(pairs(spans)).toEqual([
      [2, 8],
      [11, 17],
    ]);
    expect(texts(spans)).toEqual(['<4>one', '<4>two']);
    f.scan(b(`ee${oc('x')}`), spans);
    expect(spans.head?.toString('latin1')).toBe('<4>three');
    expect(texts(spans)).toEqual(['<4>three', 'x']);
  });

  it('octet counting: an oversize count is skipped, garbage resyncs at the next LF', () => {
    const errors: FramingError[] = [];
    const f = new OctetCountingFramer({ maxFrameSize: 8, onError: (e) => errors.push(e) });
    const spans = new FrameSpans();
    f.scan(b(`20 ${'x'.repeat(10)}`), spans);
    expect(spans.frames).toBe(0);
    f.scan(b(`${'x'.repeat(10)}${oc('ok1')}garbage\n${oc('ok2')}`), spans);
    expect(texts(spans)).toEqual(['ok1', 'ok2']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize', 'bad_octet_count']);
  });

  it('auto-detect: digits carried over a chunk boundary that turn out to be text become the head', () => {
    const f = new AutoDetectFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>a\n20'), spans);
    expect(texts(spans)).toEqual(['<4>a']);
    f.scan(b('21-03-12 line\n5 hello'), spans);
    expect(spans.head?.toString('latin1')).toBe('2021-03-12 line');
    expect(texts(spans)).toEqual(['2021-03-12 line', 'hello']);
  });

  it('auto-detect: a count carried over a chunk boundary frames a body inside the next chunk', () => {
    const f = new AutoDetectFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>a\n1'), spans);
    f.scan(b('1 hello world<4>b\n'), spans);
    expect(spans.head).toBeUndefined();
    expect(texts(spans)).toEqual(['hello world', '<4>b']);
  });

  it('refuses a carried-over frame after frames of the chunk (framers never do that)', () => {
    const spans = new FrameSpans();
    spans.reset(b('a\n'));
    spans.push(0, 1);
    expect(() => spans.setHead(b('x'))).toThrow(/must come first/);
  });

  it('gives the same frames, errors and buffered bytes as feed, for any chunking', () => {
    const piece = fc.constantFrom('\n', '\r\n', '\0', ' ', '12 ', '5 ', '3 abc', '0 ', '99999999999 ', 'abc', '<4>Nov 26 x', '2021-03-12 h', '1', 'x'.repeat(20), '\r');
    fc.assert(
      fc.property(
        fc.constantFrom(...FRAMING_MODES),
        fc.constantFrom(4, 16, 65536),
        fc.array(piece, { maxLength: 25 }),
        fc.array(fc.nat(300), { maxLength: 12 }),
        (mode, maxFrameSize, pieces, points) => {
          const chunks = cut(b(pieces.join('')), points);
          const observe = (use: 'feed' | 'scan'): unknown => {
            const errors: string[] = [];
            const buffered: number[] = [];
            const framer = createFramer(mode, { maxFrameSize, onError: (e) => errors.push(`${e.reason}: ${e.message}`) });
            const frames: string[] = [];
            const spans = new FrameSpans();
            for (const c of chunks) {
              if (use === 'scan') {
                framer.scan(c, spans);
                frames.push(...texts(spans));
              } else {
                framer.feed(c, (f) => frames.push(f.toString('latin1')));
              }
              buffered.push(framer.buffered);
            }
            framer.flush((f) => frames.push(f.toString('latin1')));
            return { frames, errors, buffered };
          };
          expect(observe('scan')).toEqual(observe('feed'));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('scanAll matches the documented framing on a mixed stream', () => {
    const stream = b(`${oc('<4>counted')}<4>lf\n\x00 <4>sp\r\n2021-01 x\n`);
    expect(scanAll(new AutoDetectFramer(), cut(stream, [3, 14, 20, 33]))).toEqual(['<4>counted', '<4>lf', '<4>sp', '2021-01 x']);
  });
});
