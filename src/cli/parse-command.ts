/**
 * `iptables-otel parse`: lines on an input stream -> one OTLP/JSON LogRecord per non-empty
 * line on the output stream, in order, failures included (they carry `error.type`).
 */
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { parseFrame } from '../mapping/parse-frame.js';
import type { ParseOptions } from '../mapping/parse-options.js';
import { logRecordToOtlpJson } from '../output/otlp-json.js';

/** Counts returned by `runParseCommand`. */
export interface ParseCommandResult {
  /** Non-empty lines read (= records written). */
  lines: number;
  /** Records with `error.type` (not a netfilter line, empty content, parser error). */
  failures: number;
}

/** True when the line holds only CR / spaces / tabs (an "empty" line). */
function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Reads `input` (bytes; lines end with LF, an optional CR before it is dropped), parses
 * every non-empty line with `parseFrame(line, undefined, options)` and writes one OTLP/JSON
 * LogRecord per line plus LF to `output`, honouring backpressure. A final line without LF
 * counts. Resolves when the input ends and everything is written; does not end `output`.
 */
export async function runParseCommand(input: Readable, output: Writable, options: ParseOptions): Promise<ParseCommandResult> {
  let lines = 0;
  let failures = 0;
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let batch = '';

  const emit = (line: Buffer): void => {
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length === 0 || isBlank(line)) return;
    const record = parseFrame(line, undefined, options);
    lines++;
    if (record.attributes['error.type'] !== undefined) failures++;
    batch += logRecordToOtlpJson(record) + '\n';
  };

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const text = batch;
    batch = '';
    if (!output.write(text)) await once(output, 'drain');
  };

  for await (const chunk of input) {
    const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      let line = buf.subarray(start, nl);
      if (pendingLength > 0) {
        pending.push(line);
        line = Buffer.concat(pending, pendingLength + line.length);
        pending = [];
        pendingLength = 0;
      }
      emit(line);
      start = nl + 1;
    }
    if (start < buf.length) {
      pending.push(buf.subarray(start));
      pendingLength += buf.length - start;
    }
    await flush();
  }
  if (pendingLength > 0) emit(Buffer.concat(pending, pendingLength));
  await flush();
  return { lines, failures };
}
