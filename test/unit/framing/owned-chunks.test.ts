/**
 * Framers whose caller owns its chunks (`ownsChunks`, the stream inputs): a partial frame that is
 * most of its chunk is held by reference instead of copied, the pieces it held are freed once
 * their frame is assembled, and `releaseNow` frees a buffer at once. The frames must be the same
 * as with copies, however the stream is cut.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AutoDetectFramer } from '../../../src/framing/auto-detect.js';
import { DelimitedFramer } from '../../../src/framing/delimited.js';
import { FrameSpans, type Framer } from '../../../src/framing/framer.js';
import { coversMostOf, keepOrCopy, releaseNow, releaseReady } from '../../../src/framing/owned-bytes.js';
import { cut } from './framing-helpers.js';

/** A chunk with an ArrayBuffer of its own, as a socket read has (Node allocates one per read). */
function owned(text: string): Buffer {
  const chunk = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'latin1'));
  chunk.write(text, 'latin1');
  return chunk;
}

/** Feed each chunk as its own buffer, then flush; frames as text. */
function frames(framer: Framer, chunks: string[]): string[] {
  const out: string[] = [];
  const emit = (f: Buffer): void => {
    out.push(f.toString('latin1'));
  };
  for (const c of chunks) framer.feed(owned(c), emit);
  framer.flush(emit);
  return out;
}

const big = (n: number, c = 'a'): string => c.repeat(n);

describe('keepOrCopy', () => {
  it('keeps a tail that is most of an owned chunk, copies a short one or any tail of a chunk not owned', () => {
    const chunk = owned(`<4>x\n${big(60_000)}`);
    const tail = chunk.subarray(5);
    expect(keepOrCopy(tail, true).buffer).toBe(chunk.buffer);
    expect(keepOrCopy(tail, false).buffer).not.toBe(chunk.buffer);
    const short = owned(`${big(60_000)}\n<4>x`).subarray(60_001);
    expect(keepOrCopy(short, true).buffer).not.toBe(short.buffer);
    expect(keepOrCopy(short, true).toString('latin1')).toBe('<4>x');
  });

  it('never keeps a slice of Buffer’s shared pool', () => {
    const pooled = Buffer.from('<4>half a line');
    expect(coversMostOf(pooled)).toBe(false);
    const kept = keepOrCopy(pooled, true);
    pooled.fill(0x7a); // the copy (itself in the pool) does not change with the original
    expect(kept.toString('latin1')).toBe('<4>half a line');
  });
});

describe('DelimitedFramer with owned chunks', () => {
  it('holds a half-sent frame in its read buffer, without a copy', () => {
    const framer = new DelimitedFramer({ ownsChunks: true });
    const first = owned(big(65_000));
    const spans = new FrameSpans();
    framer.scan(first, spans);
    expect(spans.frames).toBe(0);
    expect(framer.buffered).toBe(65_000);
    const got: Buffer[] = [];
    framer.flush((f) => got.push(f));
    expect(got).toHaveLength(1);
    expect(got[0]!.buffer).toBe(first.buffer); // the read buffer itself is the frame
  });

  it('frees the read buffer it held once the frame is assembled; the frame is intact', async () => {
    await releaseReady(); // the release port is ready after its peer's close was seen
    const framer = new DelimitedFramer({ ownsChunks: true });
    const first = owned(`<4>${big(50_000)}`);
    framer.scan(first, new FrameSpans());
    const spans = new FrameSpans();
    const second = owned(' end\n<4>next\n');
    framer.scan(second, spans);
    expect(spans.head!.toString('latin1')).toBe(`<4>${big(50_000)} end`);
    expect(first.length).toBe(0); // detached: its memory went back
    expect(second.length).toBeGreaterThan(0); // the chunk being read is the caller's to let go
    const copying = new DelimitedFramer();
    const kept = owned(`<4>${big(50_000)}`);
    copying.scan(kept, new FrameSpans());
    copying.scan(owned(' end\n'), new FrameSpans());
    expect(kept.length).toBe(50_003); // without ownsChunks nothing is freed
  });

  it('copies a short tail, so the chunk is not pinned', () => {
    const framer = new DelimitedFramer({ ownsChunks: true });
    const chunk = owned(`<4>${big(40_000)}\n<4>start of the next`);
    framer.scan(chunk, new FrameSpans());
    expect(framer.buffered).toBe('<4>start of the next'.length);
    chunk.fill(0x7a); // whatever happens to the chunk now, the held tail is a copy
    expect(frames(framer, [' ends\n'])).toEqual(['<4>start of the next ends']);
  });

  it('gives the frames a copying framer gives, however the stream is cut (LF and auto)', () => {
    const lines = [`<4>${big(30_000)}`, `<6>${big(5, 'b')}`, `<4>${big(70_000, 'c')}`, `<5>${big(50_000, 'd')}`];
    const stream = `${lines.join('\n')}\n<4>unterminated ${big(20_000, 'e')}`;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (points) => {
        const chunks = cut(Buffer.from(stream, 'latin1'), points).map((c) => c.toString('latin1'));
        for (const make of [(o: boolean) => new DelimitedFramer({ ownsChunks: o, maxFrameSize: 60_000 }), (o: boolean) => new AutoDetectFramer({ ownsChunks: o, maxFrameSize: 60_000 })]) {
          expect(frames(make(true), chunks)).toEqual(frames(make(false), chunks));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('releaseNow', () => {
  it('detaches an owned buffer (its memory goes back at once)', async () => {
    await releaseReady(); // the release port is ready once its peer's close has been seen
    const chunk = owned(big(100_000));
    releaseNow(chunk);
    expect(chunk.length).toBe(0);
    expect(chunk.buffer.byteLength).toBe(0);
  });

  it('leaves small buffers and slices of Buffer’s shared pool alone', async () => {
    await releaseReady(); // the release port is ready once its peer's close has been seen
    const pooled = Buffer.from('<4>kept');
    const neighbour = Buffer.from('<4>its neighbour in the pool');
    releaseNow(pooled);
    expect(pooled.toString()).toBe('<4>kept');
    expect(neighbour.toString()).toBe('<4>its neighbour in the pool');
    const small = owned(big(100));
    releaseNow(small);
    expect(small.length).toBe(100);
  });
});
