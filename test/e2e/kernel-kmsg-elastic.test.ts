/**
 * The seed's flow without rsyslog, for real, in network namespaces:
 *
 *   client ns (192.0.2.2) --TCP SYN--> firewall ns (192.0.2.1), INPUT -> LOG_AND_DROP
 *     (-j LOG --log-prefix "iptables-dropped: " --log-level 4, then -j DROP)
 *   kernel -> /dev/kmsg -> iptables-otel's kmsg input (--input kmsg://?prefixes=iptables-dropped:)
 *     -> OTLP -> Collector (collector-config/elastic-self-managed-otel.yaml)
 *     -> elasticsearch exporter -> bulk capture
 *
 * Needs root (namespaces, iptables, /dev/kmsg, nf_log_all_netns). Other tests log the same
 * prefix, so the assertions key on this run's destination port.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorRequirement, freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { getField, startEsBulkCapture, type CapturedDocument, type EsBulkCapture } from '../helpers/es-bulk-capture.js';
import { Lab, netnsRequirement } from '../helpers/netns.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { productionEnv, testableProductionConfig } from './collector-pipelines.js';
import { cliRequirement, startService, type RunningService } from './service-process.js';

const reqs = [netnsRequirement(), collectorRequirement(), cliRequirement()];
const req = requirement(
  reqs.every((r) => r.ok),
  reqs
    .filter((r) => !r.ok)
    .map((r) => r.reason)
    .join('; '),
);

describe.skipIf(!shouldRun(req))('kernel LOG -> iptables-otel kmsg input -> Collector -> Elastic documents (no rsyslog)', () => {
  let lab: Lab | undefined;
  let capture: EsBulkCapture | undefined;
  let collector: RunningCollector | undefined;
  let service: RunningService | undefined;
  let work = '';
  const dport = 20000 + Math.floor(Math.random() * 40000);
  let docs: CapturedDocument[] = [];
  let sentAt = 0;

  beforeAll(async () => {
    assertRequirement(req);
    work = mkdtempSync(path.join(os.tmpdir(), 'ipo-kmsg-e2e-'));
    capture = await startEsBulkCapture();
    const otlpPort = await freePort();
    const cfg = testableProductionConfig({ file: 'elastic-self-managed-otel.yaml', receiverPort: otlpPort, elasticsearchUrl: capture.url });
    const storage = path.join(work, 'storage');
    mkdirSync(storage);
    collector = await startCollector(cfg, { env: productionEnv(storage, capture.url) });

    service = await startService({
      port: await freePort(),
      args: ['--input', 'kmsg://?prefixes=iptables-dropped:', '--state-dir', path.join(work, 'state'), '--output', 'otlp'],
      configYaml: 'pipeline:\n  batch:\n    linger: 50ms\n',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` },
    });

    lab = Lab.create();
    const fw = lab.layout.v4.r0; // 192.0.2.1
    lab.exec('r', ['iptables', '-N', 'LOG_AND_DROP']);
    lab.exec('r', ['iptables', '-A', 'LOG_AND_DROP', '-j', 'LOG', '--log-prefix', 'iptables-dropped: ', '--log-level', '4']);
    lab.exec('r', ['iptables', '-A', 'LOG_AND_DROP', '-j', 'DROP']);
    lab.exec('r', ['iptables', '-A', 'INPUT', '-j', 'LOG_AND_DROP']);
    sentAt = Date.now();
    // The SYN is dropped, so the connect would hang: bound it (the kernel retransmits: 1 or more lines).
    lab.sh('a', `timeout 2 bash -c 'exec 3<>/dev/tcp/${fw}/${dport}'`, { allowFailure: true, timeoutMs: 5000 });

    docs = await capture.waitForDocuments(1, 30_000, (d) => getField(d.source, 'attributes.destination.port') === dport).catch((e: Error) => {
      throw new Error(`${e.message}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`);
    });
  });

  afterAll(async () => {
    lab?.destroy();
    await service?.stop();
    await collector?.stop();
    await capture?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the dropped connection attempt becomes a document with the kernel fields and the kmsg source', () => {
    const d = docs[0]!;
    expect(d.index).toBe('logs-iptables.log.otel-default');
    const a = (name: string): unknown => getField(d.source, `attributes.${name}`);
    expect(a('source.address')).toBe(lab!.layout.v4.a0);
    expect(a('destination.address')).toBe(lab!.layout.v4.r0);
    expect(a('destination.port')).toBe(dport);
    expect(a('network.transport')).toBe('tcp');
    expect(a('iptables.tcp.flags')).toContain('SYN');
    expect(String(a('iptables.log_prefix'))).toMatch(/^iptables-dropped:/);
    expect(a('iptables.input_device')).toBe(lab!.layout.ifname.r0);
    expect(a('log.syslog.appname')).toBe('kernel');
    expect(a('log.syslog.severity.code')).toBe(4);
    expect(a('input.type')).toBe('kmsg');
    expect(Number(a('log.syslog.msgid'))).toBeGreaterThan(0);
    expect(typeof a('iptables.kernel_uptime_us')).toBe('number');
    expect(getField(d.source, 'severity_text')).toBe('warning');
    expect(String(getField(d.source, 'body.text'))).toContain(`iptables-dropped: IN=${lab!.layout.ifname.r0} `);
    // The kernel's time of the line, not the time it was read: within the connect window
    // (otel mode writes @timestamp as epoch milliseconds).
    const ts = Number(getField(d.source, '@timestamp'));
    expect(ts).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });
});
