/**
 * `Framer.scan`: frames as offsets into the chunk (`FrameSpans`) instead of one Buffer per
 * frame. Checked directly (trimming, a frame carried over as `head`, oversize, resync), and,
 * for every framing mode, against a reference framer written below for random streams cut
 * at random points.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AutoDetectFramer } from '../../../src/framing/auto-detect.js';
import { createFramer } from '../../../src/framing/create-framer.js';
import { DelimitedFramer } from '../../../src/framing/delimited.js';
import { FRAMING_MODES, FrameSpans, MAX_COUNT_DIGITS, type Framer, type FramingError, type FramingMode } from '../../../src/framing/framer.js';
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

/**
 * The reference framer: the documented rules, on the whole stream as one string (latin1), with
 * none of the real framers' chunk bookkeeping. Frames in order, and the error reasons in order.
 */
interface Framed {
  frames: string[];
  errors: string[];
}

/** Index of the first LF or NUL at or after `from`, or -1. */
function lfOrNul(s: string, from: number): number {
  for (let i = from; i < s.length; i++) if (s[i] === '\n' || s[i] === '\0') return i;
  return -1;
}

/** Where a re-sync from `from` resumes: after the next LF or NUL, or at the end. */
const afterLfOrNul = (s: string, from: number): number => (lfOrNul(s, from) < 0 ? s.length : lfOrNul(s, from) + 1);

/** One delimited frame `raw` (its delimiter removed): no frame, oversize, trimmed, or as sent. */
function delimitedFrame(raw: string, stripCr: boolean, max: number, out: Framed): void {
  if (raw.length === 0) return; // two delimiters in a row: not a frame
  if (raw.length > max) {
    out.errors.push('oversize');
    return;
  }
  const trimmed = (stripCr && raw.endsWith('\r') ? raw.slice(0, -1) : raw).replace(/^ +/, '');
  out.frames.push(trimmed.length > 0 ? trimmed : raw); // whitespace only: as sent (-> empty_frame record)
}

/** `lf` and `nul`: split on the delimiter; the last piece is the frame flushed at EOF. */
function referenceDelimited(s: string, delimiter: '\n' | '\0', max: number): Framed {
  const out: Framed = { frames: [], errors: [] };
  for (const raw of s.split(delimiter)) delimitedFrame(raw, delimiter === '\n', max, out);
  return out;
}

/** The bytes of a counted body that have arrived are the start of `<digit`. */
const startsLikePri = (body: string): boolean => (body.length < 1 || body[0] === '<') && (body.length < 2 || /[0-9]/.test(body[1]!));

/** `octet`: `COUNT SP <digit...`; separators between frames; any error re-syncs at the next LF or NUL. */
function referenceOctet(s: string, max: number): Framed {
  const out: Framed = { frames: [], errors: [] };
  let pos = 0;
  const resync = (reason: string): void => {
    out.errors.push(reason);
    pos = afterLfOrNul(s, pos);
  };
  while (pos < s.length) {
    if ('\n\r\0 '.includes(s[pos]!)) {
      pos++;
      continue;
    }
    const digits = new RegExp(`^[1-9][0-9]{0,${MAX_COUNT_DIGITS - 1}}`).exec(s.slice(pos))?.[0];
    if (digits === undefined) {
      resync('bad_octet_count');
      continue;
    }
    const next = s[pos + digits.length];
    if (next === undefined) {
      out.errors.push('truncated'); // EOF inside the count
      break;
    }
    if (next !== ' ') {
      resync('bad_octet_count');
      continue;
    }
    const count = Number(digits);
    const start = pos + digits.length + 1;
    const body = s.slice(start, start + count);
    if (count > max) resync('oversize');
    else if (count < 2 || !startsLikePri(body)) resync('bad_octet_count');
    else if (body.length < count) {
      out.errors.push('truncated'); // EOF inside the body
      break;
    } else {
      out.frames.push(body);
      pos = start + count;
    }
  }
  return out;
}

/** `auto`: per frame, `COUNT SP <digit` (count >= 2) is counted, anything else LF-or-NUL delimited. */
function referenceAuto(s: string, max: number): Framed {
  const out: Framed = { frames: [], errors: [] };
  let pos = 0;
  while (pos < s.length) {
    if (s[pos] === '\n' || s[pos] === '\0') {
      pos++; // an empty frame
      continue;
    }
    const m = new RegExp(`^([1-9][0-9]{0,${MAX_COUNT_DIGITS - 1}}) <[0-9]`).exec(s.slice(pos));
    const count = m === null ? 0 : Number(m[1]);
    if (count >= 2) {
      const start = pos + m![1]!.length + 1;
      if (count > max) {
        out.errors.push('oversize');
        pos = afterLfOrNul(s, pos);
      } else if (start + count > s.length) {
        out.errors.push('truncated');
        break;
      } else {
        out.frames.push(s.slice(start, start + count));
        pos = start + count;
      }
      continue;
    }
    const end = lfOrNul(s, pos); // -1: the frame runs to EOF
    delimitedFrame(s.slice(pos, end < 0 ? s.length : end), true, max, out);
    pos = end < 0 ? s.length : end + 1;
  }
  return out;
}

function reference(mode: FramingMode, s: string, max: number): Framed {
  if (mode === 'lf') return referenceDelimited(s, '\n', max);
  if (mode === 'nul') return referenceDelimited(s, '\0', max);
  if (mode === 'octet') return referenceOctet(s, max);
  return referenceAuto(s, max);
}

describe('Framer.scan', () => {
  it('reports trimmed frames as offsets into the chunk: CR before LF and leading spaces dropped, empty frames skipped, whitespace frames as sent', () => {
    const spans = new FrameSpans();
    const chunk = b('<4>a\r\n\n  <4>b\n \n<4>c\n<4>d');
    new DelimitedFramer().scan(chunk, spans);
    expect(spans.chunk).toBe(chunk);
    expect(spans.head).toBeUndefined();
    expect(pairs(spans)).toEqual([
      [0, 4],
      [9, 13],
      [14, 15],
      [16, 20],
    ]);
    expect(spans.count).toBe(4);
    expect(spans.frames).toBe(4);
    expect(spans.bytes).toBe(13);
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
    f.scan(b(`ee${oc('<1>x')}`), spans);
    expect(spans.head?.toString('latin1')).toBe('<4>three');
    expect(texts(spans)).toEqual(['<4>three', '<1>x']);
  });

  it('octet counting: an oversize count and garbage both re-sync at the next LF', () => {
    const errors: FramingError[] = [];
    const f = new OctetCountingFramer({ maxFrameSize: 8, onError: (e) => errors.push(e) });
    const spans = new FrameSpans();
    f.scan(b(`20 <1>${'x'.repeat(10)}`), spans);
    expect(spans.frames).toBe(0);
    f.scan(b(`${'x'.repeat(10)}\n${oc('<1>ok1')}garbage\n${oc('<1>ok2')}`), spans);
    expect(texts(spans)).toEqual(['<1>ok1', '<1>ok2']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize', 'bad_octet_count']);
  });

  it('auto-detect: digits carried over a chunk boundary that turn out to be text become the head', () => {
    const f = new AutoDetectFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>a\n20'), spans);
    expect(texts(spans)).toEqual(['<4>a']);
    f.scan(b('21-03-12 line\n8 <1>hello'), spans);
    expect(spans.head?.toString('latin1')).toBe('2021-03-12 line');
    expect(texts(spans)).toEqual(['2021-03-12 line', '<1>hello']);
  });

  it('auto-detect: a count carried over a chunk boundary frames a body inside the next chunk', () => {
    const f = new AutoDetectFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>a\n1'), spans);
    f.scan(b('4 <1>hello world<4>b\n'), spans);
    expect(spans.head).toBeUndefined();
    expect(texts(spans)).toEqual(['<1>hello world', '<4>b']);
  });

  it("auto-detect: a count whose body's `<` ended the previous chunk assembles the body as the head", () => {
    const f = new AutoDetectFramer();
    const spans = new FrameSpans();
    f.scan(b('<4>a\n14 <'), spans);
    expect(texts(spans)).toEqual(['<4>a']);
    expect(f.buffered).toBe(4);
    f.scan(b('1>hello world<4>b\n'), spans);
    expect(spans.head?.toString('latin1')).toBe('<1>hello world');
    expect(texts(spans)).toEqual(['<1>hello world', '<4>b']);
    expect(f.buffered).toBe(0);
  });

  it('refuses a carried-over frame after frames of the chunk (framers never do that)', () => {
    const spans = new FrameSpans();
    spans.reset(b('a\n'));
    spans.push(0, 1);
    expect(() => spans.setHead(b('x'))).toThrow(/must come first/);
  });

  it('gives the frames and errors of the reference framer, for random streams around the cap and any chunking', () => {
    const unit = fc.constantFrom('a', ' ', '\r', '\n', '\0', '<', '>', '1', '7', '0');
    const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit, maxLength });
    // Pieces of a stream for a cap `max`: frames a little under, at and over it, and the tricky bytes.
    const piece = (max: number): fc.Arbitrary<string> =>
      fc.oneof(
        fc.tuple(fc.nat(9), fc.integer({ min: 0, max: max + 1 }), fc.constantFrom('a', '\n', ' '), fc.boolean()).map(
          ([d, n, fill, lf]) => `${oc(`<${d}${fill.repeat(n)}`)}${lf ? '\n' : ''}`, // counted, 2 .. max + 3 bytes
        ),
        fc.tuple(fc.integer({ min: 0, max: max + 2 }), fc.constantFrom('\n', '\r\n', '\0'), fc.constantFrom('', ' ', '12 ', '<4>')).map(
          ([n, d, head]) => `${head}${'x'.repeat(n)}${d}`, // delimited, about the cap
        ),
        fc.constantFrom(`${max} <1`, `${max + 1} <1`, `${max - 1} <1`, '999999999 x\n', '999999999 <4>huge\n', '1 <', '12', '12 ', '12 <'),
        fc.constantFrom('0 <1>\n', ' ', '\r', '\n', '\0', '  \r\n', '3 abc', '5 hello\n', '12345678901 <1>x\n', ' 3 <1>\n', '\t\n'),
        // A count still undecided when the chunk or the stream ends, longer or shorter than a small cap.
        fc.tuple(fc.integer({ min: 1, max: MAX_COUNT_DIGITS + 1 }), fc.constantFrom('', ' ', ' <')).map(([n, tail]) => '9'.repeat(n) + tail),
        text(max + 4),
      );
    fc.assert(
      fc.property(
        fc.constantFrom(...FRAMING_MODES),
        fc.integer({ min: 4, max: 40 }).chain((max) => fc.tuple(fc.constant(max), fc.array(piece(max), { maxLength: 20 }))),
        fc.array(fc.nat(600), { maxLength: 16 }),
        (mode, [maxFrameSize, pieces], points) => {
          const stream = pieces.join('');
          const expected = reference(mode, stream, maxFrameSize);
          for (const use of ['scan', 'feed'] as const) {
            const errors: string[] = [];
            const framer = createFramer(mode, { maxFrameSize, onError: (e) => errors.push(e.reason) });
            const frames: string[] = [];
            const spans = new FrameSpans();
            for (const c of cut(b(stream), use === 'scan' ? points : points.map((p) => p + 1))) {
              if (use === 'scan') {
                framer.scan(c, spans);
                frames.push(...texts(spans));
              } else {
                framer.feed(c, (f) => frames.push(f.toString('latin1')));
              }
              // A split frame is held up to the cap; auto-detection may also hold a pending `COUNT SP <`.
              expect(framer.buffered).toBeLessThanOrEqual(Math.max(maxFrameSize, MAX_COUNT_DIGITS + 2));
            }
            framer.flush((f) => frames.push(f.toString('latin1')));
            expect(framer.buffered).toBe(0);
            expect({ frames, errors }).toEqual(expected);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('scanAll matches the documented framing on a mixed stream', () => {
    const stream = b(`${oc('<4>counted')}<4>lf\n\x00 <4>sp\r\n2021-01 x\n`);
    expect(scanAll(new AutoDetectFramer(), cut(stream, [3, 14, 20, 33]))).toEqual(['<4>counted', '<4>lf', '<4>sp', '2021-01 x']);
  });
});

describe('framer contracts', () => {
  it('maxFrameSize must be a positive integer: anything else is refused when the framer is built', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new DelimitedFramer({ maxFrameSize: bad }), String(bad)).toThrow(new RangeError(`maxFrameSize must be a positive integer, got ${String(bad)}`));
    }
    expect(run1((onError) => new DelimitedFramer({ maxFrameSize: 1, onError }), 'a\nbc\nd\n')).toEqual({
      frames: ['a', 'd'],
      messages: ['delimited frame longer than 1 bytes (at least 2); skipped to the next delimiter'],
    });
  });

  it('FrameSpans: only the first frame of a chunk can be carried over', () => {
    const spans = new FrameSpans();
    spans.reset(b('abcdef'));
    spans.push(0, 2);
    expect(() => spans.setHead(b('x'))).toThrow('FrameSpans: a carried-over frame must come first');
    spans.reset(b('abcdef'));
    spans.setHead(b('x'));
    expect(() => spans.setHead(b('y'))).toThrow('FrameSpans: a carried-over frame must come first');
  });

  it('an oversize delimited frame says how long it was at least, whether it ended in its chunk, ran past it, or began as digits', () => {
    const lf16 = (onError: (e: FramingError) => void): Framer => new DelimitedFramer({ maxFrameSize: 16, onError });
    const message = (max: number, atLeast: number): string => `delimited frame longer than ${max} bytes (at least ${atLeast}); skipped to the next delimiter`;
    expect(run1(lf16, `${'a'.repeat(20)}\nok\n`)).toEqual({ frames: ['ok'], messages: [message(16, 20)] });
    expect(run1(lf16, 'a'.repeat(10), 'b'.repeat(10), 'c\nok\n')).toEqual({ frames: ['ok'], messages: [message(16, 20)] });
    // Digits the auto framer held until they turned out to be text: the held 5 are already too long.
    expect(run1((onError) => new AutoDetectFramer({ maxFrameSize: 4, onError }), '12345', 'x\nok\n')).toEqual({ frames: ['ok'], messages: [message(4, 5)] });
  });

  it('DelimitedFramer splits on LF only by default: a NUL stays inside the frame', () => {
    expect(run1(() => new DelimitedFramer(), 'a\0b\nc\n').frames).toEqual(['a\0b', 'c']);
  });
});

/** Frames (latin1) and error messages of `chunks` fed to the framer `make` builds, then flushed. */
function run1(make: (onError: (e: FramingError) => void) => Framer, ...chunks: string[]): { frames: string[]; messages: string[] } {
  const messages: string[] = [];
  const framer = make((e) => messages.push(e.message));
  const frames: string[] = [];
  for (const c of chunks) framer.feed(b(c), (f) => frames.push(f.toString('latin1')));
  framer.flush((f) => frames.push(f.toString('latin1')));
  return { frames, messages };
}
