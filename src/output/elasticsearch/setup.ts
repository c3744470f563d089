/**
 * `setup elasticsearch`: identifies the cluster (Elasticsearch 8.13+ or 9.x), reads which of
 * Elastic's stack templates it has, and installs our component and index templates
 * (index-templates.ts), creating or updating only what differs. A second run reports every
 * object `unchanged`.
 */
import type { EsClient } from './es-client.js';
import { call, EsCommandError, type RequestPurpose } from './es-errors.js';
import { planTemplates, TEMPLATE_VERSION, type StackTemplates, type TemplateObject } from './index-templates.js';

/** The cluster, as far as the commands need to know it. */
export interface ClusterInfo {
  /** E.g. `8.19.0`. */
  version: string;
}

const MONITOR: RequestPurpose = { what: 'read the cluster version', privilege: 'the cluster privilege monitor' };
const TEMPLATES: RequestPurpose = { what: 'read and install index templates', privilege: 'the cluster privilege manage_index_templates' };

/** The versions the templates are written for: passthrough objects (otel mode) exist from 8.13. */
export function supportedVersion(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return (major === 8 && minor >= 13) || major === 9;
}

/**
 * Which product and version answers at the endpoint. `GET /` where it exists; the minimal
 * distribution answers it 405, so then `GET /_nodes/_local`. Elasticsearch 7.14+ marks every
 * reply with `X-Elastic-Product: Elasticsearch`; OpenSearch does not (and names itself in `GET /`).
 */
export async function identifyCluster(client: EsClient): Promise<ClusterInfo> {
  const root = await call(client, 'GET', '/', MONITOR, undefined, (s) => (s >= 200 && s < 300) || s === 404 || s === 405);
  let version: string | undefined;
  let product = root.headers['x-elastic-product'];
  if (root.status === 200) {
    const v = (root.json as { version?: { number?: string; distribution?: string } } | undefined)?.version;
    if (v?.distribution === 'opensearch') {
      throw new EsCommandError(
        'unsupported',
        `${client.endpoint} is OpenSearch ${v.number ?? ''}, not Elasticsearch: setup elasticsearch does not apply. Use the Collector's opensearch exporter (collector-config/opensearch.yaml); it writes its own index layout.`,
      );
    }
    version = v?.number;
  }
  if (version === undefined || product === undefined) {
    const nodes = await call(client, 'GET', '/_nodes/_local?filter_path=nodes.*.version', MONITOR);
    product ??= nodes.headers['x-elastic-product'];
    version ??= Object.values((nodes.json as { nodes?: Record<string, { version?: string }> } | undefined)?.nodes ?? {})[0]?.version;
  }
  if (product !== 'Elasticsearch') {
    throw new EsCommandError('unsupported', `${client.endpoint} is not Elasticsearch: its replies carry no "X-Elastic-Product: Elasticsearch" header (version ${version ?? 'unknown'}). For OpenSearch, use the Collector's opensearch exporter.`);
  }
  if (version === undefined) throw new EsCommandError('failed', `${client.endpoint} did not say its version (GET / and GET /_nodes/_local)`);
  if (!supportedVersion(version)) {
    throw new EsCommandError('unsupported', `Elasticsearch ${version} at ${client.endpoint} is not supported: setup elasticsearch needs 8.13 or later (8.x or 9.x; otel mode needs passthrough objects, from 8.13)`);
  }
  return { version };
}

/** `GET` a template; undefined on 404. */
async function getTemplate(client: EsClient, kind: 'index_template' | 'component_template', name: string): Promise<Record<string, unknown> | undefined> {
  const res = await call(client, 'GET', `/_${kind}/${encodeURIComponent(name)}`, TEMPLATES, undefined, (s) => (s >= 200 && s < 300) || s === 404);
  if (res.status === 404) return undefined;
  const list = kind === 'index_template' ? (res.json as { index_templates?: Array<{ name: string; index_template: Record<string, unknown> }> }).index_templates : (res.json as { component_templates?: Array<{ name: string; component_template: Record<string, unknown> }> }).component_templates;
  const hit = (list ?? []).find((t) => t.name === name) as { index_template?: Record<string, unknown>; component_template?: Record<string, unknown> } | undefined;
  return hit?.index_template ?? hit?.component_template;
}

/** Elastic's stack templates the cluster has (none on the minimal distribution). */
export async function readStackTemplates(client: EsClient): Promise<StackTemplates> {
  const [logs, logsOtel, otelMappings] = await Promise.all([
    getTemplate(client, 'index_template', 'logs'),
    getTemplate(client, 'index_template', 'logs-otel@template'),
    getTemplate(client, 'component_template', 'otel@mappings'),
  ]);
  const otelAttributes = (otelMappings?.template as { mappings?: { properties?: { attributes?: Record<string, unknown> } } } | undefined)?.mappings?.properties?.attributes;
  return { ...(logs ? { logs } : {}), ...(logsOtel ? { logsOtel } : {}), ...(otelAttributes ? { otelAttributes } : {}) };
}

/** What became of one object. */
export type ObjectAction = 'created' | 'updated' | 'unchanged';

/** Current state of one of our objects on the cluster. */
export type ObjectState = 'missing' | 'outdated' | 'current';

/** One object's state: ours is current when its recorded content hash and version match. */
export function objectState(want: TemplateObject, have: Record<string, unknown> | undefined): ObjectState {
  if (have === undefined) return 'missing';
  const meta = have._meta as { iptables_otel_hash?: string } | undefined;
  const wantMeta = want.body._meta as { iptables_otel_hash: string };
  return meta?.iptables_otel_hash === wantMeta.iptables_otel_hash && have.version === TEMPLATE_VERSION ? 'current' : 'outdated';
}

/** The result of a setup run. */
export interface SetupResult {
  cluster: ClusterInfo;
  /** Whether Elastic's stack templates were found and extended (per mode). */
  stack: { ecs: boolean; otel: boolean };
  objects: Array<{ kind: TemplateObject['kind']; name: string; mode: TemplateObject['mode']; action: ObjectAction }>;
}

/** The objects we want and what the cluster has of each. */
export async function compareTemplates(client: EsClient, dataset: string): Promise<{ stack: StackTemplates; objects: Array<{ want: TemplateObject; state: ObjectState }> }> {
  const stack = await readStackTemplates(client);
  const plan = planTemplates(dataset, stack);
  const objects = [];
  for (const want of plan) objects.push({ want, state: objectState(want, await getTemplate(client, want.kind, want.name)) });
  return { stack, objects };
}

/** Puts each object of `plan` that is missing or differs, in order; `progress` gets one line per object. */
export async function applyTemplates(client: EsClient, plan: TemplateObject[], progress?: (line: string) => void): Promise<SetupResult['objects']> {
  const out: SetupResult['objects'] = [];
  for (const want of plan) {
    const state = objectState(want, await getTemplate(client, want.kind, want.name));
    let action: ObjectAction = 'unchanged';
    if (state !== 'current') {
      await call(client, 'PUT', `/_${want.kind}/${encodeURIComponent(want.name)}`, TEMPLATES, want.body);
      action = state === 'missing' ? 'created' : 'updated';
    }
    out.push({ kind: want.kind, name: want.name, mode: want.mode, action });
    progress?.(`${action.padEnd(9)} ${want.kind.replace('_', ' ')} ${want.name}`);
  }
  return out;
}

/** Installs (or updates) our templates for `dataset`, extending Elastic's stack templates where the cluster has them. */
export async function setupElasticsearch(
  client: EsClient,
  options: { dataset: string; progress?: (line: string) => void; onCluster?: (cluster: ClusterInfo, stack: SetupResult['stack']) => void },
): Promise<SetupResult> {
  const cluster = await identifyCluster(client);
  const stack = await readStackTemplates(client);
  const found = { ecs: stack.logs !== undefined, otel: stack.logsOtel !== undefined };
  options.onCluster?.(cluster, found);
  const objects = await applyTemplates(client, planTemplates(options.dataset, stack), options.progress);
  return { cluster, stack: found, objects };
}
