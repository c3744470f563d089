/**
 * Golden output of OtlpProtobufEncoder: the encoder is optimised by hand, and its bytes must not
 * change by a single bit. Two guards:
 *
 * 1. Pinned digests (test/corpus/golden/otlp-protobuf.json: SHA-256 and length per set) of the
 *    requests for fixed inputs: the synthetic sample records, edge-value records (non-ASCII, long
 *    strings, every value type, missing values, double keys), and the kernel corpus parsed with a
 *    fixed clock. The parsed sets depend on the parser, which may change on purpose: when the
 *    frozen reference encoder no longer matches a pinned parsed digest either, that digest is
 *    skipped with a note (guard 2 still runs on the new input).
 * 2. Byte-for-byte comparison with a frozen copy of the encoder as it was before the rewrite
 *    (otlp-protobuf-reference.ts) on the whole corpus, the parser's golden records, the benchmark
 *    mix and random records (fast-check).
 *
 * On a mismatch the test prints the first differing record, decoded, field by field.
 *
 * Regenerate the digests (only when a wire change is intended):
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/output/otlp-protobuf-golden.test.ts
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeBenchLines } from '../../../bench/parse-mix.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { AttributeValue, FirewallLogRecord } from '../../../src/mapping/record.js';
import { OtlpProtobufEncoder } from '../../../src/output/otlp-protobuf.js';
import { decodeProtobufRequest, type NormRecord } from '../../helpers/otlp-sink.js';
import { repoRoot } from '../../helpers/paths.js';
import { FULL_CASE, lines, PLAIN_CASE, type ParseCase } from '../../helpers/parser-corpus.js';
import { OtlpProtobufEncoder as ReferenceEncoder } from './otlp-protobuf-reference.js';
import { sampleRecord } from './sample-records.js';

const corpusDir = path.join(repoRoot, 'test', 'corpus');
const GOLDEN_FILE = path.join(corpusDir, 'golden', 'otlp-protobuf.json');
const update = process.env.UPDATE_GOLDEN === '1';

const RESOURCE = {
  'service.name': 'iptables-otel',
  'service.version': '0.1.0',
  'host.name': 'golden-host',
  'telemetry.sdk.language': 'nodejs',
  'process.pid': 4242,
  'x.ratio': 0.5,
  'x.flag': true,
  'x.ünïcode': 'välue ✓',
};
const SCOPE = { name: 'iptables-otel', version: '0.1.0' };
const DOUBLE_KEYS = ['sample.ratio', 'iptables.kernel_uptime', 'ints', 'dbl'];

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

interface GoldenEntry {
  /** Requests. */
  count: number;
  bytes: number;
  sha256: string;
}

interface GoldenSet {
  name: string;
  records: FirewallLogRecord[];
  doubleKeys?: string[];
  batch?: number;
  /** Input comes from the parser: a pinned digest is skipped when the reference no longer matches it. */
  parsed?: boolean;
}

/** Encode `records` in batches of `batch`, all requests concatenated with their lengths. */
function encodeAll(enc: { encode(r: readonly FirewallLogRecord[]): Uint8Array }, records: FirewallLogRecord[], batch: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; i += batch) out.push(Buffer.from(enc.encode(records.slice(i, i + batch))));
  return out;
}

function digest(parts: Buffer[]): GoldenEntry & { count: number } {
  const h = createHash('sha256');
  let bytes = 0;
  for (const p of parts) {
    h.update(p);
    bytes += p.length;
  }
  return { count: parts.length, bytes, sha256: h.digest('hex') };
}

function fieldDiff(a: NormRecord, b: NormRecord): string[] {
  const out: string[] = [];
  for (const f of Object.keys(a) as (keyof NormRecord)[]) {
    if (f === 'attributes') continue;
    if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) out.push(`${f}: expected ${JSON.stringify(b[f])}, got ${JSON.stringify(a[f])}`);
  }
  const ka = Object.keys(a.attributes);
  const kb = Object.keys(b.attributes);
  if (ka.join('\n') !== kb.join('\n')) out.push(`attribute keys: expected ${JSON.stringify(kb)}, got ${JSON.stringify(ka)}`);
  for (const k of new Set([...ka, ...kb])) {
    const x = JSON.stringify(a.attributes[k]);
    const y = JSON.stringify(b.attributes[k]);
    if (x !== y) out.push(`attributes[${JSON.stringify(k)}]: expected ${y}, got ${x}`);
  }
  return out;
}

/** A readable account of how `actual` differs from `expected` (requests), for the failure message. */
function explain(actual: Buffer[], expected: Buffer[]): string {
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    const a = actual[i];
    const b = expected[i];
    if (a && b && a.equals(b)) continue;
    if (!a || !b) return `request ${i}: present in only one of the two outputs`;
    let at = 0;
    while (at < a.length && at < b.length && a[at] === b[at]) at++;
    const head = `request ${i}: ${a.length} bytes, expected ${b.length}; first difference at byte ${at}`;
    let da: NormRecord[];
    let db: NormRecord[];
    try {
      da = decodeProtobufRequest(a);
      db = decodeProtobufRequest(b);
    } catch (e) {
      return `${head}; the actual request does not decode: ${String(e)}`;
    }
    for (let r = 0; r < Math.max(da.length, db.length); r++) {
      const x = da[r];
      const y = db[r];
      if (!x || !y) return `${head}; record ${r} present in only one output`;
      const d = fieldDiff(x, y);
      if (d.length > 0) return `${head}; record ${r}:\n  ${d.slice(0, 20).join('\n  ')}`;
    }
    return `${head}; the decoded records are equal (a non-canonical encoding: lengths, varints or field order)`;
  }
  return 'equal';
}

const kernelLog = lines(path.join(corpusDir, 'kernel.log'));
const kernelKmsg = lines(path.join(corpusDir, 'kernel.kmsg'));
const kernelUlogd = lines(path.join(corpusDir, 'kernel-ulogd.log'));

const synthetic = [
  ...Array.from({ length: 300 }, (_, i) => sampleRecord(i)),
  ...Array.from({ length: 20 }, (_, i) => sampleRecord(1000 + i, { withTime: false })),
];

/** Sets whose digests are pinned. */
const PINNED: GoldenSet[] = [
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
  if (!existsSync(file)) return [];
  return lines(file).map((l) => {
    const { record } = JSON.parse(l) as { record: FirewallLogRecord & { keys?: unknown } };
    delete record.keys;
    return record;
  });
}

/** Sets compared with the frozen reference only. */
const DIFFERENTIAL: GoldenSet[] = [
  { name: 'kernel.kmsg/plain', records: parsed(kernelKmsg, PLAIN) },
  { name: 'kernel.kmsg/full', records: parsed(kernelKmsg, FULL) },
  { name: 'kernel-ulogd.log/plain', records: parsed(kernelUlogd, PLAIN) },
  { name: 'kernel-ulogd.log/full', records: parsed(kernelUlogd, FULL), doubleKeys: DOUBLE_KEYS },
  { name: 'parse-records.jsonl', records: parserGoldenRecords(), batch: 37 },
  { name: 'bench-mix-3000', records: parsed(makeBenchLines(3000), FULL), batch: 512 },
];

function run(set: GoldenSet, Enc: typeof OtlpProtobufEncoder | typeof ReferenceEncoder): Buffer[] {
  // A small initial buffer: growth is part of what must not change the bytes.
  const enc = new Enc(RESOURCE, SCOPE, { doubleKeys: set.doubleKeys, initialSize: 64 });
  return encodeAll(enc, set.records, set.batch ?? 128);
}

describe('OtlpProtobufEncoder golden output', () => {
  const golden: Record<string, GoldenEntry> = existsSync(GOLDEN_FILE)
    ? (JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, GoldenEntry>)
    : {};

  it('matches the pinned digests', () => {
    const next: Record<string, GoldenEntry> = {};
    const failures: string[] = [];
    for (const set of PINNED) {
      expect(set.records.length, set.name).toBeGreaterThan(0);
      const actual = run(set, OtlpProtobufEncoder);
      const reference = run(set, ReferenceEncoder);
      const got = digest(actual);
      const ref = digest(reference);
      next[set.name] = ref;
      const want = golden[set.name];
      if (update) continue;
      if (!want) {
        failures.push(`${set.name}: no pinned digest (run with UPDATE_GOLDEN=1)`);
        continue;
      }
      if (set.parsed && ref.sha256 !== want.sha256) {
        console.warn(`${set.name}: the parser's output changed (the frozen reference no longer matches the pin); compared with the reference only`);
        if (got.sha256 !== ref.sha256) failures.push(`${set.name}: ${explain(actual, reference)}`);
        continue;
      }
      if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) {
        failures.push(`${set.name}: digest ${got.sha256} (${got.bytes} B), pinned ${want.sha256} (${want.bytes} B)\n${explain(actual, reference)}`);
      }
    }
    if (update) {
      writeFileSync(GOLDEN_FILE, JSON.stringify(next, null, 2) + '\n');
      return;
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('is byte-identical to the frozen reference encoder on the corpus, the parser golden records and the bench mix', () => {
    for (const set of [...PINNED, ...DIFFERENTIAL]) {
      const actual = run(set, OtlpProtobufEncoder);
      const reference = run(set, ReferenceEncoder);
      const same = actual.length === reference.length && actual.every((b, i) => b.equals(reference[i]!));
      expect(same, `${set.name}: ${explain(actual, reference)}`).toBe(true);
    }
  });

  it('is byte-identical to the frozen reference encoder on random records, reusing one encoder (property)', () => {
    const enc = new OtlpProtobufEncoder(RESOURCE, SCOPE, { initialSize: 32 });
    const ref = new ReferenceEncoder(RESOURCE, SCOPE, { initialSize: 32 });
    const encD = new OtlpProtobufEncoder(RESOURCE, SCOPE, { doubleKeys: DOUBLE_KEYS });
    const refD = new ReferenceEncoder(RESOURCE, SCOPE, { doubleKeys: DOUBLE_KEYS });
    // Few keys and few values, so that the caches see repeats, hits and evictions.
    const key = fc.oneof(
      fc.constantFrom('event.kind', 'source.port', 'network.type', 'related.ip', 'dbl', 'ints', 'k€y', 'iptables.input_device'),
      fc.string({ maxLength: 140 }),
    );
    const str = fc.oneof(
      fc.constantFrom('event', 'tcp', 'udp', 'eth0', '', 'ipv4', 'é', 'x'.repeat(127)),
      fc.string({ maxLength: 300, unit: 'grapheme-ascii' }),
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.string({ maxLength: 130, unit: 'grapheme' }),
    );
    const num = fc.oneof(
      fc.integer({ min: -5, max: 70_000 }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.double().filter((d) => !(Number.isInteger(d) && Math.abs(d) >= 2 ** 63)),
      fc.constantFrom(0, -0, 2 ** 28, 2 ** 32, 2 ** 62, -(2 ** 63)),
    );
    const value: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 4, arbitrary: str },
      { weight: 3, arbitrary: num },
      { weight: 1, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: fc.array(str, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(num, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
    );
    const hr = fc.tuple(fc.integer({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 999_999_999 }));
    const record = fc.record(
      {
        timestamp: hr,
        observedTimestamp: hr,
        severityNumber: fc.integer({ min: 0, max: 24 }),
        severityText: fc.oneof(fc.constantFrom('warning', ''), fc.string({ maxLength: 10 })),
        body: fc.oneof(str, fc.string({ minLength: 100, maxLength: 20_000 })),
        attributes: fc.dictionary(key, value, { maxKeys: 50 }),
      },
      { requiredKeys: ['observedTimestamp', 'severityNumber', 'body', 'attributes'] },
    ) as unknown as fc.Arbitrary<FirewallLogRecord>;
    fc.assert(
      fc.property(fc.array(record, { minLength: 0, maxLength: 12 }), (records) => {
        for (const [a, b] of [[enc, ref], [encD, refD]] as const) {
          const x = Buffer.from(a.encode(records));
          const y = Buffer.from(b.encode(records));
          if (!x.equals(y)) expect.fail(explain([x], [y]));
          const l = a.encodeLeased(records);
          const same = Buffer.from(l.bytes).equals(y);
          l.release();
          if (!same) expect.fail('encodeLeased differs from encode');
        }
      }),
      { numRuns: 400, seed: 20261126 },
    );
  });
});
