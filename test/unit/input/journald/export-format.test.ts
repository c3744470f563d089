import { describe, expect, it } from 'vitest';
import { ExportFormatParser, type ExportFormatError, type JournalEntry } from '../../../../src/input/journald/export-format.js';

/** A binary export field: KEY LF, u64le length, bytes, LF. */
function binary(name: string, value: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, value, Buffer.from('\n')]);
}

function parse(chunks: Buffer[], maxEntrySize = 1 << 20): { entries: JournalEntry[]; errors: ExportFormatError[]; parser: ExportFormatParser } {
  const entries: JournalEntry[] = [];
  const errors: ExportFormatError[] = [];
  const parser = new ExportFormatParser({ maxEntrySize, onEntry: (e) => entries.push(e), onError: (e) => errors.push(e) });
  for (const c of chunks) parser.push(c);
  return { entries, errors, parser };
}

/** Every split of `buf` into single bytes, and at each position into two pieces. */
function splits(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [[buf], [...buf].map((b) => Buffer.from([b]))];
  for (let i = 1; i < buf.length; i++) out.push([buf.subarray(0, i), buf.subarray(i)]);
  return out;
}

const text = (e: JournalEntry, k: string): string | undefined => e.get(k)?.toString('utf8');

describe('journal export format parser', () => {
  const stream = Buffer.concat([
    Buffer.from('__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1700000000123456\nPRIORITY=4\n_TRANSPORT=kernel\nMESSAGE=FW: IN=eth0 OUT= SRC=192.0.2.1\n\n'),
    Buffer.from('__CURSOR=s=1;i=2\nPRIORITY=4\n'),
    binary('MESSAGE', Buffer.from('line one\n\nline two \x1b[1m\xff', 'latin1')),
    Buffer.from('_BOOT_ID=abc\n\n'),
  ]);

  it('reads text and binary fields, entries split anywhere across chunks', () => {
    for (const chunks of splits(stream)) {
      const { entries, errors } = parse(chunks);
      expect(errors).toEqual([]);
      expect(entries).toHaveLength(2);
      expect(text(entries[0]!, '__CURSOR')).toBe('s=1;i=1');
      expect(text(entries[0]!, 'MESSAGE')).toBe('FW: IN=eth0 OUT= SRC=192.0.2.1');
      expect(text(entries[0]!, '__REALTIME_TIMESTAMP')).toBe('1700000000123456');
      // The binary value keeps its empty line, escape and invalid UTF-8 byte exactly.
      expect(entries[1]!.get('MESSAGE')!.toString('latin1')).toBe('line one\n\nline two \x1b[1m\xff');
      expect(text(entries[1]!, '_BOOT_ID')).toBe('abc');
    }
  });

  it('keeps a value containing "=" whole and the first of a repeated field', () => {
    const { entries } = parse([Buffer.from('MESSAGE=a=b=c\nMESSAGE=second\nX=\n\n')]);
    expect(text(entries[0]!, 'MESSAGE')).toBe('a=b=c');
    expect(text(entries[0]!, 'X')).toBe('');
  });

  it('drops an entry above maxEntrySize once, with its cursor, and goes on with the next', () => {
    const big = Buffer.concat([Buffer.from('__CURSOR=c1\n'), binary('MESSAGE', Buffer.alloc(5000, 0x0a)), Buffer.from('\n')]);
    const next = Buffer.from('__CURSOR=c2\nMESSAGE=ok\n\n');
    for (const chunks of [[big, next], [Buffer.concat([big, next])]]) {
      const { entries, errors } = parse(chunks, 1024);
      // 5000 LF bytes inside the binary value are not empty lines: the length is followed.
      expect(errors).toEqual([expect.objectContaining({ reason: 'oversize', cursor: 'c1' })]);
      expect(entries.map((e) => text(e, '__CURSOR'))).toEqual(['c2']);
    }
    const longText = Buffer.from(`__CURSOR=c3\nMESSAGE=${'x'.repeat(3000)}\n\n__CURSOR=c4\nMESSAGE=ok\n\n`);
    const { entries, errors, parser } = parse([longText], 1024);
    expect(errors.map((e) => [e.reason, e.cursor])).toEqual([['oversize', 'c3']]);
    expect(entries.map((e) => text(e, '__CURSOR'))).toEqual(['c4']);
    expect(parser.buffered).toBe(0);
  });

  it('reports a binary field not followed by LF and resyncs at the next empty line', () => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(2n);
    const bad = Buffer.concat([Buffer.from('__CURSOR=c1\nMESSAGE\n'), len, Buffer.from('abX\n\n__CURSOR=c2\nMESSAGE=ok\n\n')]);
    const { entries, errors } = parse([bad]);
    expect(errors).toEqual([expect.objectContaining({ reason: 'malformed', cursor: 'c1' })]);
    expect(entries.map((e) => text(e, '__CURSOR'))).toEqual(['c2']);
  });

  it('reports an entry cut off by the end of the stream', () => {
    const { entries, errors, parser } = parse([Buffer.from('__CURSOR=c1\nMESSAGE=complete\n\n__CURSOR=c2\nMESSA')]);
    parser.end();
    expect(entries).toHaveLength(1);
    expect(errors).toEqual([expect.objectContaining({ reason: 'malformed', cursor: 'c2' })]);
  });

  it('ignores extra empty lines between entries', () => {
    const { entries, errors } = parse([Buffer.from('\n\nMESSAGE=a\n\n\n\nMESSAGE=b\n\n')]);
    expect(errors).toEqual([]);
    expect(entries.map((e) => text(e, 'MESSAGE'))).toEqual(['a', 'b']);
  });
});
