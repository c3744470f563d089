/**
 * Inputs in frame-sink mode with a fake `FrameSink` (no threads): TCP hands over the frames
 * of each read with one context and pauses/resumes on the sink's verdict; UDP offers the
 * datagrams of one event-loop turn as runs, one context per sender run, and counts
 * `queue_full` while the sink is not writable. Plus the
 * `pipeline.threads` / `--threads` configuration.
 */
import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { parseCliArgs } from '../../../../src/cli/cli-args.js';
import { ConfigError, loadConfig } from '../../../../src/config/load-config.js';
import { TcpInput } from '../../../../src/input/tcp-input.js';
import { UdpInput } from '../../../../src/input/udp-input.js';
import type { FrameSpans } from '../../../../src/framing/framer.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { Metrics } from '../../../../src/ops/metrics.js';
import type { FrameSink } from '../../../../src/pipeline/frame-sink.js';
import { resolveThreadCount } from '../../../../src/pipeline/threads/threaded-pipeline.js';
import { waitFor } from '../../../helpers/wait.js';

class FakeFrameSink implements FrameSink {
  readonly offers: Array<{ frames: string[]; ctx: ReceiveContext }> = [];
  writable = true;
  /** What offerFrames answers. */
  accept = true;
  private listeners: Array<() => void> = [];
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    // Copy now, as the contract requires: the buffers may be reused after we return.
    this.offers.push({ frames: frames.map((f) => f.toString('utf8')), ctx });
    return this.accept;
  }
  offerSpans(spans: FrameSpans, ctx: ReceiveContext): boolean {
    const frames: string[] = [];
    spans.emitTo((f) => frames.push(f.toString('utf8')));
    this.offers.push({ frames, ctx });
    return this.accept;
  }
  onDrain(l: () => void): void {
    this.listeners.push(l);
  }
  drain(): void {
    const ls = this.listeners;
    this.listeners = [];
    ls.forEach((l) => l());
  }
  get frames(): string[] {
    return this.offers.flatMap((o) => o.frames);
  }
}

const unused = { writable: false, offer: () => false, onDrain: () => {} };
const noDecode = (): never => {
  throw new Error('decode must not be called in frame-sink mode');
};

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('inputs with a frame sink', () => {
  it('TCP: frames of one read share a context; false pauses the socket, drain resumes it', async () => {
    const sink = new FakeFrameSink();
    const metrics = new Metrics();
    const input = new TcpInput(
      { type: 'tcp', host: '127.0.0.1', port: 0, framing: 'auto', maxFrameSize: 1024, maxConnections: 10, idleTimeoutMs: 0 },
      { decode: noDecode, sink: unused, frameSink: sink, metrics },
    );
    await input.start();
    try {
      const sock = net.connect(input.address()!.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sink.accept = false;
      sock.write('a1\na2\npart');
      await until(() => input.pausedCount === 1, 2000, 'pause');
      expect(sink.offers).toHaveLength(1);
      expect(sink.offers[0]!.frames).toEqual(['a1', 'a2']);
      expect(sink.offers[0]!.ctx).toMatchObject({ transport: 'tcp', peerAddress: '127.0.0.1' });
      sink.accept = true;
      sink.drain();
      expect(input.pausedCount).toBe(0);
      sock.end('ial\nb1\n');
      await until(() => sink.frames.length === 4, 2000, 'all frames');
      expect(sink.frames).toEqual(['a1', 'a2', 'partial', 'b1']);
      expect((await metrics.received.get()).values[0]!.value).toBe(4);
    } finally {
      await input.stop();
    }
  });

  it('UDP: a lone datagram is one offer; not writable -> held until the sink drains, none dropped', async () => {
    const sink = new FakeFrameSink();
    const metrics = new Metrics();
    const input = new UdpInput(
      { type: 'udp', host: '127.0.0.1', port: 0, maxFrameSize: 1024, recvBufferSize: 0 },
      { decode: noDecode, sink: unused, frameSink: sink, metrics },
    );
    await input.start();
    const client = dgram.createSocket('udp4');
    try {
      const send = (t: string): Promise<void> => new Promise((r) => client.send(t, input.address()!.port, '127.0.0.1', () => r()));
      await send('d1');
      await until(() => sink.frames.length === 1, 2000, 'first datagram');
      expect(sink.offers[0]!.ctx).toMatchObject({ transport: 'udp', peerAddress: '127.0.0.1' });
      sink.writable = false;
      await send('d2');
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.frames).toEqual(['d1']);
      sink.writable = true;
      sink.drain();
      await until(() => sink.frames.length === 2, 2000, 'd2 once the sink drains');
      expect(sink.frames).toEqual(['d1', 'd2']);
      expect((await metrics.dropped.get()).values.find((v) => v.labels.reason === 'queue_full')?.value ?? 0).toBe(0);
    } finally {
      client.close();
      await input.stop();
    }
  });
});

describe('UdpInput in frame-sink mode: runs', () => {
  async function start(sink: FakeFrameSink, metrics = new Metrics()): Promise<UdpInput> {
    const input = new UdpInput(
      { type: 'udp', host: '127.0.0.1', port: 0, maxFrameSize: 1024, recvBufferSize: 1 << 20 },
      { decode: noDecode, sink: unused, frameSink: sink, metrics },
    );
    await input.start();
    return input;
  }
  const clients: dgram.Socket[] = [];
  async function client(): Promise<dgram.Socket> {
    const c = dgram.createSocket('udp4');
    clients.push(c);
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    return c;
  }
  /** Send all of `texts` from `c` in this tick (the kernel queues them before the input reads). */
  const burst = (c: dgram.Socket, port: number, texts: string[]): Promise<void[]> =>
    Promise.all(texts.map((t) => new Promise<void>((r) => c.send(t, port, '127.0.0.1', () => r()))));

  it('offers each datagram exactly once, in order per sender, one context per sender run, fewer offers than datagrams', async () => {
    const sink = new FakeFrameSink();
    const metrics = new Metrics();
    const input = await start(sink, metrics);
    const port = input.address()!.port;
    try {
      const a = await client();
      const b = await client();
      const n = 300;
      const sends: Array<Promise<void[]>> = [];
      for (let i = 0; i < n; i += 10) {
        sends.push(burst(a, port, Array.from({ length: 10 }, (_, k) => `a${i + k}`)));
        sends.push(burst(b, port, Array.from({ length: 10 }, (_, k) => `b${i + k}`)));
      }
      await Promise.all(sends);
      await waitFor(() => sink.frames.length === 2 * n, { what: `${2 * n} datagrams`, timeoutMs: 5000 });
      const ports = { a: a.address().port, b: b.address().port };
      const got: Record<'a' | 'b', string[]> = { a: [], b: [] };
      for (const o of sink.offers) {
        const who = o.frames[0]!.slice(0, 1) as 'a' | 'b';
        // Every frame of an offer comes from the sender its context names.
        expect(o.frames.every((f) => f.startsWith(who))).toBe(true);
        expect(o.ctx).toMatchObject({ transport: 'udp', peerAddress: '127.0.0.1', peerPort: ports[who] });
        got[who].push(...o.frames);
      }
      expect(got.a).toEqual(Array.from({ length: n }, (_, i) => `a${i}`));
      expect(got.b).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
      // Collected per turn, not offered one by one; counted once per turn, all of them.
      expect(sink.offers.length).toBeLessThan(2 * n);
      expect((await metrics.received.get()).values[0]?.value).toBe(2 * n);
    } finally {
      for (const c of clients.splice(0)) c.close();
      await input.stop();
    }
  });

  it('holds the rest of a turn once the sink stops being writable, and offers it, in order, once it drains', async () => {
    const sink = new FakeFrameSink();
    const metrics = new Metrics();
    const input = await start(sink, metrics);
    const port = input.address()!.port;
    const offerFrames = sink.offerFrames.bind(sink);
    // The first offer fills the sink.
    let fill = true;
    sink.offerFrames = (frames, ctx) => {
      if (fill) sink.writable = false;
      fill = false;
      return offerFrames(frames, ctx);
    };
    try {
      const a = await client();
      const b = await client();
      const n = 100;
      const sends: Array<Promise<void[]>> = [];
      for (let i = 0; i < n; i++) sends.push(burst(i % 2 === 0 ? a : b, port, [`d${i}`]));
      await Promise.all(sends);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.offers).toHaveLength(1);
      const first = sink.frames.length;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(n);
      sink.writable = true;
      sink.drain();
      await waitFor(() => sink.frames.length === n, { what: 'every datagram once the sink drains', timeoutMs: 5000 });
      const order = (who: number): string[] => sink.frames.filter((f) => Number(f.slice(1)) % 2 === who);
      expect(order(0)).toEqual(Array.from({ length: n / 2 }, (_, i) => `d${2 * i}`));
      expect(order(1)).toEqual(Array.from({ length: n / 2 }, (_, i) => `d${2 * i + 1}`));
      expect((await metrics.dropped.get()).values.find((v) => v.labels.reason === 'queue_full')?.value ?? 0).toBe(0);
      expect((await metrics.received.get()).values[0]?.value).toBe(n);
    } finally {
      for (const c of clients.splice(0)) c.close();
      await input.stop();
    }
  });
});

describe('pipeline.threads', () => {
  it('defaults to auto; takes an integer or auto from the file and from --threads', () => {
    expect(loadConfig({ env: {} }).threads).toBe('auto');
    expect(loadConfig({ env: {}, text: 'pipeline: {threads: 3}' }).threads).toBe(3);
    expect(loadConfig({ env: {}, text: 'pipeline: {threads: 0}', overrides: { threads: 'auto' } }).threads).toBe('auto');
    expect(loadConfig({ env: {}, overrides: parseCliArgs(['--threads', '2']).overrides }).threads).toBe(2);
    expect(resolveThreadCount('auto')).toBe(availableParallelism());
    expect(resolveThreadCount(0)).toBe(0);
  });

  it('names the key and the line of a bad value', () => {
    const bad = (text: string, overrides = {}): string => {
      try {
        loadConfig({ env: {}, text, file: 'c.yaml', overrides });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('pipeline:\n  threads: lots')).toBe('c.yaml:2: pipeline.threads: must be an integer from 0 to 256, or auto');
    expect(bad('pipeline:\n  threads: -1')).toMatch(/pipeline\.threads: must be an integer from 0 to 256, or auto/);
    expect(bad('', { threads: 'many' })).toBe('command line: --threads: must be an integer from 0 to 256, or auto');
  });
});
