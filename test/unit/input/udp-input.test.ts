import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { UDP_INPUT_DEFAULTS, type UdpInputConfig } from '../../../src/input/input-config.js';
import { createUdpInput } from '../../../src/input/udp-input.js';
import { assertRequirement, ipv6LoopbackRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { CaptureSink, metricValue, textDecoder, waitFor } from './capture-sink.js';

const ipv6 = await ipv6LoopbackRequirement();
// Pausing the listener needs its libuv handle, which udp-socket-fd.ts finds on Linux only.
const linux = requirement(process.platform === 'linux', 'pausing a UDP listener is Linux only');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startUdp(over: Partial<UdpInputConfig> = {}) {
  const sink = new CaptureSink();
  const metrics = new Metrics();
  const logs: Array<{ level: string; msg: string }> = [];
  const logger = {
    info: (msg: string) => void logs.push({ level: 'info', msg }),
    warn: (msg: string) => void logs.push({ level: 'warn', msg }),
    error: (msg: string) => void logs.push({ level: 'error', msg }),
  };
  const input = createUdpInput({ type: 'udp', ...UDP_INPUT_DEFAULTS, port: 0, name: 'udp-test', ...over }, { decode: textDecoder, sink, metrics, logger });
  await input.start();
  cleanups.push(() => input.stop());
  return { input, sink, metrics, logs, port: input.address()!.port };
}

function sender(type: 'udp4' | 'udp6' = 'udp4'): dgram.Socket {
  const s = dgram.createSocket(type);
  cleanups.push(() => s.close());
  return s;
}

/** Send `texts` from `s` in runs of 50 (each run awaited), in order. */
async function sendRuns(s: dgram.Socket, port: number, texts: string[]): Promise<void> {
  for (let i = 0; i < texts.length; i += 50) {
    await Promise.all(texts.slice(i, i + 50).map((t) => send(s, t, port)));
  }
}

const send = (s: dgram.Socket, msg: string | Buffer, port: number, host = '127.0.0.1'): Promise<void> =>
  new Promise((r, j) => s.send(msg, port, host, (e) => (e ? j(e) : r())));

describe('UdpInput', () => {
  it('takes one message per datagram, unsplit, with its context', async () => {
    const { sink, port, metrics } = await startUdp();
    const s = sender();
    await send(s, '<12>Nov 26 14:19:40 vm kernel: a\n<4>not a second message\n', port);
    await send(s, '<4>second\x00', port);
    await waitFor(() => sink.records.length === 2, '2 datagrams');
    expect(sink.bodies).toEqual(['<12>Nov 26 14:19:40 vm kernel: a\n<4>not a second message\n', '<4>second\x00']);
    const ctx = sink.records[0]!.ctx;
    expect(ctx).toMatchObject({ transport: 'udp', peerAddress: '127.0.0.1', peerPort: s.address().port });
    expect(ctx.receivedAt![0]).toBeGreaterThan(1_600_000_000);
    expect(await metricValue(metrics, 'iptables_otel_received_total', { input: 'udp-test' })).toBe(2);
  });

  // readerThread off: every datagram is read by the listener, which is what pauses.
  it.skipIf(!shouldRun(linux))('while the sink is not writable the listener stops reading; every datagram arrives once it drains, none dropped', async () => {
    assertRequirement(linux);
    const { sink, port, metrics, logs } = await startUdp({ readerThread: false });
    const s = sender();
    sink.full = true;
    await sendRuns(s, port, Array.from({ length: 2000 }, (_, i) => `<4>held ${i}`));
    await new Promise((r) => setTimeout(r, 200));
    // Paused at the first turn: at most the datagrams of that turn were read (and offered).
    expect(sink.records.length).toBeLessThan(2000);
    expect(await metricValue(metrics, 'iptables_otel_udp_listener_pauses_total', { input: 'udp-test' })).toBe(1);
    expect(logs.filter((l) => l.msg.startsWith('pipeline full: udp listener paused'))).toHaveLength(1);
    sink.drain();
    await waitFor(() => sink.records.length === 2000, 'all 2000 once the sink drains');
    expect(sink.bodies).toEqual(Array.from({ length: 2000 }, (_, i) => `<4>held ${i}`));
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' })).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_received_total', { input: 'udp-test' })).toBe(2000);
  });

  it.skipIf(!shouldRun(linux))('a paused listener reads again when the sink turns writable without a drain signal', async () => {
    assertRequirement(linux);
    const { sink, port } = await startUdp({ readerThread: false });
    const s = sender();
    sink.full = true;
    await sendRuns(s, port, Array.from({ length: 100 }, (_, i) => `<4>held ${i}`));
    await new Promise((r) => setTimeout(r, 100));
    sink.full = false; // no onDrain call
    await waitFor(() => sink.records.length === 100, 'the held datagrams', 3000);
    // However long it waited, one drain listener at a time.
    expect(sink.drainListenerCount).toBeLessThanOrEqual(1);
  });

  it.skipIf(!shouldRun(linux))('what overflows the kernel buffer while paused is counted as udp_receive_buffer, and the rest arrives', async () => {
    assertRequirement(linux);
    const { input, sink, port, metrics } = await startUdp({ readerThread: false, recvBufferSize: 65536 });
    const s = sender();
    sink.full = true;
    await sendRuns(s, port, Array.from({ length: 3000 }, (_, i) => `<4>burst ${i}`));
    await input.pollKernelDrops();
    const dropped = (await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' })) ?? 0;
    expect(dropped).toBeGreaterThan(0);
    sink.drain();
    await waitFor(() => sink.records.length === 3000 - dropped, 'every datagram the kernel kept');
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.records.length).toBe(3000 - dropped);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(0);
  });

  it.skipIf(!shouldRun(linux))('stop() while paused reads what the kernel holds and counts what the sink cannot take', async () => {
    assertRequirement(linux);
    const { input, sink, port, metrics } = await startUdp({ readerThread: false, drainQuietMs: 50 });
    const s = sender();
    sink.full = true;
    await sendRuns(s, port, Array.from({ length: 500 }, (_, i) => `<4>at stop ${i}`));
    await new Promise((r) => setTimeout(r, 100));
    const offered = sink.records.length;
    await input.stop();
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(500 - offered);
    expect(await metricValue(metrics, 'iptables_otel_received_total', { input: 'udp-test' })).toBe(500);
  });

  it('counts datagrams above maxFrameSize as oversize', async () => {
    const { sink, port, metrics } = await startUdp({ maxFrameSize: 100 });
    const s = sender();
    await send(s, 'x'.repeat(500), port);
    await send(s, '<4>small', port);
    await waitFor(() => sink.records.length === 1, 'small');
    expect(await metricValue(metrics, 'iptables_otel_framing_errors_total', { reason: 'oversize' })).toBe(1);
  });

  it.skipIf(!shouldRun(ipv6))('accepts IPv4 senders on a dual-stack socket as plain IPv4', async () => {
    assertRequirement(ipv6);
    const started = await startUdp({ host: '::' });
    const s = sender('udp4');
    await send(s, '<4>v4 to dual stack', started.port);
    await waitFor(() => started.sink.records.length === 1, 'record');
    expect(started.sink.records[0]!.ctx.peerAddress).toBe('127.0.0.1');
  });

  it('warns when the kernel gives a smaller receive buffer than asked', async () => {
    const { logs } = await startUdp({ recvBufferSize: 1024 * 1024 * 1024 });
    const warn = logs.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/net\.core\.rmem_max/);
  });

  it('does not warn when the buffer fits', async () => {
    const { logs } = await startUdp({ recvBufferSize: 65536 });
    expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('receives 500 datagrams exactly once', async () => {
    const { sink, port } = await startUdp();
    const s = sender();
    for (let i = 0; i < 500; i++) await send(s, `<4>seq=${i}`, port);
    await waitFor(() => sink.records.length === 500, '500 datagrams');
    expect(new Set(sink.bodies).size).toBe(500);
  });

  it('start() rejects a bad address', async () => {
    await expect(startUdp({ host: '192.0.2.1' })).rejects.toThrow(/cannot listen/);
  });
});
