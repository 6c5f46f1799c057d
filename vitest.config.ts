import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // model.weights: auto never downloads in tests (test/model/auto-weights.test.ts clears it to test the download)
    env: { REVCOR_OFFLINE: '1' },
  },
});
