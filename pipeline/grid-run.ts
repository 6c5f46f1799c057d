// Running a grid: every point is an ordinary run (pipeline/runner.ts, any executor) into its own run directory inside
// the grid directory, one after the other, all sharing one checkpoint cache so that a shard several points need is
// computed once. Resumable as a whole: the grid's lock, its record of points, and each point's own records; an
// interrupted or failed point stops the grid with the command that resumes it.
import { FileHasher } from './cache-key.ts';
import type { CheckpointCache } from './cache-store.ts';
import type { Executor } from './executor.ts';
import { claimGridDir, pointDir, readGridRecord, writeGridRecord } from './grid-dir.ts';
import { planGrid, type GridPlan } from './grid-plan.ts';
import type { GridReporter } from './grid-progress.ts';
import { acquireLock } from './lock.ts';
import { formatSeconds } from './progress.ts';
import { runPipeline, type RunOptions, type RunResult } from './runner.ts';
import type { PlanContext } from './stage.ts';

/** One point to run: its directory name, the settings it varies, its experiment and resolved config text. */
export interface GridRunPoint<C> {
  name: string;
  settings: Record<string, unknown>;
  experiment: PlanContext<C>;
  resolvedYaml: string;
}

/** Everything a grid run needs (the run options apply to every point). */
export interface GridRunOptions<C> extends Omit<RunOptions<C>, 'experiment' | 'outDir' | 'resolvedYaml' | 'reporter' | 'executor' | 'dryRun'> {
  gridDir: string;
  /** The grid file (recorded). */
  file: string;
  keys: string[];
  points: GridRunPoint<C>[];
  /** The executor of each point's run (default: the local executor). */
  executor?: () => Executor<C>;
  reporter?: GridReporter;
}

/** What a grid run did. */
export interface GridResult {
  plan: GridPlan;
  points: { name: string; outDir: string; result: RunResult }[];
  computed: number;
  restored: number;
  seconds: number;
}

/** Plans a grid from its directory's records and the cache, writing nothing (for --dry-run and the progress total). */
export async function dryRunGrid<C>(o: Pick<GridRunOptions<C>, 'stages' | 'gridDir' | 'points' | 'cache'>, sharing = o.cache !== undefined): Promise<GridPlan> {
  return planGrid(o.stages, o.points.map((p) => ({ name: p.name, outDir: pointDir(o.gridDir, p.name), experiment: p.experiment })), { sharing, cache: o.cache ?? null, hasher: new FileHasher() });
}

/** Runs every point of the grid into its directory; throws (with the grid's resume command) when a point stops. */
export async function runGrid<C>(o: GridRunOptions<C>): Promise<GridResult> {
  const t0 = Date.now();
  await claimGridDir(o.gridDir);
  const record = { file: o.file, keys: o.keys, points: o.points.map((p) => ({ name: p.name, settings: p.settings })), cache: o.cache?.dir ?? null };
  if (!(await readGridRecord(o.gridDir))) await writeGridRecord(o.gridDir, record); // marks the directory a grid before anything else lands in it
  const lock = await acquireLock(o.gridDir, o.command ?? process.argv.join(' '));
  try {
    if (lock.tookOverFrom) {
      const d = lock.tookOverFrom;
      o.reporter?.grid({ type: 'log', level: 'warn', message: `took over the lock left by process ${d.pid} (started ${d.startedAt}), which is no longer running` });
    }
    await writeGridRecord(o.gridDir, record);
    const plan = await dryRunGrid(o);
    o.reporter?.grid({ type: 'grid-plan', gridDir: o.gridDir, points: o.points.length, shards: plan.shards, distinct: plan.distinct, toCompute: plan.toCompute, cache: o.cache?.dir ?? null });
    const done: GridResult['points'] = [];
    let computed = 0;
    let restored = 0;
    for (const [index, p] of o.points.entries()) {
      const outDir = pointDir(o.gridDir, p.name);
      const of = o.points.length;
      o.reporter?.grid({ type: 'point-start', point: p.name, index, of, outDir, toCompute: plan.points[index]?.toCompute ?? 0 });
      const reporter = o.reporter?.point(p.name, index);
      const t = Date.now();
      const { executor, reporter: _r, gridDir: _g, file: _f, keys: _k, points: _p, ...shared } = o;
      const result = await runPipeline<C>({ ...shared, experiment: p.experiment, outDir, resolvedYaml: p.resolvedYaml, reporter, executor: executor?.() });
      const fromCache = result.restored.length + result.ran.filter((s) => s.record?.cached).length;
      computed += result.ran.length - result.ran.filter((s) => s.record?.cached).length;
      restored += fromCache;
      o.reporter?.grid({ type: 'point-done', point: p.name, index, of, computed: result.ran.length - result.ran.filter((s) => s.record?.cached).length, restored: fromCache, seconds: (Date.now() - t) / 1000 });
      done.push({ name: p.name, outDir, result });
    }
    const seconds = (Date.now() - t0) / 1000;
    const message = computed + restored === 0
      ? `Nothing to do: all ${o.points.length} points of the grid in ${o.gridDir} are up to date.`
      : `Grid done: ${o.points.length} points, ${computed} shards computed and ${restored} restored from the cache in ${formatSeconds(seconds)}; outputs in ${o.gridDir}`;
    o.reporter?.grid({ type: 'grid-done', points: o.points.length, computed, restored, seconds, message });
    return { plan, points: done, computed, restored, seconds };
  } finally {
    await lock.release();
  }
}
