import { describe, expect, it } from 'vitest';
import { LineSplitter, type FileLine } from '../../../../src/input/file/line-splitter.js';

interface Line {
  text: string;
  offset: number;
  resumeOffset: number;
  cut: boolean;
}

function split(chunks: string[], max = 1024, start = 0): { lines: Line[]; cuts: number[]; splitter: LineSplitter } {
  const lines: Line[] = [];
  const cuts: number[] = [];
  const splitter = new LineSplitter(start, max, (at) => cuts.push(at));
  const emit = (l: FileLine): void => {
    lines.push({ text: l.text.toString('latin1'), offset: l.offset, resumeOffset: l.resumeOffset, cut: l.cut });
  };
  for (const c of chunks) splitter.push(Buffer.from(c, 'latin1'), emit);
  return { lines, cuts, splitter };
}

describe('file line splitter', () => {
  const file = 'Dec  2 02:12:25 fw1 kernel: A\r\n\nsecond line\nthird';

  it('gives each line its start offset and the offset after its LF, however the file is chunked', () => {
    for (let cut = 0; cut <= file.length; cut++) {
      const { lines, splitter } = split([file.slice(0, cut), file.slice(cut)]);
      expect(lines).toEqual([
        { text: 'Dec  2 02:12:25 fw1 kernel: A', offset: 0, resumeOffset: 31, cut: false },
        { text: 'second line', offset: 32, resumeOffset: 44, cut: false },
      ]);
      // The partial last line is held, not emitted.
      expect(splitter.buffered).toBe(5);
      expect(splitter.partialStart).toBe(44);
      expect(splitter.nextOffset).toBe(file.length);
    }
  });

  it('emits the held partial line on flush (the file rotated away), resuming after its last byte', () => {
    const { lines, splitter } = split([file]);
    const more: FileLine[] = [];
    splitter.flush((l) => more.push(l));
    expect(lines).toHaveLength(2);
    expect(more.map((l) => [l.text.toString(), l.offset, l.resumeOffset])).toEqual([['third', 44, 49]]);
    splitter.flush((l) => more.push(l));
    expect(more).toHaveLength(1);
  });

  it('cuts a line longer than maxFrameSize (in one chunk or across chunks), counts it, and keeps the next line', () => {
    const long = 'x'.repeat(300);
    for (const chunks of [[`${long}\nok\n`], [long.slice(0, 100), long.slice(100, 250), `${long.slice(250)}\nok\n`]]) {
      const { lines, cuts } = split(chunks, 128);
      expect(cuts).toEqual([0]);
      expect(lines.map((l) => [l.text.length, l.offset, l.cut])).toEqual([
        [128, 0, true],
        [2, 301, false],
      ]);
      expect(lines[1]!.resumeOffset).toBe(304);
      // A cut line resumes after its LF when that was seen, else at its start (re-read after a restart).
      expect([301, 0]).toContain(lines[0]!.resumeOffset);
    }
  });

  it('a cut line still waiting for its LF resumes at its start', () => {
    const { lines } = split(['y'.repeat(200)], 128, 1000);
    expect(lines).toEqual([{ text: 'y'.repeat(128), offset: 1000, resumeOffset: 1000, cut: true }]);
  });

  it('starts over after a reset (truncation)', () => {
    const { splitter } = split(['abc\npartial']);
    splitter.reset(0);
    const out: FileLine[] = [];
    splitter.push(Buffer.from('new\n'), (l) => out.push(l));
    expect(out.map((l) => [l.text.toString(), l.offset, l.resumeOffset])).toEqual([['new', 0, 4]]);
  });
});
