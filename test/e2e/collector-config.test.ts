/**
 * Every Collector config shipped in collector-config/ must pass the reference
 * Collector's own `validate`: unknown keys, bad OTTL statements, a malformed Cloud ID or
 * a component missing from the pipeline all fail here.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collectorRequirement, validateCollectorConfig } from '../helpers/collector.js';
import { repoRoot } from '../helpers/paths.js';
import { assertRequirement, shouldRun } from '../helpers/requirements.js';

const configDir = path.join(repoRoot, 'collector-config');
const files = readdirSync(configDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

const req = collectorRequirement();
let storageDir = '';

/** The port variables every config reads, with today's ports as defaults (docs/elastic.md, "Ports"). */
const PORT_VARS = { OTELCOL_OTLP_HTTP_PORT: '4318', OTELCOL_FLUENTFORWARD_PORT: '8006', OTELCOL_HEALTH_PORT: '13133', OTELCOL_METRICS_PORT: '8888' };

type Obj = Record<string, unknown>;
const load = (f: string): Obj => parse(readFileSync(path.join(configDir, f), 'utf8')) as Obj;

/** Dummy values for every `${env:NAME}` without a default the configs use (a real deployment sets them). */
function dummyEnv(): Record<string, string> {
  return {
    ELASTICSEARCH_ENDPOINT: 'https://es.example.com:9200',
    ELASTIC_API_KEY: 'ZHVtbXk6ZHVtbXk=',
    // name:base64("host$es-uuid$kibana-uuid"), the Cloud ID format the exporter decodes.
    ELASTIC_CLOUD_ID: `test:${Buffer.from('es.example.com:443$abc123$def456').toString('base64')}`,
    OTELCOL_STORAGE_DIR: storageDir,
    OTELCOL_TLS_CERT_FILE: path.join(storageDir, 'cert.pem'),
    OTELCOL_TLS_KEY_FILE: path.join(storageDir, 'key.pem'),
  };
}

describe.skipIf(!shouldRun(req))('collector-config/ validates with the reference Collector', () => {
  beforeAll(() => {
    assertRequirement(req);
    storageDir = mkdtempSync(path.join(os.tmpdir(), 'otelcol-validate-'));
  });
  afterAll(() => {
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  it('ships configs for cloud/self-managed x otel/ecs, a gateway and fluentforward', () => {
    for (const f of [
      'elastic-cloud-otel.yaml',
      'elastic-cloud-ecs.yaml',
      'elastic-self-managed-otel.yaml',
      'elastic-self-managed-ecs.yaml',
      'gateway.yaml',
      'fluentforward.yaml',
    ]) {
      expect(files).toContain(f);
    }
  });

  it('every env var a config references without a default has a dummy here; every one with a default is a port variable', () => {
    const known = new Set(Object.keys(dummyEnv()));
    for (const f of files) {
      const text = readFileSync(path.join(configDir, f), 'utf8');
      for (const m of text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}/g)) {
        if (m[2] === undefined) expect(known, `${f} uses \${env:${m[1]}}`).toContain(m[1]);
        else if (m[1] !== 'OTELCOL_STORAGE_DIR') expect(PORT_VARS[m[1] as keyof typeof PORT_VARS], `${f}: \${env:${m[1]}${m[2]}}`).toBe(m[3]);
      }
    }
  });

  it('ports come from OTELCOL_* variables with the old ports as defaults, and README documents them', () => {
    const readme = readFileSync(path.join(configDir, 'README.md'), 'utf8');
    for (const v of Object.keys(PORT_VARS)) expect(readme, `README.md documents ${v}`).toContain(v);
    for (const f of files) {
      const c = load(f);
      const ext = c.extensions as Obj;
      expect((ext.health_check as Obj).endpoint, f).toMatch(/:\$\{env:OTELCOL_HEALTH_PORT:-13133\}$/);
      const recv = c.receivers as Obj;
      if (recv.otlp) expect((((recv.otlp as Obj).protocols as Obj).http as Obj).endpoint, f).toMatch(/:\$\{env:OTELCOL_OTLP_HTTP_PORT:-4318\}$/);
      if (recv.fluentforward) expect((recv.fluentforward as Obj).endpoint, f).toMatch(/:\$\{env:OTELCOL_FLUENTFORWARD_PORT:-8006\}$/);
      const readers = (((c.service as Obj).telemetry as Obj).metrics as Obj).readers as Obj[];
      const prom = ((readers[0]!.pull as Obj).exporter as Obj).prometheus as Obj;
      expect(prom.port, f).toBe('${env:OTELCOL_METRICS_PORT:-8888}');
    }
  });

  it('every elasticsearch exporter retries 429 and 5xx (not other 4xx) and keeps the rejection reason', () => {
    for (const f of files) {
      const es = (load(f).exporters as Obj).elasticsearch as Obj | undefined;
      if (!es) continue;
      const retry = es.retry as { enabled: boolean; retry_on_status: number[] };
      expect(retry.enabled, f).toBe(true);
      expect(retry.retry_on_status, f).toEqual(expect.arrayContaining([429, 500, 502, 503, 504]));
      expect(retry.retry_on_status.filter((s) => s >= 400 && s < 500 && s !== 429), f).toEqual([]);
      expect(es.include_source_on_error, f).toBe(false);
    }
  });

  it.each(files)('%s', (f) => {
    const res = validateCollectorConfig(path.join(configDir, f), dummyEnv());
    // Compare the output, not just the flag, so a failure shows the Collector's reason.
    expect(res.ok ? '' : res.output).toBe('');
  });

  it.each(files)('%s with the port variables set', (f) => {
    const ports = { OTELCOL_OTLP_HTTP_PORT: '14318', OTELCOL_FLUENTFORWARD_PORT: '18006', OTELCOL_HEALTH_PORT: '23133', OTELCOL_METRICS_PORT: '18888' };
    const res = validateCollectorConfig(path.join(configDir, f), { ...dummyEnv(), ...ports });
    expect(res.ok ? '' : res.output).toBe('');
  });

  it('validate reads the port variables (a port that is not a number fails)', () => {
    const res = validateCollectorConfig(path.join(configDir, 'elastic-self-managed-otel.yaml'), { ...dummyEnv(), OTELCOL_METRICS_PORT: 'not-a-port' });
    expect(res.ok).toBe(false);
  });

  it('validate really rejects a broken config (the check can fail)', () => {
    const broken = path.join(storageDir, 'broken.yaml');
    const text = readFileSync(path.join(configDir, 'elastic-self-managed-otel.yaml'), 'utf8').replace(
      'max_retries:',
      'max_retriez:',
    );
    expect(text).toContain('max_retriez');
    writeFileSync(broken, text);
    const res = validateCollectorConfig(broken, dummyEnv());
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/max_retriez/);
  });
});
