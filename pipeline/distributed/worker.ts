// A distributed worker: takes shard jobs from a BullMQ queue, validates each before acting, recomputes the shard's
// cache key from the output directory's resolved config, skips shards already recorded with that key, and
// otherwise runs the shard exactly as a local run does (executeShard: same atomic write, same record).
// CPU work runs in the piscina pool, so the event loop stays free to renew the job's lock (lockDuration).
// Named parts: the run views (run-views.ts), admission of a job (job-admission.ts), settings and self-watch
// (worker-watch.ts), processJob and runAdmitted here. Tested in test/pipeline/distributed.test.ts.
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { WriteHook } from '../atomic.ts';
import { FileHasher } from '../cache-key.ts';
import { RevcorError } from '../errors.ts';
import { createPool, threadsPerShard } from '../pool.ts';
import { executeShard, makeUpstreamView } from '../shard-exec.ts';
import type { PlanContext, Stage } from '../stage.ts';
import { admitJob, Rejection, type AdmittedJob } from './job-admission.ts';
import { DEFAULT_QUEUE, JobRejected, type JobPolicy, type ShardJob } from './job.ts';
import { redact } from './redact.ts';
import { checkRedis, newClient, type RedisTarget } from './redis.ts';
import { startHeartbeat, workerKey, type WorkerBeat } from './registry.ts';
import { RunViews } from './run-views.ts';
import { abandonLostLocks, lagWarning, newWorkerId, RepeatFilter, workerSettings, type ActiveShard, type WorkerSettings, type WorkerSettingsInput } from './worker-watch.ts';

/** What a worker reports (one JSON line each with --json). */
export type WorkerEvent =
  | {
      type: 'worker-start';
      id: string;
      host: string;
      pid: number;
      queue: string;
      redis: string;
      codeVersion: string;
      concurrency: number;
      threads: number;
      lockSeconds: number;
      stalledSeconds: number;
      maxStalled: number;
    }
  | { type: 'job-start'; jobId: string; stage: string; shard: string; outDir: string; attempt: number }
  | { type: 'shard-done'; jobId: string; stage: string; shard: string; outDir: string; seconds: number; rows: number; bytes: number }
  | { type: 'shard-skipped'; jobId: string; stage: string; shard: string; outDir: string; reason: string }
  | { type: 'job-rejected'; jobId: string; stage?: string; shard?: string; reason: string }
  | { type: 'job-failed'; jobId: string; stage: string; shard: string; error: string; attempt: number; willRetry: boolean }
  | { type: 'log'; level: 'info' | 'warn'; message: string; stage?: string; shard?: string }
  | { type: 'worker-stop'; done: number; skipped: number; failed: number };

export { WORKER_DEFAULTS } from './worker-watch.ts';

/** How a worker runs. */
export interface WorkerOptions extends WorkerSettingsInput {
  redis: RedisTarget;
  queue?: string;
  stages: readonly Stage[];
  codeVersion: string;
  /** Accept output directories inside these only (absolute paths; empty: any revcor output directory). */
  allow?: readonly string[];
  emit(e: WorkerEvent): void;
  /** Aborting stops taking jobs; running shards finish, then runWorker resolves. */
  signal?: AbortSignal;
  /** Test seam passed to every checkpoint write. */
  writeHook?: WriteHook;
  /** Loads an experiment file (the resolved config of a job's output directory); the CLI passes config/load.ts's. */
  loadExperiment(file: string): Promise<PlanContext>;
  /** Called once the worker listens for jobs. */
  onReady?(id: string): void;
}

/** What a worker did. */
export interface WorkerSummary {
  id: string;
  done: number;
  skipped: number;
  failed: number;
}

/** The value a completed job returns (stored by BullMQ, read by the coordinator and status). */
export interface JobResult {
  status: 'done' | 'skipped';
  worker: string;
  outDir: string;
  sha256?: string;
  rows?: number;
  bytes?: number;
  seconds?: number;
}

/** What the parts of a running worker share. */
interface WorkerState {
  o: WorkerOptions;
  id: string;
  settings: WorkerSettings;
  pool: ReturnType<typeof createPool>;
  hasher: FileHasher;
  views: RunViews;
  policy: JobPolicy;
  stageByName: Map<string, Stage>;
  /** Job id → the shard it runs. */
  active: Map<string, ActiveShard>;
  counts: { done: number; skipped: number; failed: number };
}

/** Runs a worker until `signal` aborts; throws a RedisError at once when Redis cannot be used. */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const queue = o.queue ?? DEFAULT_QUEUE;
  await checkRedis(o.redis, 'worker');
  const settings = workerSettings(o);
  const hasher = new FileHasher(); // in memory: the output directory's memo belongs to the coordinator
  const w: WorkerState = {
    o,
    id: newWorkerId(),
    settings,
    pool: createPool(settings.threads),
    hasher,
    views: new RunViews(o.stages, o.loadExperiment, hasher),
    policy: { codeVersion: o.codeVersion, stageNames: o.stages.map((s) => s.name), allow: o.allow },
    stageByName: new Map(o.stages.map((s) => [s.name, s])),
    active: new Map(),
    counts: { done: 0, skipped: 0, failed: 0 },
  };
  const { id, counts, active } = w;
  const { concurrency, threads, lockDurationMs, stalledIntervalMs, maxStalledCount } = settings;
  const emit = o.emit;
  const startedAt = new Date().toISOString();

  const beatClient = newClient(o.redis, `beat-${id}`);
  const beatValue = (): Omit<WorkerBeat, 'beatAt'> => ({
    id,
    host: hostname(),
    pid: process.pid,
    startedAt,
    codeVersion: o.codeVersion,
    queue,
    concurrency,
    threads,
    jobs: [...active.values()].map(({ stage, shard, outDir, since }) => ({ stage, shard, outDir, since })),
    ...counts,
  });
  const heartbeat = startHeartbeat(beatClient, workerKey(queue, id), settings.heartbeatMs, beatValue);
  await heartbeat.beat();

  const workerClient = newClient(o.redis, `worker-${id}`);
  const worker = new Worker(queue, (job: Job, _token?: string, signal?: AbortSignal) => processJob(w, job, signal), {
    connection: workerClient,
    name: id,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: stalledIntervalMs,
    maxStalledCount,
    autorun: false,
  });
  const repeats = new RepeatFilter(30_000);
  worker.on('error', (e) => {
    const message = redact(e?.message ?? String(e));
    if (repeats.admit(message)) emit({ type: 'log', level: 'warn', message: `queue: ${message}` });
  });
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const x of abandonLostLocks(jobIds, active, lockDurationMs)) emit({ type: 'log', level: 'warn', ...x });
  });

  emit({
    type: 'worker-start',
    id,
    host: hostname(),
    pid: process.pid,
    queue,
    redis: o.redis.display,
    codeVersion: o.codeVersion,
    concurrency,
    threads,
    lockSeconds: lockDurationMs / 1000,
    stalledSeconds: stalledIntervalMs / 1000,
    maxStalled: maxStalledCount,
  });
  const lagProbe = startLagProbe(w);
  const running = worker.run();
  await worker.waitUntilReady();
  o.onReady?.(id);
  try {
    await new Promise<void>((resolve) => {
      if (o.signal?.aborted) return resolve();
      o.signal?.addEventListener('abort', () => resolve(), { once: true });
      void running.finally(resolve);
    });
  } finally {
    await worker.close(); // waits for the shards in flight
    clearInterval(lagProbe);
    await running.catch(() => undefined);
    await heartbeat.stop();
    beatClient.disconnect();
    workerClient.disconnect();
    await w.pool.close().catch(() => undefined);
    emit({ type: 'worker-stop', ...counts });
  }
  return { id, ...counts };
}

/** The lock is renewed from this event loop: a 1-s probe says when it was blocked long enough to endanger the lock. */
function startLagProbe(w: WorkerState): NodeJS.Timeout {
  let tick = Date.now();
  const probe = setInterval(() => {
    const now = Date.now();
    const message = lagWarning(now - tick - 1000, w.settings.lockDurationMs, [...w.active.values()].map((a) => `${a.stage}/${a.shard}`));
    tick = now;
    if (message) w.o.emit({ type: 'log', level: 'warn', message });
  }, 1000);
  probe.unref();
  return probe;
}

/** Counts and reports a rejected job, and fails it for good (BullMQ does not retry an UnrecoverableError). */
function reject(w: WorkerState, jobId: string, e: unknown, job?: Pick<ShardJob, 'stage' | 'shard'>): never {
  const err = e as RevcorError;
  const reason = redact([err.message, err.hint].filter(Boolean).join(' '));
  w.counts.failed++;
  w.o.emit({ type: 'job-rejected', jobId, stage: job?.stage, shard: job?.shard, reason });
  throw new UnrecoverableError(reason);
}

/** The BullMQ processor: admits the job (or rejects or skips it), then runs its shard. */
async function processJob(w: WorkerState, job: Job, bullSignal?: AbortSignal): Promise<JobResult> {
  const jobId = String(job.id);
  let admitted: Awaited<ReturnType<typeof admitJob>>;
  try {
    admitted = await admitJob(job.id, job.data, w.policy, w.views, w.hasher);
  } catch (e) {
    if (e instanceof Rejection) return reject(w, jobId, e, e.data);
    throw e;
  }
  const { outDir, stage, shard } = admitted.data;
  if (admitted.kind === 'skip') {
    const r = admitted.record;
    w.counts.skipped++;
    w.o.emit({ type: 'shard-skipped', jobId, stage, shard, outDir, reason: 'already recorded with this cache key' });
    return { status: 'skipped', worker: w.id, outDir, sha256: r.sha256, rows: r.rows, bytes: r.bytes, seconds: 0 };
  }
  return runAdmitted(w, job, admitted, bullSignal);
}

/** Runs an admitted job's shard exactly as a local run does; reports progress to the job and the outcome as events. */
async function runAdmitted(w: WorkerState, job: Job, a: AdmittedJob, bullSignal?: AbortSignal): Promise<JobResult> {
  const jobId = String(job.id);
  const { data, view, entry } = a;
  const { outDir, stage, shard, key } = data;
  const emit = w.o.emit;
  const abort = new AbortController();
  const onBullAbort = (): void => abort.abort(bullSignal?.reason);
  bullSignal?.addEventListener('abort', onBullAbort, { once: true });
  w.active.set(jobId, { stage, shard, outDir, since: new Date().toISOString(), abort });
  const attempt = job.attemptsMade + 1;
  emit({ type: 'job-start', jobId, stage, shard, outDir, attempt });
  let lastProgress = 0;
  try {
    const record = await executeShard(
      { stage: w.stageByName.get(stage)!, shard: entry.shard, key, basis: entry.basis, previous: a.previous },
      {
        experiment: view.experiment,
        outDir,
        pool: w.pool,
        threads: threadsPerShard(w.settings.threads, w.settings.concurrency),
        signal: abort.signal,
        hasher: w.hasher,
        writeHook: w.o.writeHook,
        upstream: (name) =>
          makeUpstreamView({
            consumer: { stage, shard, basis: entry.basis },
            stage: name,
            shards: view.stages.get(name)?.keyed.shards.map((s) => ({ id: s.shard.id, params: s.basis.params })) ?? [],
            record: (uid) => a.upstream.get(name)?.get(uid),
            outDir,
          }),
        progress: (fraction) => {
          const now = Date.now();
          if (now - lastProgress < 1000 && fraction < 1) return;
          lastProgress = now;
          job.updateProgress(Math.round(fraction * 1000) / 1000).catch(() => undefined);
        },
        log: (message) => emit({ type: 'log', level: 'info', message: redact(message), stage, shard }),
        // the experiment must not have changed under the shard (a newer coordinator run): else discard
        beforeWrite: async () => {
          const now = await w.views.get(outDir);
          if (now.sha !== view.sha && now.stages.get(stage)?.byId.get(shard)?.key !== key) {
            throw new JobRejected(`Job ${stage}/${shard}: the experiment in ${outDir} changed while the shard ran (its cache key is no longer ${key.slice(0, 12)}…); the result was discarded.`);
          }
        },
      },
    );
    w.counts.done++;
    emit({ type: 'shard-done', jobId, stage, shard, outDir, seconds: record.seconds, rows: record.rows, bytes: record.bytes });
    return { status: 'done', worker: w.id, outDir, sha256: record.sha256, rows: record.rows, bytes: record.bytes, seconds: record.seconds };
  } catch (e) {
    if (e instanceof JobRejected) return reject(w, jobId, e, data);
    w.counts.failed++;
    const message = redact(e instanceof Error ? e.message : String(e));
    const attempts = job.opts.attempts ?? 1;
    emit({ type: 'job-failed', jobId, stage, shard, error: message, attempt, willRetry: attempt < attempts && !(e instanceof UnrecoverableError) });
    const out = new Error(message);
    out.stack = redact((e as Error)?.stack ?? message);
    throw out;
  } finally {
    bullSignal?.removeEventListener('abort', onBullAbort);
    w.active.delete(jobId);
  }
}
