/**
 * Golden files are written only by `npm run golden` (scripts/update-golden.mjs) and only ever read
 * by tests: a test that wrote its golden and then compared with it would always pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './paths.js';
import { inCI } from './requirements.js';

/**
 * A test that fails when UPDATE_GOLDEN is set: tests no longer write goldens, and under CI a
 * request to regenerate them must fail loudly rather than be ignored. Call it inside a golden suite.
 */
export function itRefusesUpdateGolden(): void {
  it('is not asked to regenerate its golden files (UPDATE_GOLDEN is not read by tests)', () => {
    const v = process.env.UPDATE_GOLDEN;
    expect(
      v === undefined || v === '',
      `UPDATE_GOLDEN=${v} is set${inCI ? ' under CI' : ''}: tests only compare; regenerate with \`npm run golden\` (never in CI), review the diff, commit`,
    ).toBe(true);
  });
}

/** The text of a committed golden file; a missing one fails with how to make it. */
export function readGolden(file: string): string {
  if (!existsSync(file)) {
    expect.fail(`golden file ${path.relative(repoRoot, file)} is missing: run \`npm run golden\`, review and commit it`);
  }
  return readFileSync(file, 'utf8');
}
