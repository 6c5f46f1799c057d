// The run lifecycle's use of the shared checkpoint cache (pipeline/cache-store.ts), for every executor: before
// anything is computed, planned shards whose key the cache holds are restored from it (verified); after the run,
// every finished shard of the plan is added to it (those computed by remote workers, or by an interrupted earlier
// run). Shards computed in this process are added as they finish (pipeline/shard-exec.ts).
import type { FileHasher } from './cache-key.ts';
import type { CheckpointCache } from './cache-store.ts';
import type { Plan, PlannedShard } from './plan.ts';
import type { ProgressEvent } from './progress.ts';
import { restoreShard } from './shard-exec.ts';
import { shardPath } from './store.ts';

/** Restores every shard the plan would compute (not forced) whose key the cache holds; marks them done. */
export async function restorePlanned(plan: Plan, cache: CheckpointCache, env: { outDir: string; hasher: FileHasher; emit(e: ProgressEvent): void }): Promise<PlannedShard[]> {
  const restored: PlannedShard[] = [];
  const log = (message: string): void => env.emit({ type: 'log', level: 'warn', message });
  for (const sp of plan.stages) {
    for (const ps of sp.shards) {
      if (!ps.run || ps.fresh) continue;
      const entry = await cache.entry(ps.key);
      if (!entry) continue;
      const record = await restoreShard({ stage: sp.stage, shard: ps.shard, key: ps.key, basis: ps.basis, previous: ps.record }, { outDir: env.outDir, hasher: env.hasher, log }, cache, entry);
      if (!record) continue;
      Object.assign(ps, { status: 'done', reasons: [], record, run: false });
      restored.push(ps);
    }
  }
  plan.toRun -= restored.length;
  return restored;
}

/** Adds every finished shard of the plan to the cache (already present: a cheap check); returns how many were added. */
export async function publishDone(plan: Plan, cache: CheckpointCache, env: { outDir: string; hasher: FileHasher }): Promise<number> {
  let added = 0;
  for (const sp of plan.stages) {
    for (const ps of sp.shards) {
      if (ps.status !== 'done' || !ps.record) continue;
      const path = shardPath(env.outDir, ps.stage, ps.shard.id);
      if ((await cache.publish(path, ps.record)) === 'added') added++;
      await env.hasher.remember(path, ps.record.sha256); // a new hard link changes the file's ctime
    }
  }
  return added;
}
