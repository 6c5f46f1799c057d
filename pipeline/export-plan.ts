// What `revcor export` exports from a run directory: its finished checkpoints grouped into tables (one per stage, or
// per stage and stimulus set where a stage writes one kind of table per set: stimuli, activations), the files each
// table becomes (one per table, or one per layer with --partition layer) and the checkpoints each file is made of,
// with their sha256 (so a re-export skips a file whose sources did not change). Checkpoints come from the run's
// manifest; a stage the manifest does not list yet (a run still in progress) comes from its per-shard records.
// Tested in test/pipeline/export.test.ts.
import { readCurrentManifest, readStageRecords, type ShardRecord } from './manifest.ts';
import { OutputError } from './errors.ts';
import { recordedStages, requireRunDir } from './rundir.ts';

/** A checkpoint as the export sees it (a manifest or record entry). */
export type ExportSource = Omit<ShardRecord, 'basis'>;

/** One exported table: every checkpoint of a stage (and stimulus set). */
export interface ExportUnit {
  /** File stem: the stage, or `<stage>-<set>` (activations-gratings). */
  name: string;
  stage: string;
  sources: ExportSource[];
}

/** Export output formats. */
export type ExportFormat = 'parquet' | 'csv';

/** How a table is split into files. */
export type ExportPartition = 'layer' | 'none';

/** The finished checkpoints of a run, per stage in pipeline order (manifest first, then stages only recorded). */
export async function runSources(outDir: string): Promise<Map<string, ExportSource[]>> {
  await requireRunDir(outDir);
  const out = new Map<string, ExportSource[]>();
  const manifest = await readCurrentManifest(outDir);
  for (const [stage, list] of Object.entries(manifest?.stages ?? {})) if (list.length) out.set(stage, list);
  for (const stage of (await recordedStages(outDir)).sort()) {
    if (out.has(stage)) continue;
    const recs = [...(await readStageRecords(outDir, stage)).values()].sort((a, b) => a.shard.localeCompare(b.shard));
    if (recs.length) out.set(stage, recs.map(({ basis: _b, ...r }) => r));
  }
  return out;
}

/** The stimulus set of a checkpoint (stimuli and activations shards carry params.set), or undefined. */
function setOf(s: ExportSource): string | undefined {
  const v = s.params?.['set'];
  return typeof v === 'string' && v ? v : undefined;
}

/** The exported tables of a run: `stages` chosen (all when empty); an unknown stage is an OutputError (exit 2). */
export function exportUnits(sources: Map<string, ExportSource[]>, stages: readonly string[] = []): ExportUnit[] {
  for (const s of stages) {
    if (!sources.has(s)) {
      const known = [...sources.keys()];
      throw new OutputError(`--stage ${s}: Expected a stage with finished checkpoints (${known.join(', ') || 'none yet'}), got ${JSON.stringify(s)}`);
    }
  }
  const units: ExportUnit[] = [];
  for (const [stage, list] of sources) {
    if (stages.length && !stages.includes(stage)) continue;
    const bySet = new Map<string, ExportSource[]>();
    for (const s of list) {
      const name = setOf(s) ? `${stage}-${setOf(s)}` : stage;
      bySet.set(name, [...(bySet.get(name) ?? []), s]);
    }
    for (const [name, srcs] of bySet) units.push({ name, stage, sources: srcs });
  }
  return units;
}

/** The layer a checkpoint holds alone (params.layer of per-layer shards), or undefined for a shard of every layer. */
export function sourceLayer(s: ExportSource): string | undefined {
  const v = s.params?.['layer'];
  return typeof v === 'string' && v ? v : undefined;
}

/** sha256 of each source checkpoint by shard id (what a file was made from). */
export function sourceDigests(sources: readonly ExportSource[]): Record<string, string> {
  return Object.fromEntries(sources.map((s) => [s.shard, s.sha256]));
}

/** A Hive-style partition folder for a layer (`layer=<name>`, the name URI-encoded as Hive and pyarrow expect). */
export function layerPartition(layer: string): string {
  return `layer=${encodeURIComponent(layer)}`;
}

/** Where a unit's file goes inside the export folder (relative path, '/'-separated). */
export function exportFile(unit: string, format: ExportFormat, layer?: string): string {
  if (layer === undefined) return `${unit}.${format}`;
  return `${unit}/${layerPartition(layer)}/part-0.${format}`;
}
