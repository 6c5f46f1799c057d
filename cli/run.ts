// `revcor run [CONFIG]`: plans and runs the experiment into its output directory (resumable; --dry-run explains).
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment, toResolvedYaml } from '../config/load.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { createReporter, reporterMode } from '../pipeline/progress.ts';
import { runPipeline } from '../pipeline/runner.ts';
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
        .example('$0 run', 'Run config/default.yaml')
        .example('$0 run config/smoke.yaml --out /tmp/smoke', 'Run another experiment into /tmp/smoke')
        .example('$0 run my.yaml --set awc.shuffles=30 --dry-run', 'Which shards a change reruns, and why')
        .example('$0 run my.yaml --force awc', 'Recompute awc and summary although they are up to date') as unknown as Argv<RunArgs>,
    handler: async (args) => {
      if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 0)) {
        throw new ConfigError(`--workers: Expected a whole number ≥ 0, got ${args.workers}`);
      }
      const loaded = await loadExperiment(args.config, args.set);
      const outDir = resolve(args.out ?? loaded.config.run.out);
      loaded.config.run.out = outDir;
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
        const result = await runPipeline({
          stages: deps.stages(),
          experiment: loaded,
          outDir,
          from: args.from,
          only: args.only,
          force: args.force,
          workers: args.workers,
          dryRun: args['dry-run'],
          reporter: args['dry-run'] ? undefined : reporter,
          signal: ac.signal,
          resumeCommand: resumeCommand(rawArgs, deps.invocation),
          command: [deps.invocation, ...rawArgs].join(' '),
          resolvedYaml: toResolvedYaml(loaded.config, loaded.sources),
          ...deps.runOptions,
        });
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
