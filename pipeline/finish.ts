// The end of a run: prune what the plan no longer has (only files the run recorded as its own), rewrite the
// manifest, and call the finalizers that write derived files (report, CSV).
// Tested in test/pipeline/runner.test.ts.
import { rm } from 'node:fs/promises';
import { removeTempFiles } from './atomic.ts';
import { clearWriting, deleteRecord, readManifest, readStageRecords, recordDir, writeManifest, writingMarks, type Manifest, type ShardRecord } from './manifest.ts';
import type { Plan, PlannedShard } from './plan.ts';
import type { ProgressEvent } from './progress.ts';
import { metaDir, stageDir, writeDerived, writingDir } from './rundir.ts';
import type { FinalizeContext, Finalizer, PlanContext, UpstreamShardInfo } from './stage.ts';
import { readShardVerified, shardPath } from './store.ts';

/** Removes temp files left by writers that were killed (the caller holds the lock and nobody else writes). */
export async function removeLeftovers(outDir: string, stages: readonly string[]): Promise<void> {
  const dirs = [outDir, metaDir(outDir), ...stages.flatMap((s) => [stageDir(outDir, s), recordDir(outDir, s), writingDir(outDir, s)])];
  for (const d of dirs) await removeTempFiles(d);
}

/**
 * After a run: for selected stages whose planned shards are all done, removes the records (and their checkpoint
 * files) of shards the plan no longer has, and the checkpoints of unfinished writes (killed between the file and its
 * record) — never a file revcor did not record as its own; then rewrites the manifest when anything changed or it is
 * missing. `prune` is false after a failure or interruption (nothing is deleted then).
 */
export async function finish(plan: Plan, outDir: string, ranSomething: boolean, prune = true): Promise<Manifest> {
  const byStage = new Map<string, ShardRecord[]>();
  let pruned = 0;
  for (const sp of plan.stages) {
    byStage.set(sp.stage.name, sp.shards.filter((s) => s.status === 'done' && s.record).map((s) => s.record!));
    if (!prune || !sp.selected || sp.shards.some((s) => s.status !== 'done')) continue;
    const keep = new Map(sp.shards.map((s) => [s.shard.id, s.record]));
    for (const id of (await readStageRecords(outDir, sp.stage.name)).keys()) {
      if (keep.has(id)) continue;
      await deleteRecord(outDir, sp.stage.name, id);
      await rm(shardPath(outDir, sp.stage.name, id), { force: true }); // the record's file (records name no other)
      pruned++;
    }
    for (const id of await writingMarks(outDir, sp.stage.name)) {
      // a write that never got its record: the file is ours; keep it only if it is the planned shard's recorded one
      if (!keep.get(id)) await rm(shardPath(outDir, sp.stage.name, id), { force: true });
      await clearWriting(outDir, sp.stage.name, id);
      pruned++;
    }
  }
  if (!ranSomething && !pruned) {
    const existing = await readManifest(outDir);
    if (existing) return existing;
  }
  return writeManifest(outDir, byStage);
}

/** The finalizers whose needed stages are all planned (≥ 1 shard each), all done, and at least one selected. */
export function dueFinalizers<C>(plan: Plan, finalizers: readonly Finalizer<C>[]): Finalizer<C>[] {
  const byName = new Map(plan.stages.map((sp) => [sp.stage.name, sp]));
  return finalizers.filter((f) => {
    const sps = f.needs.map((n) => byName.get(n));
    return sps.every((sp) => sp && sp.shards.length > 0 && sp.shards.every((s) => s.status === 'done')) && sps.some((sp) => sp!.selected);
  });
}

/** Calls the due finalizers in order after a successful run; `changed` tells whether this run computed any needed shard. */
export async function runFinalizers<C>(
  plan: Plan,
  finalizers: readonly Finalizer<C>[],
  env: { experiment: PlanContext<C>; outDir: string; ran: readonly PlannedShard[]; emit: (e: ProgressEvent) => void },
): Promise<void> {
  const due = dueFinalizers(plan, finalizers);
  if (!due.length) return;
  const records: Record<string, UpstreamShardInfo[]> = {};
  const byKey = new Map<string, ShardRecord>();
  for (const sp of plan.stages) {
    const done = sp.shards.filter((s) => s.status === 'done' && s.record);
    records[sp.stage.name] = done.map((s) => ({ id: s.shard.id, params: s.basis.params, rows: s.record!.rows, sha256: s.record!.sha256 }));
    for (const s of done) byKey.set(`${sp.stage.name}/${s.shard.id}`, s.record!);
  }
  for (const f of due) {
    const ctx: FinalizeContext<C> = {
      config: env.experiment.config,
      configDir: env.experiment.configDir,
      outDir: env.outDir,
      changed: env.ran.some((s) => f.needs.includes(s.stage)),
      records,
      read: async (stage, id) => {
        const rec = byKey.get(`${stage}/${id}`);
        if (!rec) throw new Error(`Finalizer ${f.name} read ${stage} shard ${id}: expected a finished shard of a planned stage`);
        return readShardVerified(env.outDir, rec);
      },
      writeFile: async (relativePath, data) => {
        try {
          await writeDerived(env.outDir, relativePath, data);
        } catch (e) {
          if (e instanceof Error && /^Expected a path inside/.test(e.message)) throw new Error(`Finalizer ${f.name}: ${e.message[0]!.toLowerCase()}${e.message.slice(1)}`);
          throw e;
        }
      },
      log: (message) => env.emit({ type: 'log', level: 'info', message, stage: f.name }),
    };
    await f.run(ctx);
  }
}
