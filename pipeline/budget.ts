// Resources a run will need, estimated from the configuration before anything is planned or computed (stages
// declare `estimate`): shards, disk and peak memory. A run (and `validate`) refuses what cannot fit — too many
// shards to plan, more memory than the machine has, more disk than is free — with the estimate in the message,
// instead of dying minutes later on the V8 heap limit or a full disk.
import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { orderStages } from './dag.ts';
import { RevcorError } from './errors.ts';
import { readManifest } from './manifest.ts';
import { formatBytes } from './progress.ts';
import type { PlanContext, Stage } from './stage.ts';

/** What one stage will need, estimated from the config alone. */
export interface ResourceEstimate {
  /** Shards the stage will plan. */
  shards: number;
  /** Bytes its checkpoints will take. */
  diskBytes: number;
  /** Peak bytes of memory one of its shards needs (shards of a stage run a few at a time). */
  memoryBytes: number;
  /** What dominates the memory, in words (e.g. "16 × 224-px images per forward pass"). */
  detail?: string;
}

/** A whole run's estimate. */
export interface RunEstimate {
  byStage: Record<string, ResourceEstimate>;
  shards: number;
  diskBytes: number;
  /** The largest per-shard peak of any stage. */
  memoryBytes: number;
}

/** What the machine offers. */
export interface Budget {
  /** The planner holds every shard in memory: beyond this many a plan is refused. */
  maxShards: number;
  memoryBytes: number;
  /** Free bytes on the output directory's file system (Infinity when unknown). */
  freeDiskBytes: number;
}

/** A run that cannot fit on this machine (the estimate says why). */
export class ResourceError extends RevcorError {}

/** Sums the stages' estimates (stages without `estimate` count as negligible). */
export async function estimateRun<C>(stages: readonly Stage<C>[], experiment: PlanContext<C>): Promise<RunEstimate> {
  const byStage: Record<string, ResourceEstimate> = {};
  for (const s of orderStages(stages)) byStage[s.name] = (await s.estimate?.(experiment)) ?? { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const all = Object.values(byStage);
  return {
    byStage,
    shards: all.reduce((a, e) => a + e.shards, 0),
    diskBytes: all.reduce((a, e) => a + e.diskBytes, 0),
    memoryBytes: Math.max(0, ...all.map((e) => e.memoryBytes)),
  };
}

/** Free bytes on the file system that holds `path` (or its nearest existing ancestor); Infinity when unknown. */
export async function freeDiskBytes(path: string): Promise<number> {
  let p = resolve(path);
  for (;;) {
    try {
      const s = await statfs(p);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      const up = dirname(p);
      if (up === p) return Infinity;
      p = up;
    }
  }
}

/** This machine's budget for a run into `outDir`. */
export async function machineBudget(outDir: string): Promise<Budget> {
  return { maxShards: 1_000_000, memoryBytes: totalmem(), freeDiskBytes: await freeDiskBytes(outDir) };
}

/**
 * Refuses a run whose estimate exceeds the budget. `existingBytes` (checkpoints already in the output directory)
 * are subtracted from the disk the run still needs.
 */
export function checkBudget(estimate: RunEstimate, budget: Budget, existingBytes = 0): void {
  const worst = (key: 'shards' | 'diskBytes' | 'memoryBytes') => Object.entries(estimate.byStage).sort(([, a], [, b]) => b[key] - a[key])[0];
  const explain = (key: 'shards' | 'diskBytes' | 'memoryBytes') => {
    const [name, e] = worst(key)!;
    return `${name}${key === 'memoryBytes' && e.detail ? ` (${e.detail})` : ''}`;
  };
  if (!(estimate.shards <= budget.maxShards)) {
    throw new ResourceError(`This experiment plans ${fmt(estimate.shards)} shards, mostly ${explain('shards')}: expected at most ${fmt(budget.maxShards)}`, {
      hint: 'Lower the stimulus counts or raise the shard sizes (activations.shardSize, awc.unitsPerShard).',
    });
  }
  if (!(estimate.memoryBytes <= budget.memoryBytes)) {
    throw new ResourceError(`This experiment needs about ${formatBytes(estimate.memoryBytes)} of memory for one shard of ${explain('memoryBytes')}: expected at most the ${formatBytes(budget.memoryBytes)} this machine has`, {
      hint: 'Lower model.inputSize, model.batch or the noise image size, or run on a larger machine.',
    });
  }
  const needed = estimate.diskBytes - existingBytes;
  if (!(needed <= budget.freeDiskBytes)) {
    throw new ResourceError(`This experiment writes about ${formatBytes(estimate.diskBytes)} of checkpoints, mostly ${explain('diskBytes')}: expected at most the ${formatBytes(budget.freeDiskBytes)} free on the output directory's file system`, {
      hint: 'Free space, choose another --out, or lower the stimulus counts.',
    });
  }
}

/** A count with thousands separators (and exponent notation beyond 1e15). */
function fmt(n: number): string {
  return n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);
}

/** Estimates a run into `outDir` and refuses it when it cannot fit this machine; returns the estimate. */
export async function checkRunFits<C>(stages: readonly Stage<C>[], experiment: PlanContext<C>, outDir: string, budget?: Budget): Promise<RunEstimate> {
  const estimate = await estimateRun(stages, experiment);
  const manifest = await readManifest(outDir);
  const existing = manifest ? Object.values(manifest.stages).flat().reduce((a, r) => a + r.bytes, 0) : 0;
  checkBudget(estimate, budget ?? (await machineBudget(outDir)), existing);
  return estimate;
}

/** One line for messages: "≈ 184 shards, 2.1 GB of checkpoints, 3.4 GB peak memory per shard". */
export function describeEstimate(e: RunEstimate): string {
  return `≈ ${fmt(e.shards)} shards, ${formatBytes(e.diskBytes)} of checkpoints, ${formatBytes(e.memoryBytes)} peak memory per shard`;
}
