/**
 * The templates setup installs, as generated from the attribute table: types per attribute and
 * mode, the otel passthrough kept, Elastic's stack templates extended (not replaced), content
 * hashes that make a second run "unchanged". Also the attribute table's `mayBeEmpty` against
 * what the parser really emits.
 */
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, ATTRIBUTE_BY_NAME } from '../../../../src/mapping/attribute-table.js';
import { parseFrame } from '../../../../src/mapping/parse-frame.js';
import {
  attributeFieldMapping,
  contentHash,
  dataStreamPattern,
  ecsMappings,
  otelMappings,
  planTemplates,
  TEMPLATE_PRIORITY,
  templateNames,
} from '../../../../src/output/elasticsearch/index-templates.js';
import { objectState } from '../../../../src/output/elasticsearch/setup.js';
import { benchLines, fixtureLines, ours } from '../../../helpers/parser-corpus.js';

type Props = Record<string, { type?: string; properties?: Props; [k: string]: unknown }>;

/** Expands dotted property names into objects, as Elasticsearch does, and reports a name that is both a leaf and an object. */
function expand(props: Props): { tree: Props; conflicts: string[] } {
  const tree: Props = {};
  const conflicts: string[] = [];
  for (const [name, def] of Object.entries(props)) {
    const parts = name.split('.');
    let node = tree;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      const next = (node[p] ??= { properties: {} });
      if (next.type !== undefined && next.type !== 'object') conflicts.push(parts.slice(0, i + 1).join('.'));
      node = (next.properties ??= {});
    }
    const leaf = parts[parts.length - 1]!;
    if (node[leaf]?.properties !== undefined && def.properties === undefined) conflicts.push(name);
    node[leaf] = { ...node[leaf], ...def };
  }
  return { tree, conflicts };
}

const ecsProps = (stack: boolean): Props => (ecsMappings(stack) as { properties: Props }).properties;
const otelAttrs = (stack: boolean, given?: Record<string, unknown>): Props['x'] => (otelMappings(stack, given) as { properties: Props }).properties.attributes!;

describe('field mappings from the attribute table', () => {
  it('every ip-format attribute is an ip field (ignore_malformed) in otel mode, and in ecs mode except ECS *.address', () => {
    const ips = ATTRIBUTES.filter((a) => a.format === 'ip');
    expect(ips.map((a) => a.name)).toEqual(expect.arrayContaining(['source.address', 'destination.address', 'related.ip', 'iptables.icmp.quoted.source.address', 'network.peer.address']));
    const otel = otelAttrs(false).properties!;
    const ecs = ecsProps(false);
    for (const a of ips) {
      expect(otel[a.name], a.name).toEqual({ type: 'ip', ignore_malformed: true });
      if (a.name === 'source.address' || a.name === 'destination.address') expect(ecs[a.name]?.type, a.name).toBe('keyword');
      else expect(ecs[a.name], a.name).toEqual({ type: 'ip', ignore_malformed: true });
    }
    // ecs mode: the CIDR-ready copies our transform adds.
    expect(ecs['source.ip']?.type).toBe('ip');
    expect(ecs['destination.ip']?.type).toBe('ip');
  });

  it('ports and counters are long, flags booleans, names keyword, prose text', () => {
    for (const a of ATTRIBUTES) {
      const m = attributeFieldMapping(a, 'otel');
      if (a.type === 'int' || a.type === 'int[]') expect(m.type, a.name).toBe('long');
      else if (a.type === 'bool') expect(m.type, a.name).toBe('boolean');
      else if (a.format === undefined) expect(m, a.name).toEqual({ type: 'keyword', ignore_above: 1024 });
    }
    expect(attributeFieldMapping(ATTRIBUTE_BY_NAME.get('source.port')!, 'ecs').type).toBe('long');
    expect(attributeFieldMapping(ATTRIBUTE_BY_NAME.get('iptables.tcp.seq')!, 'ecs').type).toBe('long');
    expect(attributeFieldMapping(ATTRIBUTE_BY_NAME.get('iptables.log_prefix')!, 'ecs').type).toBe('keyword');
    expect(attributeFieldMapping(ATTRIBUTE_BY_NAME.get('error.message')!, 'ecs').type).toBe('text');
    expect(attributeFieldMapping(ATTRIBUTE_BY_NAME.get('log.record.original')!, 'otel').type).toBe('text');
  });

  it('every attribute but data_stream.* is mapped, in both modes; the routing fields are mapped once, at the root', () => {
    const ecs = ecsProps(false);
    const otel = otelAttrs(false).properties!;
    for (const a of ATTRIBUTES) {
      if (a.name.startsWith('data_stream.')) continue;
      expect(ecs[a.name], a.name).toBeDefined();
      expect(otel[a.name], a.name).toBeDefined();
    }
    expect(ecs['data_stream.dataset']?.type).toBe('keyword');
    expect(Object.keys(otel).filter((k) => k.startsWith('data_stream.'))).toEqual([]);
  });

  it('no name is both a field and an object once dotted names are expanded (ecs: the document root)', () => {
    expect(expand(ecsProps(false)).conflicts).toEqual([]);
    expect(expand(otelAttrs(false).properties as Props).conflicts).toEqual([]);
    // The check can fail: a leaf that is also a prefix.
    expect(expand({ 'a.b': { type: 'keyword' }, 'a.b.c': { type: 'long' } }).conflicts).toEqual(['a.b']);
  });

  it('minimal cluster: complete ecs mappings (timestamp, message, log.level, strings as keyword)', () => {
    const m = ecsMappings(false) as { properties: Props; dynamic_templates: unknown[] };
    expect(m.properties['@timestamp']).toEqual({ type: 'date' });
    expect(m.properties.message).toEqual({ type: 'text' });
    expect(m.properties['log.level']?.type).toBe('keyword');
    expect(JSON.stringify(m.dynamic_templates)).toContain('"match_mapping_type":"string"');
    // With Elastic's logs@mappings / ecs@mappings these are theirs.
    const s = ecsProps(true);
    expect(s.message).toBeUndefined();
    expect(s['@timestamp']).toBeUndefined();
    expect(s['data_stream.dataset']).toBeUndefined();
  });

  it('otel mode: attributes stay a dynamic passthrough object; Elastic\'s priority and dynamic are kept, our fields added', () => {
    expect(otelAttrs(false)).toMatchObject({ type: 'passthrough', dynamic: true, priority: 20 });
    const given = { type: 'passthrough', dynamic: true, priority: 10, properties: { 'their.field': { type: 'keyword' } } };
    const a = otelAttrs(true, given);
    expect(a).toMatchObject({ type: 'passthrough', dynamic: true, priority: 10 });
    expect(a.properties!['their.field']).toEqual({ type: 'keyword' });
    expect(a.properties!['source.address']).toEqual({ type: 'ip', ignore_malformed: true });
    // With the stack, our component holds only `attributes`; otel@mappings has the rest.
    expect(Object.keys((otelMappings(true, given) as { properties: Props }).properties)).toEqual(['attributes']);
    const full = (otelMappings(false, undefined) as { properties: Props }).properties;
    expect(full['@timestamp']).toEqual({ type: 'date' });
    expect(full.observed_timestamp).toEqual({ type: 'date' });
    expect(full.body?.properties?.text).toEqual({ type: 'text' });
    expect(full.resource?.properties?.attributes).toMatchObject({ type: 'passthrough' });
  });
});

describe('planTemplates', () => {
  it('minimal cluster: per mode a component template and a data-stream index template that uses it and an optional @custom', () => {
    const plan = planTemplates('iptables.log', {});
    expect(plan.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'component_template iptables-otel-logs-iptables.log@mappings',
      'component_template iptables-otel-logs-iptables.log.otel@mappings',
      'index_template iptables-otel-logs-iptables.log',
      'index_template iptables-otel-logs-iptables.log.otel',
    ]);
    const ecs = plan.find((o) => o.name === 'iptables-otel-logs-iptables.log')!.body;
    expect(ecs).toMatchObject({
      index_patterns: ['logs-iptables.log-*'],
      priority: TEMPLATE_PRIORITY,
      data_stream: {},
      composed_of: ['iptables-otel-logs-iptables.log@mappings', 'logs-iptables.log@custom'],
      ignore_missing_component_templates: ['logs-iptables.log@custom'],
      version: 1,
      _meta: { managed_by: 'iptables-otel' },
    });
    expect(plan.find((o) => o.name === 'iptables-otel-logs-iptables.log.otel')!.body.index_patterns).toEqual(['logs-iptables.log.otel-*']);
  });

  it('the two patterns never match each other\'s data streams', () => {
    const toRegex = (p: string): RegExp => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    const ecs = toRegex(dataStreamPattern('iptables.log', 'ecs'));
    const otel = toRegex(dataStreamPattern('iptables.log', 'otel'));
    expect(ecs.test('logs-iptables.log-default')).toBe(true);
    expect(ecs.test('logs-iptables.log.otel-default')).toBe(false);
    expect(otel.test('logs-iptables.log.otel-default')).toBe(true);
    expect(otel.test('logs-iptables.log-default')).toBe(false);
  });

  it("with Elastic's stack templates: a copy of theirs, ours spliced in before their @custom, ours @custom last", () => {
    const logs = {
      index_patterns: ['logs-*-*'],
      priority: 100,
      composed_of: ['logs@mappings', 'logs@settings', 'logs@custom', 'ecs@mappings'],
      ignore_missing_component_templates: ['logs@custom'],
      data_stream: { hidden: false, allow_custom_routing: false },
      allow_auto_create: true,
      version: 16,
      _meta: { managed: true, description: 'default logs template installed by x-pack' },
    };
    const logsOtel = { index_patterns: ['logs-*.otel-*'], priority: 120, composed_of: ['logs@settings', 'otel@mappings', 'logs-otel@mappings', 'logs@custom', 'logs-otel@custom'], ignore_missing_component_templates: ['logs@custom', 'logs-otel@custom'], data_stream: {}, template: { settings: { 'index.mode': 'logsdb' } } };
    const plan = planTemplates('iptables.log', { logs, logsOtel, otelAttributes: { type: 'passthrough', dynamic: true, priority: 10 } });
    const ecs = plan.find((o) => o.name === 'iptables-otel-logs-iptables.log')!.body;
    expect(ecs.composed_of).toEqual(['logs@mappings', 'logs@settings', 'iptables-otel-logs-iptables.log@mappings', 'logs@custom', 'ecs@mappings', 'logs-iptables.log@custom']);
    expect(ecs.ignore_missing_component_templates).toEqual(['logs@custom', 'logs-iptables.log@custom']);
    expect(ecs).toMatchObject({ index_patterns: ['logs-iptables.log-*'], priority: TEMPLATE_PRIORITY, data_stream: { hidden: false, allow_custom_routing: false }, allow_auto_create: true, version: 1 });
    expect((ecs._meta as { managed_by: string }).managed_by).toBe('iptables-otel');
    const otel = plan.find((o) => o.name === 'iptables-otel-logs-iptables.log.otel')!.body;
    expect(otel.composed_of).toEqual(['logs@settings', 'otel@mappings', 'logs-otel@mappings', 'iptables-otel-logs-iptables.log.otel@mappings', 'logs@custom', 'logs-otel@custom', 'logs-iptables.log.otel@custom']);
    expect(otel.template).toEqual({ settings: { 'index.mode': 'logsdb' } });
    const otelComponent = plan.find((o) => o.name === 'iptables-otel-logs-iptables.log.otel@mappings')!.body as { template: { mappings: { properties: Props } } };
    expect(otelComponent.template.mappings.properties.attributes).toMatchObject({ type: 'passthrough', dynamic: true, priority: 10 });
  });

  it('names follow the dataset', () => {
    expect(templateNames('fw.edge', 'ecs')).toEqual({ index: 'iptables-otel-logs-fw.edge', component: 'iptables-otel-logs-fw.edge@mappings', custom: 'logs-fw.edge@custom' });
    expect(templateNames('fw.edge', 'otel').custom).toBe('logs-fw.edge.otel@custom');
  });
});

describe('content hash and object state', () => {
  it('equal content hashes equal whatever the key order; any change changes it', () => {
    expect(contentHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(contentHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(contentHash({ a: 1, b: { c: [2, 1] } })).not.toBe(contentHash({ a: 1, b: { c: [1, 2] } }));
    expect(contentHash({ a: 1, _meta: { x: 1 }, version: 3 })).toBe(contentHash({ a: 1 }));
  });

  it('missing, outdated (other hash or version) and current', () => {
    const [want] = planTemplates('iptables.log', {});
    expect(objectState(want!, undefined)).toBe('missing');
    // What Elasticsearch returns: the stored body, normalised, with our _meta and version.
    expect(objectState(want!, { template: { mappings: {} }, version: 1, _meta: want!.body._meta })).toBe('current');
    expect(objectState(want!, { ...want!.body, version: 0 })).toBe('outdated');
    expect(objectState(want!, { ...want!.body, _meta: { managed_by: 'iptables-otel', iptables_otel_hash: '0000' } })).toBe('outdated');
    expect(objectState(want!, { template: {} })).toBe('outdated');
  });
});

describe('attribute table: mayBeEmpty', () => {
  it('says exactly which arrays the parser emits empty (kernel corpus, fixtures, bench mix)', () => {
    const emptied = new Set<string>();
    for (const l of [...ours, ...fixtureLines(), ...benchLines()]) {
      for (const [k, v] of Object.entries(parseFrame(l).attributes)) if (Array.isArray(v) && v.length === 0) emptied.add(k);
    }
    const flagged = ATTRIBUTES.filter((a) => a.mayBeEmpty === true).map((a) => a.name);
    // Every array seen empty is flagged (the e2e tests rely on the flag to expect it absent in ecs mode).
    expect([...emptied].filter((n) => !flagged.includes(n))).toEqual([]);
    expect(emptied.has('iptables.ipv6.extension_headers')).toBe(true);
    for (const n of flagged) expect(ATTRIBUTE_BY_NAME.get(n)!.type.endsWith('[]'), n).toBe(true);
  });
});
