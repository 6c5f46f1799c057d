// A grid's directory: one ordinary run directory per point (its readable name), and the grid's own record of its
// points in the grid record (pipeline/rundir.ts gridRecordFile). A grid writes only into a directory that is new, empty or
// already a grid; its points are claimed like any run directory.
import { readFile, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { OutputError } from './errors.ts';
import { gridRecordFile, probeRunDir } from './rundir.ts';

/** Format tag of the grid record. */
export const GRID_FORMAT = 'revcor-grid/1';

/** One point as the grid records it: its directory name and the settings it varies (key path → value). */
export interface GridPointRecord {
  name: string;
  settings: Record<string, unknown>;
}

/** What the grid record holds. */
export interface GridRecord {
  format: string;
  /** The grid file it was run from (absolute). */
  file: string;
  /** The varied key paths, in the order written. */
  keys: string[];
  points: GridPointRecord[];
  /** The shared cache the grid used (absolute), or null. */
  cache: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A point's run directory. */
export function pointDir(gridDir: string, name: string): string {
  return join(gridDir, name);
}

/** The grid's record, or undefined when the directory is not a grid (or the record is unreadable). */
export async function readGridRecord(gridDir: string): Promise<GridRecord | undefined> {
  try {
    const g = JSON.parse(await readFile(gridRecordFile(gridDir), 'utf8')) as GridRecord;
    return g.format === GRID_FORMAT && Array.isArray(g.points) ? g : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `gridDir` a grid directory (new, empty, or already a grid); refuses a run directory or anything else. */
export async function claimGridDir(gridDir: string): Promise<void> {
  if (!gridDir || !isAbsolute(gridDir)) throw new OutputError(`Grid directory: expected an absolute path, got ${JSON.stringify(gridDir)}`);
  const probe = await probeRunDir(gridDir);
  if (probe.kind === 'missing' || probe.kind === 'empty' || probe.kind === 'grid') return;
  const got =
    probe.kind === 'run'
      ? 'the output directory of a single run'
      : probe.kind === 'not-a-directory'
        ? 'a file'
        : `a directory that holds other files (${probe.entries.slice(0, 3).join(', ')}${probe.entries.length > 3 ? ', …' : ''})`;
  throw new OutputError(`${gridDir}: expected a new or empty directory, or the directory of a grid, got ${got}`, {
    hint: 'A grid writes one run directory per point inside --out: choose another --out for it.',
  });
}

/** Writes the grid's record (keeping its creation time). */
export async function writeGridRecord(gridDir: string, rec: Omit<GridRecord, 'format' | 'createdAt' | 'updatedAt'>): Promise<GridRecord> {
  const prev = await readGridRecord(gridDir);
  const now = new Date().toISOString();
  const full: GridRecord = { format: GRID_FORMAT, ...rec, createdAt: prev?.createdAt ?? now, updatedAt: now };
  await writeFileAtomic(gridRecordFile(gridDir), JSON.stringify(full, null, 1) + '\n');
  return full;
}

/** The grid's record; refuses a directory that is not a grid. */
export async function requireGrid(gridDir: string): Promise<GridRecord> {
  const g = await readGridRecord(gridDir);
  if (g) return g;
  const probe = await probeRunDir(gridDir);
  const got = probe.kind === 'missing' ? 'no such directory' : probe.kind === 'run' ? 'the output directory of a single run' : 'a directory without a grid record';
  throw new OutputError(`${gridDir}: Expected the directory of a grid of runs (revcor run GRID.yaml --out DIR), got ${got}`);
}

/** Folders of the grid directory that are run directories but no point of the current grid (left by an earlier grid). */
export async function strayPoints(gridDir: string, rec: GridRecord): Promise<string[]> {
  const names = new Set(rec.points.map((p) => p.name));
  const out: string[] = [];
  for (const n of await readdir(gridDir).catch(() => [] as string[])) {
    if (n.startsWith('.') || names.has(n)) continue;
    if ((await probeRunDir(join(gridDir, n))).kind === 'run') out.push(n);
  }
  return out.sort();
}
