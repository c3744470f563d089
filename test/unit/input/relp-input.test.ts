import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createInput } from '../../../src/input/create-input.js';
import { InputConfigError, validateInputConfig } from '../../../src/input/input-config.js';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { CaptureSink, textDecoder, waitFor } from './capture-sink.js';
import { cleanups, runCleanups } from './stream-harness.js';

const OPEN = '1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog';
const syslog = (txnr: number, msg: string): string => `${txnr} syslog ${Buffer.byteLength(msg)} ${msg}\n`;

afterEach(runCleanups);

/** A RELP input on 127.0.0.1:0 recording into `sink`. */
async function startRelp(sink = new CaptureSink()) {
  const metrics = new Metrics();
  const input = createInput(validateInputConfig({ type: 'relp', host: '127.0.0.1', port: 0, name: 'relp-test' }), { decode: textDecoder, sink, metrics });
  await input.start();
  cleanups.push(() => input.stop());
  return { input, sink, metrics, port: input.address()!.port };
}

/** A client socket that collects what the server answers, and whether it closed. */
async function client(port: number) {
  const s = net.connect({ port, host: '127.0.0.1' });
  cleanups.push(() => s.destroy());
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  const c = { socket: s, received: '', ended: false };
  s.on('data', (d: Buffer) => (c.received += d.toString('latin1')));
  s.on('end', () => (c.ended = true));
  s.on('error', () => {});
  return c;
}

describe('RelpInput', () => {
  it('answers a message only after the sink took it, with log.syslog.transport = relp', async () => {
    // A sink that notes how many answers the client had seen when each record was offered.
    const seenAtOffer: number[] = [];
    let c: Awaited<ReturnType<typeof client>> | undefined;
    const sink = new CaptureSink();
    const offer = sink.offer.bind(sink);
    sink.offer = (records: FirewallLogRecord[]) => {
      for (const _ of records) seenAtOffer.push((c!.received.match(/ rsp 6 200 OK/g) ?? []).length);
      return offer(records);
    };
    const { port } = await startRelp(sink);
    c = await client(port);
    c.socket.write(OPEN + '\n' + syslog(2, '<13>one') + syslog(3, '<13>two'));
    await waitFor(() => c!.received.includes('3 rsp 6 200 OK\n'), 'the answer to txnr 3');
    expect(c.received).toMatch(/^1 rsp \d+ 200 OK\nrelp_version=0\nrelp_software=iptables-otel\ncommands=syslog\n2 rsp 6 200 OK\n3 rsp 6 200 OK\n$/);
    expect(sink.bodies).toEqual(['<13>one', '<13>two']);
    expect(seenAtOffer).toEqual([0, 0]);
    expect(sink.records[0]!.ctx).toMatchObject({ transport: 'relp', peerAddress: '127.0.0.1' });
    c.socket.write('4 close 0\n');
    await waitFor(() => c!.ended, 'the server to end the session');
    expect(c.received.endsWith('4 rsp 0\n')).toBe(true);
  });

  it('a broken stream: what came before is answered, the error counted as relp_protocol, and the connection closed', async () => {
    const { port, sink, metrics } = await startRelp();
    const c = await client(port);
    c.socket.write(OPEN + '\n' + syslog(2, '<13>one') + '3 syslog x\n' + syslog(4, '<13>two'));
    await waitFor(() => c.ended, 'the server to close');
    expect(sink.bodies).toEqual(['<13>one']);
    expect(c.received).toMatch(/\n2 rsp 6 200 OK\n$/);
    const errors = await metrics.framingErrors.get();
    expect(errors.values).toEqual([expect.objectContaining({ labels: { input: 'relp-test', reason: 'relp_protocol' }, value: 1 })]);
  });

  it('stop: the session gets the serverclose hint after the answers, then the connection ends', async () => {
    const { port, input, sink } = await startRelp();
    const c = await client(port);
    c.socket.write(OPEN + '\n' + syslog(2, '<13>one'));
    await waitFor(() => c.received.includes('2 rsp 6 200 OK\n'), 'the answer to txnr 2');
    await input.stop();
    await waitFor(() => c.ended, 'the connection to end');
    expect(c.received.endsWith('2 rsp 6 200 OK\n0 serverclose 0\n')).toBe(true);
    expect(sink.bodies).toEqual(['<13>one']);
  });

  it('backpressure: a full sink stops the reading; the answers for what it took are still sent', async () => {
    const sink = new CaptureSink();
    sink.full = true;
    const { port, input } = await startRelp(sink);
    const c = await client(port);
    c.socket.write(OPEN + '\n' + syslog(2, '<13>one'));
    await waitFor(() => c.received.includes('2 rsp 6 200 OK\n'), 'the answer to txnr 2');
    await waitFor(() => (input as unknown as { pausedCount: number }).pausedCount === 1, 'the connection paused');
    c.socket.write(syslog(3, '<13>two'));
    // Paused: the second message is neither read nor answered until the sink drains.
    await new Promise((r) => setImmediate(r));
    expect(sink.bodies).toEqual(['<13>one']);
    sink.drain();
    await waitFor(() => c.received.includes('3 rsp 6 200 OK\n'), 'the answer to txnr 3 after the drain');
    expect(sink.bodies).toEqual(['<13>one', '<13>two']);
  });
});

describe('RELP listener config', () => {
  it('defaults: port 2514, the TCP connection limits, no framing key', () => {
    expect(validateInputConfig({ type: 'relp' })).toEqual({ type: 'relp', host: '127.0.0.1', port: 2514, maxFrameSize: 65536, maxConnections: 10000, idleTimeoutMs: 300000 });
  });

  it('rejects framing and TLS keys, naming them', () => {
    expect(() => validateInputConfig({ type: 'relp', framing: 'lf' }, 'inputs[0]')).toThrow(InputConfigError);
    expect(() => validateInputConfig({ type: 'relp', framing: 'lf' }, 'inputs[0]')).toThrow(/^inputs\[0\]\.framing: unknown key for a relp input/);
    expect(() => validateInputConfig({ type: 'relp', certFile: 'x' }, 'inputs[0]')).toThrow(/^inputs\[0\]\.certFile: unknown key/);
    expect(() => validateInputConfig({ type: 'relp', port: 70000 }, 'inputs[0]')).toThrow(/^inputs\[0\]\.port: must be an integer from 0 to 65535/);
  });
});
