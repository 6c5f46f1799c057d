// `revcor status GRID`: every point of a grid (done / to run, and why), the compute the grid spent against what its
// points would have cost each run alone, and its disk use with hard links counted once.
// Tested in test/cli/grid.test.ts.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pointDir, requireGrid, strayPoints } from '../pipeline/grid-dir.ts';
import { formatBytes, formatSeconds } from '../pipeline/progress.ts';
import { probeRunDir } from '../pipeline/rundir.ts';
import { println, type CliDeps } from './deps.ts';
import { formatPlan, summariseStage } from './format-plan.ts';
import type { outputStatus } from './status.ts';

/** How one point's run directory is planned (cli/status.ts outputStatus, passed in: status.ts imports this file). */
type PointStatus = typeof outputStatus;

/** What the grid's records say about its cost: compute seconds and bytes, shared shards counted once and per point. */
export interface GridCost {
  /** Seconds of the shards the grid computed (restored ones not counted). */
  computeSeconds: number;
  /** Seconds had every point computed every one of its shards alone. */
  aloneSeconds: number;
  /** Bytes of the points' checkpoints, each file (inode) once. */
  bytes: number;
  /** Bytes summed over the points' checkpoints. */
  aloneBytes: number;
}

/** The status of every point of the grid at `dir`, and its cost. */
export async function gridStatus(deps: CliDeps, gridDir: string, outputStatus: PointStatus) {
  const grid = await requireGrid(gridDir);
  const cost: GridCost = { computeSeconds: 0, aloneSeconds: 0, bytes: 0, aloneBytes: 0 };
  const inodes = new Set<string>();
  const points = [];
  for (const p of grid.points) {
    const outDir = pointDir(gridDir, p.name);
    if ((await probeRunDir(outDir)).kind !== 'run') {
      points.push({ name: p.name, settings: p.settings, outDir, state: 'not run yet' as const, total: 0, toRun: 0, restored: 0, plan: undefined });
      continue;
    }
    const { plan, running } = await outputStatus(deps, outDir);
    let restored = 0;
    for (const sp of plan.stages) {
      for (const s of sp.shards) {
        const r = s.record;
        if (s.status !== 'done' || !r) continue;
        cost.aloneSeconds += r.seconds;
        cost.aloneBytes += r.bytes;
        if (r.cached) restored++;
        else cost.computeSeconds += r.seconds;
        const st = await stat(join(outDir, r.file)).catch(() => undefined);
        if (st && !inodes.has(`${st.dev}:${st.ino}`)) {
          inodes.add(`${st.dev}:${st.ino}`);
          cost.bytes += st.size;
        }
      }
    }
    points.push({ name: p.name, settings: p.settings, outDir, state: running ? ('running' as const) : plan.toRun ? ('incomplete' as const) : ('done' as const), total: plan.total, toRun: plan.toRun, restored, plan });
  }
  return { gridDir, grid, points, cost, stray: await strayPoints(gridDir, grid) };
}

/** Prints a grid's status (text or JSON). */
export async function printGridStatus(deps: CliDeps, gridDir: string, json: boolean, outputStatus: PointStatus): Promise<void> {
  const s = await gridStatus(deps, gridDir, outputStatus);
  if (json) {
    const points = s.points.map(({ plan, ...p }) => ({ ...p, stages: plan ? plan.stages.map(summariseStage) : [] }));
    return println(deps.stdout, JSON.stringify({ gridDir: s.gridDir, file: s.grid.file, keys: s.grid.keys, cache: s.grid.cache, points, cost: s.cost, stray: s.stray }));
  }
  const done = s.points.filter((p) => p.state === 'done').length;
  println(deps.stdout, `${s.gridDir}: grid of ${s.points.length} points from ${s.grid.file} (varies ${s.grid.keys.join(', ')}); ${done} of ${s.points.length} points done; cache ${s.grid.cache ?? 'none'}`);
  const w = Math.max(...s.points.map((p) => p.name.length));
  for (const p of s.points) {
    if (!p.plan) {
      println(deps.stdout, `  ${p.name.padEnd(w)}  not run yet`);
      continue;
    }
    const bits = [`${p.total - p.toRun} of ${p.total} shards done`, p.restored ? `${p.restored} of them restored from the cache` : '', p.toRun ? `${p.toRun} to run` : '', p.state === 'running' ? 'a run is in progress' : ''].filter(Boolean);
    println(deps.stdout, `  ${p.name.padEnd(w)}  ${bits.join(', ')}`);
    if (p.toRun) println(deps.stdout, ...formatPlan(p.plan, 'status').filter((l) => !/: \d+ done(, [^,]*)?$/.test(l)).map((l) => `    ${l}`));
  }
  const c = s.cost;
  println(deps.stdout, `Compute: ${formatSeconds(c.computeSeconds)} for the grid (shared shards computed once), ${formatSeconds(c.aloneSeconds)} had each point run alone; disk: ${formatBytes(c.bytes)} (hard links counted once), ${formatBytes(c.aloneBytes)} summed over the points`);
  if (s.stray.length) println(deps.stdout, `Not part of the grid any more (left by an earlier version of it): ${s.stray.join(', ')}`);
  const left = s.points.reduce((a, p) => a + p.toRun, 0) + s.points.filter((p) => !p.plan).length;
  if (left) println(deps.stdout, `Run the grid again to finish it: ${deps.invocation} run ${s.grid.file} --out ${s.gridDir}`);
}
