// `revcor export`: a run directory's finished checkpoints as Parquet (or CSV) files for analysis elsewhere (DuckDB,
// polars, pandas, R, Spark). The export folder holds only the export's own files and .revcor-export.json (what each
// file was made from: its checkpoints' sha256, format, partitioning), so a repeated export rewrites only files whose
// checkpoints changed, and a folder holding anything else is never written into. Every file is written atomically.
// Tested in test/pipeline/export.test.ts and test/cli/export.test.ts.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type Schema, type Table } from 'apache-arrow';
import { parse as parseYaml } from 'yaml';
import { writeFileAtomic } from './atomic.ts';
import { sha256 } from './cache-key.ts';
import { OutputError } from './errors.ts';
import { exportFile, exportUnits, runSources, sourceDigests, sourceLayer, type ExportFormat, type ExportPartition, type ExportSource, type ExportUnit } from './export-plan.ts';
import { conform, exportSchema, layerPart, schemaMeanings, tableLayers } from './export-table.ts';
import { writeCsv, writeParquet, type WrittenFile } from './export-write.ts';
import type { ShardRecord } from './manifest.ts';
import { packageFile } from './package-files.ts';
import { readResolvedConfig } from './rundir.ts';
import { META as CHECKPOINT_META, readShardVerified } from './store.ts';

/** The export folder's own record of what it holds. */
export const EXPORT_MARKER = '.revcor-export.json';

/** Format tag of the marker and of every exported file's metadata. */
export const EXPORT_FORMAT = 'revcor-export/1';

/** File metadata keys of every exported file (Parquet key-value metadata and Arrow schema metadata). */
export const EXPORT_META = {
  format: 'revcor.export.format',
  stage: 'revcor.stage',
  table: 'revcor.table',
  layer: 'revcor.layer',
  run: 'revcor.run',
  configSha256: 'revcor.config_sha256',
  config: 'revcor.config',
  codeVersion: 'revcor.code_version',
  revcorVersion: 'revcor.revcor_version',
  sources: 'revcor.sources',
  columns: 'revcor.columns',
} as const;

/** What `revcor export` is asked to do. */
export interface ExportOptions {
  /** Stages to export (all when empty). */
  stages?: readonly string[];
  format?: ExportFormat;
  partition?: ExportPartition;
  /** Export folder (default `<run>/export`). */
  out?: string;
  /** Called after each file is written or found unchanged. */
  onFile?: (f: ExportedFile) => void;
}

/** One file of the export. */
export interface ExportedFile {
  /** Path relative to the export folder ('/'-separated). */
  path: string;
  stage: string;
  bytes: number;
  rows: number;
  /** Written now, or left as it was (its checkpoints unchanged since the last export). */
  action: 'written' | 'unchanged';
}

/** The marker's entry of one file. */
interface MarkerEntry {
  stage: string;
  table: string;
  format: ExportFormat;
  partition: ExportPartition;
  sources: Record<string, string>;
  bytes: number;
  rows: number;
}

/** The marker file. */
interface Marker {
  format: string;
  run: string;
  files: Record<string, MarkerEntry>;
}

/** The export folder for a run (the `--out` given, or `<run>/export`). */
export function exportDir(runDir: string, out?: string): string {
  return out ? resolve(out) : join(resolve(runDir), 'export');
}

/** Reads the export folder's marker; refuses a folder that holds other files and is not an export (exit 2). */
async function claimExportDir(outDir: string, runDir: string): Promise<Marker> {
  const fresh: Marker = { format: EXPORT_FORMAT, run: runDir, files: {} };
  const st = await stat(outDir).catch(() => undefined);
  if (!st) return fresh;
  if (!st.isDirectory()) throw new OutputError(`--out ${outDir}: Expected a directory for the export, got a file`);
  const entries = await readdir(outDir);
  const markerFile = join(outDir, EXPORT_MARKER);
  if (!entries.includes(EXPORT_MARKER)) {
    if (entries.length === 0) return fresh;
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
    throw new OutputError(`--out ${outDir}: Expected a new or empty directory, or an earlier revcor export (with ${EXPORT_MARKER}), got a directory that holds other files (${shown})`, {
      hint: 'revcor export never writes into a folder it did not create: choose another --out.',
    });
  }
  try {
    const m = JSON.parse(await readFile(markerFile, 'utf8')) as Marker;
    if (m.format !== EXPORT_FORMAT || typeof m.files !== 'object') throw new Error('format');
    return { ...m, run: runDir };
  } catch {
    throw new OutputError(`${markerFile}: Expected a ${EXPORT_FORMAT} marker, got an unreadable or foreign file`, { hint: 'Delete the export folder and export again.' });
  }
}

/** Writes the marker atomically. */
async function saveMarker(outDir: string, marker: Marker): Promise<void> {
  await writeFileAtomic(join(outDir, EXPORT_MARKER), JSON.stringify(marker, null, 1) + '\n');
}

/** Whether two source digests name the same checkpoints with the same bytes. */
function sameSources(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Whether a file recorded in the marker is still in place as written, from the same checkpoints, in the same form. */
async function unchanged(outDir: string, marker: Marker, path: string, want: Omit<MarkerEntry, 'bytes' | 'rows'>): Promise<MarkerEntry | undefined> {
  const e = marker.files[path];
  if (!e || e.format !== want.format || e.partition !== want.partition || e.table !== want.table || !sameSources(e.sources, want.sources)) return undefined;
  const size = (await stat(join(outDir, path)).catch(() => undefined))?.size;
  return size === e.bytes ? e : undefined;
}

/** The run's identity: its config name and digest, and the exporting revcor's version. */
async function runIdentity(runDir: string): Promise<Record<string, string>> {
  const yaml = await readResolvedConfig(runDir);
  let name = '';
  try {
    const doc = parseYaml(yaml) as { name?: unknown } | null;
    name = typeof doc?.name === 'string' ? doc.name : '';
  } catch {
    /* a damaged resolved config still has a digest */
  }
  const pkg = JSON.parse(await readFile(packageFile('package.json'), 'utf8')) as { version?: string };
  return {
    [EXPORT_META.format]: EXPORT_FORMAT,
    [EXPORT_META.run]: name,
    [EXPORT_META.configSha256]: sha256(yaml),
    [EXPORT_META.config]: yaml,
    [EXPORT_META.revcorVersion]: pkg.version ?? '0.0.0',
  };
}

/** The checkpoints of `sources`, read one at a time (each verified against its record's sha256). */
async function* readSources(runDir: string, sources: readonly ExportSource[]): AsyncGenerator<{ source: ExportSource; table: Table }> {
  for (const source of sources) yield { source, table: await readShardVerified(runDir, source as ShardRecord) };
}

/** One file to write: its path, the checkpoints it is made of and the layer it holds (partitioned files). */
interface PlannedFile {
  path: string;
  sources: ExportSource[];
  layer?: string;
}

/** The files of a unit whose layers are known without reading (one file, or one per layer of per-layer shards). */
function knownFiles(unit: ExportUnit, format: ExportFormat, partition: ExportPartition): PlannedFile[] | undefined {
  if (format === 'csv' || partition === 'none') return [{ path: exportFile(unit.name, format), sources: unit.sources }];
  const layers = unit.sources.map(sourceLayer);
  if (layers.some((l) => l === undefined)) return undefined;
  const by = new Map<string, ExportSource[]>();
  unit.sources.forEach((s, i) => by.set(layers[i]!, [...(by.get(layers[i]!) ?? []), s]));
  return [...by].map(([layer, sources]) => ({ path: exportFile(unit.name, format, layer), sources, layer }));
}

/**
 * Exports a run directory's checkpoints. An unknown stage, a directory that is not a run, or an export folder that
 * holds other files is an OutputError (exit 2). Returns the export folder and its files in the order written.
 */
export async function exportRun(runDirArg: string, opts: ExportOptions = {}): Promise<{ outDir: string; files: ExportedFile[] }> {
  const runDir = resolve(runDirArg);
  const format = opts.format ?? 'parquet';
  const partition = opts.partition ?? 'none';
  if (format === 'csv' && partition !== 'none') throw new OutputError(`--partition ${partition}: Expected --partition none with --format csv (CSV is one file per stage), got --partition ${partition}`);
  const units = exportUnits(await runSources(runDir), opts.stages ?? []);
  const outDir = exportDir(runDir, opts.out);
  if (outDir === runDir) throw new OutputError(`--out ${outDir}: Expected a folder for the export, got the run directory itself`);
  const marker = await claimExportDir(outDir, runDir);
  const identity = await runIdentity(runDir);
  const files: ExportedFile[] = [];
  const report = (f: ExportedFile) => {
    files.push(f);
    opts.onFile?.(f);
  };
  await saveMarker(outDir, marker);

  for (const unit of units) {
    const base = { stage: unit.stage, table: unit.name, format, partition };
    const allSources = sourceDigests(unit.sources);
    const recorded = Object.entries(marker.files).filter(([, e]) => e.table === unit.name && e.format === format);
    let planned = knownFiles(unit, format, partition);
    // shards of every layer: when the last export of this table is intact and from the same checkpoints, nothing to read
    if (!planned && recorded.length) {
      const intact = await Promise.all(recorded.map(([p]) => unchanged(outDir, marker, p, { ...base, sources: allSources })));
      if (intact.every(Boolean)) {
        for (const [p, e] of recorded) report({ path: p, stage: unit.stage, bytes: e.bytes, rows: e.rows, action: 'unchanged' });
        continue;
      }
    }
    let first: Table | undefined;
    if (!planned) {
      first = await readShardVerified(runDir, unit.sources[0] as ShardRecord);
      const layers = tableLayers(unit.stage, first);
      planned = layers.length
        ? layers.map((layer) => ({ path: exportFile(unit.name, format, layer), sources: unit.sources, layer }))
        : [{ path: exportFile(unit.name, format), sources: unit.sources }];
    }
    // files of this table from an earlier export that this one does not produce (layers gone, partitioning changed)
    for (const [p] of recorded) {
      if (planned.some((f) => f.path === p)) continue;
      await rm(join(outDir, p), { force: true });
      delete marker.files[p];
    }
    for (const file of planned) {
      const want = { ...base, sources: sourceDigests(file.sources) };
      const kept = await unchanged(outDir, marker, file.path, want);
      if (kept) {
        report({ path: file.path, stage: unit.stage, bytes: kept.bytes, rows: kept.rows, action: 'unchanged' });
        continue;
      }
      const written = await writeFile(runDir, outDir, unit, file, format, identity, first);
      marker.files[file.path] = { ...want, bytes: written.bytes, rows: written.rows };
      await saveMarker(outDir, marker);
      report({ path: file.path, stage: unit.stage, bytes: written.bytes, rows: written.rows, action: 'written' });
    }
  }
  return { outDir, files };
}

/** Writes one file of a unit from its checkpoints (streamed one checkpoint at a time). */
async function writeFile(runDir: string, outDir: string, unit: ExportUnit, file: PlannedFile, format: ExportFormat, identity: Record<string, string>, first?: Table): Promise<WrittenFile> {
  const target = join(outDir, ...file.path.split('/'));
  const firstTable = first && file.sources[0] === unit.sources[0] ? first : await readShardVerified(runDir, file.sources[0] as ShardRecord);
  const versions = [...new Set([firstTable.schema.metadata.get(CHECKPOINT_META.version) ?? '?'])];
  const metadata: Record<string, string> = {
    ...identity,
    [EXPORT_META.stage]: unit.stage,
    [EXPORT_META.table]: unit.name,
    [EXPORT_META.codeVersion]: versions.map((v) => `${unit.stage}@${v}`).join(','),
    [EXPORT_META.sources]: JSON.stringify(sourceDigests(file.sources)),
    ...(file.layer === undefined ? {} : { [EXPORT_META.layer]: file.layer }),
  };
  const unitSchema = exportSchema(unit.stage, firstTable, metadata);
  const part = (t: Table) => (file.layer === undefined ? t : layerPart(unit.stage, t, file.layer));
  const probe = part(conform(firstTable, unitSchema, checkpointName(file.sources[0]!)));
  const schema: Schema = probe?.schema ?? unitSchema;
  metadata[EXPORT_META.columns] = JSON.stringify(schemaMeanings(schema));
  schema.metadata.set(EXPORT_META.columns, metadata[EXPORT_META.columns]!);
  async function* tables(): AsyncGenerator<Table> {
    for await (const { source, table } of readSources(runDir, file.sources)) {
      const t = part(conform(table, unitSchema, checkpointName(source)));
      if (t) yield t;
    }
  }
  return format === 'csv' ? writeCsv(target, schema, tables()) : writeParquet(target, schema, tables(), metadata);
}

/** A checkpoint's name in messages. */
function checkpointName(s: ExportSource): string {
  return `${s.stage}/${s.shard}`;
}

/** Whether `dir` is an export folder (holds the marker). */
export function isExportDir(dir: string): boolean {
  return existsSync(join(dir, EXPORT_MARKER));
}

/** A path relative to the working directory for messages (absolute when outside it). */
export function shownPath(p: string, cwd = process.cwd()): string {
  const r = relative(cwd, p);
  return r && !r.startsWith('..') ? r : p;
}
