// `revcor run GRID.yaml --out DIR`: a grid file (`grid:` or `points:`) runs every point as a run directory inside
// DIR, sharing one checkpoint cache; --dry-run lists the points and, per stage, the shards shared and unique.
// Tested in test/cli/grid.test.ts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadGrid, type LoadedGrid } from '../config/grid.ts';
import { toResolvedYaml } from '../config/load.ts';
import type { Experiment } from '../config/schema.ts';
import { displayPath } from '../config/yaml-source.ts';
import { cacheDirFor, CheckpointCache } from '../pipeline/cache-store.ts';
import { codeVersion } from '../pipeline/distributed/code-version.ts';
import type { RedisTarget } from '../pipeline/distributed/redis.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { pointDir } from '../pipeline/grid-dir.ts';
import type { GridPlan } from '../pipeline/grid-plan.ts';
import { createGridReporter } from '../pipeline/grid-progress.ts';
import { dryRunGrid, runGrid, type GridRunPoint } from '../pipeline/grid-run.ts';
import { reporterMode } from '../pipeline/progress.ts';
import { println, type CliDeps } from './deps.ts';
import { interruptOnSignals } from './interrupt.ts';

/** The arguments of `revcor run` a grid uses. */
export interface GridRunArgs {
  config: string;
  out?: string;
  set: string[];
  from: string[];
  only: string[];
  force: string[];
  workers?: number;
  'dry-run': boolean;
  quiet: boolean;
  json: boolean;
  offline: boolean;
  /** --cache DIR ('' = the user's cache directory), --no-cache (false), or absent. */
  cache?: string | false;
  queue: string;
}

/** The cache setting after --cache / --no-cache: false, true (user's cache directory), a directory, or run.cache. */
export function cacheSetting(arg: string | false | undefined, configured: boolean | string): boolean | string {
  return arg === false ? false : arg === '' ? true : (arg ?? configured);
}

/** Runs (or dry-runs) a grid file; `redis` distributes every point's shards over the same workers. */
export async function runGridCommand(deps: CliDeps, args: GridRunArgs, o: { redis?: RedisTarget; resumeCommand: string; command: string }): Promise<void> {
  const grid = (await loadGrid(args.config, args.set))!;
  const out = args.out ?? grid.out;
  if (out === undefined) {
    throw new ConfigError(`${displayPath(grid.file)}: Expected --out DIR (or run.out in ${displayPath(grid.file)} itself) for a grid, got neither: the run.out it inherits is a single run's directory.`, {
      hint: `e.g. ${deps.invocation} run ${displayPath(grid.file)} --out runs/${grid.file.replace(/^.*\//, '').replace(/\.ya?ml$/, '')}`,
    });
  }
  const gridDir = resolve(out);
  const cacheDir = cacheDirFor(cacheSetting(args.cache, grid.points[0]!.experiment.config.run.cache), true);
  const points = gridPoints(grid, gridDir, cacheDir);
  const stages = deps.stages();
  if (args['dry-run']) {
    const cache = cacheDir && existsSync(cacheDir) ? await CheckpointCache.existing(cacheDir).catch(() => null) : null;
    const plan = await dryRunGrid({ stages, gridDir, points, cache: cache ?? undefined }, cacheDir !== null);
    if (args.json) println(deps.stdout, JSON.stringify({ type: 'dry-run-grid', gridDir, cache: cacheDir, ...plan }));
    else println(deps.stdout, ...formatGridPlan(gridDir, cacheDir, plan));
    return;
  }
  const cache = cacheDir ? await CheckpointCache.open(cacheDir) : undefined;
  const mode = reporterMode(args, process.stderr);
  const reporter = createGridReporter(mode, mode === 'json' ? deps.stdout : deps.stderr);
  const interrupt = interruptOnSignals(deps, mode === 'quiet');
  try {
    const version = o.redis ? await codeVersion(stages) : '';
    // ioredis and BullMQ load only for a distributed grid
    const coordinator = o.redis ? await import('../pipeline/distributed/coordinator.ts') : undefined;
    await runGrid<Experiment>({
      stages,
      finalizers: deps.finalizers?.() ?? [],
      gridDir,
      file: grid.file,
      keys: grid.keys,
      points,
      cache,
      from: args.from,
      only: args.only,
      force: args.force,
      offline: args.offline || process.env.REVCOR_OFFLINE === '1',
      workers: args.workers || points[0]!.experiment.config.run.workers || undefined,
      concurrency: points[0]!.experiment.config.run.concurrency,
      executor: coordinator ? () => coordinator.redisExecutor<Experiment>({ redis: o.redis!, queue: args.queue, codeVersion: version }) : undefined,
      reporter,
      signal: interrupt.signal,
      resumeCommand: o.resumeCommand,
      command: o.command,
      writeHook: deps.runOptions?.writeHook,
    });
    if (mode !== 'quiet' && mode !== 'json' && stages.some((s) => s.name === 'summary')) {
      println(deps.stderr, `Compare the points side by side: ${deps.invocation} compare ${args.out ?? gridDir} (also writes compare.html there)`);
    }
  } finally {
    reporter.close();
    interrupt.dispose();
  }
}

/** The grid's points with their run directories and cache recorded in their configs. */
function gridPoints(grid: LoadedGrid, gridDir: string, cacheDir: string | null): GridRunPoint<Experiment>[] {
  return grid.points.map((p) => {
    const config = p.experiment.config;
    config.run.out = pointDir(gridDir, p.name);
    config.run.cache = cacheDir ?? false; // a point rerun alone from its recorded configuration shares the same cache
    return { name: p.name, settings: Object.fromEntries(p.settings.map((s) => [s.key, s.value])), experiment: p.experiment, resolvedYaml: toResolvedYaml(config, p.experiment.sources) };
  });
}

/** Text lines of a grid's dry run: the points, then per stage the shards shared and unique. */
export function formatGridPlan(gridDir: string, cacheDir: string | null, plan: GridPlan): string[] {
  const lines = [
    `Dry run of the grid ${gridDir}: ${plan.points.length} points, ${plan.shards} shards (${plan.distinct} different), ${plan.toCompute} to compute`,
    plan.sharing ? `  shared through the cache ${cacheDir}` : '  no cache (--no-cache): every point computes its own shards',
    '  points:',
  ];
  const w = Math.max(...plan.points.map((p) => p.name.length));
  for (const p of plan.points) lines.push(`    ${p.name.padEnd(w)}  ${p.shards} shards: ${p.done} done, ${p.restored} restored, ${p.toCompute} to compute`);
  const cols = ['shards', 'different', 'shared', 'unique', 'done', 'restored', 'to compute'];
  const sw = Math.max(5, ...plan.stages.map((s) => s.stage.length));
  lines.push('  per stage:', `    ${'stage'.padEnd(sw)}  ${cols.map((c) => c.padStart(Math.max(6, c.length))).join('  ')}`);
  for (const s of plan.stages.filter((x) => x.shards > 0)) {
    const v = [s.shards, s.distinct, s.shared, s.unique, s.done, s.restored, s.toCompute];
    lines.push(`    ${s.stage.padEnd(sw)}  ${v.map((x, i) => String(x).padStart(Math.max(6, cols[i]!.length))).join('  ')}`);
  }
  lines.push('  (shared: keys two or more points need, computed once; unique: keys of one point only)');
  return lines;
}
