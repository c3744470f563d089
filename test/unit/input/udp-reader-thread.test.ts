import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { UdpInputConfig } from '../../../src/input/input-config.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { UdpSenderSockets, type SenderSocketsOptions } from '../../../src/input/udp-sender-sockets.js';
import { socketDescriptor } from '../../../src/input/udp-socket-fd.js';
import { assertRequirement, hasCommand, ipv6LoopbackRequirement, isRoot, requirement, shouldRun } from '../../helpers/requirements.js';
import { metricValue, waitFor, waitForAsync } from './capture-sink.js';
import { startUdp } from './udp-harness.js';
import { captureLogger, cleanups, runCleanups } from './stream-harness.js';

afterEach(runCleanups);

// The reader thread reads sockets by descriptor, which only Linux gets (elsewhere everything is read in the event loop).
const ipv6 = await ipv6LoopbackRequirement();
const linux = requirement(process.platform === 'linux', 'the UDP reader thread is Linux only');

function sender(): dgram.Socket {
  const s = dgram.createSocket('udp4');
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** Send `texts` from `s` in runs of 50 (each run awaited), so the kernel buffer never overflows. */
async function sendAll(s: dgram.Socket, port: number, texts: string[]): Promise<void> {
  for (let i = 0; i < texts.length; i += 50) {
    await Promise.all(texts.slice(i, i + 50).map((t) => new Promise<void>((r, j) => s.send(t, port, '127.0.0.1', (e) => (e ? j(e) : r())))));
  }
}

/** A started input and a sender that sent 300 datagrams and is now read by the reader thread. */
async function movedSender(over: Partial<UdpInputConfig> = {}) {
  const started = await startUdp(over);
  const s = sender();
  await sendAll(s, started.port, Array.from({ length: 300 }, (_, i) => `<4>warm ${i}`));
  await waitForAsync(async () => (await senders(started.metrics)) === 1, 'the sender on its own socket');
  await waitFor(() => started.sink.records.length === 300, 'the warm-up');
  return { ...started, s };
}

const senders = (metrics: Metrics): Promise<number | undefined> => metricValue(metrics, 'iptables_otel_udp_reader_thread_senders', { input: 'udp-test' });

/**
 * Inject the ICMP "protocol unreachable" a host would send back for a UDP datagram from
 * 127.0.0.1:`fromPort` to 127.0.0.1:`toPort` (a raw socket: root). Linux hands the error to the
 * socket connected to that pair, whose next read returns ENOPROTOOPT.
 */
function icmpProtocolUnreachable(fromPort: number, toPort: number): void {
  const py = `
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
lo = socket.inet_aton('127.0.0.1')
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 38, 0, 0, 64, 17, 0, lo, lo)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
udp = struct.pack('!HHHH', int(sys.argv[1]), int(sys.argv[2]), 18, 0)
icmp = struct.pack('!BBHI', 3, 2, 0, 0) + ip + udp
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(icmp, ('127.0.0.1', 0))
`;
  execFileSync('python3', ['-c', py, String(fromPort), String(toPort)]);
}

const rawIcmp = requirement(isRoot && hasCommand('python3'), 'injecting an ICMP error needs root and python3');

describe.skipIf(!shouldRun(linux))('UDP reader thread', () => {
  it('moves a busy sender to its own socket: every datagram once, each with its own sender; a light sender stays on the listener', async () => {
    assertRequirement(linux);
    const { sink, metrics, logs, port } = await startUdp();
    const busy = sender();
    const light = sender();
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => light.bind(0, '127.0.0.1', () => r()));
    // 300 in a burst make it busy; then it is read by the thread.
    await sendAll(busy, port, Array.from({ length: 300 }, (_, i) => `<4>busy ${i}`));
    await waitForAsync(async () => (await senders(metrics)) === 1, 'the busy sender on its own socket');
    await sendAll(busy, port, Array.from({ length: 3000 }, (_, i) => `<4>busy ${300 + i}`));
    await sendAll(light, port, Array.from({ length: 20 }, (_, i) => `<4>light ${i}`));
    await waitFor(() => sink.records.length === 3320, 'all 3320 datagrams', 10_000);
    const byText = new Map(sink.records.map((r) => [r.body, r.ctx]));
    expect(byText.size).toBe(3320); // none twice
    for (let i = 0; i < 3300; i++) expect(byText.get(`<4>busy ${i}`), `busy ${i}`).toMatchObject({ peerAddress: '127.0.0.1', peerPort: busy.address().port, transport: 'udp' });
    for (let i = 0; i < 20; i++) expect(byText.get(`<4>light ${i}`), `light ${i}`).toMatchObject({ peerAddress: '127.0.0.1', peerPort: light.address().port });
    expect(await senders(metrics)).toBe(1); // the light one was never moved
    expect(await metricValue(metrics, 'iptables_otel_received_total', { input: 'udp-test' })).toBe(3320);
    expect(logs.some((l) => l.msg === 'udp sender read by the reader thread')).toBe(true);
  });

  it('readerThread: false reads every datagram in the event loop', async () => {
    const { sink, metrics, logs, port } = await startUdp({ readerThread: false });
    const s = sender();
    await sendAll(s, port, Array.from({ length: 1000 }, (_, i) => `<4>x ${i}`));
    await waitFor(() => sink.records.length === 1000, '1000 datagrams');
    expect(await senders(metrics)).toBe(0);
    expect(logs.some((l) => l.msg === 'udp sender read by the reader thread')).toBe(false);
  });

  it('counts oversize datagrams read by the thread, and skips empty ones', async () => {
    assertRequirement(linux);
    const { sink, metrics, port } = await startUdp({ maxFrameSize: 100 });
    const s = sender();
    await sendAll(s, port, Array.from({ length: 300 }, (_, i) => `<4>warm ${i}`));
    await waitForAsync(async () => (await senders(metrics)) === 1, 'the sender on its own socket');
    await sendAll(s, port, ['x'.repeat(101), '', 'y'.repeat(5000), '<4>after']);
    await waitFor(() => sink.bodies.includes('<4>after'), 'the datagram after them');
    expect(await metricValue(metrics, 'iptables_otel_framing_errors_total', { reason: 'oversize' })).toBe(2);
    expect(sink.records.length).toBe(301);
  });

  it('nothing lost quietly: with the event loop blocked, what the thread could not hold is counted as kernel drops', async () => {
    assertRequirement(linux);
    // A small buffer per socket: the thread's batch buffers fill while the event loop is blocked, then the kernel drops.
    const { input, sink, metrics, port } = await startUdp({ recvBufferSize: 64 * 1024 });
    const N = 40_000;
    // One sender socket in a child: 400 datagrams (it gets its own socket), then, once told, `N` as fast as it can.
    const script = `
      const c = require('node:dgram').createSocket('udp4');
      const line = (i) => { const b = Buffer.alloc(240, 'x'); Buffer.from('<4>d ' + String(i).padStart(6, '0') + ' ').copy(b); return b; };
      let i = 0, acked = 0;
      const burst = (to, then) => { (function go() { for (let k = 0; k < 50 && i < to; k++, i++) c.send(line(i), ${port}, '127.0.0.1', () => { if (++acked === ${N + 400}) c.close(); }); if (i < to) setImmediate(go); else then(); })(); };
      burst(400, () => process.stdin.once('data', () => { process.stdout.write('phase2\\n'); burst(${N + 400}, () => {}); }));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    // Moved before the flood (a loaded machine can take seconds to start the thread under vitest).
    await waitForAsync(async () => (await senders(metrics)) === 1, 'the sender on its own socket', 30_000);
    const phase2 = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('phase2') && resolve()));
    child.stdin.end('go\n');
    await phase2;
    // Block this thread while the child sends: the reader thread keeps reading until its buffers are all here.
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      /* blocked */
    }
    await new Promise<void>((r) => child.on('exit', () => r()));
    await input.stop();
    const dropped = (await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' })) ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(sink.records.length + dropped).toBe(N + 400);
  });

  it('while the pipeline is full, datagrams read by the thread wait (the kernel buffer holds the rest) instead of being dropped', async () => {
    assertRequirement(linux);
    const { sink, metrics, port, s } = await movedSender();
    sink.full = true;
    await sendAll(s, port, Array.from({ length: 5000 }, (_, i) => `<4>held ${i}`));
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.records.length).toBe(300);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(0);
    sink.drain();
    await waitFor(() => sink.records.length === 5300, 'every held datagram once the pipeline drains');
    expect(new Set(sink.bodies).size).toBe(5300);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'queue_full' })).toBe(0);
  });

  it('a held batch is offered again even when the drain signal is missed', async () => {
    assertRequirement(linux);
    const { sink, port, s } = await movedSender();
    sink.full = true;
    await sendAll(s, port, Array.from({ length: 100 }, (_, i) => `<4>held ${i}`));
    await new Promise((r) => setTimeout(r, 100));
    sink.full = false; // writable again, but no onDrain call
    await waitFor(() => sink.records.length === 400, 'the held datagrams', 3000);
  });

  it.skipIf(!shouldRun(ipv6))('a dual-stack listener moves an IPv4 sender too, and its records keep the plain IPv4 address', async () => {
    assertRequirement(ipv6);
    const { sink, metrics, port } = await startUdp({ host: '::' });
    const s = sender();
    await sendAll(s, port, Array.from({ length: 300 }, (_, i) => `<4>warm ${i}`));
    await waitForAsync(async () => (await senders(metrics)) === 1, 'the sender on its own socket');
    await sendAll(s, port, Array.from({ length: 1000 }, (_, i) => `<4>v4 ${i}`));
    await waitFor(() => sink.records.length === 1300, 'all 1300');
    expect(new Set(sink.records.map((r) => `${r.ctx.peerAddress} ${r.ctx.peerPort}`))).toEqual(new Set([`127.0.0.1 ${s.address().port}`]));
  });

  it.skipIf(!shouldRun(rawIcmp))('an ICMP error for a moved sender is counted in iptables_otel_udp_socket_errors_total, and the sender stays on its socket', async () => {
    assertRequirement(rawIcmp);
    const { sink, metrics, port, s } = await movedSender();
    icmpProtocolUnreachable(port, s.address().port);
    await waitForAsync(async () => (await metricValue(metrics, 'iptables_otel_udp_socket_errors_total', { input: 'udp-test', code: 'ENOPROTOOPT' })) === 1, 'the error counted');
    await sendAll(s, port, Array.from({ length: 500 }, (_, i) => `<4>after ${i}`));
    await waitFor(() => sink.records.length === 800, 'all 800 datagrams');
    expect(await senders(metrics)).toBe(1);
  });

  it('stop() delivers what the sender socket still holds', async () => {
    assertRequirement(linux);
    const { input, sink, metrics, port } = await startUdp();
    const s = sender();
    await sendAll(s, port, Array.from({ length: 300 }, (_, i) => `<4>warm ${i}`));
    await waitForAsync(async () => (await senders(metrics)) === 1, 'the sender on its own socket');
    await sendAll(s, port, Array.from({ length: 2000 }, (_, i) => `<4>late ${i}`));
    await input.stop();
    expect(sink.records.length).toBe(2300);
    expect(await senders(metrics)).toBe(0);
  });
});

/**
 * A listener (SO_REUSEADDR, as the input binds it) and UdpSenderSockets on its port that move a
 * sender at its first datagram; `options` supply where datagrams go. Resolves once `sender`'s
 * socket is read by the thread (`counts` holds every sender count reported).
 */
async function movedByThread(options: Pick<SenderSocketsOptions, 'deliver' | 'onWritable' | 'stray' | 'onSocketError'>, idleMs: number) {
  const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => listener.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => listener.close(() => r())));
  expect(socketDescriptor(listener)).toBeDefined();
  const port = listener.address().port;
  const counts: number[] = [];
  const { logs, logger } = captureLogger();
  const sockets = new UdpSenderSockets({
    type: 'udp4',
    host: '127.0.0.1',
    port,
    recvBufferSize: 0,
    grantedBufferBytes: 212_992,
    maxFrameSize: 65536,
    promoteAfter: 1,
    idleMs,
    canonical: (a) => a,
    onCount: (n) => void counts.push(n),
    log: logger,
    name: 'udp-test',
    ...options,
  });
  sockets.start();
  cleanups.push(async () => {
    await sockets.stop();
    await sockets.closeAll();
  });
  const s = sender();
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  sockets.note('127.0.0.1', s.address().port, 1);
  // Generous: under vitest the thread's first start transpiles its source. `includes`: on a loaded
  // machine an idle close due at the same time may run before this poll does.
  await waitFor(() => counts.includes(1), 'the sender on its own socket', 30_000);
  return { listener, port, s, counts, logs };
}

/** Until the thread reads `s`'s datagrams (the event loop reads them into `stray` before that), send one every 20 ms. */
async function untilReadByThread(s: dgram.Socket, port: number, onThread: string[]): Promise<void> {
  for (let i = 0; onThread.length === 0; i++) {
    expect(i, 'a datagram read by the thread').toBeLessThan(100);
    await sendAll(s, port, [`<4>one ${i}`]);
    await new Promise((r) => setTimeout(r, 20));
  }
}


describe.skipIf(!shouldRun(linux))('UdpSenderSockets', () => {
  it('closes a sender socket idle for idleMs, and the sender is read on the listener again', async () => {
    assertRequirement(linux);
    const onListener: string[] = [];
    const onThread: string[] = [];
    const { listener, port, s, counts } = await movedByThread(
      {
        deliver: (frames) => {
          onThread.push(...frames.map((f) => f.toString()));
          return true;
        },
        onWritable: (resume) => resume(),
        stray: (m) => void onListener.push(m.toString()),
      },
      300,
    );
    listener.on('message', (m) => onListener.push(m.toString()));
    await untilReadByThread(s, port, onThread);
    const threadRead = onThread.length;
    await waitFor(() => counts.at(-1) === 0, 'closed once idle', 5000);
    await sendAll(s, port, ['<4>two']);
    await waitFor(() => onListener.includes('<4>two'), 'back on the listener');
    expect(onThread.length).toBe(threadRead);
  });

  it('a sender socket is not closed as idle while its batches wait for the pipeline, and none of them is lost', async () => {
    assertRequirement(linux);
    const delivered: string[] = [];
    let full = true;
    let drained: (() => void) | undefined;
    const { port, s, counts } = await movedByThread(
      {
        deliver: (frames) => {
          if (full) return false;
          delivered.push(...frames.map((f) => f.toString()));
          return true;
        },
        onWritable: (resume) => void (drained = resume),
        stray: () => {},
      },
      1000,
    );
    await sendAll(s, port, Array.from({ length: 50 }, (_, i) => `<4>held ${i}`));
    await waitFor(() => drained !== undefined, 'a batch refused by the full pipeline');
    // Far longer than idleMs: the socket stays, its batch waits.
    await new Promise((r) => setTimeout(r, 2500));
    expect(counts.at(-1)).toBe(1);
    full = false;
    drained!();
    await waitFor(() => delivered.length === 50, 'all 50 once the pipeline drains');
  });
  it.skipIf(!shouldRun(rawIcmp))('an ICMP error for a moved sender is counted and logged, and its socket is still read: nothing behind it is lost', async () => {
    assertRequirement(rawIcmp);
    const onListener: string[] = [];
    const onThread: string[] = [];
    const errors: Array<[string, number]> = [];
    const { listener, port, s, counts, logs } = await movedByThread(
      {
        deliver: (frames) => {
          onThread.push(...frames.map((f) => f.toString()));
          return true;
        },
        onWritable: (resume) => resume(),
        stray: (m) => void onListener.push(m.toString()),
        onSocketError: (code, count) => void errors.push([code, count]),
      },
      60_000,
    );
    listener.on('message', (m) => onListener.push(m.toString()));
    await untilReadByThread(s, port, onThread);
    icmpProtocolUnreachable(port, s.address().port);
    await waitFor(() => errors.length > 0, 'the error reported', 5000);
    expect(errors).toEqual([['ENOPROTOOPT', 1]]);
    expect(logs.filter((l) => l.msg.includes('reported errors'))).toHaveLength(1);
    const before = onListener.length;
    await sendAll(s, port, Array.from({ length: 200 }, (_, i) => `<4>after ${i}`));
    await waitFor(() => onThread.filter((t) => t.startsWith('<4>after')).length === 200, 'all 200 read by the thread');
    expect(counts.at(-1)).toBe(1);
    expect(onListener.length).toBe(before);
    expect(logs.filter((l) => l.msg.includes('read failed'))).toEqual([]);
  });
});
