// Resource estimates checked before planning: too many shards, too much memory or disk is refused with the numbers.
import { describe, expect, it } from 'vitest';
import { checkBudget, estimateRun, freeDiskBytes, ResourceError, type RunEstimate } from '../../pipeline/budget.ts';
import type { Stage } from '../../pipeline/stage.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const est = (shards: number, diskBytes: number, memoryBytes: number): RunEstimate => ({
  byStage: { a: { shards: shards - 1, diskBytes: diskBytes / 2, memoryBytes, detail: '16 × 3000-px images' }, b: { shards: 1, diskBytes: diskBytes / 2, memoryBytes: 1 } },
  shards,
  diskBytes,
  memoryBytes,
});
const budget = { maxShards: 1000, memoryBytes: 8e9, freeDiskBytes: 1e9 };

describe('checkBudget', () => {
  it('passes what fits; refuses shards, memory and disk beyond the budget, naming the stage and the numbers', () => {
    expect(() => checkBudget(est(1000, 1e9, 8e9), budget)).not.toThrow();
    expect(() => checkBudget(est(1001, 1, 1), budget)).toThrow(/plans 1,001 shards, mostly a: expected at most 1,000/);
    expect(() => checkBudget(est(10, 1, 9e9), budget)).toThrow(/needs about 9\.0 GB of memory for one shard of a \(16 × 3000-px images\): expected at most the 8\.0 GB/);
    expect(() => checkBudget(est(10, 2e9, 1), budget)).toThrow(ResourceError);
    expect(() => checkBudget(est(10, 2e9, 1), budget)).toThrow(/writes about 2\.0 GB of checkpoints, mostly a: expected at most the 1\.0 GB free/);
    expect(() => checkBudget(est(10, 2e9, 1), budget, 1.5e9)).not.toThrow(); // most of it is already there
    expect(() => checkBudget(est(Infinity, 1, 1), budget)).toThrow(/plans/); // NaN/∞ never pass
    expect(() => checkBudget(est(10, NaN, 1), budget)).toThrow(/writes/);
  });

  it('estimateRun sums the stages that estimate and counts the others as nothing', async () => {
    const stage = (name: string, upstream: string[], e?: [number, number, number]): Stage<null> => ({
      name, description: '', version: '1', upstream, configSlice: () => null, plan: () => [], run: () => Promise.reject(new Error('unused')),
      ...(e ? { estimate: () => ({ shards: e[0], diskBytes: e[1], memoryBytes: e[2] }) } : {}),
    });
    const r = await estimateRun([stage('x', [], [2, 10, 5]), stage('y', ['x'], [3, 20, 7]), stage('z', ['y'])], { config: null, configDir: '/' });
    expect(r).toMatchObject({ shards: 5, diskBytes: 30, memoryBytes: 7 });
    expect(r.byStage['z']).toEqual({ shards: 0, diskBytes: 0, memoryBytes: 0 });
  });

  it('free disk is read from the nearest existing ancestor', async () => {
    const free = await freeDiskBytes(join(tmpdir(), 'no', 'such', 'dir'));
    expect(free).toBeGreaterThan(0);
    expect(Number.isFinite(free)).toBe(true);
  });
});
