// Where the report reads a run from: the finished checkpoints (verified against the manifest), the resolved
// config and the manifest. Built either inside a run (Stage.finalize) or from an output directory (`revcor report`).
// Tested in test/report/escape.test.ts.
import { resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { loadExperiment } from '../config/load.ts';
import type { Experiment } from '../config/schema.ts';
import { OutputError } from '../pipeline/errors.ts';
import { readCurrentManifest, readManifest, type Manifest, type ShardRecord } from '../pipeline/manifest.ts';
import { readResolvedConfig, requireRecordedExperiment } from '../pipeline/rundir.ts';
import type { FinalizeContext, UpstreamShardInfo } from '../pipeline/stage.ts';
import { readShardVerified } from '../pipeline/store.ts';
import type { UpstreamReader } from '../results/reader.ts';

/** A finished run, read-only. */
export interface RunSource extends UpstreamReader {
  outDir: string;
  config: Experiment;
  /** Text of the resolved experiment ('' when absent). */
  resolvedYaml: string;
  /** The manifest (null when absent). */
  manifest: Manifest | null;
  /** Finished shards of a stage with their parameters. */
  shardInfo(stage: string): readonly UpstreamShardInfo[];
}

/** The run as a finalize step sees it (the manifest was just written by the runner). */
export async function sourceFromFinalize(ctx: FinalizeContext<Experiment>): Promise<RunSource> {
  return {
    outDir: ctx.outDir,
    config: ctx.config,
    resolvedYaml: await readResolvedConfig(ctx.outDir),
    manifest: await readManifest(ctx.outDir),
    shardInfo: (stage) => ctx.records[stage] ?? [],
    shards: (stage) => (ctx.records[stage] ?? []).map((s) => s.id),
    read: (stage, id) => ctx.read(stage, id),
  };
}

/** Opens an output directory: its resolved config, manifest and checkpoints (nothing is recomputed). */
export async function openRunDir(dir: string): Promise<RunSource> {
  const outDir = resolve(dir);
  const resolvedFile = await requireRecordedExperiment(outDir);
  const manifest = await readCurrentManifest(outDir);
  if (!manifest) {
    throw new OutputError(`${outDir}: Expected a manifest listing the finished checkpoints, got none`, {
      hint: `Run the experiment (revcor run ${resolvedFile}) to finish at least one stage.`,
    });
  }
  const loaded = await loadExperiment(resolvedFile);
  const recs = (stage: string) => (manifest.stages[stage] ?? []) as Omit<ShardRecord, 'basis'>[];
  return {
    outDir,
    config: loaded.config,
    resolvedYaml: await readResolvedConfig(outDir),
    manifest,
    shardInfo: (stage) => recs(stage).map((r) => ({ id: r.shard, params: r.params, rows: r.rows })),
    shards: (stage) => recs(stage).map((r) => r.shard),
    async read(stage: string, id: string): Promise<Table> {
      const rec = recs(stage).find((r) => r.shard === id);
      if (!rec) throw new OutputError(`${outDir}: Expected a finished ${stage} shard ${id} in the manifest, got none`);
      return readShardVerified(outDir, rec as ShardRecord);
    },
  };
}
