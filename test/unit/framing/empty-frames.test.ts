/**
 * Whitespace-only frames end to end: every input hands them to the parser, which makes an
 * `error.type=empty_frame` record carrying the original text, and the direct OTLP encoder
 * writes the same bytes as parseFrame + the standard encoder. Zero-length frames (`\n\n`)
 * are not frames. Strict octet counting has no whitespace frames: a whitespace body fails
 * the plausibility rule (`bad_octet_count`).
 */
import { describe, expect, it } from 'vitest';
import { createFramer } from '../../../src/framing/create-framer.js';
import type { FramingError, FramingMode } from '../../../src/framing/framer.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { ReceiveContext } from '../../../src/mapping/record.js';
import { OtlpDirectEncoder, ParseOutcome } from '../../../src/output/otlp-direct.js';
import { OtlpProtobufEncoder } from '../../../src/output/otlp-protobuf.js';
import { ProtobufWriter } from '../../../src/output/protobuf-writer.js';
import { bytewise } from './framing-helpers.js';

const CTX: ReceiveContext = { transport: 'tcp', peerAddress: '192.0.2.7', peerPort: 51400, receivedAt: [1795700000, 0] };
const WHITESPACE = [' ', '\r', '  ', ' \r', '\t', ' \t '];

/** Frames (as Buffers) and error reasons of `stream` through a fresh framer of `mode`. */
function frame(mode: FramingMode, chunks: Buffer[]): { frames: Buffer[]; reasons: string[] } {
  const errors: FramingError[] = [];
  const framer = createFramer(mode, { onError: (e) => errors.push(e) });
  const frames: Buffer[] = [];
  const emit = (f: Buffer): void => {
    frames.push(Buffer.from(f));
  };
  for (const c of chunks) framer.feed(c, emit);
  framer.flush(emit);
  return { frames, reasons: errors.map((e) => e.reason) };
}

/** parseFrame + the standard encoder, and the direct encoder, for one frame. */
function encodeBoth(f: Buffer): { standard: Buffer; direct: Buffer; outcome: ParseOutcome } {
  const w = new ProtobufWriter(1 << 12);
  new OtlpProtobufEncoder({}, { name: '' }, { writer: w }).appendLogRecord(parseFrame(f, CTX));
  const enc = new OtlpDirectEncoder();
  const outcome = enc.append(f, CTX);
  const [r] = enc.takeChunk();
  return { standard: Buffer.from(w.buf.subarray(0, w.pos)), direct: Buffer.from(r!.chunk.subarray(r!.start, r!.end)), outcome };
}

describe('whitespace-only frames', () => {
  for (const [mode, d] of [
    ['lf', '\n'],
    ['nul', '\0'],
    ['auto', '\n'],
    ['auto', '\0'],
  ] as const) {
    it(`${mode} (${JSON.stringify(d)}): an empty_frame record with the original text, the same bytes on the direct path`, () => {
      const stream = Buffer.from(`${d}${d}${WHITESPACE.join(d)}${d}${d}`, 'latin1');
      for (const chunks of [[stream], bytewise(stream)]) {
        const { frames, reasons } = frame(mode, chunks);
        expect(reasons).toEqual([]);
        // Leading spaces go when something else is left (the tab; under NUL framing, where a CR
        // is not a line end, the CR too); a frame trimming would empty is kept as sent.
        const expected = mode === 'nul' ? [' ', '\r', '  ', '\r', '\t', '\t '] : [' ', '\r', '  ', ' \r', '\t', '\t '];
        expect(frames.map((f) => f.toString('latin1'))).toEqual(expected);
        for (const f of frames) {
          const r = parseFrame(f, CTX);
          expect(r.attributes['error.type']).toBe('empty_frame');
          expect(r.attributes['log.record.original']).toBe(f.toString('latin1'));
          const both = encodeBoth(f);
          expect(both.direct.equals(both.standard)).toBe(true);
          expect(both.outcome).toBe(ParseOutcome.Failed);
        }
      }
    });
  }

  it('a whitespace UDP datagram (handed to the parser as is) gives the same record', () => {
    for (const text of [...WHITESPACE, ' \n', '\r\n', '\0']) {
      const r = parseFrame(Buffer.from(text, 'latin1'), { ...CTX, transport: 'udp' });
      expect(r.attributes['error.type']).toBe('empty_frame');
      expect(r.attributes['log.record.original']).toBe(text);
    }
  });

  it('strict octet counting: a whitespace body is a bad_octet_count, counted by the input', () => {
    const { frames, reasons } = frame('octet', [Buffer.from('3    \n5 <1>ab', 'latin1')]);
    expect(frames.map((f) => f.toString('latin1'))).toEqual(['<1>ab']);
    expect(reasons).toEqual(['bad_octet_count']);
  });
});
