// Planning a grid without running it: every point's shards and cache keys, which keys several points share and which
// are unique to one, and what the grid has left to compute — points run in order, and with a shared cache a key is
// computed once: by the first point that needs it, unless a point's directory or the cache already holds it.
// Reads records and cache entries only (checkpoints are verified when the points run).
import { FileHasher } from './cache-key.ts';
import type { CheckpointCache } from './cache-store.ts';
import { readStageRecords } from './manifest.ts';
import { planKeys } from './plan.ts';
import type { PlanContext, Stage } from './stage.ts';

/** One point to plan: its name, run directory and experiment. */
export interface GridPointInput<C> {
  name: string;
  outDir: string;
  experiment: PlanContext<C>;
}

/** One stage over the whole grid. */
export interface GridStageCount {
  stage: string;
  /** Shards over all points (a shard of two points counts twice). */
  shards: number;
  /** Different cache keys among them. */
  distinct: number;
  /** Keys that two or more points share (computed once with a cache). */
  shared: number;
  /** Keys of one point only. */
  unique: number;
  /** Shards already done in their point's directory. */
  done: number;
  /** Shards that would be restored from the cache or another point instead of computed. */
  restored: number;
  /** Shards the grid would compute. */
  toCompute: number;
}

/** One point of the grid plan. */
export interface GridPointCount {
  name: string;
  outDir: string;
  shards: number;
  done: number;
  restored: number;
  toCompute: number;
}

/** What a grid has done and has left. */
export interface GridPlan {
  stages: GridStageCount[];
  points: GridPointCount[];
  shards: number;
  distinct: number;
  toCompute: number;
  /** Whether points share shards through a cache (without one each point computes its own). */
  sharing: boolean;
}

/** Plans the grid's points in order (`cache`: the shared cache if it exists yet; `sharing`: whether one is used). */
export async function planGrid<C>(
  stages: readonly Stage<C>[],
  points: readonly GridPointInput<C>[],
  opts: { sharing: boolean; cache?: CheckpointCache | null; hasher?: FileHasher },
): Promise<GridPlan> {
  const hasher = opts.hasher ?? new FileHasher();
  const byStage = new Map<string, GridStageCount>();
  const users = new Map<string, Map<string, Set<number>>>();
  const available = new Set<string>();
  const inCache = async (key: string): Promise<boolean> => opts.cache != null && (await opts.cache.entry(key)) !== undefined;
  const pointCounts: GridPointCount[] = [];
  for (const [i, p] of points.entries()) {
    const pc: GridPointCount = { name: p.name, outDir: p.outDir, shards: 0, done: 0, restored: 0, toCompute: 0 };
    for (const ks of await planKeys(stages, p.experiment, hasher)) {
      const name = ks.stage.name;
      const sc = byStage.get(name) ?? { stage: name, shards: 0, distinct: 0, shared: 0, unique: 0, done: 0, restored: 0, toCompute: 0 };
      byStage.set(name, sc);
      const u = users.get(name) ?? new Map<string, Set<number>>();
      users.set(name, u);
      const records = await readStageRecords(p.outDir, name);
      for (const { shard, key } of ks.shards) {
        u.set(key, (u.get(key) ?? new Set()).add(i));
        sc.shards++;
        pc.shards++;
        if (records.get(shard.id)?.key === key) {
          sc.done++;
          pc.done++;
          if (opts.sharing) available.add(key);
        } else if (opts.sharing && (available.has(key) || (await inCache(key)))) {
          sc.restored++;
          pc.restored++;
          available.add(key);
        } else {
          sc.toCompute++;
          pc.toCompute++;
          if (opts.sharing) available.add(key);
        }
      }
    }
    pointCounts.push(pc);
  }
  for (const sc of byStage.values()) {
    const u = [...users.get(sc.stage)!.values()];
    sc.distinct = u.length;
    sc.shared = u.filter((s) => s.size > 1).length;
    sc.unique = u.filter((s) => s.size === 1).length;
  }
  const stageCounts = [...byStage.values()];
  return {
    stages: stageCounts,
    points: pointCounts,
    shards: stageCounts.reduce((a, s) => a + s.shards, 0),
    distinct: stageCounts.reduce((a, s) => a + s.distinct, 0),
    toCompute: stageCounts.reduce((a, s) => a + s.toCompute, 0),
    sharing: opts.sharing,
  };
}
