// The run lifecycle, one for every executor: claim the output directory → lock → plan → record the resolved
// config → execute (local queue or BullMQ workers) → verify, prune and write the manifest → finalizers (report)
// → release. Interruption and failure leave every finished checkpoint in place and say how to resume.
import type { WriteHook } from './atomic.ts';
import { checkRunFits } from './budget.ts';
import { FileHasher } from './cache-key.ts';
import type { CheckpointCache } from './cache-store.ts';
import type { Executor } from './executor.ts';
import { finish, removeLeftovers, runFinalizers } from './finish.ts';
import { localExecutor } from './local-executor.ts';
import { acquireLock } from './lock.ts';
import type { Manifest } from './manifest.ts';
import { planRun, type Plan, type PlannedShard, type PlanOptions } from './plan.ts';
import type { ProgressEvent, Reporter } from './progress.ts';
import { publishDone, restorePlanned } from './reuse.ts';
import { claimRunDir, writeResolvedConfig } from './rundir.ts';
import type { Finalizer, PlanContext, Stage } from './stage.ts';

export { ShardFailure } from './executor.ts';

/** Everything a run needs. */
export interface RunOptions<C = unknown> extends PlanOptions {
  stages: readonly Stage<C>[];
  /** Derived-file writers called after a successful run (e.g. report.html). */
  finalizers?: readonly Finalizer<C>[];
  /** The loaded experiment (a LoadedExperiment fits). */
  experiment: PlanContext<C>;
  outDir: string;
  /** Who computes the shards (default: the local executor with `workers` and `concurrency`). */
  executor?: Executor<C>;
  /** Worker threads of the local executor's pool (default: cores). */
  workers?: number;
  /** Shards in flight in the local executor (default 2). */
  concurrency?: number;
  /** Plan and report only: no lock, no writes. */
  dryRun?: boolean;
  /** No downloads in the stages' prepare steps (--offline). */
  offline?: boolean;
  reporter?: Reporter;
  /** Aborting stops the run cleanly (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The shell command that resumes this run, printed on interruption and failure. */
  resumeCommand?: string;
  /** The command recorded in the lock file. */
  command?: string;
  /** Text of the run's resolved config (default: JSON of the config). */
  resolvedYaml?: string;
  /** Test seam passed to every checkpoint write. */
  writeHook?: WriteHook;
  /** The shared checkpoint cache (pipeline/cache-store.ts): shards it holds are restored, computed ones added. */
  cache?: CheckpointCache;
}

/** What a run did. */
export interface RunResult {
  plan: Plan;
  /** Shards computed by this run, in completion order. */
  ran: PlannedShard[];
  /** Shards restored from the cache before anything was computed. */
  restored: PlannedShard[];
  upToDate: boolean;
  seconds: number;
  manifest?: Manifest;
}

/** Plans and runs the pipeline into `outDir`; throws InterruptedError (exit 130) when `signal` aborts. */
export async function runPipeline<C>(opts: RunOptions<C>): Promise<RunResult> {
  const t0 = Date.now();
  const seconds = () => (Date.now() - t0) / 1000;
  const emit = (e: ProgressEvent): void => opts.reporter?.event(e);
  const planOptions = { from: opts.from, only: opts.only };
  if (!opts.dryRun) {
    const log = (level: 'info' | 'warn', message: string) => emit({ type: 'log', level, message });
    for (const s of opts.stages) await s.prepare?.({ ...opts.experiment, offline: opts.offline ?? false, log });
  }
  await checkRunFits(opts.stages, opts.experiment, opts.outDir); // before anything is planned, computed or written
  if (opts.dryRun) {
    const plan = await planRun(opts.stages, opts.experiment, opts.outDir, { ...planOptions, force: opts.force });
    emit(planEvent(plan));
    return { plan, ran: [], restored: [], upToDate: plan.toRun === 0, seconds: seconds() };
  }
  const executor = opts.executor ?? localExecutor<C>({ workers: opts.workers, concurrency: opts.concurrency });
  await executor.check?.(); // before anything is written
  await claimRunDir(opts.outDir);
  const lock = await acquireLock(opts.outDir, opts.command ?? process.argv.join(' '));
  const hasher = await FileHasher.open(opts.outDir);
  const stageNames = opts.stages.map((s) => s.name);
  try {
    if (lock.tookOverFrom) {
      const d = lock.tookOverFrom;
      emit({ type: 'log', level: 'warn', message: `took over the lock left by process ${d.pid} (started ${d.startedAt}), which is no longer running` });
    }
    if (await executor.mayRemoveLeftovers('start')) await removeLeftovers(opts.outDir, stageNames);
    const replan = (o: Pick<PlanOptions, 'force'> = {}) => planRun(opts.stages, opts.experiment, opts.outDir, { ...planOptions, hasher, ...o });
    let plan = await replan({ force: opts.force });
    const cache = opts.cache;
    let restored: PlannedShard[] = [];
    if (cache) {
      const { otherFileSystem } = await cache.registerRun(opts.outDir);
      if (otherFileSystem) emit({ type: 'log', level: 'warn', message: `the cache ${cache.dir} is on another file system than ${opts.outDir}: checkpoints are copied between them (extra disk space), not hard-linked` });
      restored = await restorePlanned(plan, cache, { outDir: opts.outDir, hasher, emit });
      if (restored.length) emit({ type: 'log', level: 'info', message: `${restored.length} shard${restored.length === 1 ? '' : 's'} restored from the cache ${cache.dir} (verified by sha256)` });
    }
    await hasher.save().catch(() => undefined); // the inputs' digests, for `revcor status` while this run goes on
    emit(planEvent(plan));
    await writeResolvedConfig(opts.outDir, opts.resolvedYaml ?? JSON.stringify(opts.experiment.config, null, 1));
    let ran: PlannedShard[] = [];
    if (plan.toRun > 0) {
      const resume = opts.resumeCommand ?? 'the same command';
      const ctx = { stages: opts.stages, experiment: opts.experiment, outDir: opts.outDir, hasher, signal: opts.signal ?? new AbortController().signal, emit, resume, writeHook: opts.writeHook, replan, cache };
      try {
        ({ ran, plan } = await executor.execute(plan, ctx));
      } catch (e) {
        await finish(plan, opts.outDir, true, false).catch(() => undefined);
        throw e;
      }
    }
    if (cache) await publishDone(plan, cache, { outDir: opts.outDir, hasher });
    const changed = [...restored, ...ran];
    const manifest = await finish(plan, opts.outDir, changed.length > 0);
    await runFinalizers(plan, opts.finalizers ?? [], { experiment: opts.experiment, outDir: opts.outDir, ran: changed, emit });
    if (ran.length > 0 && (await executor.mayRemoveLeftovers('end'))) await removeLeftovers(opts.outDir, stageNames);
    const upToDate = changed.length === 0;
    const stages = plan.stages.length;
    const fromCache = restored.length + ran.filter((s) => s.record?.cached).length;
    const computed = ran.length - ran.filter((s) => s.record?.cached).length;
    const message = upToDate
      ? `Nothing to do: all ${plan.total} shards of ${stages} stage${stages === 1 ? '' : 's'} in ${opts.outDir} are up to date.`
      : `Done: ${computed} shards computed${fromCache ? ` and ${fromCache} restored from the cache` : ''} in ${seconds().toFixed(1)} s; outputs in ${opts.outDir}`;
    emit({ type: 'run-done', ran: ran.length, upToDate, seconds: seconds(), message });
    return { plan, ran, restored, upToDate, seconds: seconds(), manifest };
  } finally {
    for (const stage of opts.stages) await stage.release?.().catch(() => undefined);
    await executor.close().catch(() => undefined);
    await hasher.save().catch(() => undefined);
    await lock.release();
  }
}

/** The plan summarised for reporters. */
export function planEvent(plan: Plan): Extract<ProgressEvent, { type: 'plan' }> {
  return {
    type: 'plan',
    outDir: plan.outDir,
    total: plan.total,
    toRun: plan.toRun,
    stages: plan.stages.map((sp) => ({
      stage: sp.stage.name,
      done: sp.shards.filter((s) => s.status === 'done').length,
      stale: sp.shards.filter((s) => s.status === 'stale').length,
      pending: sp.shards.filter((s) => s.status === 'pending').length,
      toRun: sp.shards.filter((s) => s.run).length,
    })),
  };
}
