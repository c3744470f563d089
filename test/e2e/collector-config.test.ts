/**
 * Every Collector config shipped in collector-config/ must pass the reference
 * Collector's own `validate`: unknown keys, bad OTTL statements, a malformed Cloud ID or
 * a component missing from the pipeline all fail here.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorRequirement, validateCollectorConfig } from '../helpers/collector.js';
import { repoRoot } from '../helpers/paths.js';
import { assertRequirement, shouldRun } from '../helpers/requirements.js';

const configDir = path.join(repoRoot, 'collector-config');
const files = readdirSync(configDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

const req = collectorRequirement();
let storageDir = '';

/** Dummy values for every `${env:NAME}` the configs use (a real deployment sets them). */
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

  it('every env var a config references has a dummy here', () => {
    const known = new Set(Object.keys(dummyEnv()));
    for (const f of files) {
      const text = readFileSync(path.join(configDir, f), 'utf8');
      for (const m of text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)) {
        expect(known, `${f} uses \${env:${m[1]}}`).toContain(m[1]);
      }
    }
  });

  it.each(files)('%s', (f) => {
    const res = validateCollectorConfig(path.join(configDir, f), dummyEnv());
    // Compare the output, not just the flag, so a failure shows the Collector's reason.
    expect(res.ok ? '' : res.output).toBe('');
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
