/**
 * Writes the golden files (run by `npm run golden`, scripts/update-golden.mjs, from a compiled copy;
 * never by a test): test/corpus/golden/parse-records.jsonl, parse-digests.json (parseFrame) and
 * otlp-protobuf.json (OtlpProtobufEncoder). Refuses under CI, when ../shared/fixtures is missing
 * (its digests would be lost), and when the encoder no longer matches its frozen reference.
 *
 *   node .tmp/golden-build/test/helpers/golden-write.js [--dump DIR]
 * With --dump DIR it writes every record of every set to DIR (to diff two versions) and touches no
 * golden file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { digests, DIGESTS_FILE, goldenDir, RECORDS_FILE, recordsText } from './golden-parse.js';
import { GOLDEN_FILE, pinnedDigests } from './golden-protobuf.js';
import { fixturesRequirement } from './parser-corpus.js';
import { repoRoot } from './paths.js';
import { inCI } from './requirements.js';

function writeIfChanged(file: string, text: string): void {
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  const rel = path.relative(repoRoot, file);
  if (old === text) {
    console.log(`unchanged  ${rel}`);
    return;
  }
  writeFileSync(file, text);
  console.log(`${old === undefined ? 'created   ' : 'UPDATED   '} ${rel}`);
}

function main(args: string[]): number {
  if (inCI) {
    console.error('refusing to regenerate golden files under CI (CI is set): goldens are made on a developer machine, reviewed and committed');
    return 2;
  }
  const dumpAt = args.indexOf('--dump');
  if (dumpAt >= 0) {
    const dir = args[dumpAt + 1];
    if (!dir) {
      console.error('--dump needs a directory');
      return 2;
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'parse-records.jsonl'), recordsText());
    digests(fixturesRequirement().ok, dir);
    console.log(`dumped every record of every set to ${dir}`);
    return 0;
  }
  const fixtures = fixturesRequirement();
  if (!fixtures.ok) {
    console.error(`refusing to regenerate: ${fixtures.reason}; their digests are part of parse-digests.json`);
    return 2;
  }
  const { digests: pins, disagreements } = pinnedDigests();
  if (disagreements.length > 0) {
    console.error(
      `refusing to pin otlp-protobuf.json: OtlpProtobufEncoder's bytes differ from the frozen reference encoder on ${disagreements.join(', ')} ` +
        '(npx vitest run test/unit/output/otlp-protobuf-golden.test.ts shows the first difference)',
    );
    return 1;
  }
  mkdirSync(goldenDir, { recursive: true });
  writeIfChanged(RECORDS_FILE, recordsText());
  writeIfChanged(DIGESTS_FILE, JSON.stringify(digests(true), null, 2) + '\n');
  writeIfChanged(GOLDEN_FILE, JSON.stringify(pins, null, 2) + '\n');
  console.log('review the diff (git diff test/corpus/golden) before committing');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
