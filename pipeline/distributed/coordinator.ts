// The coordinator of a distributed run is an executor of the one run lifecycle (pipeline/runner.ts): it puts each
// pending shard on a BullMQ queue (job id = the shard's cache key) once the upstream shards it needs are done — a
// shard that needs a whole upstream stage waits for all of it, which is the stage barrier. Completions arrive as
// QueueEvents and are checked against the records; a periodic reconciliation catches anything missed, and the plan is
// verified again from the records (up to three rounds) before the lifecycle prunes, writes the manifest and finalizes.
// A round is named parts: its bookkeeping (shard-book.ts), what it hears from the queue (completion-inbox.ts), the
// loop (runRound), and the queue actions enqueueEntry, checkEntry, withdrawQueued and withdrawStaleJobs.
// Tested in test/pipeline/distributed.test.ts (with Redis) and test/pipeline/distributed/coordinator.test.ts.
import { hostname } from 'node:os';
import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
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
import { CompletionInbox } from './completion-inbox.ts';
import { redact } from './redact.ts';
import { checkRedis, newClient, type RedisTarget } from './redis.ts';
import { coordinatorKey, listWorkers, startHeartbeat, type Heartbeat } from './registry.ts';
import { ShardBook, type Entry } from './shard-book.ts';

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

/** Job states in which a job is still waiting for a worker or running on one. */
export const QUEUED_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

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

/** One round: its bookkeeping, what the queue told it, and where it writes. */
interface Round {
  c: Coordination;
  book: ShardBook;
  inbox: CompletionInbox;
  outDir: string;
  emit: (e: ProgressEvent) => void;
}

/** Enqueues the plan's shards as their upstream completes and waits for all of them (or a failure, or an abort). */
async function coordinate(plan: Plan, c: Coordination): Promise<void> {
  const { emit, outDir } = c.ctx;
  const book = new ShardBook(plan, emit, c.ran, c.counters);
  await withdrawStaleJobs(c.queue, outDir, book.entries, emit);
  const inbox = new CompletionInbox(book, emit);
  const detach = inbox.attach(c.events, c.ctx.signal);
  const r: Round = { c, book, inbox, outDir, emit };
  let stopped: { withdrawn: number; stillRunning: number } = { withdrawn: 0, stillRunning: 0 };
  try {
    stopped = await runRound(r);
  } finally {
    detach();
  }
  const resume = c.ctx.resume;
  const kept = book.kept(stopped.withdrawn, stopped.stillRunning);
  if (book.failure) {
    throw new RemoteShardError(`Stage ${book.failure.entry.ps.stage} shard ${book.failure.entry.ps.shard.id} failed on a worker: ${book.failure.reason}`, {
      hint: `${kept} Resume with: ${resume}`,
    });
  }
  if (c.ctx.signal.aborted) {
    emit({ type: 'interrupted', resume });
    throw new InterruptedError(`Interrupted: ${kept}`, { hint: `Resume with: ${resume}` });
  }
}

/** The loop of a round: queue what is ready, wait for events (or the poll interval), check what changed. */
async function runRound(r: Round): Promise<{ withdrawn: number; stillRunning: number }> {
  const { c, book, inbox } = r;
  const pollMs = c.o.pollMs ?? 2000;
  let lastFull = Date.now();
  for (;;) {
    if (book.failure || c.ctx.signal.aborted) {
      // queued jobs are withdrawn; running ones finish on their workers and are recorded (a rerun sees them)
      const withdrawn = await Promise.race([withdrawQueued(book, c.queue), new Promise<number>((res) => setTimeout(() => res(-1), 10_000))]);
      if (withdrawn < 0) r.emit({ type: 'log', level: 'warn', message: `could not withdraw the queued jobs within 10 s (is Redis reachable?): workers may still run them` });
      return { withdrawn, stillRunning: book.queued() };
    }
    for (const e of book.readyToQueue()) await enqueueEntry(r, e);
    const open = book.open();
    if (!open.length) return { withdrawn: 0, stillRunning: 0 };
    if (!inbox.pending) await inbox.wait(Math.max(50, pollMs - (Date.now() - lastFull)));
    const full = Date.now() - lastFull >= pollMs;
    const todo = full ? open.map((e) => e.ps.key) : inbox.drainKeys();
    if (full) {
      inbox.drainKeys();
      lastFull = Date.now();
    }
    for (const key of todo) {
      const e = book.entries.get(key);
      if (e) await checkEntry(r, e, full);
    }
  }
}

/** The job payload of a shard (what a worker validates before acting). */
export function shardJob(ps: PlannedShard, outDir: string, codeVersion: string, configSha256: string): ShardJob {
  return {
    format: JOB_FORMAT,
    outDir,
    stage: ps.stage,
    shard: ps.shard.id,
    key: ps.key,
    codeVersion,
    configSha256,
    coordinator: { host: hostname(), pid: process.pid },
    queuedAt: new Date().toISOString(),
  };
}

/** BullMQ options of a shard's job: id = cache key, earlier stages first, retried with backoff, failures kept a week. */
export function shardJobOptions(key: string, stageIndex: number, attempts = 3): JobsOptions {
  return {
    jobId: key,
    priority: stageIndex + 1,
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Puts a ready entry on the queue, unless its record appeared meanwhile or a job for it is already queued. */
async function enqueueEntry(r: Round, e: Entry): Promise<void> {
  const { ps } = e;
  const { outDir, c } = r;
  r.book.startStage(e);
  if (ps.forced && ps.record) {
    await deleteRecord(outDir, ps.stage, ps.shard.id); // --force: a worker would otherwise skip it as recorded
  } else if (ps.status === 'pending' || ps.status === 'stale') {
    const rec = await readRecord(outDir, ps.stage, ps.shard.id);
    if (rec && rec.key === ps.key) return r.book.markDone(e, rec); // finished meanwhile by a job of an earlier coordinator
  }
  const existing = await c.queue.getJob(ps.key);
  if (existing) {
    const state = await existing.getState();
    const data = existing.data as Partial<ShardJob> | undefined;
    if (QUEUED_STATES.has(state)) {
      if (data?.outDir !== outDir) {
        if (e.state !== 'conflict') r.emit({ type: 'log', level: 'warn', message: `${ps.stage}/${ps.shard.id}: a job with the same cache key is queued for ${data?.outDir}; waiting for it to finish` });
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
  await c.queue.add(`${ps.stage}/${ps.shard.id}`, shardJob(ps, outDir, c.o.codeVersion, c.configSha256), shardJobOptions(ps.key, e.stageIndex, c.o.attempts));
  e.state = 'queued';
}

/** Brings one entry up to date from its completion/failure event, or (on a full check) from the queue and records. */
async function checkEntry(r: Round, e: Entry, full: boolean): Promise<void> {
  const { outDir, c, book } = r;
  const key = e.ps.key;
  const { result, reason } = r.inbox.take(key);
  if (e.state === 'conflict') {
    // the other directory's job is gone once it completed or failed: queue ours
    if (result || reason !== undefined || !(await c.queue.getJob(key))) await enqueueEntry(r, e);
    return;
  }
  if (e.state !== 'queued') return;
  if (result?.outDir === outDir) return book.markDone(e, { seconds: result.seconds ?? 0, rows: result.rows ?? 0, bytes: result.bytes ?? 0 });
  if (reason !== undefined) return book.markFailed(e, reason);
  if (!full && !result) return;
  const job = await c.queue.getJob(key);
  const state = job ? await job.getState() : 'missing';
  if (state === 'failed') return book.markFailed(e, job?.failedReason ?? 'failed');
  if (QUEUED_STATES.has(state)) return;
  // finished or gone without us seeing how: the record decides
  const rec = await readRecord(outDir, e.ps.stage, e.ps.shard.id);
  if (rec && rec.key === key) return book.markDone(e, rec);
  if (++e.requeues > 3) {
    return book.markFailed(e, `its job finished ${e.requeues} times but no record with its cache key appeared in ${outDir} (do the workers write to the same shared directory?)`);
  }
  e.state = 'blocked';
  await enqueueEntry(r, e);
}

/** Withdraws this round's jobs no worker has started (after a failure or interruption); running ones finish. */
export async function withdrawQueued(book: ShardBook, queue: Queue): Promise<number> {
  let n = 0;
  for (const e of book.entries.values()) {
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
}

/** Removes queued, not yet started jobs of this output directory whose cache keys this plan no longer has. */
export async function withdrawStaleJobs(queue: Queue, outDir: string, entries: Map<string, Entry>, emit: (e: ProgressEvent) => void): Promise<void> {
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
