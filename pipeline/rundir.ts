// The run directory: the only module that knows its layout (.revcor/, records, lock, file-hash memo, manifest.json,
// config.resolved.yaml, one folder per stage) and decides whether a directory is a revcor run. A run writes only
// into a directory that is new, empty or already a run, and deletes only what it recorded as its own.
//
//   <out>/config.resolved.yaml            the experiment with every default filled in
//   <out>/manifest.json                   every finished shard (aggregated from the records)
//   <out>/<stage>/<shard>.arrow           checkpoints
//   <out>/.revcor/run.json                marker: this directory is a revcor run (format, created when)
//   <out>/.revcor/records/<stage>/<shard>.json   per-shard records (the source of truth)
//   <out>/.revcor/writing/<stage>/<shard>        a checkpoint being written (its file is the run's even unrecorded)
//   <out>/.revcor/derived.json            files written after a run (report.html, summary/summary.csv, …)
//   <out>/.revcor/lock, file-hashes.json  the writer's lock, the content-hash memo
// A grid of runs (pipeline/grid-dir.ts) is a directory of run directories, one per point, marked by
//   <grid>/.revcor/grid.json              the grid's points and settings (and <grid>/.revcor/lock while it runs)
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { OutputError } from './errors.ts';

const META = '.revcor';
const MANIFEST = 'manifest.json';
const RESOLVED = 'config.resolved.yaml';
const MARKER = 'run.json';
const DERIVED = 'derived.json';
const GRID = 'grid.json';

/** Format tag of the marker file. */
export const RUN_FORMAT = 'revcor-run/1';

/** The engine's own folder inside a run directory. */
export function metaDir(outDir: string): string {
  return join(outDir, META);
}

/** The lock file of a run directory. */
export function lockFile(outDir: string): string {
  return join(outDir, META, 'lock');
}

/** The content-hash memo of a run directory. */
export function hashMemoFile(outDir: string): string {
  return join(outDir, META, 'file-hashes.json');
}

/** The record of a grid of runs (its points and their settings). */
export function gridRecordFile(gridDir: string): string {
  return join(gridDir, META, GRID);
}

/** Folder of the per-shard records of every stage. */
export function recordsRoot(outDir: string): string {
  return join(outDir, META, 'records');
}

/** Folder of one stage's per-shard records. */
export function recordDir(outDir: string, stage: string): string {
  return join(recordsRoot(outDir), stage);
}

/** One shard's record. */
export function recordFile(outDir: string, stage: string, shard: string): string {
  return join(recordDir(outDir, stage), `${shard}.json`);
}

/** Folder of the marks of checkpoints being written, per stage. */
export function writingDir(outDir: string, stage: string): string {
  return join(outDir, META, 'writing', stage);
}

/** aggregated manifest of finished shards. */
export function manifestFile(outDir: string): string {
  return join(outDir, MANIFEST);
}

/** The resolved experiment a run recorded. */
export function resolvedConfigFile(outDir: string): string {
  return join(outDir, RESOLVED);
}

/** A stage's checkpoint folder. */
export function stageDir(outDir: string, stage: string): string {
  return join(outDir, stage);
}

/** A checkpoint's path relative to the run directory (what records store). */
export function checkpointRelative(stage: string, shard: string): string {
  return join(stage, `${shard}.arrow`);
}

/** A checkpoint's absolute path. */
export function checkpointFile(outDir: string, stage: string, shard: string): string {
  return join(outDir, checkpointRelative(stage, shard));
}

/** A path inside the run directory for a derived file (report, CSV); refuses absolute paths, `..`, `.` and .revcor/. */
export function derivedPath(outDir: string, relativePath: string): string {
  const rel = normalize(relativePath);
  if (isAbsolute(rel) || rel === '.' || rel === '..' || rel.startsWith(`..${sep}`) || rel.split(sep)[0] === META) {
    throw new Error(`Expected a path inside the output directory, got ${relativePath}`);
  }
  return join(outDir, rel);
}

/** What a directory is, as far as revcor is concerned. */
export type RunDirKind = 'missing' | 'empty' | 'run' | 'grid' | 'foreign' | 'not-a-directory';

/** A directory's kind and, for a foreign one, a few of its entries (for the error message). */
export interface RunDirProbe {
  kind: RunDirKind;
  entries: string[];
}

/** Whether `outDir` is missing, empty, a revcor run (marker, or records of a run made before the marker), or foreign. */
export async function probeRunDir(outDir: string): Promise<RunDirProbe> {
  const st = await stat(outDir).catch(() => undefined);
  if (!st) return { kind: 'missing', entries: [] };
  if (!st.isDirectory()) return { kind: 'not-a-directory', entries: [] };
  const entries = await readdir(outDir);
  if (entries.length === 0) return { kind: 'empty', entries };
  if (existsSync(join(outDir, META, MARKER)) || existsSync(recordsRoot(outDir)) || (entries.includes(RESOLVED) && entries.includes(MANIFEST))) {
    return { kind: 'run', entries };
  }
  if (existsSync(gridRecordFile(outDir))) return { kind: 'grid', entries };
  return { kind: 'foreign', entries };
}

/** Makes `outDir` a run directory for a run (creating it, or marking an empty one); refuses anything else, leaving it as it was. */
export async function claimRunDir(outDir: string): Promise<void> {
  if (!outDir || !isAbsolute(outDir)) throw new OutputError(`Output directory: expected an absolute path, got ${JSON.stringify(outDir)}`);
  const probe = await probeRunDir(outDir);
  if (probe.kind === 'foreign') {
    const shown = probe.entries.slice(0, 3).join(', ') + (probe.entries.length > 3 ? `, … (${probe.entries.length} entries)` : '');
    throw new OutputError(`${outDir}: expected a new or empty directory, or the output directory of a revcor run, got a directory that holds other files (${shown})`, {
      hint: 'revcor never writes into a directory it did not create: choose another --out (or run.out), or empty this one yourself.',
    });
  }
  if (probe.kind === 'grid') {
    throw new OutputError(`${outDir}: expected a new or empty directory, or the output directory of a revcor run, got the directory of a grid of runs`, {
      hint: 'Run the grid file into it (revcor run GRID.yaml --out DIR), or choose another --out (each point of the grid is a run directory inside it).',
    });
  }
  if (probe.kind === 'not-a-directory') {
    throw new OutputError(`Cannot write output directory ${outDir}: expected a writable directory, got a file in the way`, { hint: 'Choose another directory with --out DIR (or run.out in the YAML).' });
  }
  try {
    await mkdir(metaDir(outDir), { recursive: true });
    await writeFileAtomic(join(outDir, META, 'write-test'), 'ok');
    await rm(join(outDir, META, 'write-test'), { force: true });
    if (!existsSync(join(outDir, META, MARKER))) {
      await writeFileAtomic(join(outDir, META, MARKER), JSON.stringify({ format: RUN_FORMAT, createdAt: new Date().toISOString() }, null, 1) + '\n');
    }
  } catch (e) {
    // an empty .revcor/ left behind would make the directory foreign to the next run (rmdir removes only an empty one)
    await rmdir(metaDir(outDir)).catch(() => undefined);
    if (probe.kind === 'missing') await rmdir(outDir).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code ?? ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    throw new OutputError(`Cannot write output directory ${outDir}: expected a writable directory, got ${code ?? String(e)}`, {
      hint: 'Choose another directory with --out DIR (or run.out in the YAML).',
    });
  }
}

/** Refuses a directory that is not a revcor run (for commands that read or change an existing run). */
export async function requireRunDir(outDir: string, hint = 'Give the directory a run wrote to (run.out of the YAML, or --out).'): Promise<void> {
  const probe = await probeRunDir(outDir);
  if (probe.kind === 'run') return;
  if (probe.kind === 'grid') {
    throw new OutputError(`${outDir}: Expected a revcor output directory, got the directory of a grid of runs`, {
      hint: `Give one of its points (a folder inside it), or use revcor status / revcor compare on the grid.`,
    });
  }
  const got = probe.kind === 'missing' ? 'no such directory' : probe.kind === 'empty' ? 'an empty directory' : probe.kind === 'not-a-directory' ? 'a file' : 'a directory without .revcor/ or config.resolved.yaml';
  throw new OutputError(`${outDir}: Expected a revcor output directory, got ${got}`, { hint });
}

/** The resolved experiment file of a run directory; refuses a directory that is not a run or never recorded one. */
export async function requireRecordedExperiment(outDir: string): Promise<string> {
  await requireRunDir(outDir);
  const file = resolvedConfigFile(outDir);
  if (!existsSync(file)) {
    throw new OutputError(`${outDir}: Expected a revcor output directory with its resolved experiment (${RESOLVED}), got none`, {
      hint: 'Run the experiment into it first (revcor run CONFIG --out DIR).',
    });
  }
  return file;
}

/** Text of the run's resolved experiment ('' when absent). */
export async function readResolvedConfig(outDir: string): Promise<string> {
  return readFile(resolvedConfigFile(outDir), 'utf8').catch(() => '');
}

/** Writes the resolved experiment unless it already holds exactly this text (an unchanged rerun touches nothing). */
export async function writeResolvedConfig(outDir: string, text: string): Promise<void> {
  if ((await readResolvedConfig(outDir)) !== text) await writeFileAtomic(resolvedConfigFile(outDir), text);
}

/** Stages that have records in the run directory. */
export async function recordedStages(outDir: string): Promise<string[]> {
  return readdir(recordsRoot(outDir)).catch(() => [] as string[]);
}

/** Derived files the run wrote (relative paths), from .revcor/derived.json. */
export async function readDerived(outDir: string): Promise<string[]> {
  try {
    const v = JSON.parse(await readFile(join(outDir, META, DERIVED), 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Writes a derived file atomically and remembers it as the run's own (so `clean` removes it and nothing else). */
export async function writeDerived(outDir: string, relativePath: string, data: string | Uint8Array): Promise<string> {
  const path = derivedPath(outDir, relativePath);
  const rel = relative(outDir, path);
  const known = await readDerived(outDir);
  if (!known.includes(rel)) await writeFileAtomic(join(outDir, META, DERIVED), JSON.stringify([...known, rel].sort(), null, 1) + '\n');
  await writeFileAtomic(path, data);
  return path;
}

/** Removes the run's derived files and forgets them. */
export async function removeDerived(outDir: string): Promise<string[]> {
  const known = await readDerived(outDir);
  for (const rel of known) await rm(derivedPath(outDir, rel), { force: true });
  await rm(join(outDir, META, DERIVED), { force: true });
  return known;
}

/** Removes the run's own top-level files (manifest, resolved config, marker, memo) after every checkpoint is gone. */
export async function removeRunFiles(outDir: string): Promise<void> {
  await removeDerived(outDir);
  for (const f of [manifestFile(outDir), resolvedConfigFile(outDir)]) await rm(f, { force: true });
  for (const f of ['records', 'writing', 'file-hashes.json', MARKER]) await rm(join(outDir, META, f), { recursive: true, force: true });
}
