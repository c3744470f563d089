/**
 * Golden output of OtlpProtobufEncoder: the encoder is optimised by hand, and its bytes must not
 * change by a single bit. Two guards (the sets are in test/helpers/golden-protobuf.ts):
 *
 * 1. Pinned digests (test/corpus/golden/otlp-protobuf.json: SHA-256 and length per set) of the
 *    requests for fixed inputs: the synthetic sample records, edge-value records, and the kernel
 *    corpus parsed with a fixed clock. A stale or missing pin fails, the parsed sets included: when
 *    the parser's output changes on purpose, `npm run golden` regenerates both goldens.
 * 2. Byte-for-byte comparison with a frozen copy of the encoder as it was before the rewrite
 *    (otlp-protobuf-reference.ts) on the whole corpus, the parser's golden records, the benchmark
 *    mix and random records (fast-check).
 *
 * On a mismatch the test prints the first differing record, decoded, field by field.
 *
 * Regenerate the digests (only when a wire change is intended; never in CI), then review the diff:
 *   npm run golden
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { OtlpProtobufEncoder } from '../../../src/output/otlp-protobuf.js';
import { itRefusesUpdateGolden, readGolden } from '../../helpers/golden.js';
import {
  DIFFERENTIAL,
  digest,
  DOUBLE_KEYS,
  GOLDEN_FILE,
  PINNED,
  ReferenceEncoder,
  RESOURCE,
  run,
  SCOPE,
  type GoldenEntry,
} from '../../helpers/golden-protobuf.js';
import { decodeProtobufRequest, type NormRecord } from '../../helpers/otlp-sink.js';

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

describe('OtlpProtobufEncoder golden output', () => {
  itRefusesUpdateGolden();

  it('matches the pinned digests', () => {
    const golden = JSON.parse(readGolden(GOLDEN_FILE)) as Record<string, GoldenEntry>;
    const failures: string[] = [];
    for (const set of PINNED) {
      expect(set.records.length, set.name).toBeGreaterThan(0);
      const actual = run(set, OtlpProtobufEncoder);
      const got = digest(actual);
      const want = golden[set.name];
      if (!want) {
        failures.push(`${set.name}: no pinned digest (run \`npm run golden\`)`);
        continue;
      }
      if (got.sha256 !== want.sha256 || got.bytes !== want.bytes || got.count !== want.count) {
        const reference = run(set, ReferenceEncoder);
        const refMatches = digest(reference).sha256 === want.sha256;
        const why = refMatches
          ? explain(actual, reference)
          : set.parsed
            ? "the frozen reference no longer matches the pin either: the parser's output changed (if intended, `npm run golden` and review both goldens)"
            : 'the frozen reference no longer matches the pin either: the input records changed';
        failures.push(`${set.name}: digest ${got.sha256} (${got.bytes} B, ${got.count} requests), pinned ${want.sha256} (${want.bytes} B, ${want.count})\n${why}`);
      }
    }
    expect(Object.keys(golden).sort(), 'pinned sets').toEqual(PINNED.map((s) => s.name).sort());
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
