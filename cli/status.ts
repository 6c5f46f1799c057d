// `revcor status DIR`: per stage, shards done / stale / pending (and why), bytes and time taken.
// Tested in test/cli/cli.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import { lockPath, pidAlive, readLock } from '../pipeline/lock.ts';
import { requireRecordedExperiment } from '../pipeline/rundir.ts';
import { planRun } from '../pipeline/plan.ts';
import { formatBytes, formatSeconds } from '../pipeline/progress.ts';
import { codeVersion } from '../pipeline/distributed/code-version.ts';
import { DEFAULT_QUEUE } from '../pipeline/distributed/job.ts';
import type { QueueStatus } from '../pipeline/distributed/queue-status.ts';
import { println, REDIS_ENV, type CliDeps } from './deps.ts';
import { formatPlan, summariseStage } from './format-plan.ts';

interface StatusArgs {
  dir: string;
  json: boolean;
  redis?: string;
  'redis-ca'?: string;
  queue: string;
}

/** Plans the output directory's recorded experiment against the current code, without writing anything. */
export async function outputStatus(deps: CliDeps, dir: string) {
  const outDir = resolve(dir);
  const resolvedFile = await requireRecordedExperiment(outDir);
  const loaded = await loadExperiment(resolvedFile);
  const plan = await planRun(deps.stages(), loaded, outDir);
  let running = await readLock(lockPath(outDir));
  if (running && !pidAlive(running.pid)) running = undefined;
  return { outDir, plan, running, resolvedFile };
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
        .option('redis', { type: 'string', describe: `Also show the distributed run's queued / running / failed shards and the live workers (--redis= alone: $${REDIS_ENV})` })
        .option('redis-ca', { type: 'string', describe: 'CA certificate (PEM) to trust for rediss://' })
        .option('queue', { type: 'string', default: DEFAULT_QUEUE, describe: 'Queue name of the distributed run' })
        .example('$0 status artifacts/default', 'What is done, what a rerun would compute, and why')
        .example('$0 status /shared/run1 --redis redis://queue-host:6379', 'Plus queued / running shards and live workers') as unknown as Argv<StatusArgs>,
    handler: async (args) => {
      const { outDir, plan, running, resolvedFile } = await outputStatus(deps, args.dir);
      const stages = plan.stages.map(summariseStage);
      const url = args.redis === '' ? process.env[REDIS_ENV] : args.redis;
      // ioredis and BullMQ load only for a distributed run's queue
      const queue = url
        ? await (await import('../pipeline/distributed/queue-status.ts')).queueStatus(
            (await import('../pipeline/distributed/redis.ts')).parseRedisUrl(url, args['redis-ca'] ?? (process.env.REVCOR_REDIS_CA || undefined)),
            args.queue,
            outDir,
            await codeVersion(deps.stages()),
          )
        : undefined;
      if (args.json) {
        println(deps.stdout, JSON.stringify({ outDir, running: running ?? null, total: plan.total, toRun: plan.toRun, stages, ...(queue ? { queue } : {}) }));
        return;
      }
      const bytes = stages.reduce((a, s) => a + s.bytes, 0);
      const seconds = stages.reduce((a, s) => a + s.seconds, 0);
      println(deps.stdout, `${outDir}: ${plan.total - plan.toRun} of ${plan.total} shards done (${formatBytes(bytes)}, ${formatSeconds(seconds)} of compute)`);
      if (running) println(deps.stdout, `A run is in progress: process ${running.pid} on ${running.hostname} since ${running.startedAt} (${running.command})`);
      println(deps.stdout, ...formatPlan(plan, 'status'));
      if (queue) println(deps.stdout, ...formatQueue(queue));
      if (plan.toRun && !queue?.coordinator) println(deps.stdout, `Run the experiment again to compute the ${plan.toRun} remaining shards: ${deps.invocation} run ${resolvedFile}`);
    },
  };
}

/** How long ago an ISO time was, as "4 s" / "3 min". */
function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '?';
  return formatSeconds(Math.max(0, (now - Date.parse(iso)) / 1000));
}

/** Text lines of the queue's view: counts, the coordinator, running and failed shards, live workers. */
export function formatQueue(q: QueueStatus): string[] {
  const count = (s: string): number => q.jobs.filter((j) => j.state === s).length;
  const lines = [`Queue '${q.queue}' on ${q.redis}: ${count('queued')} queued, ${count('running')} running, ${count('failed')} failed shards of this directory`];
  const c = q.coordinator;
  lines.push(c ? `  coordinator: process ${c.pid} on ${c.host} since ${c.startedAt} (${c.done} of ${c.toRun} shards done)` : '  coordinator: none live (a rerun of `revcor run … --redis` resumes)');
  const byStage = new Map<string, Record<string, number>>();
  for (const j of q.jobs) {
    const m = byStage.get(j.stage) ?? {};
    m[j.state] = (m[j.state] ?? 0) + 1;
    byStage.set(j.stage, m);
  }
  for (const [stage, m] of byStage) lines.push(`  ${stage.padEnd(12)} ${Object.entries(m).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  for (const j of q.jobs.filter((x) => x.state === 'running')) lines.push(`    running ${j.stage}/${j.shard} on ${j.worker ?? '?'} for ${ago(j.since)}`);
  for (const j of q.jobs.filter((x) => x.state === 'failed').slice(0, 5)) lines.push(`    failed  ${j.stage}/${j.shard} after ${j.attempts} attempts: ${j.failedReason}`);
  lines.push(`Live workers on '${q.queue}': ${q.workers.length}`);
  for (const w of q.workers) {
    const jobs = w.jobs.length ? `running ${w.jobs.map((j) => `${j.stage}/${j.shard}`).join(', ')}` : 'idle';
    const code = w.sameCode ? '' : ` — code version ${w.codeVersion} differs from this revcor's: it rejects this installation's jobs`;
    lines.push(`  ${w.id}: ${w.concurrency} at a time, ${w.threads} threads, ${jobs}; ${w.done} done, ${w.skipped} skipped, ${w.failed} failed; heartbeat ${ago(w.beatAt)} ago${code}`);
  }
  return lines;
}
