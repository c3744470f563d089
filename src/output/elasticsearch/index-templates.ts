/**
 * The Elasticsearch index templates `setup elasticsearch` installs, generated from the attribute
 * table, for the two document shapes the Collector's `elasticsearch` exporter writes:
 *
 * - `mapping.mode: ecs` -> data stream `logs-<dataset>-<namespace>`: attributes at the document
 *   root under their own names, the body as `message`, `@timestamp` as ISO text, plus `source.ip`,
 *   `destination.ip` (our collector-config's transform) and `log.level`.
 * - `mapping.mode: otel` -> data stream `logs-<dataset>.otel-<namespace>`: attributes under
 *   `attributes.*`, the body as `body.text`, `@timestamp` as epoch milliseconds in a string
 *   (`"1795703056000.0"`, read as a date by the default date format).
 *
 * For each mode: one component template with our mappings, and one composable index template with
 * `data_stream: {}` that uses it. Where Elastic's stack templates exist (a full 8.x/9.x: `logs`,
 * `logs-otel@template`), our index template is a copy of Elastic's with our component added before
 * the `@custom` ones, so Elastic's mappings, settings and pipelines still apply and ours extend
 * them. Without them (the minimal distribution), our templates are complete on their own.
 * `<index template>@custom`-style user hooks (`logs-<dataset>@custom`) are always composed last
 * and may be missing.
 */
import { createHash } from 'node:crypto';
import { ATTRIBUTES, type AttributeSpec } from '../../mapping/attribute-table.js';

/** The exporter's mapping modes we install templates for. */
export type EsMappingMode = 'ecs' | 'otel';

/** What the cluster already has (read by setup before planning). */
export interface StackTemplates {
  /** Elastic's `logs` index template (`logs-*-*`), when installed. */
  logs?: Record<string, unknown>;
  /** Elastic's `logs-otel@template` index template (`logs-*.otel-*`), when installed. */
  logsOtel?: Record<string, unknown>;
  /** The `attributes` definition of Elastic's `otel@mappings` (passthrough), when installed. */
  otelAttributes?: Record<string, unknown>;
}

/** One object to install. */
export interface TemplateObject {
  kind: 'component_template' | 'index_template';
  name: string;
  mode: EsMappingMode;
  /** The request body, with `version` and `_meta` (content hash) set. */
  body: Record<string, unknown>;
}

/** Bumped when the shape of what we install changes in a way the hash does not cover. */
export const TEMPLATE_VERSION = 1;

/** Above Elastic's `logs` (100), `logs-otel@template` (120) and a Fleet integration's (200). */
export const TEMPLATE_PRIORITY = 210;

/** `_meta.managed_by` of every object we install. */
export const MANAGED_BY = 'iptables-otel';

/** Data stream name pattern of a mode: `logs-iptables.log-*`, `logs-iptables.log.otel-*`. */
export function dataStreamPattern(dataset: string, mode: EsMappingMode): string {
  return mode === 'ecs' ? `logs-${dataset}-*` : `logs-${dataset}.otel-*`;
}

/** Names of the objects of a mode. */
export function templateNames(dataset: string, mode: EsMappingMode): { index: string; component: string; custom: string } {
  const stream = mode === 'ecs' ? `logs-${dataset}` : `logs-${dataset}.otel`;
  return { index: `iptables-otel-${stream}`, component: `iptables-otel-${stream}@mappings`, custom: `${stream}@custom` };
}

/**
 * ECS types for ECS fields whose ECS type differs from what the table's type and format give:
 * ECS `*.address` is a keyword (it may hold a domain name); the `*.ip` copies carry the `ip` type.
 * Keeping ECS's type avoids a type conflict with other `logs-*` data streams in one Kibana data view.
 */
const ECS_TYPE_OVERRIDES: Readonly<Record<string, string>> = {
  'source.address': 'keyword',
  'destination.address': 'keyword',
};

const KEYWORD = { type: 'keyword', ignore_above: 1024 } as const;

/** The Elasticsearch field mapping of one attribute (as the table describes it). */
export function attributeFieldMapping(spec: AttributeSpec, mode: EsMappingMode): Record<string, unknown> {
  if (mode === 'ecs' && ECS_TYPE_OVERRIDES[spec.name] === 'keyword') return { ...KEYWORD };
  switch (spec.type) {
    case 'int':
    case 'int[]':
      return { type: 'long' };
    case 'double':
      return { type: 'double' };
    case 'bool':
      return { type: 'boolean' };
    case 'string':
    case 'string[]':
      // ignore_malformed: a value that is not an address keeps its document (listed in `_ignored`).
      if (spec.format === 'ip') return { type: 'ip', ignore_malformed: true };
      if (spec.format === 'text') return { type: 'text' };
      return { ...KEYWORD };
  }
}

/** Every attribute's mapping, by attribute name (dotted names; Elasticsearch expands them). */
function attributeProperties(mode: EsMappingMode): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const a of ATTRIBUTES) {
    // The exporter routes on data_stream.* and, in ecs mode, writes them at the root itself.
    if (a.name.startsWith('data_stream.')) continue;
    out[a.name] = attributeFieldMapping(a, mode);
  }
  return out;
}

const DATA_STREAM_FIELDS = { 'data_stream.type': KEYWORD, 'data_stream.dataset': KEYWORD, 'data_stream.namespace': KEYWORD } as const;

/** Strings nobody mapped are names, not prose: keyword, as Elastic's ecs@mappings and otel@mappings do. */
function stringsAsKeyword(pathMatch: string[] | undefined): Record<string, unknown> {
  return {
    'iptables_otel_strings_as_keyword': {
      ...(pathMatch ? { path_match: pathMatch } : {}),
      match_mapping_type: 'string',
      mapping: { ...KEYWORD },
    },
  };
}

/** The mappings of ecs-mode documents. With the stack, Elastic's logs@mappings / ecs@mappings already map the fields ECS defines for every log. */
export function ecsMappings(stack: boolean): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    ...attributeProperties('ecs'),
    // Added by collector-config's transform/ecs_iptables for Elastic's dashboards.
    'source.ip': { type: 'ip', ignore_malformed: true },
    'destination.ip': { type: 'ip', ignore_malformed: true },
  };
  if (!stack) {
    Object.assign(properties, {
      '@timestamp': { type: 'date' },
      message: { type: 'text' },
      'log.level': { ...KEYWORD },
      ...DATA_STREAM_FIELDS,
    });
    return { dynamic_templates: [stringsAsKeyword(undefined)], properties };
  }
  return { properties };
}

/** Elastic's otel@mappings `attributes` definition, or ours where it is absent. */
const DEFAULT_OTEL_ATTRIBUTES = { type: 'passthrough', dynamic: true, priority: 20 } as const;

/**
 * The mappings of otel-mode documents. `attributes` stays a passthrough object (its fields are
 * also searchable under their plain names, `source.address`), with Elastic's `priority` and
 * `dynamic` kept where otel@mappings defines it: a component template that redefines
 * `attributes` replaces that definition rather than merging with it.
 */
export function otelMappings(stack: boolean, otelAttributes: Record<string, unknown> | undefined): Record<string, unknown> {
  const base: Record<string, unknown> = otelAttributes ?? DEFAULT_OTEL_ATTRIBUTES;
  const attributes = {
    type: 'passthrough',
    dynamic: base.dynamic ?? true,
    priority: base.priority ?? DEFAULT_OTEL_ATTRIBUTES.priority,
    properties: { ...((base.properties as Record<string, unknown> | undefined) ?? {}), ...attributeProperties('otel') },
  };
  if (stack) return { properties: { attributes } };
  // Complete on its own. Record attributes outrank scope and resource ones on a name clash
  // (the most specific wins, as OpenTelemetry's precedence rule says).
  return {
    dynamic_templates: [stringsAsKeyword(['attributes.*', 'scope.attributes.*', 'resource.attributes.*'])],
    properties: {
      '@timestamp': { type: 'date' },
      observed_timestamp: { type: 'date' },
      ...DATA_STREAM_FIELDS,
      body: { properties: { text: { type: 'text' } } },
      severity_text: { ...KEYWORD },
      severity_number: { type: 'long' },
      event_name: { ...KEYWORD },
      trace_id: { ...KEYWORD },
      span_id: { ...KEYWORD },
      dropped_attributes_count: { type: 'long' },
      attributes,
      scope: {
        properties: {
          name: { ...KEYWORD },
          version: { ...KEYWORD },
          schema_url: { ...KEYWORD },
          dropped_attributes_count: { type: 'long' },
          attributes: { type: 'passthrough', dynamic: true, priority: 15 },
        },
      },
      resource: {
        properties: {
          schema_url: { ...KEYWORD },
          dropped_attributes_count: { type: 'long' },
          attributes: { type: 'passthrough', dynamic: true, priority: 10 },
        },
      },
    },
  };
}

/** JSON with keys sorted, so equal content hashes equal whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The content hash `_meta.iptables_otel_hash` records (16 hex of SHA-256 of the body without `_meta`/`version`). */
export function contentHash(body: Record<string, unknown>): string {
  const { _meta: _m, version: _v, ...rest } = body;
  return createHash('sha256').update(canonical(rest)).digest('hex').slice(0, 16);
}

function withMeta(body: Record<string, unknown>, description: string): Record<string, unknown> {
  return { ...body, version: TEMPLATE_VERSION, _meta: { managed_by: MANAGED_BY, description, iptables_otel_hash: contentHash(body) } };
}

/** Keys of Elastic's index template we do not copy into ours. */
const NOT_COPIED = new Set(['index_patterns', 'priority', 'composed_of', 'ignore_missing_component_templates', 'version', '_meta', 'deprecated', 'created_date', 'created_date_millis', 'modified_date', 'modified_date_millis']);

/** The index template of a mode: Elastic's, extended, or our own. */
function indexTemplate(dataset: string, mode: EsMappingMode, stackBase: Record<string, unknown> | undefined): Record<string, unknown> {
  const names = templateNames(dataset, mode);
  const pattern = dataStreamPattern(dataset, mode);
  if (stackBase === undefined) {
    return {
      index_patterns: [pattern],
      priority: TEMPLATE_PRIORITY,
      data_stream: {},
      composed_of: [names.component, names.custom],
      ignore_missing_component_templates: [names.custom],
    };
  }
  const copied: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stackBase)) if (!NOT_COPIED.has(k)) copied[k] = v;
  const baseComposed = ((stackBase.composed_of as string[] | undefined) ?? []).filter((c) => c !== names.component && c !== names.custom);
  // Ours after Elastic's mappings, before the first @custom (so a user's customisation still wins), then our own @custom last.
  const firstCustom = baseComposed.findIndex((c) => c.endsWith('@custom'));
  const at = firstCustom === -1 ? baseComposed.length : firstCustom;
  const composed = [...baseComposed.slice(0, at), names.component, ...baseComposed.slice(at), names.custom];
  const ignoreMissing = [...new Set([...((stackBase.ignore_missing_component_templates as string[] | undefined) ?? []), names.custom])];
  return {
    ...copied,
    data_stream: copied.data_stream ?? {},
    index_patterns: [pattern],
    priority: TEMPLATE_PRIORITY,
    composed_of: composed,
    ignore_missing_component_templates: ignoreMissing,
  };
}

/** Everything setup installs for `dataset`, component templates first (an index template must find them). */
export function planTemplates(dataset: string, stack: StackTemplates): TemplateObject[] {
  const out: TemplateObject[] = [];
  const modes: Array<{ mode: EsMappingMode; base: Record<string, unknown> | undefined; mappings: Record<string, unknown> }> = [
    { mode: 'ecs', base: stack.logs, mappings: ecsMappings(stack.logs !== undefined) },
    { mode: 'otel', base: stack.logsOtel, mappings: otelMappings(stack.logsOtel !== undefined, stack.logsOtel !== undefined ? stack.otelAttributes : undefined) },
  ];
  for (const { mode, mappings } of modes) {
    const names = templateNames(dataset, mode);
    out.push({ kind: 'component_template', name: names.component, mode, body: withMeta({ template: { mappings } }, `iptables-otel field mappings for ${mode}-mode documents (generated from its attribute table)`) });
  }
  for (const { mode, base } of modes) {
    const names = templateNames(dataset, mode);
    out.push({
      kind: 'index_template',
      name: names.index,
      mode,
      body: withMeta(indexTemplate(dataset, mode, base), `iptables-otel: ${dataStreamPattern(dataset, mode)} as data streams (${base ? "Elastic's stack template, extended" : 'complete, no stack templates'})`),
    });
  }
  return out;
}
