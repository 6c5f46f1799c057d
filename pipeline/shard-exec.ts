// Executes one shard: builds its StageContext, runs the stage, writes the checkpoint atomically and records it.
// Shared by the local runner (pipeline/runner.ts) and the distributed worker (pipeline/distributed/worker.ts).
// Tested in test/pipeline/runner.test.ts.
import { Table } from 'apache-arrow';
import type { WriteHook } from './atomic.ts';
import type { FileHasher, KeyBasis } from './cache-key.ts';
import { RevcorError } from './errors.ts';
import { clearWriting, deleteRecord, markWriting, writeRecord, type ShardRecord } from './manifest.ts';
import type { PlanContext, Shard, Stage, StageContext, UpstreamShardInfo, UpstreamView } from './stage.ts';
import { readShardVerified, writeShard } from './store.ts';

/** One shard to compute, with its cache key and what the key is made of. */
export interface ShardTask<C = unknown> {
  stage: Stage<C>;
  shard: Shard;
  key: string;
  basis: KeyBasis;
  /** The shard's existing record (stale or forced): deleted before the new checkpoint is written. */
  previous?: ShardRecord;
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
}

/** Runs `task.stage` on `task.shard`, writes its Arrow file atomically, then its manifest record; returns the record. */
export async function executeShard<C>(task: ShardTask<C>, env: ShardEnv<C>): Promise<ShardRecord> {
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
  const shards: UpstreamShardInfo[] = src.shards.filter((s) => s.id in needed).map((s) => ({ id: s.id, params: s.params, rows: src.record(s.id)?.rows ?? 0 }));
  return {
    stage,
    shards,
    async read(id: string) {
      if (!(id in needed)) throw new Error(`Stage ${consumer.stage} shard ${consumer.shard} read ${stage} shard ${id}: expected one of the shards it needs (${Object.keys(needed).join(', ')})`);
      const rec = src.record(id);
      if (!rec) throw new Error(`Stage ${consumer.stage} shard ${consumer.shard} read ${stage} shard ${id} before it was done`);
      try {
        return await readShardVerified(outDir, rec);
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
