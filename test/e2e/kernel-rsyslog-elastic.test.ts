/**
 * The seed's flow for real, in network namespaces:
 *
 *   client ns (192.0.2.2) --TCP SYN--> firewall ns (192.0.2.1), INPUT -> LOG_AND_DROP
 *     (-j LOG --log-prefix "iptables-dropped: " --log-level 4, then -j DROP)
 *   kernel -> /dev/kmsg -> rsyslog imkmsg -> `@@127.0.0.1:PORT` (omfwd TCP, traditional format)
 *     -> iptables-otel -> OTLP -> Collector (collector-config/elastic-self-managed-otel.yaml)
 *     -> elasticsearch exporter -> bulk capture
 *
 * rsyslog also forwards the same line to the Collector's own `syslog` receiver (the peer
 * check), whose output goes to a file. Needs root (namespaces, iptables, /dev/kmsg,
 * nf_log_all_netns, which the lab helper turns on and restores).
 *
 * imkmsg reads the host's /dev/kmsg, where every namespace's LOG lines appear, so the
 * rsyslog filter and the assertions key on this run's unique destination port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorRequirement, freePort, readFileExporterOutput, startCollector, type RunningCollector } from '../helpers/collector.js';
import { getField, startEsBulkCapture, type CapturedDocument, type EsBulkCapture } from '../helpers/es-bulk-capture.js';
import { Lab, netnsRequirement } from '../helpers/netns.js';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../helpers/requirements.js';
import { productionEnv, testableProductionConfig } from './collector-pipelines.js';
import { flattenLogRecords, otlpAttributes, type FlatLogRecord } from './otlp-json.js';
import { cliRequirement, startService, waitFor, type RunningService } from './service-process.js';

const reqs = [netnsRequirement(), requirement(hasCommand('rsyslogd'), 'rsyslogd is not installed'), collectorRequirement(), cliRequirement()];
const req = requirement(
  reqs.every((r) => r.ok),
  reqs
    .filter((r) => !r.ok)
    .map((r) => r.reason)
    .join('; '),
);

describe.skipIf(!shouldRun(req))('kernel LOG -> rsyslog imkmsg -> iptables-otel -> Collector -> Elastic documents', () => {
  let lab: Lab | undefined;
  let capture: EsBulkCapture | undefined;
  let collector: RunningCollector | undefined;
  let service: RunningService | undefined;
  let rsyslog: ChildProcess | undefined;
  let rsyslogLog = '';
  let work = '';
  // A port nothing listens on, unique enough to tell this run's kernel lines apart.
  const dport = 20000 + Math.floor(Math.random() * 40000);
  let docs: CapturedDocument[] = [];
  let peer: FlatLogRecord[] = [];

  beforeAll(async () => {
    assertRequirement(req);
    work = mkdtempSync(path.join(os.tmpdir(), 'ipo-kernel-e2e-'));
    capture = await startEsBulkCapture();

    // One Collector: the production otel pipeline, plus the syslog receiver for the peer check.
    const otlpPort = await freePort();
    const syslogPort = await freePort();
    const cfg = testableProductionConfig({ file: 'elastic-self-managed-otel.yaml', receiverPort: otlpPort, elasticsearchUrl: capture.url });
    (cfg.receivers as Record<string, unknown>).syslog = {
      tcp: { listen_address: `127.0.0.1:${syslogPort}` },
      protocol: 'rfc3164',
      location: 'UTC',
    };
    (cfg.exporters as Record<string, unknown>).file = { path: '${DIR}/peer.json', flush_interval: '100ms' };
    ((cfg.service as Record<string, unknown>).pipelines as Record<string, unknown>)['logs/peer'] = {
      receivers: ['syslog'],
      exporters: ['file'],
    };
    const storage = path.join(work, 'storage');
    mkdirSync(storage);
    collector = await startCollector(cfg, { env: productionEnv(storage, capture.url) });

    service = await startService({
      port: await freePort(),
      args: ['--output', 'otlp'],
      configYaml: 'pipeline:\n  batch:\n    linger: 50ms\n',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` },
    });

    // Private rsyslog: own config, pid file and work dir; never /etc/rsyslog.conf.
    const conf = path.join(work, 'rsyslog.conf');
    mkdirSync(path.join(work, 'rs-work'));
    writeFileSync(
      conf,
      [
        `global(workDirectory="${path.join(work, 'rs-work')}")`,
        'module(load="imkmsg")',
        `if $msg contains 'iptables-dropped: ' and $msg contains 'DPT=${dport} ' then @@127.0.0.1:${service.port}`,
        `if $msg contains 'iptables-dropped: ' and $msg contains 'DPT=${dport} ' then @@127.0.0.1:${syslogPort}`,
        '',
      ].join('\n'),
    );
    rsyslog = spawn('rsyslogd', ['-n', '-f', conf, '-i', path.join(work, 'rsyslog.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    rsyslog.stdout?.on('data', (b: Buffer) => (rsyslogLog += b.toString()));
    rsyslog.stderr?.on('data', (b: Buffer) => (rsyslogLog += b.toString()));
    // imkmsg replays the ring buffer at start; give it a moment to reach the end.
    await new Promise((r) => setTimeout(r, 1500));
    if (rsyslog.exitCode !== null) throw new Error(`rsyslogd exited: ${rsyslogLog}`);

    lab = Lab.create();
    const fw = lab.layout.v4.r0; // 192.0.2.1
    lab.exec('r', ['iptables', '-N', 'LOG_AND_DROP']);
    lab.exec('r', ['iptables', '-A', 'LOG_AND_DROP', '-j', 'LOG', '--log-prefix', 'iptables-dropped: ', '--log-level', '4']);
    lab.exec('r', ['iptables', '-A', 'LOG_AND_DROP', '-j', 'DROP']);
    lab.exec('r', ['iptables', '-A', 'INPUT', '-j', 'LOG_AND_DROP']);
    // The SYN is dropped, so the connect would hang: bound it.
    lab.sh('a', `timeout 2 bash -c 'exec 3<>/dev/tcp/${fw}/${dport}'`, { allowFailure: true, timeoutMs: 5000 });

    const logs = (): string => `\nrsyslog:\n${rsyslogLog}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`;
    docs = await capture
      .waitForDocuments(1, 30_000, (d) => getField(d.source, 'attributes.destination.port') === dport)
      .catch((e: Error) => {
        throw new Error(e.message + logs());
      });
    const dir = collector.dir;
    peer = await waitFor('the syslog receiver record', 20_000, () => {
      const r = flattenLogRecords(readFileExporterOutput(path.join(dir, 'peer.json')));
      return r.length > 0 ? r : undefined;
    }).catch((e: Error) => {
      throw new Error(e.message + logs());
    });
  });

  afterAll(async () => {
    lab?.destroy();
    if (rsyslog && rsyslog.exitCode === null) {
      rsyslog.kill('SIGTERM');
      await new Promise((r) => rsyslog!.once('exit', r));
    }
    await service?.stop();
    await collector?.stop();
    await capture?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the dropped connection attempt becomes a document with the right source, port and prefix', () => {
    const d = docs[0]!;
    expect(d.index).toBe('logs-iptables.log.otel-default');
    const a = (name: string): unknown => getField(d.source, `attributes.${name}`);
    expect(a('source.address')).toBe(lab!.layout.v4.a0); // 192.0.2.2
    expect(a('destination.address')).toBe(lab!.layout.v4.r0); // 192.0.2.1
    expect(a('destination.port')).toBe(dport);
    expect(typeof a('source.port')).toBe('number');
    expect(a('network.transport')).toBe('tcp');
    expect(a('iptables.tcp.flags')).toContain('SYN');
    expect(String(a('iptables.log_prefix'))).toMatch(/^iptables-dropped:/);
    expect(a('iptables.input_device')).toBe(lab!.layout.ifname.r0);
    expect(a('log.syslog.appname')).toBe('kernel');
    expect(a('log.syslog.severity.code')).toBe(4);
    expect(getField(d.source, 'severity_text')).toBe('warning');
    expect(getField(d.source, 'data_stream.dataset')).toBe('iptables.log.otel');
    expect(String(getField(d.source, 'body.text'))).toContain(`iptables-dropped: IN=${lab!.layout.ifname.r0} `);
  });

  it('the Collector syslog receiver gets the same line, with header fields only', () => {
    const r = peer.find((x) => String(otlpAttributes(x.record).message?.stringValue).includes(`DPT=${dport} `));
    expect(r).toBeDefined();
    const a = otlpAttributes(r!.record);
    expect(a.appname).toEqual({ stringValue: 'kernel' });
    expect(a.priority).toEqual({ intValue: '4' });
    expect(Object.keys(a).some((k) => k.includes('address') || k.includes('port'))).toBe(false);
  });
});
