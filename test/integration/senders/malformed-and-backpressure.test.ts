import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { feedUnixSocket, hasLogger, hasRsyslog, sendWithLogger, startRsyslog, type Daemon } from '../../helpers/peers.js';
import { metricValue, waitForAsync } from '../../unit/input/capture-sink.js';
import type { StreamInput } from '../../../src/input/stream-input.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

const loggerReq = requirement(hasLogger(), 'util-linux logger is not installed');
const rsyslogReq = requirement(hasRsyslog() && hasLogger(), 'rsyslog and logger are needed');

function pseudoRandom(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe.skipIf(!shouldRun(loggerReq))('malformed traffic next to a real sender', () => {
  let tcp: Listener;
  let udp: Listener;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    assertRequirement(loggerReq);
    tcp = await listen({ type: 'tcp', maxFrameSize: 8192 });
    udp = await listen({ type: 'udp', maxFrameSize: 8192 });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));
  afterAll(async () => {
    await tcp?.input.stop();
    await udp?.input.stop();
  });

  const open = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect({ port: tcp.port, host: '127.0.0.1' }, () => resolve(s));
      s.on('error', reject);
      sockets.push(s);
    });

  it('TCP: random bytes, a huge count, a line without LF and idle connections do not disturb logger', async () => {
    const random = await open();
    const huge = await open();
    const noLf = await open();
    const idle = await Promise.all(Array.from({ length: 200 }, () => open()));
    let stop = false;
    let seed = 1;
    const pump = async (): Promise<void> => {
      for (let i = 0; i < 200 && !stop; i++) {
        random.write(pseudoRandom(4096, seed++));
        noLf.write(Buffer.alloc(4096, 0x58));
        if (i === 0) huge.write('4000000000 <4>count far above the cap\n');
        huge.write(Buffer.alloc(4096, 0x59));
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const garbage = pump();
    const run = runId();
    await sendWithLogger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(tcp.port), '-t', 'kernel'], lines(run));
    const run2 = runId();
    await sendWithLogger(['--tcp', '-n', '127.0.0.1', '-P', String(tcp.port), '-t', 'kernel'], lines(run2));
    await expectAll(tcp, run, /^<13>1 /, 'tcp');
    await expectAll(tcp, run2, /^<13>1 /, 'tcp');
    stop = true;
    await garbage;
    const input = tcp.input as StreamInput;
    expect(input.connectionCount).toBeGreaterThanOrEqual(203);
    expect(idle.every((s) => !s.destroyed)).toBe(true);
    expect(await metricValue(tcp.metrics, 'iptables_otel_framing_errors_total', { reason: 'oversize' })).toBeGreaterThanOrEqual(2);
  });

  it('UDP: random and oversize datagrams do not disturb logger', async () => {
    const s = dgram.createSocket('udp4');
    try {
      for (let i = 0; i < 100; i++) s.send(pseudoRandom(1 + ((i * 97) % 9000), i + 7), udp.port, '127.0.0.1');
      const run = runId();
      await sendWithLogger(['--udp', '-n', '127.0.0.1', '-P', String(udp.port), '-t', 'kernel'], lines(run));
      await expectAll(udp, run, /^<13>1 /, 'udp');
      await waitForAsync(async () => (await metricValue(udp.metrics, 'iptables_otel_received_total')) >= 130, 'all 130 datagrams');
      expect(await metricValue(udp.metrics, 'iptables_otel_framing_errors_total', { reason: 'oversize' })).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });
});

describe.skipIf(!shouldRun(rsyslogReq))('backpressure with rsyslog as sender', () => {
  let tcp: Listener;
  let daemon: Daemon | undefined;
  let timer: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    assertRequirement(rsyslogReq);
    tcp = await listen({ type: 'tcp' });
    daemon = await startRsyslog(
      `action(type="omfwd" target="127.0.0.1" port="${tcp.port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
    );
  });
  afterAll(async () => {
    if (timer) clearInterval(timer);
    await daemon?.stop();
    await tcp?.input.stop();
  });

  it('a sink that is full after every offer pauses the socket; all 500 messages arrive exactly once', async () => {
    const sink = tcp.sink;
    const offer = sink.offer.bind(sink);
    let pauses = 0;
    sink.offer = (records) => {
      offer(records);
      sink.full = true;
      pauses++;
      return false;
    };
    const input = tcp.input as StreamInput;
    let sawPaused = false;
    timer = setInterval(() => {
      if (input.pausedCount > 0) sawPaused = true;
      sink.drain();
    }, 20);
    const run = runId();
    await feedUnixSocket(daemon!, lines(run, 500), 'kernel');
    await expectAll(tcp, run, /^<13>1 .*\n$/, 'tcp', 500, 30_000);
    expect(sawPaused).toBe(true);
    expect(pauses).toBeGreaterThan(1);
  });
});
