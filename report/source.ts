// Where the report reads a run from: the finished checkpoints (verified against the manifest), the resolved
// config and the manifest. Built either inside a run (Stage.finalize) or from an output directory (`revcor report`).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { loadExperiment } from '../config/load.ts';
import type { Experiment } from '../config/schema.ts';
import { OutputError } from '../pipeline/errors.ts';
import type { Manifest, ShardRecord } from '../pipeline/manifest.ts';
import type { FinalizeContext, UpstreamShardInfo } from '../pipeline/stage.ts';
import { readShardVerified } from '../pipeline/store.ts';
import type { UpstreamReader } from '../stages/summary.ts';

/** A finished run, read-only. */
export interface RunSource extends UpstreamReader {
  outDir: string;
  config: Experiment;
  /** Text of config.resolved.yaml ('' when absent). */
  resolvedYaml: string;
  /** manifest.json (null when absent). */
  manifest: Manifest | null;
  /** Finished shards of a stage with their parameters. */
  shardInfo(stage: string): readonly UpstreamShardInfo[];
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function readManifest(outDir: string): Promise<Manifest | null> {
  const text = await readText(join(outDir, 'manifest.json'));
  try {
    return text ? (JSON.parse(text) as Manifest) : null;
  } catch {
    return null;
  }
}

/** The run as a finalize step sees it (the manifest was just written by the runner). */
export async function sourceFromFinalize(ctx: FinalizeContext<Experiment>): Promise<RunSource> {
  return {
    outDir: ctx.outDir,
    config: ctx.config,
    resolvedYaml: await readText(join(ctx.outDir, 'config.resolved.yaml')),
    manifest: await readManifest(ctx.outDir),
    shardInfo: (stage) => ctx.records[stage] ?? [],
    shards: (stage) => (ctx.records[stage] ?? []).map((s) => s.id),
    read: (stage, id) => ctx.read(stage, id),
  };
}

/** Opens an output directory: its resolved config, manifest and checkpoints (nothing is recomputed). */
export async function openRunDir(dir: string): Promise<RunSource> {
  const outDir = resolve(dir);
  const resolvedFile = join(outDir, 'config.resolved.yaml');
  if (!existsSync(resolvedFile)) {
    throw new OutputError(`${outDir}: Expected a revcor output directory containing config.resolved.yaml, got none`, {
      hint: 'Give the directory a run wrote to (run.out of the YAML, or --out).',
    });
  }
  const manifest = await readManifest(outDir);
  if (!manifest) {
    throw new OutputError(`${outDir}: Expected manifest.json listing the finished checkpoints, got none`, {
      hint: `Run the experiment (revcor run ${resolvedFile}) to finish at least one stage.`,
    });
  }
  const loaded = await loadExperiment(resolvedFile);
  const recs = (stage: string) => (manifest.stages[stage] ?? []) as Omit<ShardRecord, 'basis'>[];
  return {
    outDir,
    config: loaded.config,
    resolvedYaml: await readText(resolvedFile),
    manifest,
    shardInfo: (stage) => recs(stage).map((r) => ({ id: r.shard, params: r.params, rows: r.rows })),
    shards: (stage) => recs(stage).map((r) => r.shard),
    async read(stage: string, id: string): Promise<Table> {
      const rec = recs(stage).find((r) => r.shard === id);
      if (!rec) throw new OutputError(`${outDir}: Expected a finished ${stage} shard ${id} in manifest.json, got none`);
      return readShardVerified(outDir, rec as ShardRecord);
    },
  };
}
