// `revcor run [CONFIG]`: plans and runs the experiment into its output directory (resumable; --dry-run explains).
// Tested in test/cli/cli.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { isGridFile } from '../config/grid.ts';
import { loadExperiment, toResolvedYaml } from '../config/load.ts';
import { cacheDirFor, CheckpointCache } from '../pipeline/cache-store.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { createReporter, reporterMode } from '../pipeline/progress.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { codeVersion } from '../pipeline/distributed/code-version.ts';
import { DEFAULT_QUEUE } from '../pipeline/distributed/job.ts';
import { redact } from '../pipeline/distributed/redact.ts';
import { println, type CliDeps } from './deps.ts';
import { interruptOnSignals } from './interrupt.ts';
import { formatPlan, summariseStage } from './format-plan.ts';
import { cacheSetting, runGridCommand, type GridRunArgs } from './grid-run.ts';
import { resumeCommand } from './shell.ts';

/** The arguments of `revcor run`: a grid's, with an optional config and a Redis queue to distribute to. */
interface RunArgs extends Omit<GridRunArgs, 'config'> {
  config?: string;
  redis?: string;
  'redis-ca'?: string;
}

/** The `run` command. */
export function runCommand(deps: CliDeps, rawArgs: readonly string[]): CommandModule<object, RunArgs> {
  return {
    command: 'run [config]',
    describe: 'Run an experiment (resumes where a previous run stopped; only stale or missing shards are computed)',
    builder: (y: Argv) =>
      y
        .positional('config', { type: 'string', describe: 'Experiment YAML (default: config/default.yaml of the package)' })
        .option('out', { alias: 'o', type: 'string', describe: 'Output directory (default: run.out of the YAML)' })
        .option('set', { type: 'string', array: true, default: [], describe: 'Override a config key: --set awc.shuffles=30 (repeatable)' })
        .option('from', { type: 'string', array: true, default: [], describe: 'Run this stage and everything downstream only' })
        .option('only', { type: 'string', array: true, default: [], describe: 'Run only this stage (repeatable); its upstream must be done' })
        .option('force', { type: 'string', array: true, default: [], describe: 'Recompute this stage and its downstream even if done' })
        .option('workers', { type: 'number', describe: 'Worker threads for CPU-heavy work (default: run.workers, 0 = cores)' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Show what would run and why; write nothing' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print warnings and errors only' })
        .option('json', { type: 'boolean', default: false, describe: 'One JSON event per line on stdout' })
        .option('redis', { type: 'string', describe: 'Distribute: queue the shards on this Redis (redis://[:password@]host[:port][/db], rediss:// for TLS) for `revcor worker`s' })
        .option('redis-ca', { type: 'string', describe: 'CA certificate (PEM) to trust for rediss:// (default: $REVCOR_REDIS_CA)' })
        .option('queue', { type: 'string', default: DEFAULT_QUEUE, describe: 'Queue name for --redis (workers use the same)' })
        .option('offline', { type: 'boolean', default: false, describe: 'Never download: model.weights auto without the Keras cache file uses seeded weights (also REVCOR_OFFLINE=1)' })
        .option('cache', { type: 'string', describe: 'Shared checkpoint cache directory (--cache alone: the user\'s cache directory; --no-cache: none; default: run.cache, on for grids)' })
        .example('$0 run', 'Run config/default.yaml')
        .example('$0 run config/smoke.yaml --out /tmp/smoke', 'Run another experiment into /tmp/smoke')
        .example('$0 run my.yaml --set awc.shuffles=30 --dry-run', 'Which shards a change reruns, and why')
        .example('$0 run my.yaml --force awc', 'Recompute awc and summary although they are up to date')
        .example('$0 run my.yaml --out /shared/run1 --redis redis://queue-host:6379', 'Coordinate: shards are computed by `revcor worker`s')
        .example('$0 run sweep.yaml --out runs/sweep', 'A grid file (grid: or points:): every point, shared shards computed once') as unknown as Argv<RunArgs>,
    handler: async (args) => {
      if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 0)) {
        throw new ConfigError(`--workers: Expected a whole number ≥ 0, got ${args.workers}`);
      }
      if (args.out !== undefined && args.out.trim() === '') throw new ConfigError('--out: expected a directory path, got an empty string');
      if (args.config && (await isGridFile(args.config))) {
        const redis = args.redis !== undefined ? (await import('../pipeline/distributed/redis.ts')).parseRedisUrl(args.redis, args['redis-ca'] ?? (process.env.REVCOR_REDIS_CA || undefined)) : undefined;
        const shown = redis ? rawArgs.map(redact) : rawArgs;
        return runGridCommand(deps, { ...args, config: args.config }, { redis, resumeCommand: resumeCommand(shown, deps.invocation), command: [deps.invocation, ...shown].join(' ') });
      }
      const loaded = await loadExperiment(args.config, args.set);
      const outDir = resolve(args.out ?? loaded.config.run.out);
      loaded.config.run.out = outDir;
      const cacheDir = cacheDirFor(cacheSetting(args.cache, loaded.config.run.cache), false);
      if (args.cache !== undefined) loaded.config.run.cache = cacheDir ?? false;
      const mode = reporterMode(args, process.stderr);
      const reporter = createReporter(mode, mode === 'json' ? deps.stdout : deps.stderr);
      const interrupt = interruptOnSignals(deps, mode === 'quiet');
      try {
        // ioredis and BullMQ load only for a distributed run
        const redis = args.redis !== undefined ? (await import('../pipeline/distributed/redis.ts')).parseRedisUrl(args.redis, args['redis-ca'] ?? (process.env.REVCOR_REDIS_CA || undefined)) : undefined;
        const shown = redis ? rawArgs.map(redact) : rawArgs;
        const options = {
          stages: deps.stages(),
          finalizers: deps.finalizers?.() ?? [],
          experiment: loaded,
          outDir,
          from: args.from,
          only: args.only,
          force: args.force,
          offline: args.offline || process.env.REVCOR_OFFLINE === '1',
          workers: args.workers || loaded.config.run.workers || undefined,
          concurrency: loaded.config.run.concurrency,
          dryRun: args['dry-run'],
          reporter: args['dry-run'] ? undefined : reporter,
          signal: interrupt.signal,
          resumeCommand: resumeCommand(shown, deps.invocation),
          command: [deps.invocation, ...shown].join(' '),
          resolvedYaml: toResolvedYaml(loaded.config, loaded.sources),
          cache: cacheDir && !args['dry-run'] ? await CheckpointCache.open(cacheDir) : undefined,
          ...deps.runOptions,
        };
        const result = redis
          ? await (await import('../pipeline/distributed/coordinator.ts')).runDistributed({ ...options, redis, queue: args.queue, codeVersion: await codeVersion(options.stages) })
          : await runPipeline(options);
        if (args['dry-run']) {
          const { plan } = result;
          if (args.json) {
            println(deps.stdout, JSON.stringify({ type: 'dry-run', outDir, toRun: plan.toRun, total: plan.total, stages: plan.stages.map(summariseStage) }));
          } else {
            println(deps.stdout, `Dry run: ${plan.toRun} of ${plan.total} shards would run in ${outDir}`, ...formatPlan(plan, 'dry-run'));
            if (cacheDir) println(deps.stdout, await cachedLine(plan, cacheDir));
          }
        }
      } finally {
        reporter.close();
        interrupt.dispose();
      }
    },
  };
}

/** How many of the shards a dry run would compute the cache holds (restored instead), in a sentence. */
async function cachedLine(plan: import('../pipeline/plan.ts').Plan, cacheDir: string): Promise<string> {
  const cache = await CheckpointCache.existing(cacheDir).catch(() => null);
  let n = 0;
  if (cache) for (const sp of plan.stages) for (const ps of sp.shards) if (ps.run && !ps.fresh && (await cache.entry(ps.key))) n++;
  return `Cache ${cacheDir}: ${n} of the ${plan.toRun} would be restored from it instead of computed`;
}
