// The runner's generic after-run hook: Stage.finalize is called once per successful run for selected stages
// whose shards are all done (changed = whether this run computed any of them), never on dry runs or failures.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runPipeline, ShardFailure, type RunOptions } from '../../pipeline/runner.ts';
import type { FinalizeContext, Stage } from '../../pipeline/stage.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let out: string;
let calls: { changed: boolean; rows: number; shards: string[] }[];
beforeEach(async () => {
  out = await tempDir();
  calls = [];
});
afterEach(() => cleanup(out));

/** The toy stages with a finalize on `total` that reads its shard and writes a derived file. */
function stagesWithFinalize(fail?: string): Stage[] {
  return toyStages().map((s) => {
    if (s.name === 'total') {
      return {
        ...s,
        async finalize(ctx: FinalizeContext) {
          const t = await ctx.read('total', 'all');
          calls.push({ changed: ctx.changed, rows: t.numRows, shards: ctx.records['square']!.map((r) => r.id) });
          await ctx.writeFile('derived/total.txt', `rows ${t.numRows}\n`);
          ctx.log('wrote derived/total.txt');
        },
      };
    }
    if (s.name === 'square' && fail) {
      return { ...s, run: async (shard, ctx) => (shard.id === fail ? Promise.reject(new Error('boom')) : s.run(shard, ctx)) };
    }
    return s;
  });
}

const run = (stages: Stage[], over: Partial<RunOptions> = {}) =>
  runPipeline({ stages, experiment: toyExperiment(), outDir: out, workers: 1, concurrency: 2, resumeCommand: 'revcor run x.yaml', ...over });

describe('Stage.finalize', () => {
  it('runs after a run that computed the stage (changed) and after an up-to-date rerun (not changed)', async () => {
    const logs: string[] = [];
    await run(stagesWithFinalize(), { reporter: { event: (e) => e.type === 'log' && logs.push(`${e.stage}: ${e.message}`), close() {} } });
    expect(calls).toEqual([{ changed: true, rows: 1, shards: ['sq-0000-0004', 'sq-0004-0008', 'sq-0008-0010'] }]);
    expect(await readFile(join(out, 'derived/total.txt'), 'utf8')).toBe('rows 1\n');
    expect(logs).toContain('total: wrote derived/total.txt');
    await run(stagesWithFinalize());
    expect(calls.map((c) => c.changed)).toEqual([true, false]);
  });

  it('is not called on a dry run, for an unselected stage, or when a shard failed', async () => {
    await run(stagesWithFinalize(), { dryRun: true });
    expect(calls).toEqual([]);
    await expect(run(stagesWithFinalize('sq-0004-0008'))).rejects.toBeInstanceOf(ShardFailure);
    expect(calls).toEqual([]);
    expect(existsSync(join(out, 'derived'))).toBe(false);
    await run(stagesWithFinalize(), { only: ['source', 'square'] });
    expect(calls).toEqual([]);
    await run(stagesWithFinalize());
    expect(calls.map((c) => c.changed)).toEqual([true]);
  });

  it('refuses to write outside the output directory', async () => {
    const stages = toyStages().map((s) => (s.name === 'total' ? { ...s, finalize: (ctx: FinalizeContext) => ctx.writeFile('../escape.txt', 'x') } : s));
    await expect(run(stages)).rejects.toThrow(/inside the output directory/);
    expect(existsSync(join(out, '..', 'escape.txt'))).toBe(false);
  });
});
