// The local executor: shards through a p-queue in this process (each starts once the upstream shards it needs are
// done, earlier stages first), CPU-heavy work in a piscina pool of worker threads. Interruption and failure leave
// every finished checkpoint recorded.
// Tested in test/pipeline/runner.test.ts.
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { InterruptedError, RevcorError } from './errors.ts';
import { ShardFailure, type Execution, type ExecutionContext, type Executor } from './executor.ts';
import type { ShardRecord } from './manifest.ts';
import type { Plan, PlannedShard } from './plan.ts';
import { createPool, defaultWorkers, threadsPerShard, type ClosablePool } from './pool.ts';
import { executeShard, makeUpstreamView } from './shard-exec.ts';
import type { UpstreamView } from './stage.ts';

/** How the local executor runs. */
export interface LocalExecutorOptions {
  /** Worker threads of the pool (default: the cores Node may use). */
  workers?: number;
  /** Shards in flight at once (default 2). */
  concurrency?: number;
}

const ABORTED = Symbol('aborted');

/** An executor computing the shards in this process. */
export function localExecutor<C>(o: LocalExecutorOptions = {}): Executor<C> {
  const workers = o.workers || defaultWorkers();
  const concurrency = o.concurrency ?? 2;
  let pool: ClosablePool | undefined;
  return {
    mayRemoveLeftovers: async () => true, // we hold the lock: nobody else writes this directory
    async execute(plan, ctx) {
      const abort = new AbortController();
      setMaxListeners(0, abort.signal); // every shard in flight may listen
      const onAbort = (): void => abort.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) abort.abort();
      pool = createPool(workers, abort.signal);
      ctx.emit({ type: 'run-start', toRun: plan.toRun, workers, concurrency });
      try {
        return await runQueue(plan, ctx, { pool, signal: abort.signal, concurrency, workers, threads: threadsPerShard(workers, concurrency) });
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
    async close() {
      await pool?.close().catch(() => undefined);
      pool = undefined;
    },
  };
}

interface QueueEnv {
  pool: ClosablePool;
  signal: AbortSignal;
  concurrency: number;
  /** Threads of the pool: the cores this executor may use. */
  workers: number;
  threads: number;
}

/**
 * Keeps shards that take every core (Stage.cores) apart from other stages' shards: while whole-machine shards of a
 * stage are in flight, only that stage's shards start; the others wait here (in their queue slot) until the last
 * of them is done. A whole-machine shard does not wait for shards already running.
 */
class WholeMachineGate {
  private holder: { stage: string; count: number } | undefined;
  private waiters: (() => void)[] = [];

  /** Waits until `stage` may start a shard (whole: the shard takes every core), then counts it in. */
  async enter(stage: string, whole: boolean): Promise<void> {
    while (this.holder && this.holder.stage !== stage) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (whole) this.holder = this.holder ? { stage, count: this.holder.count + 1 } : { stage, count: 1 };
  }

  /** Counts a finished shard out (whole as given to `enter`); the last whole-machine one lets the others start. */
  leave(whole: boolean): void {
    if (!whole || !this.holder) return;
    if (--this.holder.count > 0) return;
    this.holder = undefined;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Runs every shard marked `run`, in dependency order; rethrows the first failure after in-flight shards settle. */
async function runQueue<C>(plan: Plan, ctx: ExecutionContext<C>, env: QueueEnv): Promise<Execution> {
  const queue = new PQueue({ concurrency: env.concurrency });
  const records = new Map<string, Map<string, ShardRecord>>();
  for (const sp of plan.stages) records.set(sp.stage.name, new Map(sp.shards.filter((s) => s.status === 'done').map((s) => [s.shard.id, s.record!])));
  const finished = new Map<string, Promise<void>>();
  const ran: PlannedShard[] = [];
  let failure: { error: unknown; ps: PlannedShard } | undefined;
  const stageState = new Map<string, { left: number; start?: number }>();
  for (const sp of plan.stages) stageState.set(sp.stage.name, { left: sp.shards.filter((s) => s.run).length });
  // Queued shards see the abort/failure flag and return at once (p-queue's clear() would strand their promises).

  const gate = new WholeMachineGate();
  const runOne = async (ps: PlannedShard, stageIndex: number): Promise<void> => {
    if (env.signal.aborted || failure !== undefined) throw ABORTED;
    const cores = plan.stages[stageIndex]!.stage.cores?.(ctx.experiment.config);
    const whole = cores !== undefined && (cores === 0 || cores >= env.workers);
    await gate.enter(ps.stage, whole);
    try {
      await computeOne(ps, stageIndex);
    } finally {
      gate.leave(whole);
    }
  };

  const computeOne = async (ps: PlannedShard, stageIndex: number): Promise<void> => {
    if (env.signal.aborted || failure !== undefined) throw ABORTED;
    const st = stageState.get(ps.stage)!;
    if (st.start === undefined) {
      st.start = Date.now();
      ctx.emit({ type: 'stage-start', stage: ps.stage, shards: st.left, cost: st.left });
    }
    ctx.emit({ type: 'shard-start', stage: ps.stage, shard: ps.shard.id });
    let lastProgress = 0;
    const sp = plan.stages[stageIndex]!;
    const record = await executeShard(
      { stage: sp.stage, shard: ps.shard, key: ps.key, basis: ps.basis, previous: ps.record, fresh: ps.fresh },
      {
        experiment: ctx.experiment,
        outDir: ctx.outDir,
        pool: env.pool,
        threads: env.threads,
        signal: env.signal,
        hasher: ctx.hasher,
        writeHook: ctx.writeHook,
        cache: ctx.cache,
        upstream: (name) => upstreamView(plan, ps, name, records, ctx.outDir),
        progress: (fraction) => {
          // at most ~5 events a second per shard (stages may report per item)
          const now = Date.now();
          if (now - lastProgress < 200 && fraction < 1) return;
          lastProgress = now;
          ctx.emit({ type: 'shard-progress', stage: ps.stage, shard: ps.shard.id, fraction });
        },
        log: (message) => ctx.emit({ type: 'log', level: 'info', message, stage: ps.stage, shard: ps.shard.id }),
      },
    );
    records.get(ps.stage)!.set(ps.shard.id, record);
    ps.record = record;
    ps.status = 'done';
    ran.push(ps);
    ctx.emit({ type: 'shard-done', stage: ps.stage, shard: ps.shard.id, seconds: record.seconds, rows: record.rows, bytes: record.bytes, ...(record.cached ? { cached: true } : {}) });
    if (--st.left === 0) {
      ctx.emit({ type: 'stage-done', stage: ps.stage, seconds: (Date.now() - st.start) / 1000 });
      await sp.stage.release?.(); // e.g. the activations stage's ORT sessions, before awa/awc allocate theirs
    }
  };

  const all: Promise<void>[] = [];
  plan.stages.forEach((sp, stageIndex) => {
    for (const ps of sp.shards.filter((s) => s.run)) {
      const deps = Object.entries(ps.basis.upstream).flatMap(([u, keys]) =>
        Object.keys(keys).map((id) => finished.get(`${u}/${id}`)).filter((p): p is Promise<void> => p !== undefined),
      );
      const p = Promise.all(deps).then(() => queue.add(() => runOne(ps, stageIndex), { priority: plan.stages.length - stageIndex }));
      const settled = p.then(
        () => undefined,
        (e: unknown) => {
          if (e === ABORTED || env.signal.aborted) throw ABORTED;
          if (failure === undefined) {
            failure = { error: e, ps };
            ctx.emit({ type: 'shard-failed', stage: ps.stage, shard: ps.shard.id, error: e instanceof Error ? e.message : String(e) });
          }
          throw ABORTED;
        },
      );
      finished.set(`${sp.stage.name}/${ps.shard.id}`, settled);
      all.push(settled);
    }
  });
  await Promise.allSettled(all);
  await queue.onIdle();
  if (failure !== undefined) throw annotateFailure(failure.error, failure.ps, plan, ran, ctx.resume);
  if (env.signal.aborted) {
    ctx.emit({ type: 'interrupted', resume: ctx.resume });
    throw new InterruptedError(`Interrupted: ${ran.length} of ${plan.toRun} shards finished this run and are kept.`, { hint: `Resume with: ${ctx.resume}` });
  }
  return { ran, plan };
}

/** Read access to the upstream shards `ps` needs, from the plan and this run's records. */
function upstreamView(plan: Plan, ps: PlannedShard, stage: string, records: Map<string, Map<string, ShardRecord>>, outDir: string): UpstreamView {
  const sp = plan.stages.find((s) => s.stage.name === stage);
  const recs = records.get(stage);
  return makeUpstreamView({
    consumer: { stage: ps.stage, shard: ps.shard.id, basis: ps.basis },
    stage,
    shards: sp ? sp.shards.map((s) => ({ id: s.shard.id, params: s.basis.params })) : [],
    record: (id) => recs?.get(id),
    outDir,
  });
}

/** Adds the resume command to a shard's error (RevcorError: as hint; anything else: wrapped in ShardFailure). */
function annotateFailure(e: unknown, ps: PlannedShard, plan: Plan, ran: PlannedShard[], resume: string): Error {
  const kept = `${ran.length} of ${plan.toRun} shards finished this run and are kept.`;
  if (e instanceof RevcorError) {
    e.hint = [e.hint, `${kept} Resume with: ${resume}`].filter(Boolean).join('\n');
    return e;
  }
  return new ShardFailure(ps.stage, ps.shard.id, `${kept} Resume with: ${resume}`, e);
}
