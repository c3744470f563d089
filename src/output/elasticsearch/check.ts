/**
 * `check elasticsearch`: are our templates in place and current, which of our data streams (or
 * indices) exist, how many documents each holds, when the newest arrived, and whether the source
 * address is mapped as `ip` (a stream created before `setup` has dynamic mappings, where CIDR
 * queries find nothing). Every finding is one line starting `OK` or `PROBLEM`, and the last line
 * is the verdict, so a troubleshooting guide can quote them.
 */
import type { EsClient } from './es-client.js';
import { call, type RequestPurpose } from './es-errors.js';
import { dataStreamPattern, type EsMappingMode } from './index-templates.js';
import { compareTemplates, identifyCluster, type ClusterInfo, type ObjectState } from './setup.js';

const READ: RequestPurpose = { what: `read our data streams`, privilege: 'the index privileges read and view_index_metadata on logs-iptables.log*' };

/** One data stream or plain index that matches our patterns. */
export interface StreamReport {
  name: string;
  mode: EsMappingMode;
  /** A plain index is what the exporter's first document created when no template was there. */
  kind: 'data_stream' | 'index';
  documents: number;
  /** ISO time of the newest document's `@timestamp`, when there is one and it reads as a date. */
  newest?: string;
  /** The mapped type of the source address field (`source.ip` in ecs mode, `attributes.source.address` in otel mode), when mapped. */
  sourceAddressType?: string;
}

/** What check found. */
export interface CheckReport {
  cluster: ClusterInfo;
  templates: Array<{ kind: string; name: string; state: ObjectState }>;
  streams: StreamReport[];
  /** `OK ...` and `PROBLEM ...` lines, then `VERDICT ...`. */
  lines: string[];
  /** True when no line is a PROBLEM. */
  ok: boolean;
}

/** The field that must be `ip` for CIDR queries, per mode. */
export function sourceAddressField(mode: EsMappingMode): string {
  return mode === 'ecs' ? 'source.ip' : 'attributes.source.address';
}

function modeOf(name: string, dataset: string): EsMappingMode {
  return name.startsWith(`logs-${dataset}.otel-`) ? 'otel' : 'ecs';
}

/** `@timestamp` as ISO text: the field API formats dates; epoch-millisecond strings are read too. */
function isoTime(v: unknown): string | undefined {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v))) {
    const d = new Date(Number(v));
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  if (typeof v === 'string') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

async function streamReport(client: EsClient, name: string, mode: EsMappingMode, kind: StreamReport['kind']): Promise<StreamReport> {
  const target = encodeURIComponent(name);
  const count = await call(client, 'GET', `/${target}/_count`, READ);
  const documents = (count.json as { count?: number }).count ?? 0;
  const report: StreamReport = { name, mode, kind, documents };
  if (documents > 0) {
    // unmapped_type: a stream whose @timestamp was never mapped still answers (no sort error).
    const newest = await call(
      client,
      'POST',
      `/${target}/_search`,
      READ,
      { size: 1, sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }], _source: ['@timestamp'], fields: ['@timestamp'] },
      (s) => s < 500 && s !== 401 && s !== 403,
    );
    const hit = (newest.json as { hits?: { hits?: Array<{ _source?: Record<string, unknown>; fields?: Record<string, unknown[]> }> } }).hits?.hits?.[0];
    const t = isoTime(hit?.fields?.['@timestamp']?.[0]) ?? isoTime(hit?._source?.['@timestamp']);
    if (t !== undefined) report.newest = t;
  }
  const field = sourceAddressField(mode);
  const mapping = await call(client, 'GET', `/${target}/_mapping/field/${encodeURIComponent(field)}`, READ);
  for (const idx of Object.values((mapping.json as Record<string, { mappings?: Record<string, { mapping?: Record<string, { type?: string }> }> }>) ?? {})) {
    const m = idx.mappings?.[field]?.mapping;
    const type = m ? Object.values(m)[0]?.type : undefined;
    if (type !== undefined) report.sourceAddressType = type;
  }
  return report;
}

/**
 * Our data streams, and the plain indices that match our patterns (created by a first document
 * before the templates existed), through `_resolve/index` (the minimal distribution has no
 * `_data_stream` API).
 */
export async function resolveOurs(client: EsClient, dataset: string): Promise<{ dataStreams: string[]; plainIndices: string[] }> {
  const patterns = (['ecs', 'otel'] as const).map((m) => dataStreamPattern(dataset, m));
  const resolved = await call(client, 'GET', `/_resolve/index/${patterns.map(encodeURIComponent).join(',')}?expand_wildcards=all`, READ);
  const r = resolved.json as { indices?: Array<{ name: string; data_stream?: string }>; data_streams?: Array<{ name: string }> };
  return {
    dataStreams: (r.data_streams ?? []).map((d) => d.name).sort(),
    plainIndices: (r.indices ?? []).filter((i) => i.data_stream === undefined).map((i) => i.name).sort(),
  };
}

/** Runs every check for `dataset`; never throws for a finding, only for an unreachable or refusing cluster. */
export async function checkElasticsearch(client: EsClient, options: { dataset: string }): Promise<CheckReport> {
  const { dataset } = options;
  const lines: string[] = [];
  let problems = 0;
  const ok = (s: string): void => void lines.push(`OK       ${s}`);
  const problem = (s: string): void => {
    problems++;
    lines.push(`PROBLEM  ${s}`);
  };

  const cluster = await identifyCluster(client);
  ok(`Elasticsearch ${cluster.version} at ${client.endpoint}`);

  const { objects } = await compareTemplates(client, dataset);
  const templates = objects.map(({ want, state }) => ({ kind: want.kind, name: want.name, state }));
  for (const t of templates) {
    const what = `${t.kind.replace('_', ' ')} ${t.name}`;
    if (t.state === 'current') ok(`${what} is installed and current`);
    else if (t.state === 'missing') problem(`${what} is missing: run iptables-otel setup elasticsearch`);
    else problem(`${what} differs from this version's: run iptables-otel setup elasticsearch`);
  }

  const patterns = (['ecs', 'otel'] as const).map((m) => dataStreamPattern(dataset, m));
  const found = await resolveOurs(client, dataset);
  const streams: StreamReport[] = [];
  for (const ds of found.dataStreams) streams.push(await streamReport(client, ds, modeOf(ds, dataset), 'data_stream'));
  for (const idx of found.plainIndices) streams.push(await streamReport(client, idx, modeOf(idx, dataset), 'index'));

  for (const s of streams) {
    const field = sourceAddressField(s.mode);
    const docs = `${s.documents} document${s.documents === 1 ? '' : 's'}${s.newest !== undefined ? `, newest ${s.newest}` : ''}`;
    if (s.kind === 'index') {
      problem(
        `${s.name} is a plain index, not a data stream (${docs}): it was created before setup elasticsearch ran, and keeps its dynamic mappings (${field}: ${s.sourceAddressType ?? 'unmapped'}). Delete it (or move its documents) so the next document creates the data stream`,
      );
      continue;
    }
    if (s.sourceAddressType !== undefined && s.sourceAddressType !== 'ip') {
      problem(`data stream ${s.name} (${s.mode} mode): ${field} is mapped as ${s.sourceAddressType}, not ip: CIDR queries find nothing (${docs}). Roll it over after setup elasticsearch: POST /${s.name}/_rollover`);
      continue;
    }
    ok(`data stream ${s.name} (${s.mode} mode): ${docs}`);
  }
  const total = streams.reduce((n, s) => n + s.documents, 0);
  if (total === 0) {
    problem(
      `no documents in ${patterns.join(' or ')}: is the Collector running and sending? Look at its metric otelcol_elasticsearch_docs_processed{outcome="failed_client"} (documents Elasticsearch rejected) and its log`,
    );
  }
  lines.push(problems === 0 ? `VERDICT  OK: templates current, ${total} documents` : `VERDICT  ${problems} problem${problems === 1 ? '' : 's'}`);
  return { cluster, templates, streams, lines, ok: problems === 0 };
}
