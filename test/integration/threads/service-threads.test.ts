/**
 * The service in threaded mode (`pipeline.threads`), in-process: /metrics counts what the
 * worker threads parsed and exported, SIGHUP-style reloads change the thread count and the
 * outputs without losing records, and a switch between 0 and N is refused with a warning.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { loadConfig } from '../../../src/config/load-config.js';
import { createLogger } from '../../../src/ops/logger.js';
import { startService, type Service } from '../../../src/service.js';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';

const line = (id: number): string =>
  `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: IN=eth0 OUT= SRC=192.0.2.5 DST=198.51.100.7 LEN=60 TTL=64 ID=${id} PROTO=TCP SPT=1 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0 \n`;
const ids = (sink: OtlpSink): number[] =>
  sink.records
    .map((r) => Number((r.attributes['iptables.id'] as { int: string } | undefined)?.int))
    .filter((n) => !Number.isNaN(n))
    .sort((a, b) => a - b);

function sendTcp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text, () => resolve()));
    s.on('error', reject);
  });
}

async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('service with worker threads', () => {
  let service: Service | undefined;
  const sinks: OtlpSink[] = [];
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => logLines.push(l) } });

  afterEach(async () => {
    await service?.stop();
    for (const s of sinks.splice(0)) await s.stop();
    service = undefined;
    logLines.length = 0;
  });

  const yaml = (sinkPort: number, threads: string, deadline = '10s'): string =>
    [
      'inputs:',
      '  - tcp: {port: 0}',
      'outputs:',
      `  - otlp: {endpoint: "http://127.0.0.1:${sinkPort}"}`,
      `pipeline: {batch: {linger: 5ms}, threads: ${threads}, shutdownDeadline: ${deadline}}`,
      'ops: {address: off}',
    ].join('\n');

  it('counts parsed/exported from the threads in /metrics; reload N -> M and new outputs lose nothing', async () => {
    const a = await startOtlpSink();
    const b = await startOtlpSink();
    sinks.push(a, b);
    service = await startService(loadConfig({ env: {}, text: yaml(a.port, '2') }), { logger });
    expect(JSON.parse(logLines.find((l) => l.includes('"started"'))!).threads).toBe(2);
    const port = service.listeners()[0]!.port;
    let text = '';
    for (let i = 0; i < 500; i++) text += line(i);
    await sendTcp(port, text + 'garbage that is no firewall line\n');
    await a.waitForRecords(501);
    const m = service.metrics;
    await until(async () => (await m.exported.get()).values.reduce((s, v) => s + v.value, 0) === 501, 5000, 'exported delta');
    expect((await m.parsed.get()).values.find((v) => v.labels.outcome === 'ok')?.value).toBe(500);
    expect((await m.parseFailures.get()).values[0]?.value).toBe(1);
    expect((await m.received.get()).values[0]?.value).toBe(501);

    // Thread count 2 -> 1: new threads; the old ones drain first.
    a.defaultResponse = { status: 200, delayMs: 200 };
    const arrivedBefore = a.arrived;
    await sendTcp(port, line(1000) + line(1001));
    // In flight: a request with them is at the sink, whose answer takes 200 ms.
    await until(() => a.arrived > arrivedBefore, 10_000, 'a request in flight at the slow sink');
    let r = await service.reload(loadConfig({ env: {}, text: yaml(a.port, '1') }));
    expect(r).toEqual({ changed: ['pipeline'], undelivered: 0 });
    expect(ids(a).slice(-2)).toEqual([1000, 1001]);

    // New outputs: records received after the reload go to the new sink only.
    r = await service.reload(loadConfig({ env: {}, text: yaml(b.port, '1') }));
    expect(r).toEqual({ changed: ['outputs'], undelivered: 0 });
    await sendTcp(port, line(2000));
    await b.waitForRecords(1);
    expect(ids(b)).toEqual([2000]);
    expect(a.records).toHaveLength(503);

    // 1 -> 0 needs a restart: a warning, and the running mode stays.
    await service.reload(loadConfig({ env: {}, text: yaml(b.port, '0') }));
    expect(logLines.join('')).toContain('restart the service to apply it');
    await sendTcp(port, line(3000));
    await b.waitForRecords(2);
    expect(await service.stop()).toEqual({ undelivered: 0, spooled: 0 });
    expect((await m.dropped.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0);
  }, 60_000);

  it('stop() with the endpoint down and the spool off reports undelivered records from every thread', async () => {
    const a = await startOtlpSink();
    sinks.push(a);
    await a.stop();
    service = await startService(loadConfig({ env: {}, text: yaml(a.port, '2', '300ms'), overrides: { noSpool: true } }), { logger });
    let text = '';
    for (let i = 0; i < 40; i++) text += line(i);
    await sendTcp(service.listeners()[0]!.port, text);
    await until(async () => ((await service!.metrics.received.get()).values[0]?.value ?? 0) === 40, 5000, 'received');
    expect(await service.stop()).toEqual({ undelivered: 40, spooled: 0 });
    expect((await service.metrics.dropped.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'shutdown_deadline' }, value: 40 })]);
  }, 30_000);

  it('stop() with the endpoint down and the spool on keeps every record in the spool, counted nowhere as dropped', async () => {
    const a = await startOtlpSink();
    sinks.push(a);
    await a.stop();
    service = await startService(loadConfig({ env: {}, text: yaml(a.port, '2', '300ms') }), { logger });
    let text = '';
    for (let i = 0; i < 40; i++) text += line(i);
    await sendTcp(service.listeners()[0]!.port, text);
    await until(async () => ((await service!.metrics.received.get()).values[0]?.value ?? 0) === 40, 5000, 'received');
    expect(await service.stop()).toEqual({ undelivered: 0, spooled: 40 });
    expect((await service.metrics.dropped.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0);
  }, 30_000);
});
