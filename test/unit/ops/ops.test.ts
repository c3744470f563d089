import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { createLogger } from '../../../src/ops/logger.js';
import { redact, redactUrlCredentials } from '../../../src/ops/redact.js';
import { HealthTracker, trackOutputHealth } from '../../../src/ops/health.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { startOpsServer, type OpsServer } from '../../../src/ops/ops-server.js';
import { formatStatusLine, snapshotMetrics, startStatusLine } from '../../../src/ops/status-line.js';
import { SwitchableSink } from '../../../src/pipeline/switchable-sink.js';
import type { RecordSink } from '../../../src/pipeline/record-sink.js';
import { waitFor } from '../../helpers/wait.js';

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('logger', () => {
  it('writes JSON lines at or above the level, with redacted credentials', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) }, now: () => new Date(0) });
    log.debug('hidden');
    log.child({ component: 'output' }).info('config', {
      outputs: [{ type: 'otlp', url: 'https://user:pw@collector:4318/v1/logs', headers: { Authorization: 'ApiKey s3cret', 'content-type': 'x' } }],
      sharedKey: 'k',
      apiKey: 'a',
    });
    log.setLevel('debug');
    log.debug('now visible');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'config', component: 'output', sharedKey: '[REDACTED]', apiKey: '[REDACTED]' });
    expect(lines[0]).not.toContain('s3cret');
    expect(lines[0]).not.toContain(':pw@');
    expect(lines[0]).toContain('"content-type":"x"');
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'debug', msg: 'now visible' });
  });
  it('redacts URL passwords and errors', () => {
    expect(redactUrlCredentials('see http://a:b@h:1/x and https://h/y')).toBe('see http://a:[REDACTED]@h:1/x and https://h/y');
    expect(redact({ err: new Error('failed https://u:p@h/') })).toEqual({ err: { name: 'Error', message: 'failed https://u:[REDACTED]@h/' } });
  });
});

describe('health', () => {
  it('is starting, then ok, then unhealthy after N consecutive failures, and ok again after a success', () => {
    let now = 0;
    const h = new HealthTracker({ unhealthyAfterFailures: 3, unhealthyAfterStallMs: 60_000 }, () => 0, () => now);
    h.addOutput('otlp');
    expect(h.report()).toMatchObject({ healthy: false, status: 'starting' });
    h.markRunning();
    expect(h.report()).toMatchObject({ healthy: true, status: 'ok' });
    for (let i = 0; i < 3; i++) h.exportFailed('otlp', new Error('connect ECONNREFUSED'));
    const r = h.report();
    expect(r).toMatchObject({ healthy: false, status: 'unhealthy' });
    expect(r.reasons[0]).toMatch(/3 consecutive failed exports/);
    expect(r.outputs.otlp).toMatchObject({ consecutiveFailures: 3, lastError: 'connect ECONNREFUSED' });
    h.exportSucceeded('otlp');
    expect(h.report().healthy).toBe(true);
    h.markStopping();
    expect(h.report()).toMatchObject({ healthy: false, status: 'stopping' });
  });
  it('is unhealthy when records wait longer than the stall limit without a success', () => {
    let now = 1000;
    let depth = 0;
    const h = new HealthTracker({ unhealthyAfterFailures: 5, unhealthyAfterStallMs: 10_000 }, () => depth, () => now);
    h.addOutput('otlp');
    h.markRunning();
    now += 60_000; // idle for a minute: no records, still healthy
    expect(h.report().healthy).toBe(true);
    depth = 10;
    now += 5_000;
    expect(h.report().healthy).toBe(true);
    now += 6_000;
    expect(h.report()).toMatchObject({ healthy: false });
    h.exportSucceeded('otlp');
    expect(h.report().healthy).toBe(true);
  });
  it('trackOutputHealth passes results and errors through', async () => {
    const h = new HealthTracker({ unhealthyAfterFailures: 1, unhealthyAfterStallMs: 1e9 });
    h.markRunning();
    let fail = true;
    const out = trackOutputHealth({ name: 'x', export: async () => { if (fail) throw new Error('boom'); }, shutdown: async () => {} }, h);
    await expect(out.export([])).rejects.toThrow('boom');
    expect(h.report().healthy).toBe(false);
    fail = false;
    await out.export([]);
    expect(h.report().healthy).toBe(true);
  });
});

describe('ops server', () => {
  let server: OpsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  it('serves /healthz (200/503) and /metrics in Prometheus text format', async () => {
    const metrics = new Metrics();
    const health = new HealthTracker({ unhealthyAfterFailures: 1, unhealthyAfterStallMs: 1e9 });
    let scrapes = 0;
    server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, health, logger: createLogger({ level: 'silent' }), beforeScrape: () => scrapes++ });
    const port = server.address().port;
    expect((await get(port, '/healthz')).status).toBe(503);
    health.markRunning();
    const ok = await get(port, '/healthz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'ok', healthy: true });
    metrics.received.inc({ input: 'tcp://127.0.0.1:9001' }, 3);
    metrics.dropped.inc({ reason: 'queue_full' }, 2);
    const m = await get(port, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.body).toContain('iptables_otel_received_total{input="tcp://127.0.0.1:9001"} 3');
    expect(m.body).toContain('iptables_otel_dropped_total{reason="queue_full"} 2');
    expect(m.body).toContain('# TYPE iptables_otel_queue_records gauge');
    expect(scrapes).toBe(1);
    expect((await get(port, '/nope')).status).toBe(404);
  });
  it('rejects when the address is taken', async () => {
    const metrics = new Metrics();
    const health = new HealthTracker({ unhealthyAfterFailures: 1, unhealthyAfterStallMs: 1e9 });
    server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, health, logger: createLogger({ level: 'silent' }) });
    await expect(startOpsServer({ host: '127.0.0.1', port: server.address().port, metrics, health, logger: createLogger({ level: 'silent' }) })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('event-loop delay gauge', () => {
  it('reports the longest stall of the main thread since the previous scrape', async () => {
    const m = new Metrics();
    const max = async (): Promise<number> => (await m.eventLoopDelayMax.get()).values[0]!.value;
    await max(); // the first scrape starts the monitor
    // It measures from its second tick on: wait until it has recorded a delay.
    await waitFor(async () => (await max()) > 0, { what: 'the monitor sampling' });
    // Block the loop far beyond the monitor's 10 ms resolution, then let it record that.
    const until = Date.now() + 400;
    while (Date.now() < until);
    let seen = 0;
    await waitFor(async () => (seen = Math.max(seen, await max())) >= 0.35, { what: 'the 400 ms stall reported' });
    // Reset by the scrape: the next one covers only what came after it (no 400 ms stall).
    await new Promise((r) => setTimeout(r, 30));
    expect(await max()).toBeLessThan(0.35);
  });
});

describe('status line', () => {
  it('sums metrics and shows rates', async () => {
    const metrics = new Metrics();
    metrics.received.inc({ input: 'a' }, 10);
    metrics.received.inc({ input: 'b' }, 5);
    metrics.queueBytes.set(2048);
    const a = await snapshotMetrics(metrics);
    metrics.received.inc({ input: 'a' }, 20);
    const b = await snapshotMetrics(metrics);
    expect(a.received).toBe(15);
    expect(formatStatusLine(b, a, 10_000)).toMatch(/^iptables-otel: received 35 \(2\/s\) exported 0 \(0\/s\) queue 0 \(2\.0 KiB\)/);
  });
});

describe('startStatusLine', () => {
  it('writes periodically to a TTY and never to a pipe', async () => {
    const metrics = new Metrics();
    const tty = { isTTY: true, text: '', write(s: string) { tty.text += s; return true; } };
    const pipe = { isTTY: false, text: '', write(s: string) { pipe.text += s; return true; } };
    const stopA = startStatusLine(metrics, 20, tty as unknown as NodeJS.WriteStream);
    const stopB = startStatusLine(metrics, 20, pipe as unknown as NodeJS.WriteStream);
    // Two writes to the TTY: both timers have fired at least twice, so the pipe had its chances.
    await waitFor(() => (tty.text.match(/iptables-otel: /g) ?? []).length >= 2, { what: 'two status lines on the TTY' });
    stopA();
    stopB();
    expect(tty.text).toMatch(/^iptables-otel: received 0/);
    expect(pipe.text).toBe('');
  });
});

describe('SwitchableSink', () => {
  it('forwards to the current target and wakes paused inputs on a switch', () => {
    const mk = (writable: boolean): RecordSink & { got: number; drains: Array<() => void> } => {
      const s = { got: 0, drains: [] as Array<() => void>, writable, offer(r: unknown[]) { s.got += r.length; return s.writable; }, onDrain(l: () => void) { s.drains.push(l); } };
      return s;
    };
    const a = mk(false);
    const b = mk(true);
    const sink = new SwitchableSink(a);
    expect(sink.offer([{} as never])).toBe(false);
    let resumed = 0;
    sink.onDrain(() => resumed++);
    sink.switchTo(b);
    expect(resumed).toBe(1);
    a.drains[0]!(); // the old target draining later does not fire it twice
    expect(resumed).toBe(1);
    expect(sink.offer([{} as never, {} as never])).toBe(true);
    expect([a.got, b.got]).toEqual([1, 2]);
  });
});
