// Mutation testing (not run in CI): `npm run test:mutate` (all hot modules) or
// `npm run test:mutate -- framing` / `MUTATE_MODULES=framing,netfilter npm run test:mutate`.
// Each module is mutated with only its own unit tests selected (see ./vitest.config.ts), so a
// run of one module finishes in minutes on 2 cores.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const modules = (process.env.MUTATE_MODULES ?? 'framing,netfilter,mapping,pipeline').split(',').filter(Boolean);
// Optional narrower globs, e.g. MUTATE_FILES=src/framing/octet-counting.ts
// The tests read Elastic's fixtures from ../shared beside the clone; Stryker's sandbox is elsewhere.
process.env.IPTABLES_OTEL_SHARED ??= path.resolve(repoRoot, '..', 'shared');
const files = process.env.MUTATE_FILES?.split(',').filter(Boolean);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutation/vitest.config.ts', related: false },
  mutate: files ?? modules.flatMap((m) => [`src/${m}/**/*.ts`, `!src/${m}/**/*.test.ts`]),
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: '.tmp/mutation/mutation.json' },
  htmlReporter: { fileName: '.tmp/mutation/mutation.html' },
  tempDirName: '.tmp/stryker',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'coverage', 'bench/results', '.tmp'],
  thresholds: { high: 80, low: 60, break: null },
};
