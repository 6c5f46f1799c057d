// `revcor status DIR`: per stage, shards done / stale / pending (and why), bytes and time taken.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import { OutputError } from '../pipeline/errors.ts';
import { lockPath, pidAlive, type LockInfo } from '../pipeline/lock.ts';
import { planRun } from '../pipeline/plan.ts';
import { formatBytes, formatSeconds } from '../pipeline/progress.ts';
import { println, type CliDeps } from './deps.ts';
import { formatPlan, summariseStage } from './format-plan.ts';

interface StatusArgs {
  dir: string;
  json: boolean;
}

/** Plans the output directory's recorded experiment against the current code, without writing anything. */
export async function outputStatus(deps: CliDeps, dir: string) {
  const outDir = resolve(dir);
  const resolvedFile = join(outDir, 'config.resolved.yaml');
  if (!existsSync(resolvedFile)) {
    throw new OutputError(`${outDir}: Expected a revcor output directory containing config.resolved.yaml, got none`, {
      hint: 'Give the directory a run wrote to (run.out of the YAML, or --out).',
    });
  }
  const loaded = await loadExperiment(resolvedFile);
  const plan = await planRun(deps.stages(), loaded, outDir);
  let running: LockInfo | undefined;
  try {
    running = JSON.parse(await readFile(lockPath(outDir), 'utf8')) as LockInfo;
    if (!pidAlive(running.pid)) running = undefined;
  } catch {
    running = undefined;
  }
  return { outDir, plan, running };
}

/** The `status` command. */
export function statusCommand(deps: CliDeps): CommandModule<object, StatusArgs> {
  return {
    command: 'status <dir>',
    describe: 'Show, per stage, how many shards are done, stale or pending (and why), bytes and time taken',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
        .example('$0 status artifacts/default', 'What is done, what a rerun would compute, and why') as unknown as Argv<StatusArgs>,
    handler: async (args) => {
      const { outDir, plan, running } = await outputStatus(deps, args.dir);
      const stages = plan.stages.map(summariseStage);
      if (args.json) {
        println(deps.stdout, JSON.stringify({ outDir, running: running ?? null, total: plan.total, toRun: plan.toRun, stages }));
        return;
      }
      const bytes = stages.reduce((a, s) => a + s.bytes, 0);
      const seconds = stages.reduce((a, s) => a + s.seconds, 0);
      println(deps.stdout, `${outDir}: ${plan.total - plan.toRun} of ${plan.total} shards done (${formatBytes(bytes)}, ${formatSeconds(seconds)} of compute)`);
      if (running) println(deps.stdout, `A run is in progress: process ${running.pid} on ${running.hostname} since ${running.startedAt} (${running.command})`);
      println(deps.stdout, ...formatPlan(plan, 'status'));
      if (plan.toRun) println(deps.stdout, `Run the experiment again to compute the ${plan.toRun} remaining shards: ${deps.invocation} run ${join(outDir, 'config.resolved.yaml')}`);
    },
  };
}
