import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // Builds (or finds cached) the real kube-apiserver and says whether its suites run.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
