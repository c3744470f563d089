/**
 * The Elastic leg for real: for each collector-config file that writes to Elasticsearch,
 *
 *   iptables-otel setup elasticsearch --endpoint URL      (index templates, data streams)
 *   reference Collector with collector-config/<file>       (the file as shipped; ports, endpoint,
 *                                                           storage from its env variables)
 *   iptables-otel (TCP syslog in, OTLP out)  <-  kernel corpus + Elastic's fixtures + bench mix
 *
 * against the run's Elasticsearch 8.19 (test/helpers/search-engine.ts, started once per run).
 * Asserts: every record indexed and none rejected (count, and the exporter's own
 * otelcol_elasticsearch_docs_processed outcomes); every query docs/elastic.md shows
 * (test/e2e/elastic-queries.ts) returns exactly the documents the parser's output says it must,
 * the CIDR ones included; in ecs mode the seed's validation step; every attribute the parser
 * produced is in the stored document with its value and a field type that fits the attribute
 * table; and one type per field across every data stream the file wrote.
 *
 * Each case writes to a data-stream namespace of its own (the engine is shared by the run and
 * cannot delete data streams), so every query here also filters on `data_stream.namespace`.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBenchLines } from '../../bench/parse-mix.js';
import { ATTRIBUTE_BY_NAME, type AttributeType } from '../../src/mapping/attribute-table.js';
import { parseFrame, type ParseOptions } from '../../src/mapping/parse-frame.js';
import type { AttributeValue } from '../../src/mapping/record.js';
import { collectorRequirement, freePort } from '../helpers/collector.js';
import { getField } from '../helpers/es-bulk-capture.js';
import { promValue } from '../helpers/metrics.js';
import { fixturesRequirement, kernelLog, lines } from '../helpers/parser-corpus.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { engineJson, searchEngine, searchEngineRequirement, testNamespace, type SearchEngine } from '../helpers/search-engine.js';
import { makeTlsCerts, type TlsCerts } from '../helpers/tls-certs.js';
import { waitForValue } from '../helpers/wait.js';
import { documentedQueries, ECS_QUERIES, OTEL_QUERIES, SEED_FIELDS, type MappingMode, type ModelRecord } from './elastic-queries.js';
import { allDocuments, DOCS_PROCESSED, docOutcomes, matchingIds, startShippedCollector, type Hit, type ShippedCollector } from './search-engine-pipeline.js';
import { cliEntry, cliRequirement, sendTcpLines, startService, type RunningService } from './service-process.js';

const run = promisify(execFile);

const reqs = [collectorRequirement(), cliRequirement(), searchEngineRequirement('elasticsearch'), fixturesRequirement()];
const req = requirement(
  reqs.every((r) => r.ok),
  reqs
    .filter((r) => !r.ok)
    .map((r) => r.reason)
    .join('; '),
);

interface Case {
  file: string;
  mode: MappingMode;
  /** Dataset the exporter writes (otel mode appends `.otel`). */
  dataset: string;
  /** gateway.yaml terminates TLS on its receiver. */
  tls: boolean;
}

const CASES: readonly Case[] = [
  { file: 'elastic-self-managed-ecs.yaml', mode: 'ecs', dataset: 'iptables.log', tls: false },
  { file: 'elastic-self-managed-otel.yaml', mode: 'otel', dataset: 'iptables.log.otel', tls: false },
  { file: 'gateway.yaml', mode: 'otel', dataset: 'iptables.log.otel', tls: true },
];

/**
 * What we send: the kernel corpus, Elastic's fixture lines (beats module and integration
 * package, read from ../shared/fixtures) and 10,000 lines of the bench mix, one TCP line each.
 * (The senders' captures are not sent: they hold octet-counted frames, not lines.)
 */
function corpus(): string[] {
  const elastic = ['beats-module', 'elastic-integrations'].flatMap((sub) =>
    readdirSync(path.join(fixturesDir, sub))
      .filter((f) => f.endsWith('.log'))
      .sort()
      .flatMap((f) => lines(path.join(fixturesDir, sub, f))),
  );
  return [...kernelLog, ...elastic, ...makeBenchLines(10_000)];
}

/** Elasticsearch field types that hold each attribute type. */
const FITS: Record<AttributeType, readonly string[]> = {
  string: ['keyword', 'ip', 'text', 'match_only_text', 'wildcard', 'constant_keyword'],
  'string[]': ['keyword', 'ip', 'text', 'match_only_text', 'wildcard'],
  int: ['long', 'integer', 'short', 'byte', 'unsigned_long'],
  'int[]': ['long', 'integer', 'short', 'byte', 'unsigned_long'],
  double: ['double', 'float', 'half_float', 'scaled_float'],
  bool: ['boolean'],
};
/**
 * Fields that must be `ip` (the CIDR queries depend on them): in otel mode the attributes
 * themselves; in ecs mode the transform's `source.ip`/`destination.ip` copies (ECS types
 * `*.address` as keyword, and `setup elasticsearch` follows ECS there).
 */
const IP_FIELDS: Record<MappingMode, readonly string[]> = {
  otel: ['attributes.source.address', 'attributes.destination.address'],
  ecs: ['source.ip', 'destination.ip'],
};

/** Attributes whose value is the test's, not the line's. */
const SKIP = new Set(['network.peer.port']);

/** The stored value of record attribute `name` in `mode` (undefined when absent). */
function storedAttribute(mode: MappingMode, source: Record<string, unknown>, name: string): unknown {
  // The exporter moves data_stream.* to the document root in both modes.
  if (name.startsWith('data_stream.')) return getField(source, name);
  return getField(source, mode === 'ecs' ? name : `attributes.${name}`);
}
const fieldPath = (mode: MappingMode, name: string): string => (name.startsWith('data_stream.') || mode === 'ecs' ? name : `attributes.${name}`);

function sameValue(want: AttributeValue, got: unknown): boolean {
  return JSON.stringify(want) === JSON.stringify(got);
}

/** Differences between one record and its stored document (empty when they agree). */
function differences(c: Case, model: ModelRecord, source: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [name, want] of Object.entries(model.attributes)) {
    if (SKIP.has(name)) continue;
    const got = storedAttribute(c.mode, source, name);
    if (name === 'data_stream.dataset') {
      if (got !== c.dataset) out.push(`${name}: ${JSON.stringify(got)} != ${c.dataset}`);
      continue;
    }
    // The ecs mode drops empty arrays (the exporter's ECS encoder); the otel mode keeps [].
    if (c.mode === 'ecs' && Array.isArray(want) && want.length === 0) {
      if (got !== undefined) out.push(`${name}: ${JSON.stringify(got)}, expected absent (ecs drops [])`);
      continue;
    }
    if (!sameValue(want, got)) out.push(`${name}: stored ${JSON.stringify(got)}, parser ${JSON.stringify(want)}`);
  }
  const body = getField(source, c.mode === 'ecs' ? 'message' : 'body.text');
  if (body !== model.body) out.push(`body: stored ${JSON.stringify(body)}, parser ${JSON.stringify(model.body)}`);
  return out;
}

type FieldCaps = Record<string, Record<string, { type: string; searchable?: boolean }>>;

/** Every data stream a case wrote, with its mode, for the cross-case mapping check. */
const written: Array<{ stream: string; mode: MappingMode }> = [];
let engine: SearchEngine | undefined;

describe.skipIf(!shouldRun(req))('collector-config -> real Elasticsearch: setup, count, documented queries, types', () => {
  beforeAll(async () => {
    assertRequirement(req);
    engine = await searchEngine('elasticsearch');
  });

  describe.each(CASES)('$file (mapping.mode $mode)', (c) => {
    const ns = testNamespace();
    const stream = `logs-${c.dataset}-${ns}`;
    const frames = corpus();
    const options: ParseOptions = { namespace: ns };
    const models: ModelRecord[] = frames.map((f) => {
      const r = parseFrame(f, { peerAddress: '127.0.0.1', transport: 'tcp' }, options);
      return { attributes: r.attributes, body: r.body };
    });
    /** Stored document id -> the record it was made from (filled by the matching test). */
    const byId = new Map<string, ModelRecord>();
    let collector: ShippedCollector | undefined;
    let service: RunningService | undefined;
    let certs: TlsCerts | undefined;
    let setupOutput = '';
    let docs: Hit[] = [];
    let metricsText = '';
    const nsFilter = { term: { 'data_stream.namespace': ns } };

    beforeAll(async () => {
      const es = engine!;
      const setup = await run(process.execPath, [cliEntry, 'setup', 'elasticsearch', '--endpoint', es.url]).catch(
        (e: Error & { stdout?: string; stderr?: string }) => {
          throw new Error(`iptables-otel setup elasticsearch failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
        },
      );
      setupOutput = `${setup.stdout}${setup.stderr}`;

      const env: Record<string, string> = { ELASTICSEARCH_ENDPOINT: es.url, ELASTIC_API_KEY: 'ZHVtbXk6ZHVtbXk=' };
      if (c.tls) {
        certs = makeTlsCerts();
        env.OTELCOL_TLS_CERT_FILE = certs.certFile;
        env.OTELCOL_TLS_KEY_FILE = certs.keyFile;
      }
      collector = await startShippedCollector(c.file, env);
      const endpoint = c.tls ? `https://localhost:${collector.otlpPort}` : `http://127.0.0.1:${collector.otlpPort}`;
      service = await startService({
        port: await freePort(),
        configYaml: [
          'parser:',
          `  namespace: ${ns}`,
          'pipeline:',
          '  batch:',
          '    linger: 50ms',
          'outputs:',
          '  - otlp:',
          `      endpoint: ${endpoint}`,
          ...(certs ? ['      tls:', `        ca: ${certs.caFile}`] : []),
          '',
        ].join('\n'),
      });
      const t0 = Date.now();
      await sendTcpLines(service.port, frames);
      console.log(`[${c.file}] lines written to the service in ${Date.now() - t0} ms`);
      const col = collector;
      const diag = (): string => `\nsetup:\n${setupOutput}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${col.logs().slice(-20_000)}`;
      // Done when the exporter has an outcome for every record (success or not) and the
      // documents are searchable; a rejection then fails the count test with the reason.
      await waitForValue(
        async () => {
          // A slow scrape on a loaded machine is not an answer: poll again.
          const text = await col.metrics().catch(() => undefined);
          if (text === undefined) return undefined;
          metricsText = text;
          const o = docOutcomes(metricsText);
          const settled = o.success + o.failed_client + o.failed_server + o.too_many + o.timeout + o.internal_server_error + o.failure_store;
          return settled >= frames.length ? true : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 500, what: `exporter outcomes for ${frames.length} records` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\nmetrics:\n${metricsText.split('\n').filter((l) => l.includes('elasticsearch_docs') || l.includes('log_records')).join('\n')}${diag()}`);
      });
      console.log(`[${c.file}] exporter outcomes for every record after ${Date.now() - t0} ms`);
      await engineJson(es, 'POST', `/${stream}/_refresh`);
      docs = await allDocuments(es, stream);
      written.push({ stream, mode: c.mode });
    });

    afterAll(async () => {
      await service?.stop();
      await collector?.stop();
      certs?.cleanup();
    });

    it('setup elasticsearch ran, and the data stream is one (template applied before the first document)', async () => {
      // Its summary line; the first case creates the templates, later ones find them unchanged.
      expect(setupOutput).toMatch(/setup elasticsearch: \d+ objects/);
      const r = (await engineJson(engine!, 'GET', `/${stream}/_settings`)) as Record<string, unknown>;
      const indices = Object.keys(r);
      // A data stream's backing indices are .ds-<stream>-...; a plain index would be named <stream>.
      expect(indices.length).toBe(1);
      expect(indices[0]).toMatch(new RegExp(`^\\.ds-${stream.replaceAll('.', '\\.')}-`));
    });

    it('every record is indexed, and the exporter rejected none', () => {
      const o = docOutcomes(metricsText);
      expect({ sent: frames.length, indexed: docs.length }).toEqual({ sent: frames.length, indexed: frames.length });
      expect(o).toMatchObject({ success: frames.length, failed_client: 0, failed_server: 0, too_many: 0, timeout: 0, internal_server_error: 0 });
      expect(collector!.logs()).not.toContain('failed to index document');
      console.log(`[${c.file}] sent ${frames.length}, indexed ${docs.length}, exporter outcomes ${JSON.stringify(o)}`);
    });

    it('every attribute the parser produced is in the stored document, with its value', () => {
      const buckets = new Map<string, ModelRecord[]>();
      for (const m of models) {
        const list = buckets.get(m.body);
        if (list) list.push(m);
        else buckets.set(m.body, [m]);
      }
      const problems: string[] = [];
      for (const d of docs) {
        const body = String(getField(d._source, c.mode === 'ecs' ? 'message' : 'body.text'));
        const candidates = buckets.get(body) ?? [];
        const i = candidates.findIndex((m) => differences(c, m, d._source).length === 0);
        if (i >= 0) {
          byId.set(d._id, candidates[i]!);
          candidates.splice(i, 1);
        } else if (problems.length < 20) {
          problems.push(candidates[0] ? `${body.slice(0, 120)}: ${differences(c, candidates[0], d._source).join('; ')}` : `no record sent with body ${JSON.stringify(body.slice(0, 200))}`);
        }
      }
      expect(problems).toEqual([]);
      expect(byId.size).toBe(frames.length);
    });

    it('every attribute has one field type that fits the attribute table (addresses are ip)', async () => {
      const caps = ((await engineJson(engine!, 'GET', `/${stream}/_field_caps?fields=*`)) as { fields: FieldCaps }).fields;
      const names = new Set(models.flatMap((m) => Object.keys(m.attributes)));
      const problems: string[] = [];
      for (const name of names) {
        const spec = ATTRIBUTE_BY_NAME.get(name);
        if (!spec) {
          problems.push(`${name}: not in the attribute table`);
          continue;
        }
        // An attribute the parser emits as [] must say so in the table (the ecs mode drops it).
        if (!spec.mayBeEmpty && models.some((m) => Array.isArray(m.attributes[name]) && (m.attributes[name] as unknown[]).length === 0)) {
          problems.push(`${name}: emitted as [] but not marked mayBeEmpty in the attribute table`);
        }
        const f = caps[fieldPath(c.mode, name)];
        // Only empty arrays of this attribute were sent (ecs drops them): nothing to map.
        if (!f) {
          if (!models.some((m) => m.attributes[name] !== undefined && !(Array.isArray(m.attributes[name]) && (m.attributes[name] as unknown[]).length === 0))) continue;
          problems.push(`${name}: no field ${fieldPath(c.mode, name)}`);
          continue;
        }
        const types = Object.keys(f);
        if (types.length !== 1) problems.push(`${name}: ${types.join(' + ')}`);
        else if (!FITS[spec.type].includes(types[0]!)) problems.push(`${name} (${spec.type}): mapped as ${types[0]}`);
      }
      for (const f of IP_FIELDS[c.mode]) if (Object.keys(caps[f] ?? {}).join() !== 'ip') problems.push(`${f}: ${Object.keys(caps[f] ?? {}).join(' + ') || 'absent'}, not ip`);
      expect(problems).toEqual([]);
    });

    it.each(documentedQueries(c.mode).map((q) => ({ ...q, label: `${q.id}: ${q.kql}` })))('documented query $label', async (q) => {
      const want = models.filter((m) => q.matches(m)).length;
      const got = await matchingIds(engine!, q.index, { bool: { filter: [q.dsl, nsFilter] } });
      console.log(`[${c.file}] ${q.kql}  ->  ${got.total} (expected ${want})`);
      // Each query must select something here, so a query that matches nothing cannot pass.
      expect(want).toBeGreaterThan(0);
      expect(got.total).toBe(want);
      // ... and exactly the documents made from the records it should match.
      const wrong = got.ids.filter((id) => !q.matches(byId.get(id) ?? { attributes: {}, body: '' }));
      expect(wrong).toEqual([]);
    });

    if (c.mode === 'ecs') {
      it("the seed's validation step: data_stream.dataset : \"iptables.log\" on logs-*, with event.dataset, source.ip, destination.port, iptables.log_prefix and message", async () => {
        const q = ECS_QUERIES[0]!;
        expect(q.kql).toBe('data_stream.dataset : "iptables.log"');
        expect(q.index).toBe('logs-*');
        const got = await matchingIds(engine!, 'logs-*', { bool: { filter: [q.dsl, nsFilter] } });
        // Every document of this case (the query's hits beyond the 10,000 window are the same set).
        expect(got.total).toBe(frames.length);
        const problems: string[] = [];
        let complete = 0;
        for (const d of docs) {
          const m = byId.get(d._id)!;
          let all = true;
          for (const { field, from } of SEED_FIELDS) {
            const should = from === '(body)' ? true : m.attributes[from] !== undefined;
            const present = getField(d._source, field) !== undefined;
            if (should !== present && problems.length < 20) problems.push(`${field} ${present ? 'present' : 'missing'} in ${m.body.slice(0, 80)}`);
            all &&= present;
          }
          if (all) complete++;
        }
        expect(problems).toEqual([]);
        // The seed's kind of line (a TCP drop with a prefix) has all five.
        const wantComplete = models.filter((m) => SEED_FIELDS.every(({ from }) => from === '(body)' || m.attributes[from] !== undefined)).length;
        expect(wantComplete).toBeGreaterThan(0);
        expect(complete).toBe(wantComplete);
      });
    }
  });

  it('check elasticsearch reports each data stream this file wrote with its document count', async () => {
    expect(written.length).toBe(CASES.length);
    // Not its exit code: other files of the run share the engine and may leave problems there on purpose.
    const r = await run(process.execPath, [cliEntry, 'check', 'elasticsearch', '--endpoint', engine!.url]).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
    const out = `${r.stdout}${r.stderr}`;
    for (const { stream } of written) expect(out, out).toMatch(new RegExp(`data stream ${stream.replaceAll('.', '\\.')} \\((ecs|otel) mode\\): ${corpus().length} documents`));
  });

  it('a document Elasticsearch rejects is counted as failed_client with its error type and logged (the troubleshooting signal)', async () => {
    // A dataset no template covers: otel mode asks for a data stream, nothing defines one.
    const ns = testNamespace();
    const lines = kernelLog;
    const col = await startShippedCollector('elastic-self-managed-otel.yaml', { ELASTICSEARCH_ENDPOINT: engine!.url, ELASTIC_API_KEY: 'ZHVtbXk6ZHVtbXk=' });
    let service: RunningService | undefined;
    try {
      service = await startService({
        port: await freePort(),
        configYaml: `parser:\n  dataset: iptables.nosetup\n  namespace: ${ns}\npipeline:\n  batch:\n    linger: 50ms\noutputs:\n  - otlp:\n      endpoint: http://127.0.0.1:${col.otlpPort}\n`,
      });
      await sendTcpLines(service.port, lines);
      const text = await waitForValue(
        async () => {
          const t = await col.metrics().catch(() => undefined);
          return t !== undefined && docOutcomes(t).failed_client >= lines.length ? t : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500, what: `${lines.length} failed_client outcomes` },
      );
      const o = docOutcomes(text);
      expect(o).toMatchObject({ success: 0, failed_client: lines.length, retried: 0 });
      expect(promValue(text, DOCS_PROCESSED, { outcome: 'failed_client', error_type: 'index_not_found_exception' })).toBe(lines.length);
      // The pitfall the troubleshooting section names: the standard counter calls them sent.
      expect(promValue(text, 'otelcol_exporter_sent_log_records_total', { exporter: 'elasticsearch' })).toBe(lines.length);
      const log = col.logs();
      expect(log).toContain('failed to index document');
      expect(log).toContain(`"index": "logs-iptables.nosetup.otel-${ns}"`);
      // include_source_on_error: false keeps Elasticsearch's reason in the log line.
      expect(log).toMatch(/"error\.type": "index_not_found_exception", "error\.reason": "[^"]+"/);
    } finally {
      await service?.stop();
      await col.stop();
    }
  });

  /** `field: type + type` for every field with more than one type across `streams`. */
  async function conflicts(streams: string[]): Promise<{ fields: number; conflicts: string[] }> {
    const caps = ((await engineJson(engine!, 'GET', `/${streams.join(',')}/_field_caps?fields=*`)) as { fields: FieldCaps }).fields;
    const out = Object.entries(caps)
      .filter(([, types]) => Object.keys(types).length > 1)
      .map(([f, types]) => `${f}: ${Object.keys(types).sort().join(' + ')}`)
      .sort();
    return { fields: Object.keys(caps).length, conflicts: out };
  }

  it('no mapping conflict across the data streams of one mode (one type per field over the whole corpus)', async () => {
    expect(written.length).toBe(CASES.length);
    for (const mode of ['ecs', 'otel'] as const) {
      const r = await conflicts(written.filter((w) => w.mode === mode).map((w) => w.stream));
      expect(r.fields).toBeGreaterThan(50);
      expect(r.conflicts, mode).toEqual([]);
    }
  });

  it('across the two modes (one logs-* data view over both) only ECS keyword *.address meets the otel ip', async () => {
    // ECS types source.address/destination.address as keyword (ecs mode queries source.ip);
    // otel mode's passthrough exposes attributes.source.address, typed ip, under the same name.
    const r = await conflicts(written.map((w) => w.stream));
    expect(r.conflicts).toEqual(['destination.address: ip + keyword', 'source.address: ip + keyword']);
  });

  /**
   * Install `attributes` (a component template body) the way Elastic's otel-data templates compose
   * it (root `dynamic: false`, as in otel@mappings), index two otel-mode documents, and say how many
   * a CIDR query on `source.address` and a phrase query on `iptables.log_prefix` (no prefix) find.
   */
  async function trySnippet(snippet: Record<string, unknown>): Promise<{ cidr: number; prefix: number }> {
    const es = engine!.url;
    const ns = testNamespace();
    const name = `iptables-otel-e2e-snippet-${ns}`;
    await engineJson(engine!, 'PUT', `/_component_template/${name}-root`, { template: { mappings: { dynamic: false } } });
    await engineJson(engine!, 'PUT', `/_component_template/${name}`, snippet);
    await engineJson(engine!, 'PUT', `/_index_template/${name}`, { index_patterns: [`${name}-*`], priority: 500, data_stream: {}, composed_of: [`${name}-root`, name] });
    const stream = `${name}-default`;
    const docsIn = [
      { '@timestamp': '2026-11-26T14:20:01Z', attributes: { 'source.address': '192.0.2.7', 'iptables.log_prefix': 'iptables-dropped:' } },
      { '@timestamp': '2026-11-26T14:20:02Z', attributes: { 'source.address': '198.51.100.7', 'iptables.log_prefix': 'other:' } },
    ];
    const bulk = docsIn.map((d) => `{"create":{}}\n${JSON.stringify(d)}\n`).join('');
    const res = await fetch(`${es}/${stream}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk });
    const reply = (await res.json()) as { errors: boolean };
    expect(reply.errors, JSON.stringify(reply)).toBe(false);
    const count = async (query: Record<string, unknown>): Promise<number> => ((await engineJson(engine!, 'POST', `/${stream}/_count`, { query })) as { count: number }).count;
    return {
      cidr: await count({ term: { 'source.address': '192.0.2.0/24' } }),
      prefix: await count({ match_phrase: { 'iptables.log_prefix': 'iptables-dropped:' } }),
    };
  }

  it("docs/elastic.md's logs-otel@custom snippet keeps every attribute searchable and makes source.address CIDR-ready", async () => {
    const doc = readFileSync(path.join(repoRoot, 'docs', 'elastic.md'), 'utf8');
    const section = doc.slice(doc.indexOf('`logs-otel@custom`'));
    const snippet = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as Record<string, unknown>;
    expect(await trySnippet(snippet)).toEqual({ cidr: 1, prefix: 1 });
    // The check can fail: the old snippet (passthrough without dynamic: true) loses the other attributes.
    const broken = structuredClone(snippet) as { template: { mappings: { properties: { attributes: Record<string, unknown> } } } };
    delete broken.template.mappings.properties.attributes.dynamic;
    expect(await trySnippet(broken as unknown as Record<string, unknown>)).toEqual({ cidr: 1, prefix: 0 });
  });

  it('docs/elastic.md shows exactly the queries this file runs', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs', 'elastic.md'), 'utf8');
    const shown = [...doc.matchAll(/```kql\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.trim() !== ''));
    const ours = [...ECS_QUERIES, ...OTEL_QUERIES].map((q) => q.kql);
    expect([...new Set(shown)].sort()).toEqual([...new Set(ours)].sort());
    for (const q of [...ECS_QUERIES, ...OTEL_QUERIES]) expect(doc, `the DSL of ${q.kql}`).toContain(JSON.stringify(q.dsl));
  });
});
