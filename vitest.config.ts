import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Integration suites start daemons, namespaces and the Collector: give them room,
    // and run files one at a time-ish so two suites never fight over a port or netns.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    setupFiles: ['test/setup/state-directory.ts'],
    // Elasticsearch / OpenSearch, started once per run and only when a test asks (see the file).
    globalSetup: ['test/setup/search-engines.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
