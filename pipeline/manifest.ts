// The manifest: one small JSON record per finished shard (the source of truth, each written atomically after its
// Arrow file), the marks of checkpoints being written, and the aggregated manifest of the current plan's records,
// rewritten atomically at the end of every run. Where they live is pipeline/rundir.ts's business.
// Tested in test/pipeline/rundir.test.ts.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import type { KeyBasis } from './cache-key.ts';
import { manifestFile, recordDir, recordFile, writingDir } from './rundir.ts';

/** What the manifest records about one finished shard. */
export interface ShardRecord {
  stage: string;
  shard: string;
  key: string;
  /** sha256 of the Arrow file's bytes. */
  sha256: string;
  rows: number;
  bytes: number;
  /** Wall-clock seconds the shard took (run + write). */
  seconds: number;
  /** ISO time the checkpoint was recorded. */
  finishedAt: string;
  params: Record<string, unknown>;
  /** Path of the Arrow file relative to the output directory. */
  file: string;
  /** What the key was made of, to explain staleness later. */
  basis: KeyBasis;
  /** Restored from the shared cache instead of computed here (`seconds` is then the original computation's). */
  cached?: boolean;
}

/** Version tag of the aggregated manifest file. */
export const MANIFEST_FORMAT = 'revcor-manifest/1';

export { recordDir };

/** Path of one shard's record. */
export function recordPath(outDir: string, stage: string, shard: string): string {
  return recordFile(outDir, stage, shard);
}

/** Writes a shard's record atomically (after its Arrow file is in place). */
export async function writeRecord(outDir: string, record: ShardRecord): Promise<void> {
  await writeFileAtomic(recordPath(outDir, record.stage, record.shard), JSON.stringify(record, null, 1));
}

/** Reads one shard's record; undefined when absent or unreadable (a damaged record means "not done"). */
export async function readRecord(outDir: string, stage: string, shard: string): Promise<ShardRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(recordPath(outDir, stage, shard), 'utf8')) as ShardRecord;
    return typeof r.key === 'string' && typeof r.sha256 === 'string' && r.basis ? r : undefined;
  } catch {
    return undefined;
  }
}

/** All records of a stage, by shard id. */
export async function readStageRecords(outDir: string, stage: string): Promise<Map<string, ShardRecord>> {
  const out = new Map<string, ShardRecord>();
  let names: string[] = [];
  try {
    names = await readdir(recordDir(outDir, stage));
  } catch {
    return out;
  }
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    const r = await readRecord(outDir, stage, n.slice(0, -5));
    if (r) out.set(r.shard, r);
  }
  return out;
}

/** Deletes a shard's record (its checkpoint is no longer trusted). */
export async function deleteRecord(outDir: string, stage: string, shard: string): Promise<void> {
  await rm(recordPath(outDir, stage, shard), { force: true });
}

/** Marks a checkpoint as being written, so that its file counts as the run's own before its record exists. */
export async function markWriting(outDir: string, stage: string, shard: string): Promise<void> {
  await writeFileAtomic(join(writingDir(outDir, stage), shard), '');
}

/** Removes a checkpoint's being-written mark (after its record is written, or its write failed). */
export async function clearWriting(outDir: string, stage: string, shard: string): Promise<void> {
  await rm(join(writingDir(outDir, stage), shard), { force: true });
}

/** Shards of a stage whose checkpoint writes were started and never finished (killed writers). */
export async function writingMarks(outDir: string, stage: string): Promise<string[]> {
  return (await readdir(writingDir(outDir, stage)).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
}

/** The aggregated manifest (its file: pipeline/rundir.ts manifestFile). */
export interface Manifest {
  format: string;
  generatedAt: string;
  /** Stage name → its finished shards, in plan order (records without `basis`). */
  stages: Record<string, Omit<ShardRecord, 'basis'>[]>;
}

/** Rewrites the run's manifest from the given records (stage order preserved). */
export async function writeManifest(outDir: string, records: Map<string, ShardRecord[]>): Promise<Manifest> {
  const manifest: Manifest = { format: MANIFEST_FORMAT, generatedAt: new Date().toISOString(), stages: {} };
  for (const [stage, list] of records) manifest.stages[stage] = list.map(({ basis: _b, ...rest }) => rest);
  await writeFileAtomic(manifestFile(outDir), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}

/** The run's manifest as last written, or null when absent or unreadable. */
export async function readManifest(outDir: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await readFile(manifestFile(outDir), 'utf8')) as Manifest;
    return m && typeof m.stages === 'object' ? m : null;
  } catch {
    return null;
  }
}

/**
 * The manifest as a reader should see it: every listed shard with its per-shard record when that differs (a rerun
 * replaces a checkpoint and its record first and rewrites the manifest only at its end; a rerun stopped in between
 * leaves the old manifest). Shards the manifest does not list stay out. Null when there is no manifest.
 */
export async function readCurrentManifest(outDir: string): Promise<Manifest | null> {
  const manifest = await readManifest(outDir);
  if (!manifest) return null;
  const stages: Manifest['stages'] = {};
  for (const [stage, list] of Object.entries(manifest.stages)) {
    const current = await readStageRecords(outDir, stage);
    stages[stage] = list.map((listed) => {
      const rec = current.get(listed.shard);
      if (!rec) return listed;
      const { basis: _b, ...rest } = rec;
      return rest;
    });
  }
  return { ...manifest, stages };
}
