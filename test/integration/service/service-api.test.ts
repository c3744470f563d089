/**
 * `startService()` in-process: TLS from `--listen` flags, reload that swaps listeners and
 * parser options without losing records, a failing reload, and `stop()`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import { loadConfig as loadConfigFile } from '../../../src/config/load-config.js';
import { startService, type Service } from '../../../src/service.js';
import { createLogger } from '../../../src/ops/logger.js';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { metricValue } from '../../helpers/metrics.js';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { waitFor } from '../../helpers/wait.js';

const opensslReq = requirement(hasCommand('openssl'), 'openssl is not installed');
const linuxReq = requirement(process.platform === 'linux', 'the UDP reader thread is Linux only');
const line = (id: number): string =>
  `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: IN=eth0 OUT= SRC=192.0.2.5 DST=198.51.100.7 LEN=60 TTL=64 ID=${id} PROTO=TCP SPT=1 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0 \n`;
const ids = (sink: OtlpSink): number[] => sink.records.map((r) => Number((r.attributes['iptables.id'] as { int: string }).int)).sort((a, b) => a - b);

function sendTcp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text, () => resolve()));
    s.on('error', reject);
  });
}

// Both pipelines: everything on the main thread (0), and worker threads (auto).
describe.each(['0', 'auto'])('startService (threads %s)', (threads) => {
  const loadConfig = (o: Parameters<typeof loadConfigFile>[0] = {}): ReturnType<typeof loadConfigFile> =>
    loadConfigFile({ ...o, overrides: { ...o.overrides, threads } });
  let service: Service | undefined;
  let sink: OtlpSink | undefined;
  let certs: TlsCerts | undefined;
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (l: string) => logLines.push(l) } });

  afterEach(async () => {
    await service?.stop();
    await sink?.stop();
    certs?.cleanup();
    service = sink = certs = undefined;
    logLines.length = 0;
  });

  it.skipIf(!shouldRun(opensslReq))('listens on tls:// from the command-line flags', async () => {
    assertRequirement(opensslReq);
    certs = makeTlsCerts();
    sink = await startOtlpSink();
    const config = loadConfig({
      env: {},
      overrides: { listen: ['tls://127.0.0.1:0'], tlsCert: certs.certFile, tlsKey: certs.keyFile, otlpEndpoint: `http://127.0.0.1:${sink.port}`, opsAddress: 'off' },
    });
    service = await startService(config, { logger });
    const port = service.listeners()[0]!.port;
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca: certs!.ca, servername: 'localhost' }, () => s.end(`${line(7).length - 1} ${line(7).slice(0, -1)}`, () => resolve()));
      s.on('error', reject);
    });
    await sink.waitForRecords(1);
    expect(sink.records[0]!.attributes['log.syslog.transport']).toEqual({ string: 'tls' });
  });

  it('reload swaps listeners and parser options in place; records keep flowing', async () => {
    sink = await startOtlpSink();
    const yaml = (dataset: string, inputs: string[]): string =>
      ['inputs:', ...inputs, 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink!.port}"}`, 'pipeline: {batch: {linger: 5ms}}', 'ops: {address: "127.0.0.1:0"}', `parser: {dataset: ${dataset}}`].join('\n');
    service = await startService(loadConfig({ env: {}, text: yaml('fw.a', ['  - tcp: {port: 0}']) }), { logger });
    const oldPort = service.listeners()[0]!.port;
    await sendTcp(oldPort, line(1));
    await sink.waitForRecords(1);
    expect(service.health()).toMatchObject({ healthy: true });

    const result = await service.reload(loadConfig({ env: {}, text: yaml('fw.b', ['  - udp: {port: 0}', '  - tcp: {port: 0, maxConnections: 5}']) }));
    expect(result).toEqual({ changed: ['parser', 'inputs'], undelivered: 0 });
    const ls = service.listeners();
    expect(ls.map((l) => l.type).sort()).toEqual(['tcp', 'udp']);
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.send(line(2), ls.find((l) => l.type === 'udp')!.port, '127.0.0.1', () => r()));
    udp.close();
    await sendTcp(ls.find((l) => l.type === 'tcp')!.port, line(3));
    await sink.waitForRecords(3);
    expect(ids(sink)).toEqual([1, 2, 3]);
    expect(sink.records.map((r) => r.attributes['data_stream.dataset'])).toEqual([{ string: 'fw.a' }, { string: 'fw.b' }, { string: 'fw.b' }]);
  });

  it('reload to new outputs drains the old pipeline into the old outputs', async () => {
    sink = await startOtlpSink();
    const second = await startOtlpSink();
    try {
      const yaml = (port: number): string =>
        ['inputs:', '  - tcp: {port: 0}', 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${port}"}`, 'pipeline: {batch: {linger: 5ms}}', 'ops: {address: off}'].join('\n');
      sink.defaultResponse = { status: 200, delayMs: 300 };
      service = await startService(loadConfig({ env: {}, text: yaml(sink.port) }), { logger });
      const port = service.listeners()[0]!.port;
      await sendTcp(port, line(1) + line(2));
      // In flight: the first sink has the request and holds its answer for 300 ms.
      await waitFor(() => sink!.arrived >= 1, { what: 'a request at the slow first sink' });
      expect(sink.records).toEqual([]);
      const r = await service.reload(loadConfig({ env: {}, text: yaml(second.port) }));
      expect(r).toEqual({ changed: ['outputs'], undelivered: 0 });
      expect(ids(sink)).toEqual([1, 2]);
      await sendTcp(port, line(3));
      await second.waitForRecords(1);
      expect(ids(second)).toEqual([3]);
    } finally {
      await second.stop();
    }
  });

  it('a listener that cannot bind on reload rejects and the others keep running', async () => {
    sink = await startOtlpSink();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const base = ['outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`, 'pipeline: {batch: {linger: 5ms}}', 'ops: {address: off}'];
      service = await startService(loadConfig({ env: {}, text: ['inputs:', '  - udp: {port: 0}', ...base].join('\n') }), { logger });
      const udpPort = service.listeners()[0]!.port;
      await expect(service.reload(loadConfig({ env: {}, text: ['inputs:', '  - udp: {port: 0}', `  - tcp: {port: ${taken}}`, ...base].join('\n') }))).rejects.toThrow(/EADDRINUSE/);
      expect(logLines.join('')).toContain('a new listener could not bind');
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((r) => udp.send(line(9), udpPort, '127.0.0.1', () => r()));
      udp.close();
      await sink.waitForRecords(1);
    } finally {
      blocker.close();
    }
  });

  it.skipIf(!shouldRun(linuxReq))('a reload that turns readerThread off and on again rebinds the same UDP port, and a sender the thread read keeps being received', async () => {
    assertRequirement(linuxReq);
    sink = await startOtlpSink();
    // A free port, kept across the reloads: off, the listener binds without SO_REUSEADDR, so
    // a socket of the old input still open would make the bind fail.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const yaml = (readerThread: boolean): string =>
      ['inputs:', `  - udp: {host: 127.0.0.1, port: ${port}, readerThread: ${readerThread}}`, 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink!.port}"}`, 'pipeline: {batch: {linger: 5ms}}', 'ops: {address: off}'].join('\n');
    service = await startService(loadConfig({ env: {}, text: yaml(true) }), { logger });
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
    let sent = 0;
    // 400 in runs of 50 (each awaited): busy enough to be moved to the thread, never past the kernel buffer.
    const burst = async (): Promise<void> => {
      for (let run = 0; run < 8; run++) {
        await Promise.all(Array.from({ length: 50 }, () => new Promise<void>((r, j) => sender.send(line(sent++), port, '127.0.0.1', (e) => (e ? j(e) : r())))));
      }
    };
    const moved = (): Promise<number> => metricValue(service!.metrics, 'iptables_otel_udp_reader_thread_senders');
    try {
      await burst();
      await sink.waitForRecords(400);
      await waitFor(async () => (await moved()) === 1, { what: 'the sender read by the thread' });
      expect(await service.reload(loadConfig({ env: {}, text: yaml(false) }))).toEqual({ changed: ['inputs'], undelivered: 0 });
      await burst();
      await sink.waitForRecords(800);
      expect(await moved()).toBe(0);
      expect(await service.reload(loadConfig({ env: {}, text: yaml(true) }))).toEqual({ changed: ['inputs'], undelivered: 0 });
      await burst();
      await sink.waitForRecords(1200);
      await waitFor(async () => (await moved()) === 1, { what: 'the sender read by the thread again' });
      expect(ids(sink)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    } finally {
      sender.close();
    }
  });

  it('pipeline.partialFrames bounds what connections hold mid-frame, and a reload changes the budget in place', async () => {
    sink = await startOtlpSink();
    const yaml = (budget: string): string =>
      ['inputs:', '  - tcp: {port: 0}', 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink!.port}"}`, `pipeline: {partialFrames: {maxBytes: ${budget}, stall: 1m}}`, 'ops: {address: off}'].join('\n');
    service = await startService(loadConfig({ env: {}, text: yaml('64KiB') }), { logger });
    const port = service.listeners()[0]!.port;
    const m = service.metrics;
    const held = (): Promise<number> => metricValue(m, 'iptables_otel_partial_frame_bytes');
    const cuts = (): Promise<number> => metricValue(m, 'iptables_otel_framing_errors_total', { reason: 'partial_budget' });
    const socks: net.Socket[] = [];
    // Each connection sends 40,000 bytes of a frame that never ends.
    const halfSend = async (): Promise<void> => {
      const before = (await held()) + 40_000 * (await cuts());
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
      s.write(Buffer.alloc(40_000, 'a'));
      await waitFor(async () => (await held()) + 40_000 * (await cuts()) >= before + 40_000, { what: 'the partial frame read' });
    };
    try {
      for (let i = 0; i < 4; i++) await halfSend();
      // 160,000 bytes are over twice 64 KiB: the oldest partials were cut, each a counted framing error.
      expect(await cuts()).toBeGreaterThanOrEqual(1);
      expect(await held()).toBeLessThanOrEqual(2 * 65_536);
      const cutBefore = await cuts();
      const heldBefore = await held();
      const r = await service.reload(loadConfig({ env: {}, text: yaml('1MiB') }));
      expect(r.changed).toEqual(['pipeline.partialFrames']);
      for (let i = 0; i < 4; i++) await halfSend();
      // Under the new budget nothing more is cut.
      expect(await held()).toBe(heldBefore + 160_000);
      expect(await cuts()).toBe(cutBefore);
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  it('stop() is idempotent and reports what was not delivered', async () => {
    sink = await startOtlpSink();
    await sink.stop();
    const config = loadConfig({
      env: {},
      text: ['inputs:', '  - tcp: {port: 0}', 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`, 'pipeline: {shutdownDeadline: 300ms}', 'ops: {address: off}'].join('\n'),
    });
    service = await startService(config, { logger });
    await sendTcp(service.listeners()[0]!.port, line(1) + line(2));
    // Both frames were read and handed to the pipeline (the sink is down: nothing can leave it).
    const m = service.metrics;
    await waitFor(async () => (await metricValue(m, 'iptables_otel_received_total')) === 2, { what: '2 frames received' });
    const a = service.stop();
    const b = service.stop();
    expect(a).toBe(b);
    if (threads === '0') {
      // No spool with threads 0: the records are lost, and counted.
      expect(await a).toEqual({ undelivered: 2, spooled: 0 });
      expect(await service.metrics.dropped.get()).toMatchObject({ values: [{ labels: { reason: 'shutdown_deadline' }, value: 2 }] });
    } else {
      expect(await a).toEqual({ undelivered: 0, spooled: 2 });
      expect((await service.metrics.dropped.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0);
    }
  });
});
