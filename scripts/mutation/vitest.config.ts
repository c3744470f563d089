// The vitest config Stryker runs (scripts/mutation/stryker.config.mjs): only the unit tests of the
// modules being mutated (MUTATE_MODULES), one worker, no integration suites.
import { defineConfig } from 'vitest/config';

const TESTS: Record<string, string[]> = {
  framing: ['test/unit/framing/**/*.test.ts'],
  netfilter: ['test/unit/netfilter/**/*.test.ts'],
  // golden-output and the direct-path equivalence test read every record of the corpus: they are
  // what catches a changed attribute, so they stay.
  mapping: ['test/unit/mapping/**/*.test.ts', 'test/unit/output/otlp-direct-mapping.test.ts'],
  pipeline: ['test/unit/pipeline/*.test.ts'],
};

const modules = (process.env.MUTATE_MODULES ?? 'framing,netfilter,mapping,pipeline').split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: modules.flatMap((m) => TESTS[m] ?? [`test/unit/${m}/**/*.test.ts`]),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['dot'],
  },
});
