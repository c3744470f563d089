/**
 * The golden output of parseFrame, computed: what test/unit/mapping/golden-output.test.ts compares
 * with the committed files under test/corpus/golden/, and what `npm run golden`
 * (scripts/update-golden.mjs) writes there. Every field of every record (attribute insertion order
 * included) for the kernel corpus, the sample lines, the parser benchmark's mix, Elastic's fixture
 * lines, real senders' captures and seeded mutations of all of them, under two option sets, from
 * strings and from Buffers.
 *
 * parse-records.jsonl holds our own lines' records in full (readable diffs); parse-digests.json
 * holds SHA-256 digests for the large and the third-party sets (Elastic's lines are not copied into
 * the repo, only a digest of our output for them).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../../src/mapping/record.js';
import {
  benchLines,
  byteMutations,
  corpusDir,
  EDGE_LINES,
  HOSTILE_LINES,
  fixtureLines,
  FULL_CASE,
  kernelKmsg,
  kernelLog,
  kernelUlogd,
  mutations,
  ours,
  PLAIN_CASE,
  samples,
  type ParseCase,
} from './parser-corpus.js';
export const goldenDir = path.join(corpusDir, 'golden');
export const RECORDS_FILE = path.join(goldenDir, 'parse-records.jsonl');
export const DIGESTS_FILE = path.join(goldenDir, 'parse-digests.json');
/** The digest sets of Elastic's fixtures (present only when ../shared/fixtures is). */
export const FIXTURE_DIGEST_KEYS = ['elastic-fixtures-and-captures/plain', 'elastic-fixtures-and-captures/full'];

const PLAIN = PLAIN_CASE;
const FULL = FULL_CASE;

/** One record as canonical JSON: every field, attributes in insertion order. */
function canonical(r: FirewallLogRecord): string {
  return JSON.stringify({
    timestamp: r.timestamp,
    observedTimestamp: r.observedTimestamp,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: r.body,
    keys: Object.keys(r).sort(),
    attributes: r.attributes,
  });
}

const bench = benchLines();

type Frame = string | Buffer;
/** Sets kept in full in parse-records.jsonl (our own lines only). */
const FULL_SETS: Array<[name: string, frames: Frame[]]> = [
  ['kernel.log', kernelLog],
  ['kernel.kmsg', kernelKmsg],
  ['kernel-ulogd.log', kernelUlogd],
  ['sample-lines', samples],
  ['bench-mix-head', bench.slice(0, 50)],
];
/** Sets kept as digests in parse-digests.json. */
const DIGEST_SETS: Array<[name: string, frames: Frame[]]> = [
  ['edge-values', EDGE_LINES],
  ['bench-mix-20000', bench],
  ['bench-mix-buffers-2000', bench.slice(0, 2000).map((l) => Buffer.from(l, 'utf8'))],
  ['corpus-buffers', ours.map((l) => Buffer.from(l, 'utf8'))],
  ['mutations-ours-20000', mutations(ours, 20_000, 0x1234567)],
  ['mutations-bench-5000', mutations(bench.slice(0, 500), 5_000, 0x7654321)],
  ['byte-mutations-3000', byteMutations([...ours, ...bench.slice(0, 200)], 3_000, 0x2468ace)],
  ['hostile', [...HOSTILE_LINES]],
];

function run(frames: readonly Frame[], cfg: ParseCase): string[] {
  return frames.map((f) => canonical(parseFrame(f, cfg.ctx, cfg.options)));
}

const CONFIGS: Array<[name: string, cfg: typeof PLAIN]> = [
  ['plain', PLAIN],
  ['full', FULL],
];

/** parse-records.jsonl as the parser makes it now: one line per record of our own lines. */
export function recordsText(): string {
  const out: string[] = [];
  for (const [name, frames] of FULL_SETS) {
    for (const [cname, cfg] of CONFIGS) {
      run(frames, cfg).forEach((rec, i) => out.push(`{"set":${JSON.stringify(`${name}/${cname}`)},"i":${i},"record":${rec}}`));
    }
  }
  return out.join('\n') + '\n';
}

export type Digests = Record<string, { count: number; sha256: string }>;

/**
 * parse-digests.json as the parser makes it now. `withFixtures` adds Elastic's fixtures and the
 * captures (read from ../shared); `dumpDir` also writes every record of every set there.
 */
export function digests(withFixtures: boolean, dumpDir?: string): Digests {
  return { ...digestsOf(DIGEST_SETS, dumpDir), ...(withFixtures ? fixtureDigests(dumpDir) : {}) };
}

/** Only the digests of Elastic's fixtures and the captures (FIXTURE_DIGEST_KEYS). */
export function fixtureDigests(dumpDir?: string): Digests {
  return digestsOf([['elastic-fixtures-and-captures', fixtureLines()]], dumpDir);
}

function digestsOf(sets: Array<[name: string, frames: Frame[]]>, dumpDir?: string): Digests {
  const out: Digests = {};
  for (const [name, frames] of sets) {
    for (const [cname, cfg] of CONFIGS) {
      const recs = run(frames, cfg);
      if (dumpDir !== undefined) {
        mkdirSync(dumpDir, { recursive: true });
        writeFileSync(path.join(dumpDir, `${name}.${cname}.jsonl`), recs.join('\n') + '\n');
      }
      out[`${name}/${cname}`] = { count: recs.length, sha256: createHash('sha256').update(recs.join('\n')).digest('hex') };
    }
  }
  return out;
}
