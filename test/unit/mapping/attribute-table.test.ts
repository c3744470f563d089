import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, ATTRIBUTE_BY_NAME, type AttributeType } from '../../../src/mapping/attribute-table.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { AttributeValue } from '../../../src/mapping/record.js';
import { renderAttributesDoc } from '../../../scripts/gen-attributes-doc.js';
import { fixturesDir, repoRoot } from '../../helpers/paths.js';
import { LINES } from '../netfilter/sample-lines.js';

function typeOf(v: AttributeValue): AttributeType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  return v.every((e) => typeof e === 'number') && v.length > 0 ? 'int[]' : 'string[]';
}

function allFrames(): string[] {
  const frames: string[] = Object.values(LINES).map((l) => `<4>Nov 26 14:24:16 fw1 kernel: ${l}`);
  for (const f of ['elastic-integrations/test-iptables-raw.log', 'elastic-integrations/test-ubiquiti.log', 'beats-module/ipv6.log']) {
    frames.push(...readFileSync(path.join(fixturesDir, f), 'utf8').split('\n').filter((l) => l.length > 0));
  }
  frames.push('not a firewall line', '');
  return frames;
}

describe('attribute table', () => {
  it('has unique names and complete rows', () => {
    expect(ATTRIBUTE_BY_NAME.size).toBe(ATTRIBUTES.length);
    for (const a of ATTRIBUTES) {
      expect(a.description.length, a.name).toBeGreaterThan(3);
      expect(a.source.length, a.name).toBeGreaterThan(0);
      if (a.name.startsWith('iptables.') && !a.name.startsWith('iptables.icmp.quoted.')) expect(['elastic', 'iptables-otel']).toContain(a.origin);
    }
  });
  it('every attribute the mapper emits is in the table, with the table type', () => {
    const seen = new Set<string>();
    const ctx = { peerAddress: '192.0.2.53', peerPort: 514, transport: 'tcp' as const };
    for (const frame of allFrames()) {
      const r = parseFrame(frame, ctx, { preserveOriginal: true });
      for (const [name, value] of Object.entries(r.attributes)) {
        const spec = ATTRIBUTE_BY_NAME.get(name);
        expect(spec, `${name} is missing from attribute-table.ts`).toBeDefined();
        const t = typeOf(value);
        // An integral double (e.g. uptime 300.0) still is a double; an empty array matches any array type.
        if (!(spec!.type === 'double' && t === 'int') && !(Array.isArray(value) && value.length === 0)) expect(t, name).toBe(spec!.type);
        seen.add(name);
      }
    }
    // The samples exercise most of the table.
    expect(seen.size).toBeGreaterThan(ATTRIBUTES.length * 0.75);
  });
  it('docs/attributes.md is up to date (run `npm run build && npm run docs`)', () => {
    const onDisk = readFileSync(path.join(repoRoot, 'docs', 'attributes.md'), 'utf8');
    expect(onDisk).toBe(renderAttributesDoc());
  });
});
