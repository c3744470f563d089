/**
 * Fuzz: random bytes and mutated real lines never make the parser throw, and the parse
 * command always writes exactly one record per non-empty input line.
 */
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import { runParseCommand } from '../../../src/cli/parse-command.js';
import { logRecordToOtlpJson } from '../../../src/output/otlp-json.js';
import { LINES } from '../netfilter/sample-lines.js';

const SAMPLES = Object.values(LINES).flatMap((l) => [l, `<4>Nov 26 14:24:16 fw1 kernel: ${l}`, `4,1,2,-;${l}`]);
const TOKENS = [' ', '=', '[', ']', '(', ')', ':', 'IN=', 'OUT=', 'SRC=', 'PROTO=', 'LEN=', 'ID=', 'INCOMPLETE', 'OPT (', 'FRAG:', '0x', '::', '\u0000', '\r', 'é', '\uffff'];

/** A real line with random edits: deletions, insertions of interesting tokens, replacements. */
const mutatedLine = fc
  .tuple(
    fc.constantFrom(...SAMPLES),
    fc.array(fc.tuple(fc.nat(), fc.nat(400), fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 }))), { maxLength: 8 }),
  )
  .map(([line, edits]) => {
    let s = line;
    for (const [at, del, ins] of edits) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + ins + s.slice(i + (del % 12));
    }
    return s;
  });

function checkRecord(frame: string | Buffer): void {
  const r = parseFrame(frame, { peerAddress: '192.0.2.1', transport: 'udp' }, { preserveOriginal: true });
  expect(typeof r.body).toBe('string');
  expect(r.observedTimestamp.length).toBe(2);
  // The encoded record must be valid JSON.
  JSON.parse(logRecordToOtlpJson(r));
}

function isBlank(line: Buffer): boolean {
  return line.every((c) => c === 0x20 || c === 0x09 || c === 0x0d);
}

async function countOutput(lines: Buffer[]): Promise<{ written: number; lines: number }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(Buffer.from(chunk));
      cb();
    },
  });
  const input = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  const result = await runParseCommand(Readable.from([input]), sink, {});
  const text = Buffer.concat(out).toString('utf8');
  const written = text.length === 0 ? 0 : text.split('\n').filter((l) => l.length > 0).length;
  for (const l of text.split('\n')) if (l.length > 0) JSON.parse(l);
  return { written, lines: result.lines };
}

describe('fuzz', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        checkRecord(Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });
  it('random strings never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (s) => {
        checkRecord(s);
      }),
      { numRuns: 2000 },
    );
  });
  it('mutated real lines never throw', () => {
    fc.assert(
      fc.property(mutatedLine, (s) => {
        checkRecord(s);
      }),
      { numRuns: 3000 },
    );
  });
  it('the parse command writes exactly one record per non-empty line', async () => {
    const lineBytes = fc.oneof(
      mutatedLine.map((s) => Buffer.from(s.replaceAll('\n', ' '))),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b.map((c) => (c === 0x0a ? 0x20 : c)))),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(lineBytes, { maxLength: 30 }), async (lines) => {
        const nonEmpty = lines.filter((l) => {
          const t = l.length > 0 && l[l.length - 1] === 0x0d ? l.subarray(0, l.length - 1) : l;
          return t.length > 0 && !isBlank(t);
        }).length;
        const { written, lines: counted } = await countOutput(lines);
        expect(counted).toBe(nonEmpty);
        expect(written).toBe(nonEmpty);
      }),
      { numRuns: 300 },
    );
  });
});
