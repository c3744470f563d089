import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../../helpers/paths.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { checkConfigCommand } from '../../../src/cli/check-config-command.js';
import { Readable, Writable } from 'node:stream';
import { configSchema } from '../../../src/config/schema.js';

const sample = path.join(repoRoot, 'examples', 'config.yaml');

function sink(): Writable & { text: string } {
  const w = new Writable({ write(c, _e, cb) { w.text += String(c); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('examples/config.yaml', () => {
  it('passes check-config', () => {
    const out = sink();
    const err = sink();
    expect(checkConfigCommand(sample, {}, { stdin: Readable.from([]), stdout: out, stderr: err, env: {} })).toBe(0);
    expect(err.text).toBe('');
  });

  it('states the defaults: loading it gives the same settings as no file at all (inputs, pipeline, ops)', () => {
    const fromSample = loadConfig({ file: sample, env: {} });
    const defaults = loadConfig({ env: {} });
    expect(fromSample.inputs).toEqual(defaults.inputs);
    expect(fromSample.pipeline).toEqual(defaults.pipeline);
    expect(fromSample.ops).toEqual(defaults.ops);
    expect(fromSample.logging).toEqual(defaults.logging);
  });

  it('mentions every key of the schema (active or commented out)', () => {
    const text = readFileSync(sample, 'utf8');
    const keys = new Set<string>();
    const walk = (s: unknown): void => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      if (o.properties) for (const [k, v] of Object.entries(o.properties as Record<string, unknown>)) { keys.add(k); walk(v); }
      if (o.items) walk(o.items);
      if (Array.isArray(o.anyOf)) o.anyOf.forEach(walk);
    };
    walk(configSchema);
    const missing = [...keys].filter((k) => !new RegExp(`\\b${k.replace('.', '\\.')}:`).test(text));
    expect(missing).toEqual([]);
  });
});
