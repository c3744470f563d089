/**
 * The kmsg input against the real kernel: a LOG rule with a prefix unique to this run in a
 * network namespace, packets through it, the service (child process, --input kmsg://) reading
 * /dev/kmsg and exporting to an OTLP sink. Other tests on the machine write to the kernel log
 * too: everything here is matched by this run's prefix.
 *
 * - exactly the N lines of the prefix are exported, with the kernel's priority, sequence
 *   number (MSGID), monotonic stamp and a wall-clock timestamp derived from it;
 * - SIGKILL in the middle of a stream and a restart: nothing missing, duplicates at most one
 *   acknowledgement batch (the numbers are printed);
 * - records the kernel overwrote before the service read them are counted (`kmsg_overrun`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsgReader, Lab, netnsRequirement, type KmsgRecord } from '../../helpers/netns.js';
import { startOtlpSink, type NormRecord, type NormValue, type OtlpSink } from '../../helpers/otlp-sink.js';
import { assertRequirement, shouldRun } from '../../helpers/requirements.js';
import { waitFor } from '../../helpers/wait.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../service/service-process.js';

const req = netnsRequirement(['bash']);
const BATCH = 50;

function str(v: NormValue | undefined): string | undefined {
  return v !== undefined && v !== null && 'string' in v ? v.string : undefined;
}
function int(v: NormValue | undefined): number | undefined {
  return v !== undefined && v !== null && 'int' in v ? Number(v.int) : undefined;
}

describe.runIf(shouldRun(req))('kmsg input with the real kernel', () => {
  let lab: Lab;
  let sink: OtlpSink;
  let reader: KmsgReader;
  const tag = randomBytes(3).toString('hex');
  const prefix = `KM${tag}`;
  const services: ServiceProcess[] = [];
  let nextPort = 20000;

  beforeAll(async () => {
    assertRequirement(req);
    ensureBuilt();
    lab = Lab.create({ tag });
    // Log every UDP packet client a sends to server b, with this run's prefix.
    lab.exec('a', ['iptables', '-A', 'OUTPUT', '-p', 'udp', '-d', lab.layout.v4.b0, '-j', 'LOG', '--log-prefix', `${prefix} `, '--log-level', '4']);
    sink = await startOtlpSink();
    reader = new KmsgReader();
  });

  afterAll(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    reader?.close();
    await sink?.stop();
    lab?.destroy();
  });

  /** `n` UDP packets from a to b, each to its own destination port (the port identifies the packet). */
  function send(n: number): number[] {
    const first = nextPort;
    nextPort += n;
    lab.sh('a', `for p in $(seq ${first} ${first + n - 1}); do echo x > /dev/udp/${lab.layout.v4.b0}/$p; done`, { timeoutMs: 60_000 });
    return Array.from({ length: n }, (_, i) => first + i);
  }

  /** The kernel's own records of this run's prefix, logged since the last call. */
  const kernelLines = new Map<number, KmsgRecord>();
  function readKernel(): void {
    for (const r of reader.readNew()) if (r.msg.startsWith(`${prefix} IN=`)) kernelLines.set(r.seq, r);
  }

  function ours(): NormRecord[] {
    return sink.records.filter((r) => str(r.attributes['iptables.log_prefix']) === prefix);
  }

  async function startService(stateDir: string, extra: string[] = []): Promise<ServiceProcess> {
    const yaml = [
      'inputs:',
      `  - kmsg: {prefixes: ["${prefix}"]${extra.length > 0 ? `, ${extra.join(', ')}` : ''}}`,
      'outputs:',
      `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`,
      `pipeline: {threads: 1, batch: {size: ${BATCH}, linger: 20ms}}`,
      'ops: {address: "127.0.0.1:0"}',
    ].join('\n');
    const svc = await startServiceProcess(yaml, ['--state-dir', stateDir], { timeoutMs: 30_000 });
    services.push(svc);
    return svc;
  }

  it('exports exactly the N LOG lines of its prefix, with the kernel priority, sequence number and timestamps', async () => {
    reader.mark();
    const stateDir = mkdtempSync(path.join(tmpdir(), 'kmsg-state-'));
    const svc = await startService(stateDir);
    sink.records.length = 0;
    const N = 200;
    const sentAt = Date.now();
    const ports = send(N);
    // A line with the prefix but no netfilter shape: read, counted, not exported.
    const fd = openSync('/dev/kmsg', 'w');
    writeSync(fd, `<4>${prefix} not a packet\n`);
    closeSync(fd);
    await waitFor(() => ours().length >= N, { timeoutMs: 30_000, what: `${N} records of ${prefix}` });
    await waitFor(async () => (await svc.metric('iptables_otel_skipped_total', { reason: 'not_netfilter' })) >= 1, { what: 'the non-netfilter line counted' });
    readKernel();
    const got = ours();
    expect(got.length).toBe(N);
    expect(new Set(got.map((r) => int(r.attributes['destination.port'])))).toEqual(new Set(ports));
    expect(kernelLines.size).toBe(N);
    const bootMs = Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    for (const r of got) {
      const seq = Number(str(r.attributes['log.syslog.msgid']));
      const k = kernelLines.get(seq);
      expect(k, `kernel record ${seq}`).toBeDefined();
      expect(r.body).toEqual({ string: k!.msg });
      expect(int(r.attributes['iptables.kernel_uptime_us'])).toBe(k!.usec);
      expect(int(r.attributes['log.syslog.severity.code'])).toBe(4);
      expect(int(r.attributes['log.syslog.facility.code'])).toBe(0);
      expect(r.severityText).toBe('warning');
      expect(str(r.attributes['input.type'])).toBe('kmsg');
      expect(str(r.attributes['source.address'])).toBe(lab.layout.v4.a0);
      expect(str(r.attributes['log.syslog.appname'])).toBe('kernel');
      // Wall time = boot time + the kernel's monotonic stamp: within the send window, and within
      // 1 s of /proc/uptime's boot time (which counts suspend; this host does not suspend).
      const ts = Number(BigInt(r.timeUnixNano) / 1_000_000n);
      expect(ts).toBeGreaterThanOrEqual(sentAt - 50);
      expect(ts).toBeLessThanOrEqual(Date.now());
      expect(Math.abs(ts - (bootMs + k!.usec / 1000))).toBeLessThan(1000);
    }
    expect(await svc.metric('iptables_otel_dropped_total', { reason: 'kmsg_overrun' })).toBe(0);
    svc.kill('SIGTERM');
    expect((await svc.exited).code).toBe(0);
  });

  it('SIGKILL in the middle of a stream, then a restart: nothing missing, duplicates at most one acknowledgement batch', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'kmsg-state-'));
    let svc = await startService(stateDir);
    sink.records.length = 0;
    const N = 400;
    // Packets go out in the background (one bash loop) while the service reads.
    const first = nextPort;
    nextPort += N;
    const sender = lab.spawn('a', ['bash', '-c', `for p in $(seq ${first} ${first + N - 1}); do echo x > /dev/udp/${lab.layout.v4.b0}/$p; done`]);
    const senderDone = new Promise<void>((resolve) => sender.once('exit', () => resolve()));
    await waitFor(() => ours().length >= 100, { timeoutMs: 30_000, what: '100 records before the kill' });
    svc.kill('SIGKILL');
    await svc.exited;
    const beforeKill = ours().length;
    svc = await startService(stateDir);
    await senderDone;
    const ports = new Set(Array.from({ length: N }, (_, i) => first + i));
    const seen = (): Set<number> => new Set(ours().map((r) => int(r.attributes['destination.port'])!).filter((p) => ports.has(p)));
    await waitFor(() => seen().size >= N, { timeoutMs: 30_000, what: `all ${N} ports after the restart` });
    // Let the restarted service finish what it re-read: its received count stops moving.
    await waitFor(async () => (await svc.metric('iptables_otel_received_total')) === (await svc.metric('iptables_otel_exported_total')), { what: 'the restarted service idle' });
    const all = ours().filter((r) => ports.has(int(r.attributes['destination.port'])!));
    const duplicates = all.length - seen().size;
    const overrun = await svc.metric('iptables_otel_dropped_total', { reason: 'kmsg_overrun' });
    console.log(`kmsg SIGKILL/restart: sent ${N}, exported before the kill ${beforeKill}, exported in all ${all.length}, unique ${seen().size}, missing ${N - seen().size}, duplicates ${duplicates}, overrun ${overrun}`);
    expect(overrun).toBe(0);
    expect(seen().size).toBe(N);
    expect(duplicates).toBeLessThanOrEqual(BATCH);
    svc.kill('SIGTERM');
    expect((await svc.exited).code).toBe(0);
  });

  it('SIGKILL the moment the collector answers: what was delivered but not yet acknowledged is sent again, nothing more', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'kmsg-state-'));
    let svc = await startService(stateDir);
    sink.records.length = 0;
    const first20 = send(20);
    const ports = new Set(first20);
    await waitFor(() => ours().length >= 20, { timeoutMs: 30_000, what: 'the first 20 delivered' });
    await waitFor(async () => (await svc.metric('iptables_otel_exported_total')) >= 20, { what: 'the first 20 acknowledged' });
    // The next ones reach the collector, which holds its answers: delivered, not yet acknowledged.
    sink.hold();
    for (const p of send(2 * BATCH)) ports.add(p);
    await waitFor(async () => (await svc.metric('iptables_otel_received_total')) >= 20 + 2 * BATCH && sink.heldCount >= 1, { timeoutMs: 30_000, what: 'exports held by the sink' });
    // Answer and kill in the same tick: the collector has the records, the service never hears it.
    sink.release();
    svc.kill('SIGKILL');
    await svc.exited;
    svc = await startService(stateDir);
    const seen = (): Set<number> => new Set(ours().map((r) => int(r.attributes['destination.port'])!).filter((p) => ports.has(p)));
    await waitFor(() => seen().size >= ports.size, { timeoutMs: 30_000, what: `all ${ports.size} ports after the restart` });
    await waitFor(async () => (await svc.metric('iptables_otel_received_total')) === (await svc.metric('iptables_otel_exported_total')), { what: 'the restarted service idle' });
    const all = ours().filter((r) => ports.has(int(r.attributes['destination.port'])!));
    const duplicates = all.length - seen().size;
    console.log(`kmsg SIGKILL at the answer: sent ${ports.size}, unique ${seen().size}, missing ${ports.size - seen().size}, duplicates ${duplicates} (in flight at the kill: ${2 * BATCH})`);
    expect(seen().size).toBe(ports.size);
    // At most what was in flight to the output (batch size x the output's 2 requests in flight);
    // the first 20 were acknowledged (checkpointed) before: never again.
    expect(duplicates).toBeLessThanOrEqual(2 * BATCH);
    for (const p of first20) expect(all.filter((r) => int(r.attributes['destination.port']) === p)).toHaveLength(1);
    svc.kill('SIGTERM');
    expect((await svc.exited).code).toBe(0);
  });

  it('records the kernel overwrote before they were read are counted as kmsg_overrun', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'kmsg-state-'));
    // A small in-flight bound and a sink that holds its answers: the reader pauses after a few records.
    const svc = await startService(stateDir, ['maxInFlight: 5']);
    sink.records.length = 0;
    sink.hold();
    try {
      send(20);
      await waitFor(() => sink.heldCount >= 1, { timeoutMs: 30_000, what: 'an export held by the sink' });
      // More than the ring holds (its size: klogctl SIZE_BUFFER; 128 KiB here), one open per
      // line (each open has its own write rate limit).
      const line = `<6>${prefix}-fill ${'x'.repeat(200)}\n`;
      for (let i = 0; i < 2000; i++) {
        const fd = openSync('/dev/kmsg', 'w');
        writeSync(fd, line);
        closeSync(fd);
      }
    } finally {
      sink.release();
    }
    await waitFor(async () => (await svc.metric('iptables_otel_dropped_total', { reason: 'kmsg_overrun' })) > 0, { timeoutMs: 30_000, what: 'kmsg_overrun counted' });
    const lost = await svc.metric('iptables_otel_dropped_total', { reason: 'kmsg_overrun' });
    console.log(`kmsg overrun: 2000 lines of ~210 bytes written while the reader was paused; counted lost ${lost}`);
    // At least what did not fit in the ring (2000 lines, the ring holds well under 1000 of them).
    expect(lost).toBeGreaterThan(1000);
    expect(svc.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('kernel log records were overwritten'))).toBe(true);
    // Visible in /healthz too, with the input's position.
    const h = JSON.parse((await svc.get('/healthz')).body) as { inputs?: Record<string, { type: string; overrunRecords: number; nextSeq: number }> };
    expect(h.inputs?.['kmsg://']?.type).toBe('kmsg');
    expect(h.inputs!['kmsg://']!.overrunRecords).toBeGreaterThanOrEqual(lost);
    expect(h.inputs!['kmsg://']!.nextSeq).toBeGreaterThan(0);
    svc.kill('SIGTERM');
    await svc.exited;
  });
});
