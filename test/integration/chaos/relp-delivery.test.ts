/**
 * The mid-stream SIGKILL of the delivery chaos suite (delivery.test.ts) with RELP instead of plain
 * TCP: rsyslog imfile -> omrelp (the action of examples/rsyslog/32-iptables-otel-relp.conf, read
 * from that file) -> the service's RELP listener with the spool -> an OTLP sink. The service is
 * SIGKILLed in the middle of a 2,000 lines/s stream and restarted. rsyslog keeps each message
 * until the service has answered it (after spooling it) and resends what was not answered, so
 * nothing may be missing; the duplicates (spooled, not yet answered at the kill) are reported.
 * Variants: the endpoint down until after the restart (the answered messages are then only in
 * the spool), and SIGTERM instead of SIGKILL (exit code 0).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths.js';
import { hasRsyslog, startRsyslog, type Daemon } from '../../helpers/peers.js';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';
import { ensureBuilt, startServiceProcess, until, type ServiceProcess } from '../service/service-process.js';
import { freePort } from '../../helpers/collector.js';
import { line, tally } from './sequence-lines.js';
import { waitForStable } from '../../helpers/wait.js';

const OMRELP = '/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so';
const req = requirement(hasRsyslog() && existsSync(OMRELP), 'rsyslogd with omrelp (rsyslog-relp) is needed as the sender of the RELP chaos test');

/** The omrelp action of the shipped RELP example, pointed at `port`. */
function exampleAction(port: number): string {
  const text = readFileSync(path.join(repoRoot, 'examples', 'rsyslog', '32-iptables-otel-relp.conf'), 'utf8');
  const m = /action\(\s*type="omrelp"[\s\S]*?\n\s*\)/.exec(text);
  if (!m) throw new Error('no omrelp action in examples/rsyslog/32-iptables-otel-relp.conf');
  const action = m[0].replace(/#[^\n]*/g, '').replace(/port="\d+"/, `port="${port}"`);
  if (!action.includes('queue.saveOnShutdown="on"') || !action.includes('action.resumeRetryCount="-1"')) throw new Error('the example lost its queue settings');
  if (!text.includes('module(load="omrelp")')) throw new Error('the example no longer loads omrelp');
  return action;
}

describe.skipIf(!shouldRun(req))('RELP chaos: rsyslog omrelp -> iptables-otel with the spool -> OTLP, SIGKILL mid-stream', () => {
  let sink: OtlpSink | undefined;
  let svc: ServiceProcess | undefined;
  let rsyslog: Daemon | undefined;

  beforeAll(() => {
    assertRequirement(req);
    ensureBuilt();
  }, 300_000);

  afterEach(async () => {
    svc?.kill('SIGKILL');
    await rsyslog?.stop();
    await sink?.stop();
    svc = rsyslog = sink = undefined;
  });

  /**
   * The stream, the SIGKILL once half of it is written, a restart. With `endpointDown` the sink is
   * down until after the restart, so at the kill the service holds thousands of answered messages
   * that only the spool keeps (an answer given before they were safe would lose them all).
   */
  async function killMidStream(scenario: string, endpointDown: boolean, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const N = 12_000;
    sink = await startOtlpSink();
    if (endpointDown) await sink.stop();
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'chaos-relp-'));
    const spoolDir = path.join(dir, 'spool');
    const input = path.join(dir, 'kern.log');
    writeFileSync(input, '');
    const config = [
      'inputs:',
      `  - relp: {host: 127.0.0.1, port: ${port}}`,
      'outputs:',
      `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`,
      'pipeline:',
      '  batch: {size: 500, linger: 20ms}',
      '  retry: {initialDelay: 100ms, maxDelay: 1s}',
      '  shutdownDeadline: 2s',
      'ops: {address: "127.0.0.1:0"}',
    ].join('\n');
    const startSvc = (): Promise<ServiceProcess> => startServiceProcess(config, ['--spool-dir', spoolDir, '--log-level', 'info']);
    svc = await startSvc();
    rsyslog = await startRsyslog(
      [
        'module(load="omrelp")',
        'module(load="imfile" mode="inotify")',
        `input(type="imfile" File="${input}" Tag="kernel:" Facility="kern" Severity="warning")`,
        `if $syslogfacility-text == "kern" and $msg contains "iptables-dropped: " then {`,
        exampleAction(port),
        '}',
      ].join('\n'),
    );
    let sent = 0;
    // 20 lines every 10 ms, as in the plain-TCP scenario of delivery.test.ts.
    const pace = setInterval(() => {
      const to = Math.min(N, sent + 20);
      let text = '';
      for (let i = sent; i < to; i++) text += line(i) + '\n';
      appendFileSync(input, text);
      sent = to;
    }, 10);
    let atKill = 0;
    try {
      await until(() => sent >= N / 2, 30_000, 'half the stream written');
      if (endpointDown) {
        await until(async () => (await svc!.metric('iptables_otel_spool_records')) > 1000, 30_000, 'the stream spooled');
        atKill = await svc.metric('iptables_otel_spool_records');
      } else {
        await until(() => tally(sink!, N).unique > 1000, 30_000, 'the stream flowing');
        atKill = tally(sink!, N).unique;
      }
      svc.kill(signal);
      const exit = await svc.exited;
      // SIGTERM: the drain answers what it reads and sends serverclose; the spool keeps the rest.
      if (signal === 'SIGTERM') expect(exit).toEqual({ code: 0, signal: null });
      if (endpointDown) await sink.start();
      svc = await startSvc();
      await until(() => sent >= N, 60_000, 'the whole stream written');
    } finally {
      clearInterval(pace);
    }
    try {
      await until(() => tally(sink!, N).unique === N, 90_000, 'all lines at the sink');
    } catch (err) {
      const t = tally(sink!, N);
      throw new Error(`${(err as Error).message}; unique ${t.unique}, duplicates ${t.duplicates}, missing ${t.missing.length}: ${t.missing.slice(0, 20).join(',')}`);
    }
    // Late duplicates would arrive right after: wait until the spool is acknowledged and the sink is quiet.
    await until(async () => (await svc!.metric('iptables_otel_spool_records')) === 0, 10_000, 'spool acknowledged');
    // Quiet for a second, not just between two polls: a late duplicate would land in that second.
    await waitForStable(() => sink!.records.length, { what: 'the sink quiet', stableMs: 1000, timeoutMs: 15_000 });
    const t = tally(sink!, N);
    console.log(`chaos RELP ${scenario}: sent ${N}, unique ${t.unique}, duplicates ${t.duplicates}, missing ${t.missing.length} (at the kill ${atKill} ${endpointDown ? 'were spooled' : 'had arrived'})`);
    expect(t.stray).toBe(0);
    expect(t.missing).toEqual([]);
    // At-least-once: duplicates are at most what one RELP window and one spooled read can hold.
    expect(t.duplicates).toBeLessThanOrEqual(N / 2);
    expect(await svc.metric('iptables_otel_framing_errors_total')).toBe(0);
  }

  it('SIGKILL in the middle of a 2,000 lines/s stream, then a restart: 0 missing, duplicates reported', async () => {
    await killMidStream('SIGKILL mid-stream at 2,000 lines/s', false);
  }, 180_000);

  it('SIGTERM in the middle of the stream, then a restart: 0 missing, exit code 0', async () => {
    await killMidStream('SIGTERM mid-stream at 2,000 lines/s', false, 'SIGTERM');
  }, 180_000);

  it('the same with the endpoint down until after the restart (answered messages live only in the spool): 0 missing', async () => {
    await killMidStream('SIGKILL mid-stream at 2,000 lines/s, endpoint down', true);
  }, 180_000);
});
