import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the package by name; tests run them against the sources, not the build.
  resolve: {
    alias: [
      { find: /^chatstate\/flow$/, replacement: new URL('./src/flow/index.ts', import.meta.url).pathname },
      { find: /^chatstate$/, replacement: new URL('./src/index.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    // Integration tests start real servers (redis-server, memcached): give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/support/count-reporter.ts'],
  },
});
