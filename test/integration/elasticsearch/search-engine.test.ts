/**
 * The test harness itself: the minimal Elasticsearch and OpenSearch start (once per run, through
 * the broker of test/setup/search-engines.ts), answer on loopback, report their version, and
 * index into a data stream created by a composable template. Also pins what the minimal
 * Elasticsearch lacks, as docs/testing.md states it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, shouldRun } from '../../helpers/requirements.js';
import { engineRequest, searchEngine, searchEngineRequirement, testNamespace, type SearchEngineKind, type SearchEngine } from '../../helpers/search-engine.js';

const call = engineRequest;

const engines: Array<{ kind: SearchEngineKind; version: RegExp }> = [
  { kind: 'elasticsearch', version: /^8\.19\./ },
  { kind: 'opensearch', version: /^2\.19\./ },
];

describe.each(engines)('$kind for tests', ({ kind, version }) => {
  const req = searchEngineRequirement(kind);
  describe.skipIf(!shouldRun(req))('running', () => {
    let engine: SearchEngine;
    beforeAll(async () => {
      assertRequirement(req);
      engine = await searchEngine(kind);
    });

    it('is healthy on loopback and reports its version', async () => {
      expect(engine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(engine.version).toMatch(version);
      const health = await call(engine, 'GET', '/_cluster/health');
      expect(health.status).toBe(200);
      expect(['green', 'yellow']).toContain(health.json.status);
    });

    it('a second request gets the same engine (one per run)', async () => {
      const again = await searchEngine(kind);
      expect(again.url).toBe(engine.url);
    });

    it('a composable template with data_stream makes logs-*-<namespace> a data stream', async () => {
      const ns = testNamespace();
      const name = `harness-${ns}`;
      const put = await call(engine, 'PUT', `/_index_template/${name}`, {
        index_patterns: [`logs-harness-${ns}`],
        data_stream: {},
        priority: 500,
        template: { mappings: { properties: { 'source.ip': { type: 'ip' } } } },
      });
      expect(put.status, JSON.stringify(put.json)).toBe(200);
      const bulk = await call(
        engine,
        'POST',
        `/logs-harness-${ns}/_bulk?refresh=true`,
        `{"create":{}}\n{"@timestamp":"2026-12-01T00:00:00Z","source.ip":"192.0.2.7"}\n`,
      );
      expect(bulk.json.errors, JSON.stringify(bulk.json)).toBe(false);
      const resolved = await call(engine, 'GET', `/_resolve/index/logs-harness-${ns}`);
      expect(resolved.json.data_streams.map((d: { name: string }) => d.name)).toEqual([`logs-harness-${ns}`]);
      const hits = await call(engine, 'POST', `/logs-harness-${ns}/_search`, { query: { term: { 'source.ip': '192.0.2.0/24' } } });
      expect(hits.json.hits.total.value).toBe(1);
    });

    if (kind === 'elasticsearch') {
      it('is the minimal distribution: no GET /, no _data_stream API, no ingest-common, no stack templates', async () => {
        expect((await call(engine, 'GET', '/')).status).toBe(405);
        // Elasticsearch's product header, which clients check instead of GET /.
        expect((await call(engine, 'GET', '/_cluster/health')).headers.get('x-elastic-product')).toBe('Elasticsearch');
        const ds = await call(engine, 'GET', '/_data_stream');
        expect(ds.status).not.toBe(200);
        const pipeline = await call(engine, 'PUT', '/_ingest/pipeline/harness-set', { processors: [{ set: { field: 'a', value: 'b' } }] });
        expect(pipeline.status).toBe(400);
        expect((await call(engine, 'GET', '/_component_template/logs@mappings')).status).toBe(404);
        expect((await call(engine, 'GET', '/_index_template/logs-otel@template')).status).toBe(404);
      });
    }
  });
});
