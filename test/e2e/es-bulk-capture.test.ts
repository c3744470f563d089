/**
 * The Elasticsearch stand-in itself (product check, `_bulk` parsing, per-item
 * statuses), and — with the reference Collector — that the production config's
 * `retry` re-sends documents Elasticsearch rejected with 429.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { collectorRequirement, freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { getField, startEsBulkCapture, type EsBulkCapture } from '../helpers/es-bulk-capture.js';
import { assertRequirement, shouldRun } from '../helpers/requirements.js';
import { productionEnv, testableProductionConfig } from './collector-pipelines.js';

let capture: EsBulkCapture | undefined;
let collector: RunningCollector | undefined;
let storage = '';
afterEach(async () => {
  await collector?.stop();
  await capture?.close();
  if (storage) rmSync(storage, { recursive: true, force: true });
  collector = undefined;
  capture = undefined;
  storage = '';
});

describe('es-bulk-capture', () => {
  it('answers the product check with an Elasticsearch >= 8.12 version', async () => {
    capture = await startEsBulkCapture();
    const res = await fetch(`${capture.url}/`);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    const body = (await res.json()) as { version: { number: string } };
    const [major, minor] = body.version.number.split('.').map(Number) as [number, number];
    expect(major * 100 + minor).toBeGreaterThanOrEqual(812);
  });

  it('parses gzip NDJSON bulk bodies, keeps each document with its index, answers per item', async () => {
    capture = await startEsBulkCapture({ itemStatus: (d) => (d.source.n === 2 ? 429 : d.action === 'create' ? 201 : 200) });
    const ndjson =
      [
        { create: { _index: 'logs-a-default' } },
        { n: 1, 'source.address': '192.0.2.2' },
        { create: { _index: 'logs-b-default' } },
        { n: 2 },
        { index: {} },
        { n: 3, nested: { x: 1 } },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n') + '\n';
    const res = await fetch(`${capture.url}/fallback-index/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: gzipSync(ndjson),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    const body = (await res.json()) as { errors: boolean; items: Array<Record<string, { status: number }>> };
    expect(body.errors).toBe(true);
    expect(body.items.map((i) => Object.values(i)[0]!.status)).toEqual([201, 429, 200]);
    expect(capture.documents.map((d) => [d.action, d.index, d.source.n])).toEqual([
      ['create', 'logs-a-default', 1],
      ['index', 'fallback-index', 3],
    ]);
    expect(getField(capture.documents[0]!.source, 'source.address')).toBe('192.0.2.2');
    expect(getField(capture.documents[1]!.source, 'nested.x')).toBe(1);
  });

  it('rejects a malformed bulk body with 400', async () => {
    capture = await startEsBulkCapture();
    const res = await fetch(`${capture.url}/_bulk`, { method: 'POST', body: '{"create":{}}\n{"n":1}\n' });
    expect(res.status).toBe(400);
  });
});

const req = collectorRequirement();

describe.skipIf(!shouldRun(req))('Collector elasticsearch exporter against the capture', () => {
  it('retries documents rejected with 429 (production retry settings)', async () => {
    assertRequirement(req);
    const attempts = new Map<string, number>();
    capture = await startEsBulkCapture({
      itemStatus: (d) => {
        const key = String(getField(d.source, 'body.text'));
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        return n === 1 ? 429 : 201;
      },
    });
    storage = mkdtempSync(path.join(os.tmpdir(), 'otelcol-storage-'));
    const otlpPort = await freePort();
    collector = await startCollector(
      testableProductionConfig({ file: 'elastic-self-managed-otel.yaml', receiverPort: otlpPort, elasticsearchUrl: capture.url }),
      { env: productionEnv(storage, capture.url) },
    );
    const record = {
      timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      severityNumber: 13,
      body: { stringValue: 'iptables-dropped: IN=eth0 OUT= SRC=192.0.2.2 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=2 ' },
      attributes: [{ key: 'data_stream.dataset', value: { stringValue: 'iptables.log' } }],
    };
    const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceLogs: [{ resource: {}, scopeLogs: [{ scope: {}, logRecords: [record] }] }] }),
    });
    expect(res.status).toBe(200);
    const docs = await capture.waitForDocuments(1, 20_000);
    expect(docs[0]!.index).toBe('logs-iptables.log.otel-default');
    expect(attempts.get(record.body.stringValue)).toBe(2);
  });
});
