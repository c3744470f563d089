/**
 * Helpers for the end-to-end runs against a real Elasticsearch (search-engine-e2e.test.ts): the
 * shipped collector-config file started as it is (only its environment variables set), the
 * Collector's own metrics, and reading documents back from the engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectorBinary, freePort } from '../helpers/collector.js';
import { promValue } from '../helpers/metrics.js';
import { repoRoot } from '../helpers/paths.js';
import { engineJson, type SearchEngine } from '../helpers/search-engine.js';

/** A Collector running one file of collector-config/, unmodified. */
export interface ShippedCollector {
  readonly process: ChildProcess;
  /** OTELCOL_OTLP_HTTP_PORT it was given. */
  readonly otlpPort: number;
  /** OTELCOL_HEALTH_PORT. */
  readonly healthPort: number;
  /** OTELCOL_METRICS_PORT. */
  readonly metricsPort: number;
  /** stdout + stderr so far (the tail). */
  logs(): string;
  /** The Collector's own metrics page (Prometheus text). */
  metrics(): Promise<string>;
  /** SIGTERM, SIGKILL after 15 s; removes the storage dir. */
  stop(): Promise<void>;
}

/**
 * Start `collector-config/<file>` with free loopback ports in the port variables the file reads
 * (OTELCOL_OTLP_HTTP_PORT, OTELCOL_HEALTH_PORT, OTELCOL_METRICS_PORT), a temp
 * OTELCOL_STORAGE_DIR, and `env` (ELASTICSEARCH_ENDPOINT, ...). Resolves once the health
 * endpoint answers 200 on OTELCOL_HEALTH_PORT.
 */
export async function startShippedCollector(file: string, env: Record<string, string>): Promise<ShippedCollector> {
  const bin = collectorBinary();
  if (!bin) throw new Error('reference Collector binary not found (run scripts/build-collector.sh)');
  const storage = mkdtempSync(path.join(os.tmpdir(), 'otelcol-storage-'));
  const otlpPort = await freePort();
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const child = spawn(bin, [`--config=${path.join(repoRoot, 'collector-config', file)}`], {
    env: {
      ...process.env,
      OTELCOL_STORAGE_DIR: storage,
      OTELCOL_OTLP_HTTP_PORT: String(otlpPort),
      OTELCOL_HEALTH_PORT: String(healthPort),
      OTELCOL_METRICS_PORT: String(metricsPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (b: Buffer): void => {
    output = (output + b.toString('utf8')).slice(-512 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitPromise;
      clearTimeout(t);
    }
    rmSync(storage, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`Collector (${file}) exited with ${String(exited)} at start:\n${output}`);
    }
    const res = await fetch(`http://127.0.0.1:${healthPort}/`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (res) await res.arrayBuffer();
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Collector (${file}) not healthy on OTELCOL_HEALTH_PORT=${healthPort} in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const metrics = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  };
  return { process: child, otlpPort, healthPort, metricsPort, logs: () => output, metrics, stop };
}

/** The exporter's per-document outcomes (otelcol_elasticsearch_docs_processed{outcome}). */
export interface DocOutcomes {
  success: number;
  failed_client: number;
  failed_server: number;
  too_many: number;
  timeout: number;
  internal_server_error: number;
  failure_store: number;
  /** otelcol_elasticsearch_docs_retried (document-level retries). */
  retried: number;
}

/** Name of the exporter's document counter on the Collector's Prometheus endpoint. */
export const DOCS_PROCESSED = 'otelcol_elasticsearch_docs_processed_total';

/** Read the exporter's document outcomes from a metrics page. */
export function docOutcomes(metricsText: string): DocOutcomes {
  const o = (outcome: string): number => promValue(metricsText, DOCS_PROCESSED, { outcome });
  return {
    success: o('success'),
    failed_client: o('failed_client'),
    failed_server: o('failed_server'),
    too_many: o('too_many'),
    timeout: o('timeout'),
    internal_server_error: o('internal_server_error'),
    failure_store: o('failure_store'),
    retried: promValue(metricsText, 'otelcol_elasticsearch_docs_retried_total'),
  };
}

/** A stored document as `_search` returns it. */
export interface Hit {
  _id: string;
  _index: string;
  _source: Record<string, unknown>;
}

/** Every document of `index` (search_after over `_doc`; the window limit does not apply). */
export async function allDocuments(engine: SearchEngine, index: string): Promise<Hit[]> {
  const out: Hit[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const body: Record<string, unknown> = { size: 5000, sort: ['_doc'], query: { match_all: {} } };
    if (after) body.search_after = after;
    const r = (await engineJson(engine, 'POST', `/${index}/_search`, body)) as { hits: { hits: Array<Hit & { sort: unknown[] }> } };
    const hits = r.hits.hits;
    out.push(...hits);
    if (hits.length < 5000) return out;
    after = hits[hits.length - 1]!.sort;
  }
}

/** `_id`s of the documents `query` returns in `index` (up to 10,000, the default window). */
export async function matchingIds(engine: SearchEngine, index: string, query: Record<string, unknown>): Promise<{ total: number; ids: string[] }> {
  const r = (await engineJson(engine, 'POST', `/${index}/_search`, {
    size: 10_000,
    _source: false,
    track_total_hits: true,
    query,
  })) as { hits: { total: { value: number }; hits: Array<{ _id: string }> } };
  return { total: r.hits.total.value, ids: r.hits.hits.map((h) => h._id) };
}
