// Executes one shard: builds its StageContext, runs the stage, writes the checkpoint atomically and records it.
// Shared by the local runner (pipeline/runner.ts) and the distributed worker (pipeline/distributed/worker.ts).
// Tested in test/pipeline/runner.test.ts.
import { Table } from 'apache-arrow';
import type { WriteHook } from './atomic.ts';
import type { FileHasher, KeyBasis } from './cache-key.ts';
import type { CacheEntry, CheckpointCache } from './cache-store.ts';
import { RevcorError } from './errors.ts';
import { clearWriting, deleteRecord, markWriting, writeRecord, type ShardRecord } from './manifest.ts';
import { checkpointRelative } from './rundir.ts';
import type { PlanContext, Shard, Stage, StageContext, UpstreamShardInfo, UpstreamView } from './stage.ts';
import { readShardVerified, shardPath, writeShard, type ReadOptions } from './store.ts';

/** One shard to compute, with its cache key and what the key is made of. */
export interface ShardTask<C = unknown> {
  stage: Stage<C>;
  shard: Shard;
  key: string;
  basis: KeyBasis;
  /** The shard's existing record (stale or forced): deleted before the new checkpoint is written. */
  previous?: ShardRecord;
  /** Compute even when the cache holds the key (--force); the result then replaces a differing cache entry. */
  fresh?: boolean;
}

/** Where and with what a shard runs. */
export interface ShardEnv<C = unknown> {
  experiment: PlanContext<C>;
  outDir: string;
  pool: StageContext['pool'];
  /** Threads one task of this shard may use (from the executor). */
  threads: number;
  signal: AbortSignal;
  /** Content-hash memo told about the written checkpoint (optional). */
  hasher?: FileHasher;
  /** Test seam passed to the checkpoint write. */
  writeHook?: WriteHook;
  /** Read access to an upstream stage's shards this shard needs. */
  upstream(stage: string): UpstreamView;
  progress(fraction: number): void;
  log(message: string): void;
  /** Called after run() returned, before anything is written; throwing here discards the result. */
  beforeWrite?(): Promise<void>;
  /** The shared checkpoint cache: a shard whose key it holds is restored from it, a computed one is added to it. */
  cache?: CheckpointCache;
}

/** Runs `task.stage` on `task.shard`, writes its Arrow file atomically, then its manifest record; returns the record. */
export async function executeShard<C>(task: ShardTask<C>, env: ShardEnv<C>): Promise<ShardRecord> {
  if (env.cache && !task.fresh) {
    // another run may have added the key since this run was planned
    const entry = await env.cache.entry(task.key);
    const restored = entry && (await restoreShard(task, env, env.cache, entry));
    if (restored) return restored;
  }
  const t = Date.now();
  const ctx: StageContext<C> = {
    config: env.experiment.config,
    configDir: env.experiment.configDir,
    upstream: (name) => env.upstream(name),
    pool: env.pool,
    threads: env.threads,
    signal: env.signal,
    progress: (fraction) => env.progress(fraction),
    log: (message) => env.log(message),
  };
  const { stage, shard } = task;
  const table = await stage.run(shard, ctx);
  if (!(table instanceof Table)) throw new Error(`Stage ${stage.name} shard ${shard.id}: expected run() to return an Arrow Table, got ${describe(table)}`);
  await env.beforeWrite?.();
  if (task.previous) await deleteRecord(env.outDir, stage.name, shard.id);
  const stamp = { stage: stage.name, shard: shard.id, key: task.key, version: stage.version, params: task.basis.params };
  // until its record exists, the mark says the checkpoint file is the run's own (pruning may remove it)
  await markWriting(env.outDir, stage.name, shard.id);
  const written = await writeShard(env.outDir, stamp, table, env.writeHook);
  await env.hasher?.remember(written.path, written.sha256);
  await env.writeHook?.('before-record', written.path);
  const record: ShardRecord = {
    stage: stage.name,
    shard: shard.id,
    key: task.key,
    sha256: written.sha256,
    rows: written.rows,
    bytes: written.bytes,
    seconds: (Date.now() - t) / 1000,
    finishedAt: new Date().toISOString(),
    params: task.basis.params,
    file: written.file,
    basis: task.basis,
  };
  await writeRecord(env.outDir, record);
  await clearWriting(env.outDir, stage.name, shard.id);
  if (env.cache) {
    try {
      await env.cache.publish(written.path, record);
      await env.hasher?.remember(written.path, written.sha256); // a new hard link changes the file's ctime
    } catch (e) {
      env.log(`warning: could not add the checkpoint to the cache ${env.cache.dir} (${e instanceof Error ? e.message : String(e)}); the run goes on without it`);
    }
  }
  return record;
}

/**
 * Puts a cached checkpoint in place of computing it: verified against the entry's sha256, placed atomically (hard
 * link, else copy), then recorded like a computed one (`cached: true`, `seconds` of the original computation).
 * Returns undefined when the entry turned out corrupt or missing (the cache drops it; the caller computes).
 */
export async function restoreShard<C>(
  task: ShardTask<C>,
  env: Pick<ShardEnv<C>, 'outDir' | 'hasher' | 'log'>,
  cache: CheckpointCache,
  entry: CacheEntry,
): Promise<ShardRecord | undefined> {
  const { stage, shard } = task;
  if (task.previous) await deleteRecord(env.outDir, stage.name, shard.id);
  await markWriting(env.outDir, stage.name, shard.id);
  const target = shardPath(env.outDir, stage.name, shard.id);
  const placed = await cache.restore(entry, target);
  if (!('placement' in placed)) {
    await clearWriting(env.outDir, stage.name, shard.id);
    env.log(`cache entry ${entry.key.slice(0, 12)}… is ${placed.problem}: removed from the cache, computing the shard`);
    return undefined;
  }
  await env.hasher?.remember(target, entry.sha256);
  const record: ShardRecord = {
    stage: stage.name,
    shard: shard.id,
    key: task.key,
    sha256: entry.sha256,
    rows: entry.rows,
    bytes: entry.bytes,
    seconds: entry.seconds,
    finishedAt: new Date().toISOString(),
    params: task.basis.params,
    file: checkpointRelative(stage.name, shard.id),
    basis: task.basis,
    cached: true,
  };
  await writeRecord(env.outDir, record);
  await clearWriting(env.outDir, stage.name, shard.id);
  return record;
}

/** What an upstream view is built from. */
export interface UpstreamSource {
  /** The reading shard: its stage, id and key basis (whose `upstream` lists the shards it may read). */
  consumer: { stage: string; shard: string; basis: KeyBasis };
  /** The upstream stage asked for. */
  stage: string;
  /** That stage's planned shards (id and params). */
  shards: readonly { id: string; params: Record<string, unknown> }[];
  /** The current record of one of its shards (undefined while not done). */
  record(id: string): ShardRecord | undefined;
  outDir: string;
}

/** Read access to the upstream shards a shard needs (verified reads; a corrupt checkpoint loses its record). */
export function makeUpstreamView(src: UpstreamSource): UpstreamView {
  const { consumer, stage, outDir } = src;
  const needed = consumer.basis.upstream[stage];
  if (!needed) throw new Error(`Stage ${consumer.stage} asked for upstream ${stage}: expected one of ${Object.keys(consumer.basis.upstream).join(', ') || '(none)'}`);
  const shards: UpstreamShardInfo[] = src.shards.filter((s) => s.id in needed).map((s) => ({ id: s.id, params: s.params, rows: src.record(s.id)?.rows ?? 0, sha256: src.record(s.id)?.sha256 }));
  return {
    stage,
    shards,
    async read(id: string, opts?: ReadOptions) {
      if (!(id in needed)) throw new Error(`Stage ${consumer.stage} shard ${consumer.shard} read ${stage} shard ${id}: expected one of the shards it needs (${Object.keys(needed).join(', ')})`);
      const rec = src.record(id);
      if (!rec) throw new Error(`Stage ${consumer.stage} shard ${consumer.shard} read ${stage} shard ${id} before it was done`);
      try {
        return await readShardVerified(outDir, rec, undefined, opts);
      } catch (e) {
        if (e instanceof RevcorError) await deleteRecord(outDir, stage, id);
        throw e;
      }
    },
  };
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}
