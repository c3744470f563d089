/**
 * THE queries docs/elastic.md shows, one list per mapping mode, each as the KQL a Kibana user
 * types and the query DSL the e2e test (test/e2e/search-engine-e2e.test.ts) sends to a real
 * Elasticsearch, plus the rule that says which records it must return. The doc shows the same
 * KQL and DSL: the e2e test checks that the doc's `kql` blocks hold exactly these queries and
 * that it shows each one's DSL.
 *
 * KQL is a Kibana language: Elasticsearch's API does not take it. Each entry's `dsl` is the
 * equivalent query DSL: `field : "value"` on a keyword, ip or numeric field is a `term` query (a
 * CIDR value on an `ip` field matches the network), on a text field a `match_phrase`, and `and`
 * is a `bool` filter.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { AttributeValue } from '../../src/mapping/record.js';

/** The Elasticsearch mapping modes the collector-configs use. */
export type MappingMode = 'ecs' | 'otel';

/** The attributes and body of one record, as the parser produced it (the test's model). */
export interface ModelRecord {
  attributes: Readonly<Record<string, AttributeValue>>;
  body: string;
}

/** One documented query. */
export interface DocumentedQuery {
  /** Short name, used in test titles and the report. */
  id: string;
  /** What the query is for, one line (the doc's wording). */
  title: string;
  /** The index pattern it runs on (a Kibana data view). */
  index: string;
  /** What the user types in Discover's KQL bar. */
  kql: string;
  /** The same query in the query DSL (the `query` of a `_search` / `_count` body). */
  dsl: Record<string, unknown>;
  /** Whether the query must return the document made from this record. */
  matches(r: ModelRecord): boolean;
}

/** The network the CIDR queries ask for (the corpus and the bench mix both send from it). */
export const CIDR_V4 = '192.0.2.0/24';
/** The IPv6 documentation prefix (the corpus' IPv6 lines). */
export const CIDR_V6 = '2001:db8::/32';

const net4 = new BlockList();
net4.addSubnet('192.0.2.0', 24, 'ipv4');
const net6 = new BlockList();
net6.addSubnet('2001:db8::', 32, 'ipv6');

/** Whether `addr` (canonical text) lies in `block`. */
function inBlock(block: BlockList, addr: AttributeValue | undefined): boolean {
  if (typeof addr !== 'string') return false;
  if (isIPv4(addr)) return block.check(addr, 'ipv4');
  if (isIPv6(addr)) return block.check(addr, 'ipv6');
  return false;
}

const term = (field: string, value: string | number): Record<string, unknown> => ({ term: { [field]: value } });
const and = (...filters: Array<Record<string, unknown>>): Record<string, unknown> => ({ bool: { filter: filters } });
const a = (r: ModelRecord, name: string): AttributeValue | undefined => r.attributes[name];
const has = (v: AttributeValue | undefined, want: string): boolean => Array.isArray(v) && (v as unknown[]).includes(want);
/** `DPT=22` as a phrase of the standard analyzer's tokens (`dpt`, `22`): not DPT=220, not xDPT=22. */
const DPT22 = /(?:^|[^\p{L}\p{N}_])DPT=22(?![\p{L}\p{N}_.])/iu;

/**
 * ecs mode (elastic-self-managed-ecs.yaml, elastic-cloud-ecs.yaml): documents in
 * `logs-iptables.log-<namespace>`, ECS names at the top level, `source.ip` added by the
 * transform. The first query is the seed's validation step, verbatim.
 */
export const ECS_QUERIES: readonly DocumentedQuery[] = [
  {
    id: 'dataset',
    title: "The seed's validation step: Discover on logs-*, every iptables-otel document",
    index: 'logs-*',
    kql: 'data_stream.dataset : "iptables.log"',
    dsl: term('data_stream.dataset', 'iptables.log'),
    matches: (r) => a(r, 'data_stream.dataset') === 'iptables.log',
  },
  {
    id: 'cidr-v4',
    title: 'Everything sent from one IPv4 network (CIDR on an ip field)',
    index: 'logs-*',
    kql: `event.dataset : "iptables.log" and source.ip : "${CIDR_V4}"`,
    dsl: and(term('event.dataset', 'iptables.log'), term('source.ip', CIDR_V4)),
    matches: (r) => a(r, 'event.dataset') === 'iptables.log' && inBlock(net4, a(r, 'source.address')),
  },
  {
    id: 'cidr-v6',
    title: 'Everything sent from one IPv6 prefix',
    index: 'logs-*',
    kql: `source.ip : "${CIDR_V6}"`,
    dsl: term('source.ip', CIDR_V6),
    matches: (r) => inBlock(net6, a(r, 'source.address')),
  },
  {
    id: 'port-action',
    title: 'Dropped SSH attempts',
    index: 'logs-*',
    kql: 'destination.port : 22 and event.action : "iptables-dropped"',
    dsl: and(term('destination.port', 22), term('event.action', 'iptables-dropped')),
    matches: (r) => a(r, 'destination.port') === 22 && a(r, 'event.action') === 'iptables-dropped',
  },
  {
    id: 'prefix',
    title: 'One rule, by its log prefix',
    index: 'logs-*',
    kql: 'iptables.log_prefix : "iptables-dropped:"',
    dsl: term('iptables.log_prefix', 'iptables-dropped:'),
    matches: (r) => a(r, 'iptables.log_prefix') === 'iptables-dropped:',
  },
  {
    id: 'message',
    title: 'Free text in the original line',
    index: 'logs-*',
    kql: 'message : "DPT=22"',
    dsl: { match_phrase: { message: 'DPT=22' } },
    matches: (r) => DPT22.test(r.body),
  },
];

/**
 * otel mode (elastic-self-managed-otel.yaml, elastic-cloud-otel.yaml, gateway.yaml): documents
 * in `logs-iptables.log.otel-<namespace>`, attributes under `attributes.*`, which the
 * passthrough mapping makes queryable without the prefix.
 */
export const OTEL_QUERIES: readonly DocumentedQuery[] = [
  {
    id: 'dataset',
    title: 'Every iptables-otel document (otel mode appends .otel to the dataset)',
    index: 'logs-*',
    kql: 'data_stream.dataset : "iptables.log.otel"',
    dsl: term('data_stream.dataset', 'iptables.log.otel'),
    matches: () => true,
  },
  {
    id: 'cidr-v4',
    title: 'Everything sent from one IPv4 network (CIDR on an ip field)',
    index: 'logs-*',
    kql: `source.address : "${CIDR_V4}"`,
    dsl: term('source.address', CIDR_V4),
    matches: (r) => inBlock(net4, a(r, 'source.address')),
  },
  {
    id: 'cidr-v6',
    title: 'Everything sent from one IPv6 prefix',
    index: 'logs-*',
    kql: `source.address : "${CIDR_V6}"`,
    dsl: term('source.address', CIDR_V6),
    matches: (r) => inBlock(net6, a(r, 'source.address')),
  },
  {
    id: 'host-port',
    title: 'One source host and destination port',
    index: 'logs-*',
    kql: 'source.address : "192.0.2.2" and destination.port : 22',
    dsl: and(term('source.address', '192.0.2.2'), term('destination.port', 22)),
    matches: (r) => a(r, 'source.address') === '192.0.2.2' && a(r, 'destination.port') === 22,
  },
  {
    id: 'prefix',
    title: 'One rule, by its log prefix',
    index: 'logs-*',
    kql: 'iptables.log_prefix : "iptables-dropped:"',
    dsl: term('iptables.log_prefix', 'iptables-dropped:'),
    matches: (r) => a(r, 'iptables.log_prefix') === 'iptables-dropped:',
  },
  {
    id: 'action-flags',
    title: 'Dropped TCP SYNs',
    index: 'logs-*',
    kql: 'event.action : "iptables-dropped" and iptables.tcp.flags : "SYN"',
    dsl: and(term('event.action', 'iptables-dropped'), term('iptables.tcp.flags', 'SYN')),
    matches: (r) => a(r, 'event.action') === 'iptables-dropped' && has(a(r, 'iptables.tcp.flags'), 'SYN'),
  },
  {
    id: 'message',
    title: 'Free text in the original line',
    index: 'logs-*',
    kql: 'body.text : "DPT=22"',
    dsl: { match_phrase: { 'body.text': 'DPT=22' } },
    matches: (r) => DPT22.test(r.body),
  },
];

/** The documented queries of `mode`. */
export function documentedQueries(mode: MappingMode): readonly DocumentedQuery[] {
  return mode === 'ecs' ? ECS_QUERIES : OTEL_QUERIES;
}

/**
 * The fields the seed's validation step looks for in Discover (ecs mode), each with the record
 * attribute it comes from (`message` is the body; `source.ip` is the transform's copy of
 * `source.address`).
 */
export const SEED_FIELDS: ReadonlyArray<{ field: string; from: string }> = [
  { field: 'event.dataset', from: 'event.dataset' },
  { field: 'source.ip', from: 'source.address' },
  { field: 'destination.port', from: 'destination.port' },
  { field: 'iptables.log_prefix', from: 'iptables.log_prefix' },
  { field: 'message', from: '(body)' },
];
