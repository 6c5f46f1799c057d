// Resource estimates checked before planning: too many shards, too much memory or disk is refused with the numbers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBudget, checkRunFits, describeEstimate, estimateRun, freeDiskBytes, machineBudget, ResourceError, type RunEstimate } from '../../pipeline/budget.ts';
import { writeManifest, type ShardRecord } from '../../pipeline/manifest.ts';
import type { Stage } from '../../pipeline/stage.ts';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { cleanup, tempDir } from './helpers.ts';

// A file system whose statfs fails everywhere (a test cannot make `statfs /` fail for real), or says a fixed
// free space (the real one changes while other processes write).
const statfsFails = vi.hoisted(() => ({ on: false, fixed: undefined as undefined | { bavail: number; bsize: number } }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const statfs = (async (...a: Parameters<typeof real.statfs>) => {
    if (statfsFails.on) throw Object.assign(new Error('ENOSYS: simulated, statfs'), { code: 'ENOSYS' });
    const st = await real.statfs(...a);
    return statfsFails.fixed ? Object.assign(st, statfsFails.fixed) : st;
  }) as typeof real.statfs;
  return { ...real, statfs, default: { ...real, statfs } };
});
afterEach(() => void Object.assign(statfsFails, { on: false, fixed: undefined }));

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

describe('budget messages and the whole check', () => {
  const stage = (name: string, e: [number, number, number]): Stage<null> => ({
    name, description: '', version: '1', upstream: [], configSlice: () => null, plan: () => [], run: () => Promise.reject(new Error('unused')),
    estimate: () => ({ shards: e[0], diskBytes: e[1], memoryBytes: e[2] }),
  });
  const ctx = { config: null, configDir: '/' };

  it('each refusal carries its hint; a stage without a detail is named alone; huge counts in exponent notation', () => {
    const hint = (e: RunEstimate) => {
      try {
        checkBudget(e, budget);
      } catch (err) {
        return (err as ResourceError).hint;
      }
      return 'passed';
    };
    expect(hint(est(1001, 1, 1))).toBe('Lower the stimulus counts or raise the shard sizes (activations.shardSize, awc.unitsPerShard).');
    expect(hint(est(10, 1, 9e9))).toBe('Lower model.inputSize, model.batch or the noise image size, or run on a larger machine.');
    expect(hint(est(10, 2e9, 1))).toBe('Free space, choose another --out, or lower the stimulus counts.');
    const plain: RunEstimate = { byStage: { a: { shards: 1, diskBytes: 1, memoryBytes: 1 }, b: { shards: 1, diskBytes: 1, memoryBytes: 9e9 } }, shards: 2, diskBytes: 2, memoryBytes: 9e9 };
    expect(() => checkBudget(plain, budget)).toThrow(/for one shard of b: expected/);
    // the worst stage by that measure, wherever it stands in the run
    const lateShards = { ...plain, byStage: { ...plain.byStage, b: { shards: 2000, diskBytes: 1, memoryBytes: 1 } }, shards: 2001, memoryBytes: 1 };
    expect(() => checkBudget(lateShards, budget)).toThrow(/shards, mostly b: expected/);
    const lateDisk = { ...plain, byStage: { ...plain.byStage, b: { shards: 1, diskBytes: 2e9, memoryBytes: 1 } }, diskBytes: 2e9 + 1, memoryBytes: 1 };
    expect(() => checkBudget(lateDisk, budget)).toThrow(/of checkpoints, mostly b: expected/);
    expect(() => checkBudget(est(2.5e15, 1, 1), budget)).toThrow(/plans 2\.50e\+15 shards, mostly a: expected at most 1,000$/);
    expect(() => checkBudget(est(1e15, 1, 1), budget)).toThrow(/plans 1\.00e\+15 shards/);
    expect(() => checkBudget(est(1e15 - 1, 1, 1), budget)).toThrow(/plans 999,999,999,999,999 shards/);
    expect(() => checkBudget(est(1000.6, 1, 1), budget)).toThrow(/plans 1,001 shards/);
    expect(describeEstimate(est(184, 2.1e9, 3.4e9))).toBe('≈ 184 shards, 2.1 GB of checkpoints, 3.4 GB peak memory per shard');
  });

  it('machineBudget: a million shards, this machine’s memory, the free disk of the output directory', async () => {
    const b = await machineBudget(join(tmpdir(), 'no', 'such'));
    expect(b).toMatchObject({ maxShards: 1_000_000, memoryBytes: totalmem() });
    expect(b.freeDiskBytes).toBeGreaterThan(0);
    expect(Number.isFinite(b.freeDiskBytes)).toBe(true);
  });

  it('free disk: blocks available to the user × block size', async () => {
    statfsFails.fixed = { bavail: 250, bsize: 4096 };
    expect(await freeDiskBytes(join(tmpdir(), 'no', 'such'))).toBe(1_024_000);
    expect((await machineBudget(tmpdir())).freeDiskBytes).toBe(1_024_000);
  });

  it('free disk is Infinity (unknown) when no ancestor can be asked', async () => {
    statfsFails.on = true;
    expect(await freeDiskBytes(join(tmpdir(), 'x'))).toBe(Infinity);
  });

  it('checkRunFits: checkpoints already in the directory (its manifest) count against the disk needed', async () => {
    const out = await tempDir();
    try {
      const stages = [stage('x', [2, 3000, 5])];
      const small = { maxShards: 10, memoryBytes: 10, freeDiskBytes: 1000 };
      await expect(checkRunFits(stages, ctx, out, small)).rejects.toThrow(/writes about 3\.0 kB of checkpoints, mostly x: expected at most the 1\.0 kB free/);
      const rec = (shard: string, bytes: number) => ({ stage: 'x', shard, bytes }) as ShardRecord;
      await writeManifest(out, new Map([['x', [rec('a', 1000), rec('b', 1000)]]]));
      const e = await checkRunFits(stages, ctx, out, small);
      expect(e).toMatchObject({ shards: 2, diskBytes: 3000, memoryBytes: 5 });
      // without a budget, this machine's
      await expect(checkRunFits([stage('x', [2, 1, totalmem() * 2])], ctx, out)).rejects.toThrow(ResourceError);
      expect(await checkRunFits([stage('x', [2, 1, 1])], ctx, out)).toMatchObject({ shards: 2 });
    } finally {
      await cleanup(out);
    }
  });
});
