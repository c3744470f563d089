/**
 * `iptables-otel setup elasticsearch` and `check elasticsearch` against a real Elasticsearch 8.19
 * (the minimal distribution: no stack templates, so our templates must be complete), and
 * against OpenSearch 2.19 (refused with a clear message). Documents are the parser's whole test
 * corpus (and Elastic's fixtures), shaped as the Collector's exporter shapes them in ecs and otel
 * mode, indexed through the real `_bulk` API. Each suite uses a dataset of its own, so it never
 * meets another test's templates or data streams on the shared engine.
 */
import { isIP } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import type { CliIo } from '../../../src/cli/cli-io.js';
import { ATTRIBUTE_BY_NAME } from '../../../src/mapping/attribute-table.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { createEsClient } from '../../../src/output/elasticsearch/es-client.js';
import { attributeFieldMapping, planTemplates, templateNames, type EsMappingMode } from '../../../src/output/elasticsearch/index-templates.js';
import { applyTemplates } from '../../../src/output/elasticsearch/setup.js';
import { benchLines, fixtureLines, fixturesRequirement, ours } from '../../helpers/parser-corpus.js';
import { assertRequirement, shouldRun } from '../../helpers/requirements.js';
import { engineJson, searchEngine, searchEngineRequirement, testNamespace, type SearchEngine } from '../../helpers/search-engine.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }),
    stderr: new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }),
    env,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

const es = engineJson;

const ms = (t: [number, number]): number => t[0] * 1000 + Math.floor(t[1] / 1e6);

/** A record as the exporter's ecs mode writes it (attributes at the root, empty arrays dropped), plus our transform's source.ip / destination.ip. */
function ecsDocument(r: FirewallLogRecord, dataset: string, namespace: string): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': new Date(ms(r.timestamp ?? r.observedTimestamp)).toISOString(),
    message: r.body,
    'data_stream.type': 'logs',
    'data_stream.dataset': dataset,
    'data_stream.namespace': namespace,
  };
  if (r.severityText !== undefined) doc['log.level'] = r.severityText;
  for (const [k, v] of Object.entries(r.attributes)) {
    if (k.startsWith('data_stream.') || (Array.isArray(v) && v.length === 0)) continue;
    doc[k] = v;
  }
  if (r.attributes['source.address'] !== undefined) doc['source.ip'] = r.attributes['source.address'];
  if (r.attributes['destination.address'] !== undefined) doc['destination.ip'] = r.attributes['destination.address'];
  return doc;
}

/** A record as the exporter's otel mode writes it (timestamps as epoch-ms strings, attributes under `attributes`). */
function otelDocument(r: FirewallLogRecord, dataset: string, namespace: string): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.attributes)) if (!k.startsWith('data_stream.')) attributes[k] = v;
  return {
    '@timestamp': `${ms(r.timestamp ?? r.observedTimestamp)}.0`,
    observed_timestamp: `${ms(r.observedTimestamp)}.0`,
    data_stream: { type: 'logs', dataset: `${dataset}.otel`, namespace },
    body: { text: r.body },
    ...(r.severityText !== undefined ? { severity_text: r.severityText } : {}),
    severity_number: r.severityNumber,
    attributes,
    resource: { attributes: { 'service.name': 'iptables-otel' } },
    scope: { name: 'iptables-otel' },
  };
}

async function bulkCreate(engine: SearchEngine, index: string, docs: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < docs.length; i += 2000) {
    const body = docs
      .slice(i, i + 2000)
      .map((d) => `{"create":{}}\n${JSON.stringify(d)}\n`)
      .join('');
    const res = await es(engine, 'POST', `/${index}/_bulk`, body);
    const failed = (res.items as Array<{ create: { status: number; error?: unknown } }>).filter((it) => it.create.status >= 300);
    expect(failed.slice(0, 3), `bulk into ${index}`).toEqual([]);
  }
  await es(engine, 'POST', `/${index}/_refresh`);
}

/** Leaf field path -> type, from a `GET /<index>/_mapping` reply (dotted names and objects alike). */
function leafTypes(mapping: any): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: Record<string, any>, prefix: string): void => {
    for (const [k, v] of Object.entries(props)) {
      const p = prefix + k;
      if (v.properties) walk(v.properties, `${p}.`);
      if (v.type !== undefined && v.type !== 'object' && v.type !== 'passthrough') out.set(p, v.type);
    }
  };
  const idx = Object.values(mapping)[0] as { mappings: { properties: Record<string, any> } };
  walk(idx.mappings.properties, '');
  return out;
}

/** Is IPv4 `a` (or IPv4-mapped IPv6 `::ffff:a`, which Elasticsearch stores as IPv4) inside `net/bits`? */
function inIpv4Net(addr: unknown, net: string, bits: number): boolean {
  if (typeof addr !== 'string') return false;
  const a = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)?.[1] ?? addr;
  if (isIP(a) !== 4) return false;
  const n = (s: string): number => s.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const block = 2 ** (32 - bits);
  return Math.floor(n(a) / block) === Math.floor(n(net) / block);
}

const engineReq = searchEngineRequirement('elasticsearch');
const fixturesReq = fixturesRequirement();
const esReq = { ok: engineReq.ok && fixturesReq.ok, reason: [engineReq.reason, fixturesReq.reason].filter(Boolean).join('; ') };

describe.skipIf(!shouldRun(esReq))('setup elasticsearch against a real Elasticsearch 8.19', () => {
  let engine: SearchEngine;
  const ns = testNamespace();
  // A dataset of this file's own: our templates for it cannot collide with another test's.
  const dataset = `iptables.${ns}`;
  // The kernel corpus, Elastic's fixtures and the benchmark mix.
  const records = [...ours, ...fixtureLines(), ...benchLines()].map((l) => parseFrame(l, { peerAddress: '127.0.0.1', peerPort: 40000, transport: 'tcp' }));
  const args = (cmd: 'setup' | 'check'): string[] => [cmd, 'elasticsearch', '--endpoint', engine.url, '--dataset', dataset];

  beforeAll(async () => {
    assertRequirement(esReq);
    engine = await searchEngine('elasticsearch');
  });

  it('first run creates the four objects, a second run changes nothing', async () => {
    const first = await cli(args('setup'));
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`Elasticsearch 8.19.0 at ${engine.url}`);
    expect(first.out).toContain('4 objects: 4 created, 0 updated, 0 unchanged');
    for (const mode of ['ecs', 'otel'] as const) {
      const n = templateNames(dataset, mode);
      expect(first.out).toContain(`created   component template ${n.component}`);
      expect(first.out).toContain(`created   index template ${n.index}`);
    }
    const second = await cli(args('setup'));
    expect(second.code).toBe(0);
    expect(second.out).toContain('4 objects: 0 created, 0 updated, 4 unchanged');
    expect(second.out.match(/^ {2}unchanged /gm)).toHaveLength(4);
  });

  it('a template changed on the cluster is put back ("updated"), the others stay "unchanged"', async () => {
    const n = templateNames(dataset, 'ecs');
    await es(engine, 'PUT', `/_component_template/${n.component}`, { template: { mappings: { properties: { 'source.ip': { type: 'keyword' } } } }, version: 1, _meta: { managed_by: 'someone else' } });
    expect((await cli(args('check'))).out).toContain(`PROBLEM  component template ${n.component} differs from this version's`);
    const run = await cli(args('setup'));
    expect(run.code).toBe(0);
    expect(run.out).toContain(`updated   component template ${n.component}`);
    expect(run.out).toContain('4 objects: 0 created, 1 updated, 3 unchanged');
  });

  describe.each(['ecs', 'otel'] as const)('%s-mode documents', (mode: EsMappingMode) => {
    const stream = mode === 'ecs' ? `logs-${dataset}-${ns}` : `logs-${dataset}.otel-${ns}`;
    const docs = records.map((r) => (mode === 'ecs' ? ecsDocument(r, dataset, ns) : otelDocument(r, dataset, ns)));
    const attr = (name: string): string => (mode === 'ecs' ? name : `attributes.${name}`);
    let types: Map<string, string>;

    beforeAll(async () => {
      expect((await cli(args('setup'))).code).toBe(0);
      await bulkCreate(engine, stream, docs);
      types = leafTypes(await es(engine, 'GET', `/${stream}/_mapping`));
    }, 180_000);

    it(`all ${records.length} land in the data stream ${stream}`, async () => {
      expect(records.length).toBeGreaterThan(20_000);
      const resolved = await es(engine, 'GET', `/_resolve/index/${stream}`);
      expect(resolved.data_streams.map((d: { name: string }) => d.name)).toEqual([stream]);
      expect((await es(engine, 'GET', `/${stream}/_count`)).count).toBe(records.length);
    });

    it('every attribute the corpus produced is mapped with the type the attribute table gives', () => {
      const seen = new Set<string>();
      for (const r of records) for (const [k, v] of Object.entries(r.attributes)) if (!k.startsWith('data_stream.') && !(Array.isArray(v) && v.length === 0)) seen.add(k);
      expect(seen.size).toBeGreaterThan(60);
      const wrong: string[] = [];
      for (const name of seen) {
        const want = attributeFieldMapping(ATTRIBUTE_BY_NAME.get(name)!, mode).type;
        const got = types.get(attr(name));
        if (got !== want) wrong.push(`${attr(name)}: ${got} (want ${want})`);
      }
      expect(wrong).toEqual([]);
      expect(types.get('@timestamp')).toBe('date');
      if (mode === 'ecs') {
        expect([types.get('source.ip'), types.get('destination.ip'), types.get('message'), types.get('log.level')]).toEqual(['ip', 'ip', 'text', 'keyword']);
      } else {
        expect([types.get('observed_timestamp'), types.get('body.text'), types.get('severity_text'), types.get('resource.attributes.service.name')]).toEqual(['date', 'text', 'keyword', 'keyword']);
        // Nothing outside the table was mapped dynamically under attributes.
        expect([...types.keys()].filter((k) => k.startsWith('attributes.') && !ATTRIBUTE_BY_NAME.has(k.slice(11)))).toEqual([]);
      }
    });

    it('a CIDR term query on the source address returns exactly the documents from that network (IPv4 and IPv6)', async () => {
      const field = mode === 'ecs' ? 'source.ip' : 'source.address';
      const count = async (q: unknown): Promise<number> => (await es(engine, 'POST', `/${stream}/_count`, { query: q })).count as number;
      const want24 = records.filter((r) => inIpv4Net(r.attributes['source.address'], '192.0.2.0', 24)).length;
      expect(want24).toBeGreaterThan(10);
      expect(await count({ term: { [field]: '192.0.2.0/24' } })).toBe(want24);
      // otel mode: the passthrough field is the same one under its full name.
      if (mode === 'otel') expect(await count({ term: { 'attributes.source.address': '192.0.2.0/24' } })).toBe(want24);
      const want6 = records.filter((r) => {
        const a = r.attributes['source.address'];
        return typeof a === 'string' && isIP(a) === 6 && /^2001:db8(:|$)/i.test(a);
      }).length;
      expect(want6).toBeGreaterThan(0);
      expect(await count({ term: { [field]: '2001:db8::/32' } })).toBe(want6);
    });

    it('timestamps read as dates (range query, formatted field)', async () => {
      const newest = Math.max(...records.map((r) => ms(r.timestamp ?? r.observedTimestamp)));
      const res = await es(engine, 'POST', `/${stream}/_search`, { size: 1, sort: [{ '@timestamp': 'desc' }], fields: ['@timestamp'], _source: false });
      expect(Date.parse(res.hits.hits[0].fields['@timestamp'][0])).toBe(newest);
      const inRange = await es(engine, 'POST', `/${stream}/_count`, { query: { range: { '@timestamp': { gte: new Date(newest).toISOString() } } } });
      expect(inRange.count).toBe(records.filter((r) => ms(r.timestamp ?? r.observedTimestamp) === newest).length);
    });

    it('a value that is not an address keeps its document (ignore_malformed), listed in _ignored', async () => {
      const res = await es(engine, 'POST', `/${stream}/_search`, { size: 100, query: { exists: { field: '_ignored' } }, fields: ['_ignored'], _source: false });
      for (const h of res.hits.hits as Array<{ fields?: Record<string, string[]>; _ignored?: string[] }>) {
        for (const f of h._ignored ?? h.fields?._ignored ?? []) expect(ATTRIBUTE_BY_NAME.get(mode === 'ecs' ? f : f.replace(/^attributes\./, ''))?.format ?? (f.endsWith('.ip') ? 'ip' : f), f).toBe('ip');
      }
      const malformed = records.filter((r) => ['source.address', 'destination.address', 'iptables.icmp.redirect', 'network.peer.address'].some((k) => typeof r.attributes[k] === 'string' && isIP(r.attributes[k] as string) === 0)).length;
      expect(res.hits.total.value).toBe(malformed);
    });
  });

  it('check elasticsearch: templates current, counts and the newest document per data stream', async () => {
    const run = await cli(args('check'));
    expect(run.err).toBe('');
    const newest = new Date(Math.max(...records.map((r) => ms(r.timestamp ?? r.observedTimestamp)))).toISOString();
    expect(run.out).toContain(`OK       data stream logs-${dataset}-${ns} (ecs mode): ${records.length} documents, newest ${newest}`);
    expect(run.out).toContain(`OK       data stream logs-${dataset}.otel-${ns} (otel mode): ${records.length} documents, newest ${newest}`);
    expect(run.out.match(/is installed and current/g)).toHaveLength(4);
    expect(run.out).toContain(`VERDICT  OK: templates current, ${2 * records.length} documents`);
    expect(run.code).toBe(0);
  });

  it("with Elastic's stack templates (stand-ins of the same shape): ours compose with theirs, and Elasticsearch accepts and applies both", async () => {
    // The minimal distribution has none of Elastic's templates, and installing `logs` itself would
    // change every other test's logs-*-* on this shared engine. So: stand-in component templates
    // under names of this test's own, and the index templates `logs` / `logs-otel@template` as
    // planTemplates receives them (only our copies are installed, for this test's dataset).
    const sns = testNamespace();
    const ds = `iptables.${sns}`;
    const c = (n: string): string => `standin-${sns}-${n}`;
    const put = (n: string, body: unknown): Promise<unknown> => es(engine, 'PUT', `/_component_template/${n}`, body);
    const otelAttributes = { type: 'passthrough', dynamic: true, priority: 10 };
    await put(c('logs@mappings'), { template: { mappings: { date_detection: false, properties: { '@timestamp': { type: 'date' }, message: { type: 'text' }, 'data_stream.type': { type: 'keyword' }, 'data_stream.dataset': { type: 'keyword' }, 'data_stream.namespace': { type: 'keyword' } } } } });
    await put(c('logs@settings'), { template: { settings: { 'index.mapping.total_fields.limit': 2000 } } });
    await put(c('ecs@mappings'), { template: { mappings: { dynamic_templates: [{ ecs_strings: { match_mapping_type: 'string', mapping: { type: 'keyword' } } }] } } });
    await put(c('otel@mappings'), {
      template: { mappings: { dynamic: false, properties: { '@timestamp': { type: 'date' }, observed_timestamp: { type: 'date' }, attributes: otelAttributes, resource: { properties: { attributes: { type: 'passthrough', dynamic: true, priority: 20 } } } } } },
    });
    await put(c('logs-otel@mappings'), { template: { mappings: { properties: { body: { properties: { text: { type: 'text' } } }, severity_text: { type: 'keyword' } } } } });
    const stack = {
      logs: { index_patterns: ['logs-*-*'], priority: 100, composed_of: [c('logs@mappings'), c('logs@settings'), 'logs@custom', c('ecs@mappings')], ignore_missing_component_templates: ['logs@custom'], data_stream: { hidden: false, allow_custom_routing: false }, allow_auto_create: true, _meta: { managed: true }, version: 16 },
      logsOtel: { index_patterns: ['logs-*.otel-*'], priority: 120, composed_of: [c('logs@settings'), c('otel@mappings'), c('logs-otel@mappings'), 'logs@custom', 'logs-otel@custom'], ignore_missing_component_templates: ['logs@custom', 'logs-otel@custom'], data_stream: {} },
      otelAttributes,
    };
    const client = createEsClient({ endpoint: engine.url });
    try {
      const plan = planTemplates(ds, stack);
      expect((await applyTemplates(client, plan)).map((o) => o.action)).toEqual(['created', 'created', 'created', 'created']);
      expect((await applyTemplates(client, plan)).map((o) => o.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    } finally {
      client.close();
    }
    const r = records.find((x) => x.attributes['source.address'] === '192.0.2.2' && x.attributes['destination.port'] !== undefined)!;
    await bulkCreate(engine, `logs-${ds}-${sns}`, [ecsDocument(r, ds, sns)]);
    await bulkCreate(engine, `logs-${ds}.otel-${sns}`, [otelDocument(r, ds, sns)]);
    const ecs = leafTypes(await es(engine, 'GET', `/logs-${ds}-${sns}/_mapping`));
    // Theirs (message, the settings) and ours (ip, long) both apply.
    expect([ecs.get('message'), ecs.get('source.ip'), ecs.get('destination.port'), ecs.get('iptables.log_prefix')]).toEqual(['text', 'ip', 'long', 'keyword']);
    const settings = await es(engine, 'GET', `/logs-${ds}-${sns}/_settings`);
    expect((Object.values(settings)[0] as any).settings.index.mapping.total_fields.limit).toBe('2000');
    const otelMapping = await es(engine, 'GET', `/logs-${ds}.otel-${sns}/_mapping`);
    const props = (Object.values(otelMapping)[0] as any).mappings.properties;
    // The passthrough definition survives ours (priority 10, dynamic), with our typed fields in it.
    expect(props.attributes).toMatchObject({ type: 'passthrough', priority: 10, dynamic: 'true' });
    expect(props.attributes.properties['source.address'].type).toBe('ip');
    expect(props.resource.properties.attributes).toMatchObject({ type: 'passthrough', priority: 20 });
    expect(props.body.properties.text.type).toBe('text');
    const cidr = await es(engine, 'POST', `/logs-${ds}.otel-${sns}/_count`, { query: { term: { 'source.address': '192.0.2.0/24' } } });
    expect(cidr.count).toBe(1);
  });

  it('check elasticsearch flags an index created before setup (dynamic mappings, no CIDR)', async () => {
    const ds2 = `iptables.${testNamespace()}`;
    // The exporter's first document, with no template: a plain index, source.ip as text.
    await es(engine, 'POST', `/logs-${ds2}-default/_doc?refresh=true`, { '@timestamp': '2026-12-01T00:00:00Z', 'source.ip': '192.0.2.7' });
    const setup = await cli(['setup', 'elasticsearch', '--endpoint', engine.url, '--dataset', ds2]);
    expect(setup.code).toBe(0);
    expect(setup.out).toContain(`warning: logs-${ds2}-default is a plain index created before these templates`);
    const check = await cli(['check', 'elasticsearch', '--endpoint', engine.url, '--dataset', ds2]);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`PROBLEM  logs-${ds2}-default is a plain index, not a data stream (1 document, newest 2026-12-01T00:00:00.000Z)`);
    expect(check.out).toContain('(source.ip: text)');
    expect(check.out).toMatch(/VERDICT {2}1 problem$/m);
  });

  it('check elasticsearch with the templates but no documents says so', async () => {
    const ds3 = `iptables.${testNamespace()}`;
    expect((await cli(['setup', 'elasticsearch', '--endpoint', engine.url, '--dataset', ds3])).code).toBe(0);
    const check = await cli(['check', 'elasticsearch', '--endpoint', engine.url, '--dataset', ds3]);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`PROBLEM  no documents in logs-${ds3}-* or logs-${ds3}.otel-*`);
    expect(check.out).toContain('otelcol_elasticsearch_docs_processed{outcome="failed_client"}');
  });
});

const osReq = searchEngineRequirement('opensearch');

describe.skipIf(!shouldRun(osReq))('setup elasticsearch against OpenSearch 2.19', () => {
  let engine: SearchEngine;
  beforeAll(async () => {
    assertRequirement(osReq);
    engine = await searchEngine('opensearch');
  });

  it('refuses with a clear message (exit 6) and installs nothing', async () => {
    const run = await cli(['setup', 'elasticsearch', '--endpoint', engine.url]);
    expect(run.code).toBe(6);
    expect(run.err).toContain(`${engine.url} is OpenSearch 2.19.6, not Elasticsearch`);
    expect(run.err).toContain('opensearch exporter');
    const templates = await es(engine, 'GET', '/_index_template');
    expect((templates.index_templates as Array<{ name: string }>).filter((t) => t.name.startsWith('iptables-otel'))).toEqual([]);
    expect((await cli(['check', 'elasticsearch', '--endpoint', engine.url])).code).toBe(6);
  });
});
