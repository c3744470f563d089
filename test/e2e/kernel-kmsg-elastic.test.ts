/**
 * The seed's flow without rsyslog, for real, in network namespaces:
 *
 *   client ns (192.0.2.2) --TCP SYN--> firewall ns (192.0.2.1), INPUT -> LOG_AND_DROP
 *     (-j LOG --log-prefix "iptables-dropped: " --log-level 4, then -j DROP)
 *   kernel -> /dev/kmsg -> iptables-otel's kmsg input (--input kmsg://?prefixes=iptables-dropped:)
 *     -> OTLP -> Collector (collector-config/elastic-self-managed-otel.yaml, as shipped)
 *     -> elasticsearch exporter -> a real Elasticsearch, after `iptables-otel setup elasticsearch`
 *
 * Needs root (namespaces, iptables, /dev/kmsg, nf_log_all_netns), the Collector and the test
 * Elasticsearch. Other tests log the same prefix, so the assertions key on this run's destination
 * port, and the documents go to this run's own namespace (the engine is shared by the test run).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorRequirement, freePort } from '../helpers/collector.js';
import { getField } from '../helpers/es-bulk-capture.js';
import { Lab, netnsRequirement } from '../helpers/netns.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { engineJson, searchEngine, searchEngineRequirement, testNamespace, type SearchEngine } from '../helpers/search-engine.js';
import { waitForValue } from '../helpers/wait.js';
import { startShippedCollector, type Hit, type ShippedCollector } from './search-engine-pipeline.js';
import { cliEntry, cliRequirement, startService, type RunningService } from './service-process.js';

const run = promisify(execFile);
const reqs = [netnsRequirement(), collectorRequirement(), cliRequirement(), searchEngineRequirement('elasticsearch')];
const req = requirement(
  reqs.every((r) => r.ok),
  reqs
    .filter((r) => !r.ok)
    .map((r) => r.reason)
    .join('; '),
);

describe.skipIf(!shouldRun(req))('kernel LOG -> iptables-otel kmsg input -> Collector -> Elastic documents (no rsyslog)', () => {
  let lab: Lab | undefined;
  let collector: ShippedCollector | undefined;
  let service: RunningService | undefined;
  let work = '';
  const dport = 20000 + Math.floor(Math.random() * 40000);
  const ns = testNamespace();
  const index = `logs-iptables.log.otel-${ns}`;
  let docs: Hit[] = [];
  let es: SearchEngine;
  let sentAt = 0;

  beforeAll(async () => {
    assertRequirement(req);
    work = mkdtempSync(path.join(os.tmpdir(), 'ipo-kmsg-e2e-'));
    es = await searchEngine('elasticsearch');
    await run(process.execPath, [cliEntry, 'setup', 'elasticsearch', '--endpoint', es.url]);
    collector = await startShippedCollector('elastic-self-managed-otel.yaml', { ELASTICSEARCH_ENDPOINT: es.url, ELASTIC_API_KEY: 'ZHVtbXk6ZHVtbXk=' });

    service = await startService({
      port: await freePort(),
      args: ['--input', 'kmsg://?prefixes=iptables-dropped:', '--state-dir', path.join(work, 'state'), '--output', 'otlp'],
      configYaml: `parser:\n  namespace: ${ns}\npipeline:\n  batch:\n    linger: 50ms\n`,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.otlpPort}` },
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

    // Searched by the destination port under its plain name: the passthrough `attributes` keep it queryable.
    docs = await waitForValue(
      async () => {
        const r = (await engineJson(es, 'POST', `/${index}/_search?ignore_unavailable=true`, { query: { term: { 'destination.port': dport } } })) as { hits?: { hits: Hit[] } };
        const hits = r.hits?.hits ?? [];
        return hits.length > 0 ? hits : undefined;
      },
      { what: `a document for port ${dport} in ${index}`, timeoutMs: 60_000 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`);
    });
  });

  afterAll(async () => {
    lab?.destroy();
    await service?.stop();
    await collector?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the dropped connection attempt becomes a document with the kernel fields and the kmsg source', () => {
    const hit = docs[0]!;
    expect(hit._index).toMatch(new RegExp(`^\\.ds-${index.replace(/\./g, '\\.')}-`));
    const d = { source: hit._source };
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

  it('the documented CIDR query finds it: the source address is mapped as ip', async () => {
    const r = (await engineJson(es, 'POST', `/${index}/_count`, {
      query: { bool: { filter: [{ term: { 'destination.port': dport } }, { term: { 'source.address': '192.0.2.0/24' } }] } },
    })) as { count: number };
    expect(r.count).toBeGreaterThanOrEqual(docs.length); // the kernel may have logged a retransmitted SYN since
    const outside = (await engineJson(es, 'POST', `/${index}/_count`, {
      query: { bool: { filter: [{ term: { 'destination.port': dport } }, { term: { 'source.address': '198.51.100.0/24' } }] } },
    })) as { count: number };
    expect(outside.count).toBe(0);
  });
});
