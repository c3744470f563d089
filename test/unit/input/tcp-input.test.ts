import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { TCP_INPUT_DEFAULTS, type TcpInputConfig } from '../../../src/input/input-config.js';
import { TcpInput, createTcpInput } from '../../../src/input/tcp-input.js';
import { assertRequirement, ipv6LoopbackRequirement, shouldRun } from '../../helpers/requirements.js';
import { tcpConnection } from '../../helpers/sockets.js';
import { holdsFor, waitFor as waitUntil, waitForStable } from '../../helpers/wait.js';
import { CaptureSink, metricValue, textDecoder, waitFor } from './capture-sink.js';

const ipv6 = await ipv6LoopbackRequirement();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startTcp(over: Partial<TcpInputConfig> = {}, sink = new CaptureSink()) {
  const metrics = new Metrics();
  const warnings: string[] = [];
  const logger = { info() {}, warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) };
  const input = createTcpInput({ type: 'tcp', ...TCP_INPUT_DEFAULTS, port: 0, name: 'tcp-test', ...over }, { decode: textDecoder, sink, metrics, logger });
  await input.start();
  cleanups.push(() => input.stop());
  const port = input.address()!.port;
  return { input, sink, metrics, port, warnings };
}

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => s.destroy());
  });
}

const write = (s: net.Socket, data: string | Buffer): Promise<void> => new Promise((r, j) => s.write(data, (e) => (e ? j(e) : r())));

describe('TcpInput', () => {
  it('frames LF and octet-counted messages on one connection and fills the context', async () => {
    const { sink, port, metrics } = await startTcp();
    const s = await connect(port);
    await write(s, '<4>one\n14 <4>two\ncounted');
    await write(s, '<4>thr');
    await write(s, 'ee\n');
    await waitFor(() => sink.records.length === 3, '3 records');
    expect(sink.bodies).toEqual(['<4>one', '<4>two\ncounted', '<4>three']);
    const ctx = sink.records[0]!.ctx;
    expect(ctx.transport).toBe('tcp');
    expect(ctx.peerAddress).toBe('127.0.0.1');
    expect(ctx.peerPort).toBe(s.localPort);
    expect(ctx.receivedAt![0]).toBeGreaterThan(1_600_000_000);
    expect(await metricValue(metrics, 'iptables_otel_received_total', { input: 'tcp-test' })).toBe(3);
    expect(await metricValue(metrics, 'iptables_otel_open_connections', { input: 'tcp-test' })).toBe(1);
  });

  it('emits the final frame without LF when the peer closes', async () => {
    const { sink, port } = await startTcp();
    const s = await connect(port);
    s.end('<4>no newline at the end');
    await waitFor(() => sink.records.length === 1, 'final frame');
    expect(sink.bodies).toEqual(['<4>no newline at the end']);
  });

  it('uses one receive time for all frames of one read', async () => {
    const { sink, port } = await startTcp();
    const s = await connect(port);
    await write(s, '<4>a\n<4>b\n<4>c\n');
    await waitFor(() => sink.records.length === 3, '3 records');
    const t = sink.records.map((r) => r.ctx);
    // The three frames came in one segment over loopback, hence one read and one context object.
    expect(t[0]).toBe(t[2]);
  });

  it.skipIf(!shouldRun(ipv6))('accepts IPv6 peers with a canonical address', async () => {
    assertRequirement(ipv6);
    const { input }: { input: TcpInput } = await startTcp({ host: '::1' });
    const s = await connect(input.address()!.port, '::1');
    await write(s, '<4>v6\n');
    const sink = (input as unknown as { deps: { sink: CaptureSink } }).deps.sink;
    await waitFor(() => sink.records.length === 1, 'v6 record');
    expect(sink.records[0]!.ctx.peerAddress).toBe('::1');
    expect(input.name).toBe('tcp-test');
  });

  it('survives random bytes, oversize frames and huge counts while serving another sender', async () => {
    const { sink, port, metrics, input } = await startTcp({ maxFrameSize: 1024 });
    const bad = await connect(port);
    const good = await connect(port);
    const random = Buffer.alloc(20_000);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
    await write(bad, random);
    await write(good, '<4>good 1\n');
    await write(bad, '99999999 <4>claims to be huge but is not\n');
    await write(bad, Buffer.alloc(300_000, 0x41)); // part of the 99999999 counted bytes: skipped
    await write(good, '<4>good 2\n');
    const other = await connect(port);
    await write(other, 'x'.repeat(5000) + '\n<4>after oversize\n');
    await waitFor(() => sink.bodies.includes('<4>good 2') && sink.bodies.includes('<4>after oversize'), 'good frames');
    expect(sink.bodies.filter((b) => b.startsWith('<4>good'))).toEqual(['<4>good 1', '<4>good 2']);
    expect(await metricValue(metrics, 'iptables_otel_framing_errors_total', { input: 'tcp-test', reason: 'oversize' })).toBeGreaterThanOrEqual(2);
    expect(input.connectionCount).toBe(3);
    expect(bad.destroyed).toBe(false);
  });

  it('bounds the buffer of a connection that never sends LF', async () => {
    const { sink, port, metrics } = await startTcp({ maxFrameSize: 4096 });
    const s = await connect(port);
    for (let i = 0; i < 50; i++) await write(s, Buffer.alloc(10_000, 0x42));
    const good = await connect(port);
    await write(good, '<4>still served\n');
    await waitFor(() => sink.bodies.includes('<4>still served'), 'good frame');
    await write(s, '\n<4>resynced\n');
    await waitFor(() => sink.bodies.includes('<4>resynced'), 'resync');
    // 500 kB without LF: one oversize error, and nothing but the two good frames emitted.
    expect(await metricValue(metrics, 'iptables_otel_framing_errors_total', { reason: 'oversize' })).toBe(1);
    expect(sink.bodies.sort()).toEqual(['<4>resynced', '<4>still served']);
  });

  it('refuses connections beyond maxConnections + maxPendingConnections (0 here) and counts them', async () => {
    const { port, metrics, input } = await startTcp({ maxConnections: 2, maxPendingConnections: 0 });
    await connect(port);
    await connect(port);
    await waitFor(() => input.connectionCount === 2, '2 connections');
    const third = net.connect({ port, host: '127.0.0.1' });
    cleanups.push(() => third.destroy());
    third.on('error', () => {});
    await new Promise<void>((r) => third.on('close', () => r()));
    await waitFor(() => input.connectionCount === 2, 'still 2');
    expect(await metricValue(metrics, 'iptables_otel_connections_refused_total')).toBe(1);
  });

  it('closes idle connections and counts them', async () => {
    const { port, metrics, input, sink } = await startTcp({ idleTimeoutMs: 150 });
    const s = await connect(port);
    await write(s, '<4>then silence\n');
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    await closed;
    expect(sink.bodies).toEqual(['<4>then silence']);
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'idle_timeout' })).toBe(1);
    await waitFor(() => input.connectionCount === 0, 'gauge back to 0');
    expect(await metricValue(metrics, 'iptables_otel_open_connections')).toBe(0);
  });

  it('does not close a connection as idle while it is paused by backpressure', async () => {
    const sink = new CaptureSink();
    const { port, metrics, input } = await startTcp({ idleTimeoutMs: 100 }, sink);
    sink.full = true;
    const s = await connect(port);
    await write(s, '<4>one\n');
    await waitFor(() => input.pausedCount === 1, 'paused');
    await write(s, '<4>two\n');
    // '<4>two' sits unread in the receiver's kernel queue (the socket is paused) ...
    await waitUntil(() => (tcpConnection(port, s.localPort!)?.rxQueue ?? 0) > 0, { what: "'<4>two' unread in the paused socket's receive queue" });
    // ... and the connection outlives several idle timeouts (100 ms each).
    await holdsFor(() => !s.destroyed && input.connectionCount === 1, { forMs: 400, what: 'the paused connection stays open' });
    sink.drain();
    await waitFor(() => sink.records.length === 2, 'second record after drain');
    // Idle again after the resume: now the timeout applies.
    await waitFor(() => input.connectionCount === 0, 'idle close after resume', 5000);
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'idle_timeout' })).toBe(1);
  });

  it('holds 1000 idle connections and still serves a sender', async () => {
    const { port, input, sink } = await startTcp();
    const socks: net.Socket[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('error', () => {});
      socks.push(s);
    }
    cleanups.push(() => socks.forEach((s) => s.destroy()));
    await waitFor(() => input.connectionCount === 1000, '1000 connections', 20_000);
    const s = await connect(port);
    await write(s, '<4>among many\n');
    await waitFor(() => sink.bodies.includes('<4>among many'), 'frame');
  });

  it('pauses the socket when the sink is full and resumes on drain, losing nothing', async () => {
    const sink = new CaptureSink();
    const { port, metrics, input } = await startTcp({}, sink);
    sink.full = true;
    const s = await connect(port);
    await write(s, '<4>first\n');
    await waitFor(() => input.pausedCount === 1, 'paused');
    expect(await metricValue(metrics, 'iptables_otel_paused_connections', { input: 'tcp-test' })).toBe(1);
    // While paused the receiver reads nothing: the kernel buffers fill and the sender's writes stop completing.
    // 32 MB: far more than loopback socket buffers hold even with autotuning (tcp_rmem/wmem max).
    const total = 8000;
    let completed = 0;
    let queued = 0;
    const line = (i: number) => `<4>msg ${i} ${'p'.repeat(4000)}\n`;
    const pump = (): void => {
      while (queued < total) {
        const ok = s.write(line(queued++), () => {
          completed++;
        });
        if (!ok) {
          s.once('drain', pump);
          return;
        }
      }
    };
    pump();
    // The sender's writes stop completing once the kernel buffers are full: the receiver's queue
    // holds unread bytes and the sender's kernel holds unsent ones (the window is closed).
    const stalledAt = await waitForStable(() => completed, { stableMs: 200, what: "the sender's completed writes to stop", timeoutMs: 20_000 });
    expect(stalledAt).toBeLessThan(total);
    await waitUntil(() => (tcpConnection(port, s.localPort!)?.rxQueue ?? 0) > 0 && (tcpConnection(s.localPort!, port)?.txQueue ?? 0) > 0, {
      what: 'unread bytes at the receiver and unsent bytes at the sender',
    });
    // Now nothing moves while paused: no write completes, nothing reaches the sink.
    await holdsFor(() => completed === stalledAt && sink.records.length === 1 && input.pausedCount === 1, { forMs: 300, what: 'no progress while paused' });
    // Drain, and keep the sink writable: everything arrives.
    sink.drain();
    await waitFor(() => sink.records.length === total + 1, 'all records', 20_000);
    expect(sink.bodies.slice(1)).toEqual(Array.from({ length: total }, (_, i) => line(i).slice(0, -1)));
    expect(input.pausedCount).toBe(0);
  });

  it('pauses again and again under a repeatedly full sink without losing frames', async () => {
    const sink = new CaptureSink();
    const { port, input } = await startTcp({}, sink);
    // Full after every offer; a timer drains it.
    const origOffer = sink.offer.bind(sink);
    sink.offer = (records) => {
      origOffer(records);
      sink.full = true;
      return false;
    };
    const timer = setInterval(() => sink.drain(), 5);
    cleanups.push(() => clearInterval(timer));
    const s = await connect(port);
    const total = 3000;
    let payload = '';
    const msg = (i: number) => `<4>n=${i} ${'q'.repeat(100)}`;
    for (let i = 0; i < total; i++) payload += `${msg(i).length} ${msg(i)}`;
    s.end(payload);
    await waitFor(() => sink.records.length === total, 'all frames', 20_000);
    expect(new Set(sink.bodies).size).toBe(total);
    expect(sink.bodies[total - 1]).toBe(msg(total - 1));
    expect(sink.offers).toBeGreaterThan(3);
    await waitFor(() => input.connectionCount === 0, 'closed');
  });

  it('a decoder that throws loses that frame only, and counts it', async () => {
    const sink = new CaptureSink();
    const metrics = new Metrics();
    const decode: typeof textDecoder = (frame, ctx) => {
      if (frame.includes('BOOM')) throw new Error('decoder bug');
      return textDecoder(frame, ctx);
    };
    const input = createTcpInput({ type: 'tcp', ...TCP_INPUT_DEFAULTS, port: 0 }, { decode, sink, metrics });
    await input.start();
    cleanups.push(() => input.stop());
    const s = await connect(input.address()!.port);
    await write(s, '<4>a\n<4>BOOM\n<4>b\n');
    await waitFor(() => sink.records.length === 2, '2 records');
    expect(sink.bodies).toEqual(['<4>a', '<4>b']);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'decode_error' })).toBe(1);
  });

  it('stop() closes connections and the port', async () => {
    const { port, input } = await startTcp();
    const s = await connect(port);
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    await input.stop();
    await closed;
    await expect(connect(port)).rejects.toThrow();
  });

  it('start() rejects when the port is taken', async () => {
    const { port } = await startTcp();
    await expect(startTcp({ port })).rejects.toThrow(/cannot listen.*EADDRINUSE/);
  });
});
