/**
 * A stream input in frame-sink mode frees what it owns as soon as the sink has copied it: a
 * flushed partial frame (budget cut, end of stream) and a frame assembled across reads. A read
 * buffer that holds a partial frame is kept, and its bytes arrive intact.
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import type { FrameSpans } from '../../../src/framing/framer.js';
import { releaseReady } from '../../../src/framing/owned-bytes.js';
import { TcpInput } from '../../../src/input/tcp-input.js';
import type { ReceiveContext } from '../../../src/mapping/record.js';
import { Metrics } from '../../../src/ops/metrics.js';
import type { FrameSink } from '../../../src/pipeline/frame-sink.js';
import { waitFor } from '../../helpers/wait.js';

/** Copies every frame (as the contract requires) and keeps the buffers it was shown. */
class KeepingSink implements FrameSink {
  readonly frames: string[] = [];
  readonly chunks: Buffer[] = [];
  readonly flushed: Buffer[] = [];
  writable = true;
  offerFrames(frames: Buffer[], _ctx: ReceiveContext): boolean {
    for (const f of frames) {
      this.frames.push(f.toString('latin1'));
      this.flushed.push(f);
    }
    return true;
  }
  offerSpans(spans: FrameSpans, _ctx: ReceiveContext): boolean {
    this.chunks.push(spans.chunk);
    spans.emitTo((f) => this.frames.push(f.toString('latin1')));
    return true;
  }
  onDrain(): void {}
}

const noDecode = (): never => {
  throw new Error('decode must not be called in frame-sink mode');
};

async function withInput(run: (port: number, sink: KeepingSink, metrics: Metrics) => Promise<void>): Promise<void> {
  await releaseReady(); // the release port is ready once its peer's close has been seen
  const sink = new KeepingSink();
  const metrics = new Metrics();
  const input = new TcpInput(
    { type: 'tcp', host: '127.0.0.1', port: 0, framing: 'auto', maxFrameSize: 256 * 1024, maxConnections: 10, idleTimeoutMs: 0 },
    { decode: noDecode, sink: { writable: false, offer: () => false, onDrain: () => {} }, frameSink: sink, metrics },
  );
  await input.start();
  try {
    await run(input.address()!.port, sink, metrics);
  } finally {
    await input.stop();
  }
}

describe('stream input: buffers released once the sink has copied them', () => {
  it('a frame assembled across reads is freed once the sink has copied it', async () => {
    await withInput(async (port, sink) => {
      const long = `<4>${'l'.repeat(100_000)}`; // longer than one read: assembled by the framer
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const offer = sink.offerSpans.bind(sink);
      let head: Buffer | undefined;
      sink.offerSpans = (spans, ctx) => {
        head ??= spans.head;
        return offer(spans, ctx);
      };
      sock.end(`${long}\n<4>after\n`);
      await waitFor(() => sink.frames.length === 2, { timeoutMs: 5000, what: 'both frames' });
      expect(sink.frames).toEqual([long, '<4>after']);
      expect(head).toBeDefined();
      expect(head!.length).toBe(0); // released after the sink copied it
    });
  });

  it('a read holding a half-sent frame is kept; the flushed frame arrives intact, then is freed', async () => {
    await withInput(async (port, sink, metrics) => {
      const half = `<4>${'h'.repeat(50_000)}`;
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.write(half);
      const held = async (): Promise<number> => (await metrics.partialFrameBytes.get()).values[0]?.value ?? 0;
      await waitFor(async () => (await held()) === half.length, { timeoutMs: 5000, what: 'the partial frame held' });
      expect(sink.frames).toEqual([]);
      sock.end();
      await waitFor(() => sink.frames.length === 1, { timeoutMs: 5000, what: 'the flushed frame' });
      expect(sink.frames[0]).toBe(half);
      expect(sink.flushed[0]!.length).toBe(0); // released after the sink copied it
    });
  });
});
