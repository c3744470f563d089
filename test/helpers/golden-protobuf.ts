/**
 * The golden output of OtlpProtobufEncoder, computed: the request digests that
 * test/unit/output/otlp-protobuf-golden.test.ts compares with test/corpus/golden/otlp-protobuf.json
 * and that `npm run golden` (scripts/update-golden.mjs) writes there, and the sets compared with
 * the frozen reference encoder (test/unit/output/otlp-protobuf-reference.ts).
 *
 * Pinned sets: the synthetic sample records, edge-value records (non-ASCII, long strings, every
 * value type, missing values, double keys), and the kernel corpus parsed with a fixed clock (those
 * change when the parser's output does: regenerate both goldens together, `npm run golden`).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { makeBenchLines } from '../../bench/parse-mix.js';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import type { AttributeValue, FirewallLogRecord } from '../../src/mapping/record.js';
import { OtlpProtobufEncoder } from '../../src/output/otlp-protobuf.js';
import { OtlpProtobufEncoder as ReferenceEncoder } from '../unit/output/otlp-protobuf-reference.js';
import { sampleRecord } from '../unit/output/sample-records.js';
import { corpusDir, FULL_CASE, lines, PLAIN_CASE, type ParseCase } from './parser-corpus.js';

export const GOLDEN_FILE = path.join(corpusDir, 'golden', 'otlp-protobuf.json');
export { ReferenceEncoder };

export const RESOURCE = {
  'service.name': 'iptables-otel',
  'service.version': '0.1.0',
  'host.name': 'golden-host',
  'telemetry.sdk.language': 'nodejs',
  'process.pid': 4242,
  'x.ratio': 0.5,
  'x.flag': true,
  'x.ünïcode': 'välue ✓',
};
export const SCOPE = { name: 'iptables-otel', version: '0.1.0' };
export const DOUBLE_KEYS = ['sample.ratio', 'iptables.kernel_uptime', 'ints', 'dbl'];

const PLAIN = PLAIN_CASE;
/** The full option set with this test's own prefix rule. */
const FULL: ParseCase = {
  options: { ...FULL_CASE.options, prefixRules: [{ match: 'DROP', action: 'golden-drop', ruleName: 'golden rule' }] },
  ctx: FULL_CASE.ctx,
};

function parsed(ls: readonly string[], set: ParseCase): FirewallLogRecord[] {
  return ls.map((l) => parseFrame(l, set.ctx, set.options));
}

/** Records at the edges of every writer path: lengths 127/128/16383/16384, non-ASCII, every type. */
function edgeRecords(): FirewallLogRecord[] {
  const out: FirewallLogRecord[] = [];
  const strings = [
    '', 'a', 'é', '€', '𝄞', '\u0000', '\u007f', '\u0080', '\u00ff', '\u0100', '\ud800', 'a\udc00b',
    'x'.repeat(115), 'x'.repeat(116), 'x'.repeat(117), 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(200),
    'é'.repeat(63), 'é'.repeat(64), 'x'.repeat(16_383), 'x'.repeat(16_384), 'ab€'.repeat(6000), 'ascii then ü',
  ];
  const numbers = [
    0, -0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
    2 ** 35, 2 ** 49, Number.MAX_SAFE_INTEGER, -1, -128, -(2 ** 31), -(2 ** 32), Number.MIN_SAFE_INTEGER, 0.5, -0.25,
    1234.56789, 1e-300, NaN, Infinity, -Infinity, 2 ** 62, -(2 ** 63),
  ];
  // Integers outside int64 (|n| >= 2^63) are left out: the old encoder wrote them as wrapped or
  // overlong varints, the new one as doubles (see otlp-protobuf.test.ts).
  let i = 0;
  for (const s of strings) {
    out.push({
      observedTimestamp: [1_795_700_000 + i, i * 7919],
      severityNumber: i % 25,
      severityText: i % 3 === 0 ? undefined : i % 3 === 1 ? '' : 'wärning',
      body: s,
      attributes: { s, [`k${s.slice(0, 130)}`]: s, arr: [s, s, ''], 'k€y': 'v', n: i },
    });
    i++;
  }
  for (const n of numbers) {
    out.push({
      timestamp: [i * 1000, 999_999_999],
      observedTimestamp: [2 ** 33 + i, 0],
      severityNumber: 9,
      body: 'n',
      attributes: { n, dbl: n, ints: [n, 1, -1], mixed: [1, 0.5], t: true, f: false, e: [], u: undefined as unknown as AttributeValue, z: null as unknown as AttributeValue, after: 'x' },
    });
    i++;
  }
  // A key of 128+ bytes and a KeyValue whose length needs 2 bytes with a short value.
  out.push({ observedTimestamp: [1, 2], severityNumber: 0, body: '', attributes: { ['k'.repeat(130)]: 'v', ['k'.repeat(120)]: 5, ['k'.repeat(124)]: 'abc' } });
  // A record over 16 KiB (3-byte length) and one just under.
  out.push({ observedTimestamp: [1, 2], severityNumber: 1, body: 'b'.repeat(16_360), attributes: {} });
  out.push({ observedTimestamp: [1, 2], severityNumber: 1, body: 'b'.repeat(16_370), attributes: {} });
  return out;
}

export interface GoldenEntry {
  /** Requests. */
  count: number;
  bytes: number;
  sha256: string;
}

export interface GoldenSet {
  name: string;
  records: FirewallLogRecord[];
  doubleKeys?: string[];
  batch?: number;
  /** Input comes from the parser: the pin changes when the parser's output does. */
  parsed?: boolean;
}

/** Encode `records` in batches of `batch`, all requests concatenated with their lengths. */
export function encodeAll(enc: { encode(r: readonly FirewallLogRecord[]): Uint8Array }, records: FirewallLogRecord[], batch: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; i += batch) out.push(Buffer.from(enc.encode(records.slice(i, i + batch))));
  return out;
}

export function digest(parts: Buffer[]): GoldenEntry & { count: number } {
  const h = createHash('sha256');
  let bytes = 0;
  for (const p of parts) {
    h.update(p);
    bytes += p.length;
  }
  return { count: parts.length, bytes, sha256: h.digest('hex') };
}

const kernelLog = lines(path.join(corpusDir, 'kernel.log'));
const kernelKmsg = lines(path.join(corpusDir, 'kernel.kmsg'));
const kernelUlogd = lines(path.join(corpusDir, 'kernel-ulogd.log'));

const synthetic = [
  ...Array.from({ length: 300 }, (_, i) => sampleRecord(i)),
  ...Array.from({ length: 20 }, (_, i) => sampleRecord(1000 + i, { withTime: false })),
];

/** Sets whose digests are pinned. */
export const PINNED: GoldenSet[] = [
  { name: 'sample-records', records: synthetic, batch: 64 },
  { name: 'sample-records/one-per-request', records: synthetic.slice(0, 40), batch: 1 },
  { name: 'sample-records/double-keys', records: synthetic.slice(0, 100), batch: 100, doubleKeys: DOUBLE_KEYS },
  { name: 'edge-values', records: edgeRecords(), batch: 7 },
  { name: 'edge-values/double-keys', records: edgeRecords(), batch: 500, doubleKeys: DOUBLE_KEYS },
  { name: 'kernel.log/plain', records: parsed(kernelLog, PLAIN), batch: 16, parsed: true },
  { name: 'kernel.log/full', records: parsed(kernelLog, FULL), batch: 512, parsed: true },
];

function parserGoldenRecords(): FirewallLogRecord[] {
  const file = path.join(corpusDir, 'golden', 'parse-records.jsonl');
  // lines() throws when the file is missing: an empty set would compare nothing.
  return lines(file).map((l) => {
    const { record } = JSON.parse(l) as { record: FirewallLogRecord & { keys?: unknown } };
    delete record.keys;
    return record;
  });
}

/** Sets compared with the frozen reference only. */
export const DIFFERENTIAL: GoldenSet[] = [
  { name: 'kernel.kmsg/plain', records: parsed(kernelKmsg, PLAIN) },
  { name: 'kernel.kmsg/full', records: parsed(kernelKmsg, FULL) },
  { name: 'kernel-ulogd.log/plain', records: parsed(kernelUlogd, PLAIN) },
  { name: 'kernel-ulogd.log/full', records: parsed(kernelUlogd, FULL), doubleKeys: DOUBLE_KEYS },
  { name: 'parse-records.jsonl', records: parserGoldenRecords(), batch: 37 },
  { name: 'bench-mix-3000', records: parsed(makeBenchLines(3000), FULL), batch: 512 },
];

export function run(set: GoldenSet, Enc: typeof OtlpProtobufEncoder | typeof ReferenceEncoder): Buffer[] {
  // A small initial buffer: growth is part of what must not change the bytes.
  const enc = new Enc(RESOURCE, SCOPE, { doubleKeys: set.doubleKeys, initialSize: 64 });
  return encodeAll(enc, set.records, set.batch ?? 128);
}

/**
 * The digests to pin: the frozen reference encoder's, per pinned set. `disagreements` lists the sets
 * where the current encoder's bytes differ from the reference's (then nothing should be pinned).
 */
export function pinnedDigests(): { digests: Record<string, GoldenEntry>; disagreements: string[] } {
  const digests: Record<string, GoldenEntry> = {};
  const disagreements: string[] = [];
  for (const set of PINNED) {
    if (set.records.length === 0) throw new Error(`${set.name}: no records`);
    const ref = digest(run(set, ReferenceEncoder));
    const got = digest(run(set, OtlpProtobufEncoder));
    digests[set.name] = ref;
    if (got.sha256 !== ref.sha256 || got.bytes !== ref.bytes) disagreements.push(set.name);
  }
  return { digests, disagreements };
}
