/**
 * Golden output of parseFrame: every field of every record (attribute insertion order included)
 * for the kernel corpus, the sample lines, the parser benchmark's mix, Elastic's fixture lines,
 * real senders' captures and seeded mutations of all of them, under two option sets, from strings
 * and from Buffers. Guards parser optimisations: the output must not change by a single byte.
 *
 * test/corpus/golden/parse-records.jsonl holds our own lines' records in full (readable diffs);
 * test/corpus/golden/parse-digests.json holds SHA-256 digests for the large and the third-party
 * sets (Elastic's lines are not copied into the repo, only a digest of our output for them).
 *
 * Regenerating the kernel corpus (KERNEL_CORPUS_DIR, see test/corpus/README.md) changes its lines, so
 * the golden files must then be regenerated too, from a parser known to be right.
 *
 * Regenerate (only when an output change is intended):
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/mapping/golden-output.test.ts
 * Dump every record of every set to a folder, to diff two versions line by line:
 *   GOLDEN_DUMP_DIR=/tmp/golden-a npx vitest run test/unit/mapping/golden-output.test.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
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
} from '../../helpers/parser-corpus.js';
const goldenDir = path.join(corpusDir, 'golden');
const RECORDS_FILE = path.join(goldenDir, 'parse-records.jsonl');
const DIGESTS_FILE = path.join(goldenDir, 'parse-digests.json');
const update = process.env.UPDATE_GOLDEN === '1';
const dumpDir = process.env.GOLDEN_DUMP_DIR;

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
const fixtures = fixtureLines();

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

function recordsText(): string {
  const out: string[] = [];
  for (const [name, frames] of FULL_SETS) {
    for (const [cname, cfg] of CONFIGS) {
      run(frames, cfg).forEach((rec, i) => out.push(`{"set":${JSON.stringify(`${name}/${cname}`)},"i":${i},"record":${rec}}`));
    }
  }
  return out.join('\n') + '\n';
}

function digests(): Record<string, { count: number; sha256: string }> {
  const out: Record<string, { count: number; sha256: string }> = {};
  const sets = fixtures.length > 0 ? [...DIGEST_SETS, ['elastic-fixtures-and-captures', fixtures] as [string, Frame[]]] : DIGEST_SETS;
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

describe('parseFrame golden output', () => {
  it('the records of our own lines are unchanged', () => {
    const text = recordsText();
    if (update) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(RECORDS_FILE, text);
    }
    if (dumpDir !== undefined) {
      mkdirSync(dumpDir, { recursive: true });
      writeFileSync(path.join(dumpDir, 'parse-records.jsonl'), text);
    }
    const golden = readFileSync(RECORDS_FILE, 'utf8').split('\n');
    const now = text.split('\n');
    // Line by line first, so a failure names the set and line.
    for (let i = 0; i < Math.max(golden.length, now.length); i++) expect(now[i], `line ${i + 1}`).toBe(golden[i]);
  });

  it('the digests of the large, mutated and third-party sets are unchanged', () => {
    const now = digests();
    if (update) writeFileSync(DIGESTS_FILE, JSON.stringify(now, null, 2) + '\n');
    const golden = JSON.parse(readFileSync(DIGESTS_FILE, 'utf8')) as Record<string, unknown>;
    if (fixtures.length === 0) delete golden['elastic-fixtures-and-captures/plain'], delete golden['elastic-fixtures-and-captures/full'];
    expect(now).toEqual(golden);
  });
});
