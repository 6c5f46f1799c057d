import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // model.weights: auto never downloads in tests (test/model/auto-weights.test.ts clears it to test the download);
    // the shared checkpoint cache of grids (run.cache: auto) never lands in the real home cache
    env: { REVCOR_OFFLINE: '1', REVCOR_CACHE_DIR: join(tmpdir(), `revcor-test-cache-${process.pid}`) },
  },
});
