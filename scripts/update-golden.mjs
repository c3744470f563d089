#!/usr/bin/env node
// `npm run golden [-- --dump DIR]`: regenerate the golden files under test/corpus/golden/ from the
// current code (only when an output change is intended; never in CI). The tests only compare with
// them. Compiles the test helpers with tsconfig.test.json into .tmp/golden-build/ (which also
// type-checks the whole tree), then runs test/helpers/golden-write.ts from there.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ci = (process.env.CI ?? '').trim().toLowerCase();
if (ci !== '' && ci !== 'false' && ci !== '0') {
  console.error('refusing to regenerate golden files under CI (CI is set)');
  process.exit(2);
}
const out = path.join(repoRoot, '.tmp', 'golden-build');
rmSync(out, { recursive: true, force: true });
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(
  process.execPath,
  [tsc, '-p', 'tsconfig.test.json', '--noEmit', 'false', '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'],
  { cwd: repoRoot, stdio: 'inherit' },
);
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(process.execPath, [path.join(out, 'test', 'helpers', 'golden-write.js'), ...process.argv.slice(2)], {
  cwd: repoRoot,
  stdio: 'inherit',
  env: { ...process.env, IPTABLES_OTEL_REPO_ROOT: repoRoot },
});
process.exit(run.status ?? 1);
