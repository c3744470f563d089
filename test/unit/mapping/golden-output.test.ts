/**
 * Golden output of parseFrame (computed by test/helpers/golden-parse.ts): every field of every
 * record, for our own lines in full (test/corpus/golden/parse-records.jsonl) and as digests for the
 * large, mutated and third-party sets (parse-digests.json). Guards parser optimisations: the output
 * must not change by a single byte. A stale or missing golden fails.
 *
 * Regenerating the kernel corpus (KERNEL_CORPUS_DIR, see test/corpus/README.md) changes its lines, so
 * the golden files must then be regenerated too, from a parser known to be right.
 *
 * Regenerate (only when an output change is intended; never in CI), then review the diff:
 *   npm run golden
 * Dump every record of every set to a folder, to diff two versions line by line:
 *   npm run golden -- --dump /tmp/golden-a
 */
import { describe, expect, it } from 'vitest';
import { digests, DIGESTS_FILE, FIXTURE_DIGEST_KEYS, fixtureDigests, RECORDS_FILE, recordsText, type Digests } from '../../helpers/golden-parse.js';
import { itRefusesUpdateGolden, readGolden } from '../../helpers/golden.js';
import { fixturesRequirement } from '../../helpers/parser-corpus.js';
import { assertRequirement, shouldRun } from '../../helpers/requirements.js';

const fixturesReq = fixturesRequirement();

function goldenDigests(): Digests {
  return JSON.parse(readGolden(DIGESTS_FILE)) as Digests;
}

describe('parseFrame golden output', () => {
  itRefusesUpdateGolden();

  it('the records of our own lines are unchanged', () => {
    const golden = readGolden(RECORDS_FILE).split('\n');
    const now = recordsText().split('\n');
    // Line by line first, so a failure names the set and line.
    for (let i = 0; i < Math.max(golden.length, now.length); i++) expect(now[i], `line ${i + 1}`).toBe(golden[i]);
  });

  it('the digests of the large and mutated sets are unchanged', () => {
    const golden = goldenDigests();
    for (const k of FIXTURE_DIGEST_KEYS) delete golden[k]; // checked below, with their requirement
    expect(digests(false)).toEqual(golden);
  });

  it.skipIf(!shouldRun(fixturesReq))("the digests of Elastic's fixtures and the captures are unchanged", () => {
    assertRequirement(fixturesReq);
    const golden = goldenDigests();
    const now = fixtureDigests();
    for (const k of FIXTURE_DIGEST_KEYS) {
      expect(golden[k], `${k} is pinned in parse-digests.json`).toBeDefined();
      expect(now[k], k).toEqual(golden[k]);
    }
  });
});
