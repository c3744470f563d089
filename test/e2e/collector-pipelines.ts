/**
 * Turns the production configs in collector-config/ into configs a test can start:
 * same receivers, processors and exporter settings, but on free loopback ports, a
 * temp storage dir, and a queue that flushes in milliseconds instead of seconds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/paths.js';

type Obj = Record<string, unknown>;

/** Options for `testableProductionConfig`. */
export interface TestablePatch {
  /** File name in collector-config/. */
  file: string;
  /** Port for the config's receiver (otlp http or fluentforward). */
  receiverPort: number;
  /** Elasticsearch URL (the bulk capture). */
  elasticsearchUrl: string;
}

/**
 * Load `collector-config/<file>` and patch it for a test run. Keeps `${env:...}`
 * references (the test sets the variables), points health_check at `${HEALTH_PORT}`
 * (filled in by startCollector), and keeps the sending queue on file_storage.
 */
export function testableProductionConfig(p: TestablePatch): Obj {
  const cfg = parse(readFileSync(path.join(repoRoot, 'collector-config', p.file), 'utf8')) as Obj;
  const ext = cfg.extensions as Obj;
  (ext.health_check as Obj).endpoint = '127.0.0.1:${HEALTH_PORT}';
  const receivers = cfg.receivers as Obj;
  if (receivers.otlp) {
    const http = ((receivers.otlp as Obj).protocols as Obj).http as Obj;
    http.endpoint = `127.0.0.1:${p.receiverPort}`;
    delete http.tls;
  }
  if (receivers.fluentforward) (receivers.fluentforward as Obj).endpoint = `127.0.0.1:${p.receiverPort}`;
  const es = (cfg.exporters as Obj).elasticsearch as Obj;
  delete es.cloudid;
  es.endpoint = p.elasticsearchUrl;
  const queue = es.sending_queue as Obj;
  (queue.batch as Obj).flush_timeout = '100ms';
  (queue.batch as Obj).min_size = 1;
  const retry = es.retry as Obj;
  retry.initial_interval = '100ms';
  retry.max_interval = '1s';
  const procs = cfg.processors as Obj;
  if (procs.batch) (procs.batch as Obj).timeout = '100ms';
  const service = cfg.service as Obj;
  service.telemetry = { metrics: { level: 'none' }, logs: { level: 'info' } };
  return cfg;
}

/** Environment the production configs expect, with test values. */
export function productionEnv(storageDir: string, elasticsearchUrl: string): Record<string, string> {
  return {
    ELASTICSEARCH_ENDPOINT: elasticsearchUrl,
    ELASTIC_API_KEY: 'ZHVtbXk6ZHVtbXk=',
    OTELCOL_STORAGE_DIR: storageDir,
  };
}
