// Planning a grid (pipeline/grid-plan.ts) on the toy pipeline: per stage, shards over the points, different keys,
// keys shared by several points and unique to one; what points have done, what the cache or an earlier point would
// restore, and what is left to compute — with and without a shared cache.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CheckpointCache } from '../../pipeline/cache-store.ts';
import { planGrid } from '../../pipeline/grid-plan.ts';
import { runPipeline } from '../../pipeline/runner.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let base: string;
beforeEach(async () => (base = await tempDir()));
afterEach(() => cleanup(base));

// 10 stimuli in shards of 4: source 3, square 3, total 1 per point; points differ in awc.shuffles (total only)
// or awa.zThreshold (square and total)
const points = () => [
  { name: 'a', outDir: join(base, 'a'), experiment: toyExperiment() },
  { name: 'b', outDir: join(base, 'b'), experiment: toyExperiment((c) => (c.awc.shuffles = 7)) },
  { name: 'c', outDir: join(base, 'c'), experiment: toyExperiment((c) => (c.awa.zThreshold = 6)) },
];
const byStage = (p: Awaited<ReturnType<typeof planGrid>>) => Object.fromEntries(p.stages.map(({ stage, ...rest }) => [stage, rest]));

describe('planGrid', () => {
  it('counts shared and unique keys per stage; with a cache each key is computed once, without one per point', async () => {
    const shared = await planGrid(toyStages(), points(), { sharing: true });
    expect(byStage(shared)).toEqual({
      source: { shards: 9, distinct: 3, shared: 3, unique: 0, done: 0, restored: 6, toCompute: 3 },
      square: { shards: 9, distinct: 6, shared: 3, unique: 3, done: 0, restored: 3, toCompute: 6 },
      total: { shards: 3, distinct: 3, shared: 0, unique: 3, done: 0, restored: 0, toCompute: 3 },
    });
    expect(shared.points.map((p) => [p.name, p.toCompute, p.restored])).toEqual([['a', 7, 0], ['b', 1, 6], ['c', 4, 3]]);
    expect(shared).toMatchObject({ shards: 21, distinct: 12, toCompute: 12 });
    const alone = await planGrid(toyStages(), points(), { sharing: false });
    expect(alone.toCompute).toBe(21);
    expect(alone.points.every((p) => p.restored === 0)).toBe(true);
  });

  it('counts what points have done and what the cache holds (written by any earlier run)', async () => {
    const cache = await CheckpointCache.open(join(base, 'cache'));
    const [a, b, c] = points();
    await runPipeline({ stages: toyStages(), experiment: c!.experiment, outDir: join(base, 'elsewhere'), workers: 1, cache }); // fills the cache with c's keys
    await runPipeline({ stages: toyStages(), experiment: a!.experiment, outDir: a!.outDir, workers: 1 }); // a done, no cache
    const plan = await planGrid(toyStages(), [a!, b!, c!], { sharing: true, cache });
    expect(plan.points.map((p) => [p.name, p.done, p.restored, p.toCompute])).toEqual([['a', 7, 0, 0], ['b', 0, 6, 1], ['c', 0, 7, 0]]);
    expect(plan.toCompute).toBe(1);
  });
});
