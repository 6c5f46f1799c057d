// vitest settings for mutation testing only (stryker.config.mjs; the suite itself uses ../vitest.config.ts).
// Instrumented code counts every statement it runs, so heavy science tests run several times slower than usual:
// a long per-test timeout, and the test files that usually finish fastest run first, because a mutant is done as
// soon as one test fails.
import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { defineConfig, mergeConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from '../vitest.config.ts';

/** Orders test files by their last recorded duration, shortest first (files never timed: smallest first). */
class FastestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const cost = (f: TestSpecification): number => {
      const rec = this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`);
      return rec ? rec.duration : 1e9 + statSync(f.moduleId).size;
    };
    return [...files].sort((a, b) => cost(a) - cost(b));
  }
}

export default mergeConfig(
  base,
  defineConfig({
    root: fileURLToPath(new URL('..', import.meta.url)),
    test: { testTimeout: 900_000, hookTimeout: 900_000, sequence: { sequencer: FastestFirst } },
  }),
);
