import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AutoDetectFramer } from '../../../src/framing/auto-detect.js';
import { createFramer } from '../../../src/framing/create-framer.js';
import type { FramingError } from '../../../src/framing/framer.js';
import { fixturesDir } from '../../helpers/paths.js';
import { bytewise, cut, oc, run } from './framing-helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('AutoDetectFramer', () => {
  it('treats a line starting with digits but no "count SP" as delimited', () => {
    const line = '2021-03-12T14:10:18Z Hostname kernel: IN=eth0';
    expect(run(new AutoDetectFramer(), [b(`${line}\n12345.678 x\n`)])).toEqual([line, '12345.678 x']);
  });

  it('accepts mixed framing on one stream', () => {
    const stream = `${oc('<4>counted one\n')}<4>lf one\n${oc('<4>counted two')}\n\x00<4>nul one\x00 <4>leading space\r\n2021-01-01 x\n${oc('<1>a')}`;
    const expected = ['<4>counted one\n', '<4>lf one', '<4>counted two', '<4>nul one', '<4>leading space', '2021-01-01 x', '<1>a'];
    expect(run(new AutoDetectFramer(), [b(stream)])).toEqual(expected);
    expect(run(new AutoDetectFramer(), bytewise(b(stream)))).toEqual(expected);
  });

  it('keeps digits split across chunks that turn out to be text', () => {
    expect(run(new AutoDetectFramer(), [b('20'), b('21'), b('-03-12 line\n'), b('8 <1>hello')])).toEqual(['2021-03-12 line', '<1>hello']);
    expect(run(new AutoDetectFramer(), [b('1'), b('2'), b(' '), b('<'), b('x> not a PRI\n'), b('1'), b('0 <'), b('1>hello!\n')])).toEqual([
      '12 <x> not a PRI',
      '<1>hello!\n',
    ]);
  });

  it('a count is only a count when SP and the "<digit" of a PRI follow: other lines are text', () => {
    const lines = ['3 packets dropped', '999999999 x', '12 <x>', '1 <1>', '12 ', '0 <1>zero', '12345678901 <1>x', ' 5 <1>ab', '\t5 <1>ab'];
    const errors: FramingError[] = [];
    expect(run(new AutoDetectFramer({ onError: (e) => errors.push(e) }), [b(lines.map((l) => `${l}\n`).join(''))], errors)).toEqual(
      lines.map((l) => l.replace(/^ +/, '')),
    );
    expect(errors).toEqual([]);
  });

  it('one garbage count does not swallow the 1,000 lines after it', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `<4>Nov 26 14:20:01 fw1 kernel: line ${i}`);
    const good = lines.map((l, i) => (i % 3 === 0 ? oc(l) : `${l}\n`)).join('');
    // A count above the cap with a PRI after it is an oversize counted frame, re-synced at its LF.
    for (const chunks of [[b(`999999999 <4>claims to be huge\n${good}`)], cut(b(`999999999 <4>claims to be huge\n${good}`), [4, 10, 11, 12, 13, 40])]) {
      const errors: FramingError[] = [];
      expect(run(new AutoDetectFramer({ onError: (e) => errors.push(e) }), chunks, errors)).toEqual(lines);
      expect(errors.map((e) => e.reason)).toEqual(['oversize']);
    }
    // Without a PRI it is a line of text, which reaches the parser (as a not_netfilter record).
    const errors: FramingError[] = [];
    expect(run(new AutoDetectFramer({ onError: (e) => errors.push(e) }), [b(`999999999 x\n${good}`)], errors)).toEqual(['999999999 x', ...lines]);
    expect(errors).toEqual([]);
  });

  it('whitespace-only frames are emitted as sent; LF or NUL at a frame start (after a counted frame too) is skipped', () => {
    const stream = `${oc('<1>a')}\n\n${oc('<1>b')}\x00 \n\r\n \r\x00\t\n${oc('<1>c')}  `;
    const expected = ['<1>a', '<1>b', ' ', '\r', ' \r', '\t', '<1>c', '  '];
    expect(run(new AutoDetectFramer(), [b(stream)])).toEqual(expected);
    expect(run(new AutoDetectFramer(), bytewise(b(stream)))).toEqual(expected);
  });

  describe('the maxFrameSize boundary', () => {
    for (const max of [16, 1024]) {
      const frame = (n: number): string => '<1>' + 'x'.repeat(n - 3);
      const reasons = (chunks: Buffer[]): { frames: string[]; reasons: string[] } => {
        const errors: FramingError[] = [];
        const frames = run(new AutoDetectFramer({ maxFrameSize: max, onError: (e) => errors.push(e) }), chunks, errors);
        return { frames, reasons: errors.map((e) => e.reason) };
      };
      it(`a count of exactly maxFrameSize (${max}) is accepted, one more is oversize`, () => {
        for (const split of [(s: Buffer): Buffer[] => [s], bytewise]) {
          expect(reasons(split(b(oc(frame(max)) + '<1>next\n')))).toEqual({ frames: [frame(max), '<1>next'], reasons: [] });
          expect(reasons(split(b(oc(frame(max + 1)) + '\n<1>next\n')))).toEqual({ frames: ['<1>next'], reasons: ['oversize'] });
        }
      });
      it(`an LF or NUL frame of exactly maxFrameSize (${max}) is accepted, one more is oversize`, () => {
        for (const split of [(s: Buffer): Buffer[] => [s], bytewise]) {
          for (const d of ['\n', '\x00']) {
            expect(reasons(split(b(`${frame(max)}${d}<1>next${d}`)))).toEqual({ frames: [frame(max), '<1>next'], reasons: [] });
            expect(reasons(split(b(`${frame(max + 1)}${d}<1>next${d}`)))).toEqual({ frames: ['<1>next'], reasons: ['oversize'] });
          }
        }
      });
    }
  });

  it('a stream of more than 10 digits is a delimited frame', () => {
    expect(run(new AutoDetectFramer(), [b('123456'), b('789012345 x\n')])).toEqual(['123456789012345 x']);
  });

  it('digits alone at EOF are a frame', () => {
    expect(run(new AutoDetectFramer(), [b('<4>x\n12'), b('3')])).toEqual(['<4>x', '123']);
  });

  it('digits still undecided at EOF are held to maxFrameSize like any delimited frame', () => {
    for (const tail of ['', ' ', ' <']) {
      const errors: FramingError[] = [];
      const atCap = `${'9'.repeat(6 - tail.length)}${tail}`;
      expect(run(new AutoDetectFramer({ maxFrameSize: 6, onError: (e) => errors.push(e) }), [b(atCap.slice(0, 3)), b(atCap.slice(3))], errors)).toEqual([atCap]);
      expect(run(new AutoDetectFramer({ maxFrameSize: 6, onError: (e) => errors.push(e) }), [b('9' + atCap.slice(0, 3)), b(atCap.slice(3))], errors)).toEqual([]);
      expect(errors.map((e) => e.reason)).toEqual(['oversize']);
    }
  });

  it('skips past the counted bytes when the count is larger than the cap', () => {
    const errors: FramingError[] = [];
    const f = new AutoDetectFramer({ maxFrameSize: 16, onError: (e) => errors.push(e) });
    const stream = b(`<4>before\n${oc('y'.repeat(40) + '\n')}<4>after\n`);
    expect(run(f, cut(stream, [12, 13, 30]), errors)).toEqual(['<4>before', '<4>after']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize']);
  });

  it('resyncs after random garbage and an oversize line', () => {
    const errors: FramingError[] = [];
    const f = new AutoDetectFramer({ maxFrameSize: 64, onError: (e) => errors.push(e) });
    const garbage = Buffer.from([0xff, 0xfe, 0x80, 0x3c, 0x3e, 0x01, 0x02]);
    const frames = run(f, [garbage, b('\n<4>ok1\n'), b('x'.repeat(200)), b('\n<4>ok2\n')], errors);
    expect(frames.slice(1)).toEqual(['<4>ok1', '<4>ok2']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize']);
  });

  it('reports an incomplete counted frame at EOF', () => {
    const errors: FramingError[] = [];
    expect(run(new AutoDetectFramer({ onError: (e) => errors.push(e) }), [b('<4>x\n40 <4>cut short')], errors)).toEqual(['<4>x']);
    expect(errors.map((e) => e.reason)).toEqual(['truncated']);
  });

  it('frames every real TCP/TLS capture into RFC 3164/5424 messages', () => {
    const dir = path.join(fixturesDir, 'captures');
    let n = 0;
    for (const file of ['rsyslog-forward.jsonl', 'syslog-ng-forward.jsonl', 'tls-forward.jsonl', 'kernel-via-daemons.jsonl', 'logger.jsonl']) {
      for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const cap = JSON.parse(line) as { proto: string; text: string };
        if (cap.proto === 'udp') continue;
        const frames = run(new AutoDetectFramer(), [b(cap.text)]);
        expect(frames.length).toBeGreaterThan(0);
        for (const f of frames) expect(f).toMatch(/^<\d{1,3}>/);
        expect(run(new AutoDetectFramer(), bytewise(b(cap.text)))).toEqual(frames);
        n += frames.length;
      }
    }
    expect(n).toBeGreaterThan(20);
  });

  it('any chunking of a mixed stream gives the same frames (property)', () => {
    const body = fc.string({ unit: fc.constantFrom('a', ' ', '1', '<', '>', '-'), minLength: 1, maxLength: 25 });
    const frame = fc.oneof(
      body.map((m) => `<1>${m}`).map((m) => ({ text: oc(m), expect: m })),
      body
        .filter((m) => !/^[1-9][0-9]{0,9} <[0-9]/.test(m))
        .map((m) => ({ text: `${m}\n`, expect: m.trim().length > 0 ? m.replace(/^ +/, '') : m })),
    );
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 10 }), fc.array(fc.nat(300), { maxLength: 12 }), (frames, points) => {
        const stream = b(frames.map((f) => f.text).join(''));
        const expected = frames.map((f) => f.expect);
        expect(run(new AutoDetectFramer(), [stream])).toEqual(expected);
        expect(run(new AutoDetectFramer(), cut(stream, points))).toEqual(expected);
        expect(run(new AutoDetectFramer(), bytewise(stream))).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('buffered: what a split frame holds, undecided digits, a counted body (allocated at its count) or a line', () => {
    const framer = new AutoDetectFramer({ onError: () => {} });
    const frames: string[] = [];
    const held = ['', '12', '3 <', '1>ab', 'c'.repeat(117), '\n', 'text', ' more\n'].map((c) => {
      if (c !== '') framer.feed(b(c), (f) => frames.push(f.toString('latin1')));
      return framer.buffered;
    });
    expect(held).toEqual([0, 2, 5, 123, 123, 0, 4, 0]);
    expect(frames).toEqual([`<1>ab${'c'.repeat(117)}\n`, 'text more']);
  });

  it('a counted body that starts a chunk is not copied; one whose "<" ended the previous chunk is', () => {
    // Buffer.alloc is never pooled, so `buffer` tells which chunk a frame's bytes are in.
    const own = (s: string): Buffer => {
      const x = Buffer.alloc(s.length);
      x.write(s, 'latin1');
      return x;
    };
    const chunks = ['12 ', '<1>abcdefghi', '12 <', '1>abcdefghi'].map(own);
    const got: Buffer[] = [];
    const framer = new AutoDetectFramer();
    for (const c of chunks) framer.feed(c, (f) => got.push(f));
    expect(got.map((f) => f.toString('latin1'))).toEqual(['<1>abcdefghi', '<1>abcdefghi']);
    expect([got[0]!.buffer === chunks[1]!.buffer, got[1]!.buffer === chunks[3]!.buffer]).toEqual([true, false]);
  });

  it('createFramer builds each mode', () => {
    expect(run(createFramer('lf'), [b('a\nb')])).toEqual(['a', 'b']);
    expect(run(createFramer('nul'), [b('a\x00b')])).toEqual(['a', 'b']);
    expect(run(createFramer('octet'), [b('4 <1>a4 <1>b')])).toEqual(['<1>a', '<1>b']);
    expect(run(createFramer('auto'), [b('4 <1>a\nb\n')])).toEqual(['<1>a', 'b']);
  });
});
