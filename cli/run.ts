// `revcor run [CONFIG]`: plans and runs the experiment into its output directory (resumable; --dry-run explains).
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment, toResolvedYaml } from '../config/load.ts';
import type { Experiment } from '../config/schema.ts';
import { ensureAutoWeights } from '../model/auto-weights.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { createReporter, reporterMode } from '../pipeline/progress.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { codeVersion } from '../pipeline/distributed/code-version.ts';
import { runDistributed } from '../pipeline/distributed/coordinator.ts';
import { DEFAULT_QUEUE } from '../pipeline/distributed/job.ts';
import { redact } from '../pipeline/distributed/redact.ts';
import { parseRedisUrl } from '../pipeline/distributed/redis.ts';
import { println, type CliDeps } from './deps.ts';
import { formatPlan, summariseStage } from './format-plan.ts';
import { resumeCommand } from './shell.ts';

interface RunArgs {
  config?: string;
  out?: string;
  set: string[];
  from: string[];
  only: string[];
  force: string[];
  workers?: number;
  'dry-run': boolean;
  quiet: boolean;
  json: boolean;
  redis?: string;
  'redis-ca'?: string;
  queue: string;
  offline: boolean;
}

/** `model.weights: auto` downloads the Keras file once (progress on stderr) unless offline; says what happened. */
async function prepareWeights(config: Experiment, offline: boolean, deps: CliDeps): Promise<void> {
  let shown = -1;
  const outcome = await ensureAutoWeights(config.model, {
    offline,
    onProgress: (received, total) => {
      const pct = total > 0 ? Math.floor((100 * received) / total) : -1;
      if (pct >= shown + 10 || (received === total && pct > shown)) {
        shown = pct;
        deps.stderr.write(`\rDownloading ${config.model.arch} ImageNet weights (model.weights: auto): ${(received / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB (${pct}%)`);
      }
    },
  }).finally(() => {
    if (shown >= 0) deps.stderr.write('\n'); // end the progress line, also when the download fails
  });
  if (outcome.kind === 'downloaded') println(deps.stderr, `Installed ${outcome.path} (sha256 ${outcome.result.sha256.slice(0, 16)}…); later runs read it from there.`);
  if (outcome.kind === 'offline') println(deps.stderr, `WARNING model.weights: auto: no Keras cache file and no download (${outcome.reason}): this run uses SEEDED, untrained weights.`);
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
        .example('$0 run', 'Run config/default.yaml')
        .example('$0 run config/smoke.yaml --out /tmp/smoke', 'Run another experiment into /tmp/smoke')
        .example('$0 run my.yaml --set awc.shuffles=30 --dry-run', 'Which shards a change reruns, and why')
        .example('$0 run my.yaml --force awc', 'Recompute awc and summary although they are up to date')
        .example('$0 run my.yaml --out /shared/run1 --redis redis://queue-host:6379', 'Coordinate: shards are computed by `revcor worker`s') as unknown as Argv<RunArgs>,
    handler: async (args) => {
      if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 0)) {
        throw new ConfigError(`--workers: Expected a whole number ≥ 0, got ${args.workers}`);
      }
      if (args.out !== undefined && args.out.trim() === '') throw new ConfigError('--out: expected a directory path, got an empty string');
      const loaded = await loadExperiment(args.config, args.set);
      const outDir = resolve(args.out ?? loaded.config.run.out);
      loaded.config.run.out = outDir;
      if (!args['dry-run']) await prepareWeights(loaded.config, args.offline, deps);
      const mode = reporterMode(args, process.stderr);
      const reporter = createReporter(mode, mode === 'json' ? deps.stdout : deps.stderr);
      const ac = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) process.exit(130);
        if (mode !== 'quiet') println(deps.stderr, `\n${sig}: stopping after the shards in flight finish (again to quit at once)…`);
        ac.abort(new Error(sig));
      };
      if (deps.handleSignals !== false) {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
      try {
        const redis = args.redis !== undefined ? parseRedisUrl(args.redis, args['redis-ca'] ?? (process.env.REVCOR_REDIS_CA || undefined)) : undefined;
        const shown = redis ? rawArgs.map(redact) : rawArgs;
        const options = {
          stages: deps.stages(),
          finalizers: deps.finalizers?.() ?? [],
          experiment: loaded,
          outDir,
          from: args.from,
          only: args.only,
          force: args.force,
          workers: args.workers || loaded.config.run.workers || undefined,
          concurrency: loaded.config.run.concurrency,
          dryRun: args['dry-run'],
          reporter: args['dry-run'] ? undefined : reporter,
          signal: ac.signal,
          resumeCommand: resumeCommand(shown, deps.invocation),
          command: [deps.invocation, ...shown].join(' '),
          resolvedYaml: toResolvedYaml(loaded.config, loaded.sources),
          ...deps.runOptions,
        };
        const result = redis
          ? await runDistributed({ ...options, redis, queue: args.queue, codeVersion: await codeVersion(options.stages) })
          : await runPipeline(options);
        if (args['dry-run']) {
          const { plan } = result;
          if (args.json) {
            println(deps.stdout, JSON.stringify({ type: 'dry-run', outDir, toRun: plan.toRun, total: plan.total, stages: plan.stages.map(summariseStage) }));
          } else {
            println(deps.stdout, `Dry run: ${plan.toRun} of ${plan.total} shards would run in ${outDir}`, ...formatPlan(plan, 'dry-run'));
          }
        }
      } finally {
        reporter.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}
