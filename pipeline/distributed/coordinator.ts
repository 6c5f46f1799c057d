// The coordinator of a distributed run is an executor of the one run lifecycle (pipeline/runner.ts): it puts each
// pending shard on a BullMQ queue (job id = the shard's cache key) once the upstream shards it needs are done — a
// shard that needs a whole upstream stage waits for all of it, which is the stage barrier. Completions arrive as
// QueueEvents and are checked against the records; a periodic reconciliation catches anything missed, and the plan is
// verified again from the records (up to three rounds) before the lifecycle prunes, writes the manifest and finalizes.
// Tested in test/pipeline/distributed.test.ts.
import { hostname } from 'node:os';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { sha256 } from '../cache-key.ts';
import { InterruptedError, RevcorError } from '../errors.ts';
import type { Execution, ExecutionContext, Executor } from '../executor.ts';
import { deleteRecord, readRecord } from '../manifest.ts';
import type { Plan, PlannedShard } from '../plan.ts';
import type { ProgressEvent } from '../progress.ts';
import { readResolvedConfig } from '../rundir.ts';
import { runPipeline, type RunOptions, type RunResult } from '../runner.ts';
import { DEFAULT_QUEUE, JOB_FORMAT, type ShardJob } from './job.ts';
import { redact } from './redact.ts';
import { checkRedis, newClient, type RedisTarget } from './redis.ts';
import { coordinatorKey, listWorkers, startHeartbeat, type Heartbeat } from './registry.ts';
import type { JobResult } from './worker.ts';

/** How the coordinator reaches the workers. */
export interface RedisExecutorOptions {
  redis: RedisTarget;
  /** Queue name (default "revcor"); workers must listen on the same one. */
  queue?: string;
  /** This installation's code version (code-version.ts); every job carries it and workers compare. */
  codeVersion: string;
  /** Milliseconds between reconciliations with the queue and the records (default 2000). */
  pollMs?: number;
  /** Attempts per job when a shard throws (stalls are counted separately by the workers; default 3). */
  attempts?: number;
}

/** A run whose shards are computed by `revcor worker` processes through Redis. */
export interface DistributedRunOptions<C = unknown> extends RunOptions<C>, RedisExecutorOptions {}

/** A stage's shard failed on a worker, or was rejected by one. */
export class RemoteShardError extends RevcorError {}

const QUEUED_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

type EntryState = 'blocked' | 'queued' | 'conflict' | 'done' | 'failed' | 'cancelled';

interface Entry {
  ps: PlannedShard;
  stageIndex: number;
  state: EntryState;
  /** Times it was put back because its job finished without a record. */
  requeues: number;
}

/** Plans and runs the pipeline into `outDir` with the shards computed by workers listening on the queue. */
export async function runDistributed<C>(o: DistributedRunOptions<C>): Promise<RunResult> {
  return runPipeline({ ...o, executor: o.dryRun ? undefined : redisExecutor<C>(o) }); // a dry run plans only: no Redis needed
}

/** An executor that queues the shards on BullMQ for `revcor worker`s and waits for their records. */
export function redisExecutor<C>(o: RedisExecutorOptions): Executor<C> {
  const queueName = o.queue ?? DEFAULT_QUEUE;
  const clients: Redis[] = [];
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  let beat: Heartbeat | undefined;
  let outDir: string | undefined;
  return {
    check: () => checkRedis(o.redis, 'coordinator'),
    // workers of an earlier coordinator may still be writing: temp files go only once no job of this directory runs
    async mayRemoveLeftovers(phase) {
      if (phase === 'start' || !queue) return false;
      return !(await queue.getJobs(['active'])).some((j) => (j?.data as ShardJob | undefined)?.outDir === outDir);
    },
    async execute(plan: Plan, ctx: ExecutionContext<C>): Promise<Execution> {
      outDir = ctx.outDir;
      const t0 = Date.now();
      const { emit } = ctx;
      const client = newClient(o.redis, 'coordinator');
      clients.push(client);
      let lastWarning = 0;
      const warnDown = (e: Error): void => {
        if (Date.now() - lastWarning < 30_000) return;
        lastWarning = Date.now();
        emit({ type: 'log', level: 'warn', message: `Redis at ${o.redis.display}: ${redact(e?.message ?? String(e))}; waiting for it to come back (workers keep running their shards)` });
      };
      client.on('error', warnDown);
      queue = new Queue(queueName, { connection: client });
      queue.on('error', () => undefined);
      const lastEvent = await client.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1);
      const eventsClient = newClient(o.redis, 'coordinator-events');
      clients.push(eventsClient);
      eventsClient.on('error', warnDown);
      events = new QueueEvents(queueName, { connection: eventsClient, lastEventId: lastEvent[0]?.[0] ?? '0-0' });
      events.on('error', () => undefined);
      await events.waitUntilReady();

      const workers = await listWorkers(client, queueName);
      emit({ type: 'run-start', toRun: plan.toRun, workers: workers.reduce((a, w) => a + w.threads, 0), concurrency: workers.reduce((a, w) => a + w.concurrency, 0) });
      emit({ type: 'log', level: 'info', message: `Coordinating ${plan.toRun} shards through queue '${queueName}' on ${o.redis.display}: ${workers.length} live worker${workers.length === 1 ? '' : 's'}` });
      if (!workers.length) emit({ type: 'log', level: 'warn', message: `no live workers on queue '${queueName}' yet: start some with \`revcor worker --redis ${o.redis.display}${queueName === DEFAULT_QUEUE ? '' : ` --queue ${queueName}`}\`` });
      for (const w of workers.filter((x) => x.codeVersion !== o.codeVersion)) {
        emit({ type: 'log', level: 'warn', message: `worker ${w.id} runs code version ${w.codeVersion}, this coordinator ${o.codeVersion}: it will reject this run's jobs` });
      }

      const counters = { toRun: plan.toRun, done: 0 };
      beat = startHeartbeat(client, coordinatorKey(queueName, ctx.outDir), 5000, () => ({
        outDir: ctx.outDir,
        host: hostname(),
        pid: process.pid,
        startedAt: new Date(t0).toISOString(),
        codeVersion: o.codeVersion,
        queue: queueName,
        ...counters,
      }));
      await beat.beat();

      const c: Coordination = { o, ctx, queue, events, configSha256: sha256(await readResolvedConfig(ctx.outDir)), counters, ran: [] };
      for (let round = 1; ; round++) {
        await coordinate(plan, c);
        const check = await ctx.replan();
        if (check.toRun === 0) return { ran: c.ran, plan: check };
        const missing = check.stages.flatMap((sp) => sp.shards.filter((s) => s.run)).map((s) => `${s.stage}/${s.shard.id} (${s.reasons[0] ?? s.status})`);
        if (round >= 3) {
          throw new RemoteShardError(`After ${round} rounds, ${missing.length} shards are still not done in ${ctx.outDir}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}.`, {
            hint: `Do all workers write to the same shared directory ${ctx.outDir}? Resume with: ${ctx.resume}`,
          });
        }
        emit({ type: 'log', level: 'warn', message: `verification found ${missing.length} shards not done (${missing.slice(0, 3).join(', ')}): queueing them again` });
        plan = check;
        counters.toRun += check.toRun;
      }
    },
    async close() {
      await beat?.stop();
      await events?.close().catch(() => undefined);
      await queue?.close().catch(() => undefined);
      for (const cl of clients.splice(0)) cl.disconnect();
      queue = undefined;
      events = undefined;
      beat = undefined;
    },
  };
}

interface Coordination {
  o: RedisExecutorOptions;
  ctx: ExecutionContext<unknown>;
  queue: Queue;
  events: QueueEvents;
  configSha256: string;
  counters: { toRun: number; done: number };
  ran: PlannedShard[];
}

/** Enqueues the plan's shards as their upstream completes and waits for all of them (or a failure, or an abort). */
async function coordinate(plan: Plan, c: Coordination): Promise<void> {
  const { o, queue, events } = c;
  const { emit, outDir } = c.ctx;
  const entries = new Map<string, Entry>();
  const doneKeys = new Map<string, string>(); // "stage/shard" → key of its current record
  const stageLeft = new Map<string, { left: number; start?: number }>();
  plan.stages.forEach((sp, stageIndex) => {
    for (const ps of sp.shards) {
      if (ps.status === 'done' && !ps.run) doneKeys.set(`${ps.stage}/${ps.shard.id}`, ps.key);
      if (!ps.run) continue;
      if (entries.has(ps.key)) throw new Error(`Stage ${ps.stage} shards ${entries.get(ps.key)!.ps.shard.id} and ${ps.shard.id} have the same cache key: expected distinct parameters per shard`);
      entries.set(ps.key, { ps, stageIndex, state: 'blocked', requeues: 0 });
    }
    stageLeft.set(sp.stage.name, { left: sp.shards.filter((s) => s.run).length });
  });
  await withdrawStaleJobs(queue, outDir, entries, emit);

  let failure: { entry: Entry; reason: string } | undefined;
  let wakeUp: (() => void) | undefined;
  const dirty = new Set<string>();
  const completed = new Map<string, Partial<JobResult>>();
  const failed = new Map<string, string>();
  const wake = (): void => wakeUp?.();
  const label = (e: Entry): string => `${e.ps.stage}/${e.ps.shard.id}`;

  const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
    if (!entries.has(jobId)) return;
    let rv = returnvalue as Partial<JobResult> | string | undefined;
    if (typeof rv === 'string') {
      try {
        rv = JSON.parse(rv) as Partial<JobResult>;
      } catch {
        rv = undefined;
      }
    }
    completed.set(jobId, rv ?? {});
    dirty.add(jobId);
    wake();
  };
  const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => {
    if (!entries.has(jobId)) return;
    failed.set(jobId, failedReason);
    dirty.add(jobId);
    wake();
  };
  const onStalled = ({ jobId }: { jobId: string }): void => {
    const e = entries.get(jobId);
    if (e?.state === 'queued') emit({ type: 'log', level: 'warn', message: `${label(e)}: its worker stopped renewing the job lock (killed or lost): back in the queue for another worker`, stage: e.ps.stage, shard: e.ps.shard.id });
  };
  const onActive = ({ jobId }: { jobId: string }): void => {
    const e = entries.get(jobId);
    if (e?.state === 'queued') emit({ type: 'shard-start', stage: e.ps.stage, shard: e.ps.shard.id });
  };
  const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
    const e = entries.get(jobId);
    if (e?.state === 'queued' && typeof data === 'number') emit({ type: 'shard-progress', stage: e.ps.stage, shard: e.ps.shard.id, fraction: data });
  };
  events.on('completed', onCompleted);
  events.on('failed', onFailed);
  events.on('stalled', onStalled);
  events.on('active', onActive);
  events.on('progress', onProgress);
  const onAbort = (): void => wake();
  c.ctx.signal.addEventListener('abort', onAbort);

  const markDone = (e: Entry, info: { seconds: number; rows: number; bytes: number }): void => {
    e.state = 'done';
    e.ps.status = 'done';
    doneKeys.set(label(e), e.ps.key);
    c.ran.push(e.ps);
    c.counters.done++;
    emit({ type: 'shard-done', stage: e.ps.stage, shard: e.ps.shard.id, seconds: info.seconds, rows: info.rows, bytes: info.bytes });
    const st = stageLeft.get(e.ps.stage)!;
    if (--st.left === 0) emit({ type: 'stage-done', stage: e.ps.stage, seconds: (Date.now() - (st.start ?? Date.now())) / 1000 });
  };
  const markFailed = (e: Entry, reason: string): void => {
    e.state = 'failed';
    if (failure) return;
    failure = { entry: e, reason: redact(reason) };
    emit({ type: 'shard-failed', stage: e.ps.stage, shard: e.ps.shard.id, error: failure.reason });
  };
  const ready = (e: Entry): boolean =>
    Object.entries(e.ps.basis.upstream).every(([u, keys]) => Object.entries(keys).every(([id, k]) => doneKeys.get(`${u}/${id}`) === k));

  const enqueue = async (e: Entry): Promise<void> => {
    const { ps } = e;
    const st = stageLeft.get(ps.stage)!;
    if (st.start === undefined) {
      st.start = Date.now();
      emit({ type: 'stage-start', stage: ps.stage, shards: st.left, cost: st.left });
    }
    if (ps.forced && ps.record) {
      await deleteRecord(outDir, ps.stage, ps.shard.id); // --force: a worker would otherwise skip it as recorded
    } else if (ps.status === 'pending' || ps.status === 'stale') {
      const rec = await readRecord(outDir, ps.stage, ps.shard.id);
      if (rec && rec.key === ps.key) return markDone(e, rec); // finished meanwhile by a job of an earlier coordinator
    }
    const existing = await queue.getJob(ps.key);
    if (existing) {
      const state = await existing.getState();
      const data = existing.data as Partial<ShardJob> | undefined;
      if (QUEUED_STATES.has(state)) {
        if (data?.outDir !== outDir) {
          if (e.state !== 'conflict') emit({ type: 'log', level: 'warn', message: `${ps.stage}/${ps.shard.id}: a job with the same cache key is queued for ${data?.outDir}; waiting for it to finish` });
          e.state = 'conflict';
          return;
        }
        if (data.codeVersion === c.o.codeVersion || state === 'active') {
          e.state = 'queued'; // queued by an earlier coordinator of this directory: not duplicated
          return;
        }
      }
      await existing.remove().catch(() => undefined); // finished, failed, or queued by other code: replaced
    }
    const job: ShardJob = {
      format: JOB_FORMAT,
      outDir,
      stage: ps.stage,
      shard: ps.shard.id,
      key: ps.key,
      codeVersion: c.o.codeVersion,
      configSha256: c.configSha256,
      coordinator: { host: hostname(), pid: process.pid },
      queuedAt: new Date().toISOString(),
    };
    await queue.add(`${ps.stage}/${ps.shard.id}`, job, {
      jobId: ps.key,
      priority: e.stageIndex + 1,
      attempts: c.o.attempts ?? 3,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    e.state = 'queued';
  };

  /** Brings one queued entry up to date from its completion/failure event, or (on a full check) from the queue and records. */
  const check = async (e: Entry, full: boolean): Promise<void> => {
    const key = e.ps.key;
    const reason = failed.get(key);
    const result = completed.get(key);
    failed.delete(key);
    completed.delete(key);
    if (e.state === 'conflict') {
      // the other directory's job is gone once it completed or failed: queue ours
      if (result || reason !== undefined || !(await queue.getJob(key))) await enqueue(e);
      return;
    }
    if (e.state !== 'queued') return;
    if (result?.outDir === outDir) return markDone(e, { seconds: result.seconds ?? 0, rows: result.rows ?? 0, bytes: result.bytes ?? 0 });
    if (reason !== undefined) return markFailed(e, reason);
    if (!full && !result) return;
    const job = await queue.getJob(key);
    const state = job ? await job.getState() : 'missing';
    if (state === 'failed') return markFailed(e, job?.failedReason ?? 'failed');
    if (QUEUED_STATES.has(state)) return;
    // finished or gone without us seeing how: the record decides
    const rec = await readRecord(outDir, e.ps.stage, e.ps.shard.id);
    if (rec && rec.key === key) return markDone(e, rec);
    if (++e.requeues > 3) {
      return markFailed(e, `its job finished ${e.requeues} times but no record with its cache key appeared in ${outDir} (do the workers write to the same shared directory?)`);
    }
    e.state = 'blocked';
    await enqueue(e);
  };

  /** Withdraws this run's jobs no worker has started (after a failure or interruption); running ones finish. */
  const withdraw = async (): Promise<number> => {
    let n = 0;
    for (const e of entries.values()) {
      if (e.state === 'blocked' || e.state === 'conflict') {
        e.state = 'cancelled';
        continue;
      }
      if (e.state !== 'queued') continue;
      const job = await queue.getJob(e.ps.key);
      const state = job ? await job.getState() : 'missing';
      if (state === 'active') continue;
      if (job && state !== 'completed') {
        try {
          await job.remove();
          n++;
        } catch {
          continue; // became active meanwhile: let it finish
        }
      }
      if (state !== 'completed') e.state = 'cancelled';
    }
    return n;
  };

  const pollMs = o.pollMs ?? 2000;
  let lastFull = Date.now();
  let withdrawn = 0;
  let stillRunning = 0;
  try {
    for (;;) {
      if (failure || c.ctx.signal.aborted) {
        // queued jobs are withdrawn; running ones finish on their workers and are recorded (a rerun sees them)
        withdrawn = await Promise.race([withdraw(), new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
        if (withdrawn < 0) emit({ type: 'log', level: 'warn', message: `could not withdraw the queued jobs within 10 s (is Redis reachable?): workers may still run them` });
        stillRunning = [...entries.values()].filter((e) => e.state === 'queued').length;
        break;
      }
      for (const e of entries.values()) if (e.state === 'blocked' && ready(e)) await enqueue(e);
      const open = [...entries.values()].filter((e) => e.state === 'queued' || e.state === 'conflict' || e.state === 'blocked');
      if (!open.length) break;
      if (!dirty.size) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(50, pollMs - (Date.now() - lastFull)));
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wakeUp = undefined;
      }
      const full = Date.now() - lastFull >= pollMs;
      const todo = full ? open.map((e) => e.ps.key) : [...dirty];
      dirty.clear();
      if (full) lastFull = Date.now();
      for (const key of todo) {
        const e = entries.get(key);
        if (e) await check(e, full);
      }
    }
  } finally {
    events.off('completed', onCompleted);
    events.off('failed', onFailed);
    events.off('stalled', onStalled);
    events.off('active', onActive);
    events.off('progress', onProgress);
    c.ctx.signal.removeEventListener('abort', onAbort);
  }
  const resume = c.ctx.resume;
  const parts = [`${c.ran.length} of ${c.counters.toRun} shards finished this run and are kept`];
  if (withdrawn > 0) parts.push(withdrawn === 1 ? '1 queued job was withdrawn' : `${withdrawn} queued jobs were withdrawn`);
  if (stillRunning) parts.push(`${stillRunning === 1 ? '1 shard' : `${stillRunning} shards`} still running on workers ${stillRunning === 1 ? 'is' : 'are'} recorded when finished`);
  const kept = parts.join('; ') + '.';
  if (failure) {
    throw new RemoteShardError(`Stage ${failure.entry.ps.stage} shard ${failure.entry.ps.shard.id} failed on a worker: ${failure.reason}`, {
      hint: `${kept} Resume with: ${resume}`,
    });
  }
  if (c.ctx.signal.aborted) {
    emit({ type: 'interrupted', resume });
    throw new InterruptedError(`Interrupted: ${kept}`, { hint: `Resume with: ${resume}` });
  }
}

/** Removes queued, not yet started jobs of this output directory whose cache keys this plan no longer has. */
async function withdrawStaleJobs(queue: Queue, outDir: string, entries: Map<string, Entry>, emit: (e: ProgressEvent) => void): Promise<void> {
  const jobs = (await queue.getJobs(['waiting', 'prioritized', 'delayed'])) as Job[];
  let n = 0;
  for (const j of jobs) {
    if (!j || (j.data as Partial<ShardJob>)?.outDir !== outDir || entries.has(String(j.id))) continue;
    await j
      .remove()
      .then(() => n++)
      .catch(() => undefined);
  }
  if (n) emit({ type: 'log', level: 'info', message: `withdrew ${n} queued jobs of ${outDir} that an earlier run left and this plan no longer needs` });
}
