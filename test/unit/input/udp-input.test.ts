import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { UDP_INPUT_DEFAULTS, type UdpInputConfig } from '../../../src/input/input-config.js';
import { createUdpInput } from '../../../src/input/udp-input.js';
import { assertRequirement, ipv6LoopbackRequirement, shouldRun } from '../../helpers/requirements.js';
import { CaptureSink, metricValue, textDecoder, waitFor, waitForAsync } from './capture-sink.js';

const ipv6 = await ipv6LoopbackRequirement();

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

  it('drops and counts datagrams while the sink is not writable', async () => {
    const { sink, port, metrics } = await startUdp();
    const s = sender();
    sink.full = true;
    for (let i = 0; i < 5; i++) await send(s, `<4>dropped ${i}`, port);
    // All five read (and dropped) while the sink is full, before it drains.
    await waitForAsync(async () => (await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })) === 5, '5 datagrams dropped');
    sink.drain();
    await send(s, '<4>kept', port);
    await waitFor(() => sink.records.length === 1, 'kept');
    expect(sink.bodies).toEqual(['<4>kept']);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(5);
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
