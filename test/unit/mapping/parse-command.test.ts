import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runParseCommand } from '../../../src/cli/parse-command.js';
import { LINES } from '../netfilter/sample-lines.js';

/** Collects everything written; optionally slow, to exercise backpressure. */
function sink(slow = false): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      if (slow) setImmediate(cb);
      else cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function records(text: string): Array<{ body: { stringValue: string }; attributes: Array<{ key: string; value: unknown }> }> {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

describe('runParseCommand', () => {
  it('writes one OTLP/JSON record per non-empty line, in order, failures included', async () => {
    const input = [LINES.tcpSyn, '', 'not netfilter', '   ', `${LINES.udp}\r`, LINES.arp].join('\n');
    const out = sink();
    const result = await runParseCommand(Readable.from([Buffer.from(input)]), out.stream, {});
    expect(result).toEqual({ lines: 4, failures: 1 });
    const recs = records(out.text());
    expect(recs.map((r) => r.body.stringValue)).toEqual([LINES.tcpSyn, 'not netfilter', LINES.udp, LINES.arp]);
    expect(recs[1]!.attributes.some((a) => a.key === 'error.type')).toBe(true);
    expect(out.text().endsWith('\n')).toBe(true);
  });
  it('joins lines split across chunks, including inside a multi-byte character', async () => {
    const line = `FW-é: ${LINES.udp}`;
    const bytes = Buffer.from(`${line}\n${line}`);
    const cut = bytes.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut, cut + 3), bytes.subarray(cut + 3)];
    const out = sink();
    const result = await runParseCommand(Readable.from(chunks), out.stream, {});
    expect(result).toEqual({ lines: 2, failures: 0 });
    expect(records(out.text()).map((r) => r.body.stringValue)).toEqual([line, line]);
  });
  it('honours backpressure and keeps order over many lines', async () => {
    const input = new PassThrough();
    const out = sink(true);
    const done = runParseCommand(input, out.stream, { preserveOriginal: true });
    const n = 2000;
    for (let i = 0; i < n; i++) input.write(`FW${i}: ${LINES.udp}\n`);
    input.end();
    const result = await done;
    expect(result).toEqual({ lines: n, failures: 0 });
    const recs = records(out.text());
    expect(recs.length).toBe(n);
    expect(recs[n - 1]!.body.stringValue.startsWith(`FW${n - 1}: `)).toBe(true);
  });
  it('accepts string chunks', async () => {
    const out = sink();
    const result = await runParseCommand(Readable.from([`${LINES.esp}\n`], { objectMode: true }), out.stream, {});
    expect(result.lines).toBe(1);
  });
});
