// `revcor worker --redis URL`: takes shard jobs of distributed runs from Redis (BullMQ) and computes them into the
// shared output directory each job names. Ctrl-C / SIGTERM: stop taking jobs, finish the running ones (again: quit).
// Tested in test/cli/distributed.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import type { WriteHook } from '../pipeline/atomic.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { codeVersion } from '../pipeline/distributed/code-version.ts';
import { DEFAULT_QUEUE } from '../pipeline/distributed/job.ts';
import { redact } from '../pipeline/distributed/redact.ts';
import { parseRedisUrl } from '../pipeline/distributed/redis.ts';
import { runWorker, WORKER_DEFAULTS, type WorkerEvent } from '../pipeline/distributed/worker.ts';
import { println, REDIS_ENV, type CliDeps } from './deps.ts';
import { quitBySignal } from './interrupt.ts';

interface WorkerArgs {
  redis?: string;
  'redis-ca'?: string;
  queue: string;
  concurrency: number;
  workers?: number;
  allow: string[];
  'lock-duration': number;
  'stalled-interval': number;
  'max-stalled': number;
  json: boolean;
  quiet: boolean;
}

/** Checks a numeric option: a whole number ≥ min (or a positive number of seconds). */
function positive(name: string, v: number, integer: boolean, min = 1): void {
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`--${name}: Expected ${integer ? `a whole number ≥ ${min}` : 'a positive number of seconds'}, got ${v}`);
  }
}

/** One human-readable line per worker event (undefined: not shown). */
function describeEvent(e: WorkerEvent, quiet: boolean): string | undefined {
  if (quiet && !(e.type === 'log' && e.level === 'warn') && e.type !== 'job-rejected' && e.type !== 'job-failed') return undefined;
  switch (e.type) {
    case 'worker-start':
      return `Worker ${e.id} (code ${e.codeVersion}) on queue '${e.queue}' at ${e.redis}: ${e.concurrency} shard${e.concurrency === 1 ? '' : 's'} at a time, ${e.threads} threads; lock ${e.lockSeconds} s, stall check every ${e.stalledSeconds} s`;
    case 'job-start':
      return `[${e.stage} ${e.shard}] started (attempt ${e.attempt}) for ${e.outDir}`;
    case 'shard-done':
      return `[${e.stage} ${e.shard}] done in ${e.seconds.toFixed(1)} s: ${e.rows} rows, ${e.bytes} bytes`;
    case 'shard-skipped':
      return `[${e.stage} ${e.shard}] skipped: ${e.reason}`;
    case 'job-rejected':
      return `REJECTED job ${e.jobId.slice(0, 12)}${e.stage ? ` (${e.stage} ${e.shard})` : ''}: ${e.reason}`;
    case 'job-failed':
      return `[${e.stage} ${e.shard}] FAILED (attempt ${e.attempt}${e.willRetry ? ', will be retried' : ''}): ${e.error}`;
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : ''}${e.stage ? `[${e.stage}${e.shard ? ` ${e.shard}` : ''}] ` : ''}${e.message}`;
    case 'worker-stop':
      return `Worker stopped: ${e.done} shards done, ${e.skipped} skipped, ${e.failed} failed or rejected`;
  }
}

/**
 * Test seam (tests only): REVCOR_TEST_PAUSE=<phase>:<stage>/<shard-or-*> with phase mid-write | before-rename |
 * before-record makes this worker print {"type":"test-paused",…} and hang at that point of the first matching
 * checkpoint write, so a test can SIGKILL it mid-shard.
 */
function testPauseHook(spec: string | undefined, out: NodeJS.WritableStream): WriteHook | undefined {
  if (!spec) return undefined;
  const [phase, target] = spec.split(':');
  const [stage, shard] = (target ?? '').split('/');
  let paused = false;
  return async (p, file) => {
    const parts = file.split('/');
    const name = parts.at(-1)!.replace(/\.arrow$/, '');
    if (paused || p !== phase || parts.at(-2) !== stage || (shard !== '*' && name !== shard)) return;
    paused = true;
    out.write(JSON.stringify({ type: 'test-paused', phase: p, stage, shard: name, pid: process.pid }) + '\n');
    await new Promise(() => setInterval(() => {}, 1000));
  };
}

/** The `worker` command. */
export function workerCommand(deps: CliDeps): CommandModule<object, WorkerArgs> {
  return {
    command: 'worker',
    describe: 'Compute shards of distributed runs (`revcor run … --redis URL`) taken from a Redis queue',
    builder: (y: Argv) =>
      y
        .option('redis', { type: 'string', describe: `Redis URL: redis://[:password@]host[:port][/db] or rediss:// for TLS (default: $${REDIS_ENV})` })
        .option('redis-ca', { type: 'string', describe: 'CA certificate (PEM) to trust for rediss:// (default: $REVCOR_REDIS_CA)' })
        .option('queue', { type: 'string', default: DEFAULT_QUEUE, describe: 'Queue name (the coordinator’s --queue)' })
        .option('concurrency', { type: 'number', default: WORKER_DEFAULTS.concurrency, describe: 'Shards this process runs at once' })
        .option('workers', { type: 'number', describe: 'Threads of the CPU pool (default: cores)' })
        .option('allow', { type: 'string', array: true, default: [], describe: 'Accept only output directories inside this one (repeatable)' })
        .option('lock-duration', { type: 'number', default: WORKER_DEFAULTS.lockDurationMs / 1000, describe: 'Seconds a job lock lives without renewal (renewed every half of it)' })
        .option('stalled-interval', { type: 'number', default: WORKER_DEFAULTS.stalledIntervalMs / 1000, describe: 'Seconds between checks for jobs of dead workers' })
        .option('max-stalled', { type: 'number', default: WORKER_DEFAULTS.maxStalledCount, describe: 'Times a job may lose its worker before it fails' })
        .option('json', { type: 'boolean', default: false, describe: 'One JSON event per line on stdout' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print warnings and errors only' })
        .example('$0 worker --redis redis://queue-host:6379', 'Take jobs until stopped (Ctrl-C finishes the running shards)')
        .example(`${REDIS_ENV}=redis://:secret@queue-host:6379 $0 worker --concurrency 2 --workers 8`, 'Password from the environment; 2 shards at once on 8 threads') as unknown as Argv<WorkerArgs>,
    handler: async (args) => {
      const url = args.redis ?? process.env[REDIS_ENV];
      if (!url) throw new ConfigError(`--redis: Expected a Redis URL (or $${REDIS_ENV}), got none`, { hint: 'e.g. revcor worker --redis redis://127.0.0.1:6379' });
      const target = parseRedisUrl(url, args['redis-ca'] ?? (process.env.REVCOR_REDIS_CA || undefined));
      positive('concurrency', args.concurrency, true);
      if (args.workers !== undefined) positive('workers', args.workers, true);
      positive('lock-duration', args['lock-duration'], false, 0.5);
      positive('stalled-interval', args['stalled-interval'], false, 0.1);
      positive('max-stalled', args['max-stalled'], true, 0);
      const stages = deps.stages();
      const out = deps.stdout;
      const emit = (e: WorkerEvent): void => {
        if (args.json) {
          println(out, redact(JSON.stringify({ time: new Date().toISOString(), ...e })));
          return;
        }
        const line = describeEvent(e, args.quiet);
        if (line) println(deps.stderr, redact(line));
      };
      const ac = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) return quitBySignal(sig, onSignal);
        if (!args.quiet) println(deps.stderr, `\n${sig}: no new jobs; finishing the shards in flight (again to quit at once; their jobs go to other workers)…`);
        ac.abort(new Error(sig));
      };
      if (deps.handleSignals !== false) {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
      try {
        await runWorker({
          redis: target,
          queue: args.queue,
          stages,
          codeVersion: await codeVersion(stages),
          concurrency: args.concurrency,
          threads: args.workers,
          lockDurationMs: args['lock-duration'] * 1000,
          stalledIntervalMs: args['stalled-interval'] * 1000,
          maxStalledCount: args['max-stalled'],
          allow: args.allow.map((a) => resolve(a)),
          emit,
          signal: ac.signal,
          writeHook: testPauseHook(process.env.REVCOR_TEST_PAUSE, out),
          loadExperiment: (file) => loadExperiment(file),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}
