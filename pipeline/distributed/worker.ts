// A distributed worker: takes shard jobs from a BullMQ queue, validates each before acting, recomputes the shard's
// cache key from the output directory's resolved config, skips shards already recorded with that key, and
// otherwise runs the shard exactly as a local run does (executeShard: same atomic write, same record).
// CPU work runs in the piscina pool, so the event loop stays free to renew the job's lock (lockDuration).
// Tested in test/pipeline/distributed.test.ts.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { WriteHook } from '../atomic.ts';
import { FileHasher, sha256 } from '../cache-key.ts';
import { RevcorError } from '../errors.ts';
import { readRecord, type ShardRecord } from '../manifest.ts';
import { planKeys, type KeyedStage } from '../plan.ts';
import { createPool, defaultWorkers, threadsPerShard } from '../pool.ts';
import { executeShard, makeUpstreamView } from '../shard-exec.ts';
import type { PlanContext, Stage } from '../stage.ts';
import { checkShard } from '../store.ts';
import { resolvedConfigFile } from '../rundir.ts';
import { checkJob, checkJobPaths, DEFAULT_QUEUE, JobRejected, type ShardJob } from './job.ts';
import { redact } from './redact.ts';
import { checkRedis, newClient, type RedisTarget } from './redis.ts';
import { startHeartbeat, workerKey, type WorkerBeat } from './registry.ts';

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

/** Defaults of the lock and stall handling (see README: a dead worker's shard is retried after ≤ lock + 2 × interval). */
export const WORKER_DEFAULTS = {
  /** The job lock lives this long without renewal; renewed every half of it while the shard runs. */
  lockDurationMs: 60_000,
  /** How often each worker looks for jobs whose lock expired (their worker died) and puts them back. */
  stalledIntervalMs: 30_000,
  /** A job that stalls more often than this fails (e.g. a shard that kills every worker taking it, out of memory). */
  maxStalledCount: 2,
  heartbeatMs: 5_000,
  concurrency: 1,
};

/** How a worker runs. */
export interface WorkerOptions {
  redis: RedisTarget;
  queue?: string;
  stages: readonly Stage[];
  codeVersion: string;
  /** Shards this process runs at once (default 1). */
  concurrency?: number;
  /** Threads of the piscina pool (default: cores). */
  threads?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  heartbeatMs?: number;
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

/** An output directory's experiment as this worker sees it, with every shard's cache key. */
interface RunView {
  sha: string;
  experiment: PlanContext;
  stages: Map<string, { keyed: KeyedStage; byId: Map<string, KeyedStage['shards'][number]> }>;
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

/** Runs a worker until `signal` aborts; throws a RedisError at once when Redis cannot be used. */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const queue = o.queue ?? DEFAULT_QUEUE;
  await checkRedis(o.redis, 'worker');
  const id = `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const concurrency = o.concurrency ?? WORKER_DEFAULTS.concurrency;
  const threads = o.threads || defaultWorkers();
  const lockDurationMs = o.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs;
  const stalledIntervalMs = o.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs;
  const maxStalledCount = o.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount;
  const stageNames = o.stages.map((s) => s.name);
  const stageByName = new Map(o.stages.map((s) => [s.name, s]));
  const pool = createPool(threads);
  const hasher = new FileHasher(); // in memory: the output directory's memo belongs to the coordinator
  const views = new Map<string, Promise<RunView>>();
  const active = new Map<string, { stage: string; shard: string; outDir: string; since: string; abort: AbortController }>();
  const counts = { done: 0, skipped: 0, failed: 0 };
  const startedAt = new Date().toISOString();
  const emit = o.emit;

  /** The experiment of an output directory for its current resolved config (memoised by content). */
  const viewFor = async (outDir: string): Promise<RunView> => {
    const file = resolvedConfigFile(outDir);
    const text = await readFile(file, 'utf8');
    const sha = sha256(text);
    const memo = `${outDir}\0${sha}`;
    let p = views.get(memo);
    if (!p) {
      p = (async () => {
        const loaded = await o.loadExperiment(file);
        const keyed = await planKeys(o.stages, loaded, hasher);
        const stages = new Map(keyed.map((ks) => [ks.stage.name, { keyed: ks, byId: new Map(ks.shards.map((s) => [s.shard.id, s])) }]));
        return { sha, experiment: { config: loaded.config, configDir: loaded.configDir }, stages };
      })();
      p.catch(() => views.delete(memo));
      views.set(memo, p);
      while (views.size > 8) views.delete(views.keys().next().value!);
    }
    return p;
  };

  const reject = (jobId: string, e: unknown, job?: Pick<ShardJob, 'stage' | 'shard'>): never => {
    const err = e as RevcorError;
    const reason = redact([err.message, err.hint].filter(Boolean).join(' '));
    counts.failed++;
    emit({ type: 'job-rejected', jobId, stage: job?.stage, shard: job?.shard, reason });
    throw new UnrecoverableError(reason);
  };

  const processor = async (job: Job, _token?: string, bullSignal?: AbortSignal): Promise<JobResult> => {
    const jobId = String(job.id);
    let data: ShardJob;
    try {
      data = checkJob(job.id, job.data, { codeVersion: o.codeVersion, stageNames, allow: o.allow });
      await checkJobPaths(data);
    } catch (e) {
      return reject(jobId, e);
    }
    const { outDir, stage, shard, key } = data;
    let view: RunView;
    try {
      view = await viewFor(outDir);
    } catch (e) {
      if (e instanceof RevcorError) return reject(jobId, new JobRejected(`Job ${stage}/${shard}: cannot load ${resolvedConfigFile(outDir)}: ${e.message}`), data);
      throw e;
    }
    const entry = view.stages.get(stage)?.byId.get(shard);
    if (!entry) {
      return reject(jobId, new JobRejected(`Job ${stage}/${shard}: expected a shard of the experiment in ${resolvedConfigFile(outDir)}, got one it does not plan (a stale job: the experiment changed since it was queued).`), data);
    }
    if (entry.key !== key) {
      return reject(
        jobId,
        new JobRejected(
          `Job ${stage}/${shard}: expected cache key ${entry.key} (computed here from ${resolvedConfigFile(outDir)}, this code and the input files as this machine sees them), got ${key} from the coordinator.`,
          { hint: 'The experiment changed since the job was queued, or an input file (weights, images) differs on this machine.' },
        ),
        data,
      );
    }
    const existing = await readRecord(outDir, stage, shard);
    if (existing && existing.key === key && !(await checkShard(outDir, existing, hasher))) {
      counts.skipped++;
      emit({ type: 'shard-skipped', jobId, stage, shard, outDir, reason: 'already recorded with this cache key' });
      return { status: 'skipped', worker: id, outDir, sha256: existing.sha256, rows: existing.rows, bytes: existing.bytes, seconds: 0 };
    }
    // upstream shards must be recorded with the keys this shard's key was made from
    const upRecords = new Map<string, Map<string, ShardRecord>>();
    for (const [u, keys] of Object.entries(entry.basis.upstream)) {
      const m = new Map<string, ShardRecord>();
      for (const [uid, ukey] of Object.entries(keys)) {
        const r = await readRecord(outDir, u, uid);
        if (!r || r.key !== ukey) {
          throw new Error(`Upstream ${u}/${uid} of ${stage}/${shard} is not done in ${outDir}: expected its record with key ${ukey.slice(0, 12)}…, got ${r ? `key ${r.key.slice(0, 12)}…` : 'none'} (retried: a shared file system may show it late)`);
        }
        m.set(uid, r);
      }
      upRecords.set(u, m);
    }

    const abort = new AbortController();
    const onBullAbort = (): void => abort.abort(bullSignal?.reason);
    bullSignal?.addEventListener('abort', onBullAbort, { once: true });
    active.set(jobId, { stage, shard, outDir, since: new Date().toISOString(), abort });
    const attempt = job.attemptsMade + 1;
    emit({ type: 'job-start', jobId, stage, shard, outDir, attempt });
    let lastProgress = 0;
    try {
      const record = await executeShard(
        { stage: stageByName.get(stage)!, shard: entry.shard, key, basis: entry.basis, previous: existing },
        {
          experiment: view.experiment,
          outDir,
          pool,
          threads: threadsPerShard(threads, concurrency),
          signal: abort.signal,
          hasher,
          writeHook: o.writeHook,
          upstream: (name) =>
            makeUpstreamView({
              consumer: { stage, shard, basis: entry.basis },
              stage: name,
              shards: view.stages.get(name)?.keyed.shards.map((s) => ({ id: s.shard.id, params: s.basis.params })) ?? [],
              record: (uid) => upRecords.get(name)?.get(uid),
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
            const now = await viewFor(outDir);
            if (now.sha !== view.sha && now.stages.get(stage)?.byId.get(shard)?.key !== key) {
              throw new JobRejected(`Job ${stage}/${shard}: the experiment in ${outDir} changed while the shard ran (its cache key is no longer ${key.slice(0, 12)}…); the result was discarded.`);
            }
          },
        },
      );
      counts.done++;
      emit({ type: 'shard-done', jobId, stage, shard, outDir, seconds: record.seconds, rows: record.rows, bytes: record.bytes });
      return { status: 'done', worker: id, outDir, sha256: record.sha256, rows: record.rows, bytes: record.bytes, seconds: record.seconds };
    } catch (e) {
      if (e instanceof JobRejected) return reject(jobId, e, data);
      counts.failed++;
      const message = redact(e instanceof Error ? e.message : String(e));
      const attempts = job.opts.attempts ?? 1;
      emit({ type: 'job-failed', jobId, stage, shard, error: message, attempt, willRetry: attempt < attempts && !(e instanceof UnrecoverableError) });
      const out = new Error(message);
      out.stack = redact((e as Error)?.stack ?? message);
      throw out;
    } finally {
      bullSignal?.removeEventListener('abort', onBullAbort);
      active.delete(jobId);
    }
  };

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
  const heartbeat = startHeartbeat(beatClient, workerKey(queue, id), o.heartbeatMs ?? WORKER_DEFAULTS.heartbeatMs, beatValue);
  await heartbeat.beat();

  const workerClient = newClient(o.redis, `worker-${id}`);
  const worker = new Worker(queue, processor, {
    connection: workerClient,
    name: id,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: stalledIntervalMs,
    maxStalledCount,
    autorun: false,
  });
  const lastErrors = new Map<string, number>();
  worker.on('error', (e) => {
    const message = redact(e?.message ?? String(e));
    const now = Date.now();
    if ((lastErrors.get(message) ?? 0) > now - 30_000) return; // the same Redis trouble once per 30 s
    lastErrors.set(message, now);
    emit({ type: 'log', level: 'warn', message: `queue: ${message}` });
  });
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const jid of jobIds) {
      const a = active.get(jid);
      if (!a) continue;
      emit({ type: 'log', level: 'warn', message: `lost the lock of ${a.stage}/${a.shard} (Redis unreachable or the event loop blocked for over ${lockDurationMs / 1000} s): abandoning it, another worker retries it`, stage: a.stage, shard: a.shard });
      a.abort.abort(new Error('job lock lost'));
    }
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
  // the lock is renewed from this event loop: say so when it was blocked long enough to endanger the lock
  let tick = Date.now();
  const lagProbe = setInterval(() => {
    const now = Date.now();
    const blocked = now - tick - 1000;
    tick = now;
    if (blocked > lockDurationMs / 3 && active.size) {
      const what = [...active.values()].map((a) => `${a.stage}/${a.shard}`).join(', ');
      emit({ type: 'log', level: 'warn', message: `the event loop was blocked for ${(blocked / 1000).toFixed(1)} s while running ${what}; job locks last ${lockDurationMs / 1000} s (raise --lock-duration if this grows)` });
    }
  }, 1000);
  lagProbe.unref();
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
    await pool.close().catch(() => undefined);
    emit({ type: 'worker-stop', ...counts });
  }
  return { id, ...counts };
}
