import type { Framer, FramingError } from '../../../src/framing/framer.js';

/** Feed `chunks` to `framer`, flush, and return frames (as latin1 text) and errors. */
export function run(framer: Framer, chunks: Buffer[], errors: FramingError[] = []): string[] {
  const frames: string[] = [];
  const emit = (f: Buffer): void => {
    frames.push(f.toString('latin1'));
  };
  for (const c of chunks) framer.feed(c, emit);
  framer.flush(emit);
  return frames;
}

/** Split `buf` at the given cut points. */
export function cut(buf: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => Math.max(0, Math.min(buf.length, p))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of sorted) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = p;
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}

/** One buffer per byte. */
export function bytewise(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

/** Octet-count frame `msg`. */
export function oc(msg: string): string {
  return `${Buffer.byteLength(msg, 'latin1')} ${msg}`;
}
