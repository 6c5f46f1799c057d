// The runner's generic after-run hook: a registered Finalizer is called once per successful run in which the stages
// it needs are all done and one is selected (changed = whether this run computed any of their shards), never on dry
// runs or failures.
import type { Experiment } from '../../config/schema.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runPipeline, ShardFailure, type RunOptions } from '../../pipeline/runner.ts';
import type { FinalizeContext, Finalizer, Stage } from '../../pipeline/stage.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let out: string;
let calls: { changed: boolean; rows: number; shards: string[] }[];
beforeEach(async () => {
  out = await tempDir();
  calls = [];
});
afterEach(() => cleanup(out));

/** The toy stages, with a failing `square` shard when `fail` names one. */
function stagesFailing(fail?: string): Stage<Experiment>[] {
  return toyStages().map((s) =>
    s.name === 'square' && fail ? { ...s, run: async (shard, ctx) => (shard.id === fail ? Promise.reject(new Error('boom')) : s.run(shard, ctx)) } : s,
  );
}

/** A finalizer needing `total` that reads its shard and writes a derived file. */
const totalFinalizer: Finalizer<Experiment> = {
  name: 'total-report',
  needs: ['total'],
  async run(ctx: FinalizeContext<Experiment>) {
    const t = await ctx.read('total', 'all');
    calls.push({ changed: ctx.changed, rows: t.numRows, shards: ctx.records['square']!.map((r) => r.id) });
    await ctx.writeFile('derived/total.txt', `rows ${t.numRows}\n`);
    ctx.log('wrote derived/total.txt');
  },
};

const run = (stages: Stage<Experiment>[], over: Partial<RunOptions<Experiment>> = {}, finalizers: Finalizer<Experiment>[] = [totalFinalizer]) =>
  runPipeline({ stages, finalizers, experiment: toyExperiment(), outDir: out, workers: 1, concurrency: 2, resumeCommand: 'revcor run x.yaml', ...over });

describe('finalizers', () => {
  it('runs after a run that computed the stage (changed) and after an up-to-date rerun (not changed)', async () => {
    const logs: string[] = [];
    await run(stagesFailing(), { reporter: { event: (e) => e.type === 'log' && logs.push(`${e.stage}: ${e.message}`), close() {} } });
    expect(calls).toEqual([{ changed: true, rows: 1, shards: ['sq-0000-0004', 'sq-0004-0008', 'sq-0008-0010'] }]);
    expect(await readFile(join(out, 'derived/total.txt'), 'utf8')).toBe('rows 1\n');
    expect(logs).toContain('total-report: wrote derived/total.txt');
    await run(stagesFailing());
    expect(calls.map((c) => c.changed)).toEqual([true, false]);
  });

  it('is not called on a dry run, for an unselected stage, or when a shard failed', async () => {
    await run(stagesFailing(), { dryRun: true });
    expect(calls).toEqual([]);
    await expect(run(stagesFailing('sq-0004-0008'))).rejects.toBeInstanceOf(ShardFailure);
    expect(calls).toEqual([]);
    expect(existsSync(join(out, 'derived'))).toBe(false);
    await run(stagesFailing(), { only: ['source', 'square'] });
    expect(calls).toEqual([]);
    await run(stagesFailing());
    expect(calls.map((c) => c.changed)).toEqual([true]);
  });

  it('refuses to write outside the output directory', async () => {
    const escape: Finalizer<Experiment> = { name: 'escape', needs: ['total'], run: (ctx) => ctx.writeFile('../escape.txt', 'x') };
    await expect(run(toyStages(), {}, [escape])).rejects.toThrow(/inside the output directory/);
    expect(existsSync(join(out, '..', 'escape.txt'))).toBe(false);
  });
});
