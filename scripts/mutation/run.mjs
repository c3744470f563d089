#!/usr/bin/env node
// `npm run test:mutate [-- module...]`: Stryker on the hot modules (framing, netfilter, mapping,
// pipeline by default), each with its own unit tests. Not part of CI: a run of all four takes long
// on 2 cores. Reports: .tmp/mutation/mutation.html and mutation.json.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const known = ['framing', 'netfilter', 'mapping', 'pipeline'];
const args = process.argv.slice(2);
const bad = args.filter((a) => !known.includes(a));
if (bad.length > 0) {
  console.error(`unknown module(s) ${bad.join(', ')}; choose from ${known.join(', ')}`);
  process.exit(2);
}
const env = { ...process.env };
if (args.length > 0) env.MUTATE_MODULES = args.join(',');
const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', 'scripts/mutation/stryker.config.mjs'], {
  cwd: repoRoot,
  env,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
