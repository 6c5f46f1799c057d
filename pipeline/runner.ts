// Runs a plan: shards through a p-queue (each starts once the upstream shards it needs are done), checkpoints
// written atomically and recorded, interruption and failure leave every finished checkpoint in place.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { stringify } from 'yaml';
import { removeTempFiles, writeFileAtomic, type WriteHook } from './atomic.ts';
import { FileHasher } from './cache-key.ts';
import { InterruptedError, OutputError, RevcorError } from './errors.ts';
import { acquireLock, type Lock } from './lock.ts';
import { deleteRecord, readStageRecords, recordDir, writeManifest, type Manifest, type ShardRecord } from './manifest.ts';
import { planRun, type Plan, type PlannedShard, type PlanOptions } from './plan.ts';
import { createPool, defaultWorkers, type ClosablePool } from './pool.ts';
import type { ProgressEvent, Reporter } from './progress.ts';
import { executeShard, makeUpstreamView } from './shard-exec.ts';
import type { FinalizeContext, PlanContext, UpstreamShardInfo, UpstreamView } from './stage.ts';
import { readShardVerified, shardPath } from './store.ts';

/** Everything a run needs. */
export interface RunOptions extends PlanOptions {
  stages: readonly import('./stage.ts').Stage[];
  /** The loaded experiment (a LoadedExperiment fits). */
  experiment: PlanContext;
  outDir: string;
  /** Worker threads of the pool (default: config run.workers, 0 = cores). */
  workers?: number;
  /** Shards in flight (default: config run.concurrency). */
  concurrency?: number;
  /** Plan and report only: no lock, no writes. */
  dryRun?: boolean;
  reporter?: Reporter;
  /** Aborting stops the run cleanly (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The shell command that resumes this run, printed on interruption and failure. */
  resumeCommand?: string;
  /** The command recorded in the lock file. */
  command?: string;
  /** Text of <out>/config.resolved.yaml (default: yaml.stringify of the config). */
  resolvedYaml?: string;
  /** Test seam passed to every checkpoint write. */
  writeHook?: WriteHook;
}

/** What a run did. */
export interface RunResult {
  plan: Plan;
  /** Shards computed by this run, in completion order. */
  ran: PlannedShard[];
  upToDate: boolean;
  seconds: number;
  manifest?: Manifest;
}

/** A shard failed with an error that is not a RevcorError (a bug); `advice` says what was kept and how to resume. */
export class ShardFailure extends Error {
  constructor(readonly stage: string, readonly shard: string, readonly advice: string, cause: unknown) {
    super(`Stage ${stage} shard ${shard} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ShardFailure';
  }
}

const ABORTED = Symbol('aborted');

/** Plans and runs the pipeline into `outDir`; throws InterruptedError (exit 130) when `signal` aborts. */
export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const emit = (e: ProgressEvent): void => opts.reporter?.event(e);
  const resume = opts.resumeCommand ?? 'the same command';
  if (opts.dryRun) {
    const plan = await planRun(opts.stages, opts.experiment, opts.outDir, opts);
    emit(planEvent(plan));
    return { plan, ran: [], upToDate: plan.toRun === 0, seconds: (Date.now() - t0) / 1000 };
  }
  await ensureWritable(opts.outDir);
  const lock = await acquireLock(opts.outDir, opts.command ?? process.argv.join(' '));
  let pool: ClosablePool | undefined;
  const hasher = await FileHasher.open(opts.outDir);
  try {
    if (lock.tookOverFrom) {
      const d = lock.tookOverFrom;
      emit({ type: 'log', level: 'warn', message: `took over the lock left by process ${d.pid} (started ${d.startedAt}), which is no longer running` });
    }
    await removeLeftovers(opts.outDir, opts.stages.map((s) => s.name));
    const plan = await planRun(opts.stages, opts.experiment, opts.outDir, { ...opts, hasher });
    emit(planEvent(plan));
    await writeIfChanged(join(opts.outDir, 'config.resolved.yaml'), opts.resolvedYaml ?? stringify(opts.experiment.config));
    if (plan.toRun === 0) {
      const manifest = await finish(plan, opts.outDir, false);
      await finalizeStages(plan, opts, [], emit);
      const message = `Nothing to do: all ${plan.total} shards of ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'} in ${opts.outDir} are up to date.`;
      emit({ type: 'run-done', ran: 0, upToDate: true, seconds: (Date.now() - t0) / 1000, message });
      return { plan, ran: [], upToDate: true, seconds: (Date.now() - t0) / 1000, manifest };
    }
    const config = opts.experiment.config as { run?: { workers?: number; concurrency?: number } };
    const workers = opts.workers || config.run?.workers || defaultWorkers();
    const concurrency = opts.concurrency ?? config.run?.concurrency ?? 2;
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // every shard in flight may listen
    const onAbort = (): void => abort.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) abort.abort();
    pool = createPool(workers, abort.signal);
    emit({ type: 'run-start', toRun: plan.toRun, workers, concurrency });
    try {
      let ran: PlannedShard[];
      try {
        ran = await execute(plan, opts, { pool, hasher, signal: abort.signal, concurrency, emit, resume });
      } catch (e) {
        await finish(plan, opts.outDir, true, false).catch(() => undefined);
        throw e;
      }
      const manifest = await finish(plan, opts.outDir, true);
      await finalizeStages(plan, opts, ran, emit);
      const seconds = (Date.now() - t0) / 1000;
      emit({ type: 'run-done', ran: ran.length, upToDate: false, seconds, message: `Done: ${ran.length} shards computed in ${seconds.toFixed(1)} s; outputs in ${opts.outDir}` });
      return { plan, ran, upToDate: false, seconds, manifest };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    for (const stage of opts.stages) await stage.release?.().catch(() => undefined);
    await pool?.close().catch(() => undefined);
    await hasher.save().catch(() => undefined);
    await lock.release();
  }
}

interface Exec {
  pool: ClosablePool;
  hasher: FileHasher;
  signal: AbortSignal;
  concurrency: number;
  emit: (e: ProgressEvent) => void;
  resume: string;
}

/** Runs every shard marked `run`, in dependency order; rethrows the first failure after in-flight shards settle. */
async function execute(plan: Plan, opts: RunOptions, ex: Exec): Promise<PlannedShard[]> {
  const queue = new PQueue({ concurrency: ex.concurrency });
  const records = new Map<string, Map<string, ShardRecord>>();
  for (const sp of plan.stages) records.set(sp.stage.name, new Map(sp.shards.filter((s) => s.status === 'done').map((s) => [s.shard.id, s.record!])));
  const finished = new Map<string, Promise<void>>();
  const ran: PlannedShard[] = [];
  let failure: { error: unknown; ps: PlannedShard } | undefined;
  const stageState = new Map<string, { left: number; start?: number }>();
  for (const sp of plan.stages) stageState.set(sp.stage.name, { left: sp.shards.filter((s) => s.run).length });
  // Queued shards see the abort/failure flag and return at once (p-queue's clear() would strand their promises).

  const runOne = async (ps: PlannedShard, stageIndex: number): Promise<void> => {
    if (ex.signal.aborted || failure !== undefined) throw ABORTED;
    const st = stageState.get(ps.stage)!;
    if (st.start === undefined) {
      st.start = Date.now();
      ex.emit({ type: 'stage-start', stage: ps.stage, shards: st.left, cost: st.left });
    }
    ex.emit({ type: 'shard-start', stage: ps.stage, shard: ps.shard.id });
    let lastProgress = 0;
    const sp = plan.stages[stageIndex];
    const record = await executeShard(
      { stage: sp.stage, shard: ps.shard, key: ps.key, basis: ps.basis, previous: ps.record },
      {
        experiment: opts.experiment,
        outDir: opts.outDir,
        pool: ex.pool,
        signal: ex.signal,
        hasher: ex.hasher,
        writeHook: opts.writeHook,
        upstream: (name) => upstreamView(plan, ps, name, records, opts.outDir),
        progress: (fraction) => {
          // at most ~5 events a second per shard (stages may report per item)
          const now = Date.now();
          if (now - lastProgress < 200 && fraction < 1) return;
          lastProgress = now;
          ex.emit({ type: 'shard-progress', stage: ps.stage, shard: ps.shard.id, fraction });
        },
        log: (message) => ex.emit({ type: 'log', level: 'info', message, stage: ps.stage, shard: ps.shard.id }),
      },
    );
    records.get(ps.stage)!.set(ps.shard.id, record);
    ps.record = record;
    ps.status = 'done';
    ran.push(ps);
    ex.emit({ type: 'shard-done', stage: ps.stage, shard: ps.shard.id, seconds: record.seconds, rows: record.rows, bytes: record.bytes });
    if (--st.left === 0) {
      ex.emit({ type: 'stage-done', stage: ps.stage, seconds: (Date.now() - st.start) / 1000 });
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
          if (e === ABORTED || ex.signal.aborted) throw ABORTED;
          if (failure === undefined) {
            failure = { error: e, ps };
            ex.emit({ type: 'shard-failed', stage: ps.stage, shard: ps.shard.id, error: e instanceof Error ? e.message : String(e) });
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
  if (failure !== undefined) throw annotateFailure(failure.error, failure.ps, plan, ran, ex.resume);
  if (ex.signal.aborted) {
    ex.emit({ type: 'interrupted', resume: ex.resume });
    throw new InterruptedError(`Interrupted: ${ran.length} of ${plan.toRun} shards finished this run and are kept.`, { hint: `Resume with: ${ex.resume}` });
  }
  return ran;
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

/**
 * Calls `finalize` of every selected stage whose planned shards (≥ 1) are all done, in stage order, after a
 * successful run; `changed` tells whether this run computed any of the stage's shards.
 */
export async function finalizeStages(plan: Plan, opts: RunOptions, ran: readonly PlannedShard[], emit: (e: ProgressEvent) => void): Promise<void> {
  const todo = plan.stages.filter((sp) => sp.stage.finalize && sp.selected && sp.shards.length > 0 && sp.shards.every((s) => s.status === 'done' && s.record));
  if (todo.length === 0) return;
  const records: Record<string, UpstreamShardInfo[]> = {};
  const byKey = new Map<string, ShardRecord>();
  for (const sp of plan.stages) {
    const done = sp.shards.filter((s) => s.status === 'done' && s.record);
    records[sp.stage.name] = done.map((s) => ({ id: s.shard.id, params: s.basis.params, rows: s.record!.rows }));
    for (const s of done) byKey.set(`${sp.stage.name}/${s.shard.id}`, s.record!);
  }
  for (const sp of todo) {
    const name = sp.stage.name;
    const ctx: FinalizeContext = {
      config: opts.experiment.config,
      configDir: opts.experiment.configDir,
      outDir: opts.outDir,
      changed: ran.some((s) => s.stage === name),
      records,
      read: async (stage, id) => {
        const rec = byKey.get(`${stage}/${id}`);
        if (!rec) throw new Error(`Stage ${name} finalize read ${stage} shard ${id}: expected a finished shard of a planned stage`);
        return readShardVerified(opts.outDir, rec);
      },
      writeFile: async (relativePath, data) => {
        const rel = normalize(relativePath);
        if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) throw new Error(`Stage ${name} finalize: expected a path inside the output directory, got ${relativePath}`);
        await writeFileAtomic(join(opts.outDir, rel), data);
      },
      log: (message) => emit({ type: 'log', level: 'info', message, stage: name }),
    };
    await sp.stage.finalize!(ctx);
  }
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

/** Atomically writes a text file unless it already holds exactly this text (an unchanged rerun touches nothing). */
export async function writeIfChanged(path: string, text: string): Promise<void> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old !== text) await writeFileAtomic(path, text);
}

/** Creates the output directory or explains why it cannot be written. */
export async function ensureWritable(outDir: string): Promise<void> {
  try {
    await mkdir(join(outDir, '.revcor'), { recursive: true });
    await writeFileAtomic(join(outDir, '.revcor', 'write-test'), 'ok');
    await rm(join(outDir, '.revcor', 'write-test'), { force: true });
  } catch (e) {
    throw new OutputError(`Cannot write output directory ${outDir}: expected a writable directory, got ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      hint: 'Choose another directory with --out DIR (or run.out in the YAML).',
    });
  }
}

/** Removes temp files left by writers that were killed (we hold the lock, so nobody else is writing). */
export async function removeLeftovers(outDir: string, stages: string[]): Promise<void> {
  const dirs = [outDir, join(outDir, '.revcor'), ...stages.flatMap((s) => [join(outDir, s), recordDir(outDir, s)])];
  for (const d of dirs) await removeTempFiles(d);
}

/**
 * After a run: removes checkpoints and records that are no longer part of the plan (only for selected stages whose
 * planned shards are all done), and rewrites manifest.json when anything changed or it is missing.
 * `prune` is false after a failure or interruption (nothing is deleted then).
 */
export async function finish(plan: Plan, outDir: string, ranSomething: boolean, prune = true): Promise<Manifest> {
  const byStage = new Map<string, ShardRecord[]>();
  let pruned = 0;
  for (const sp of plan.stages) {
    byStage.set(sp.stage.name, sp.shards.filter((s) => s.status === 'done' && s.record).map((s) => s.record!));
    if (!prune || !sp.selected || sp.shards.some((s) => s.status !== 'done')) continue;
    const keep = new Set(sp.shards.map((s) => s.shard.id));
    for (const id of (await readStageRecords(outDir, sp.stage.name)).keys()) {
      if (keep.has(id)) continue;
      await deleteRecord(outDir, sp.stage.name, id);
      pruned++;
    }
    const files = await readdir(join(outDir, sp.stage.name)).catch(() => [] as string[]);
    for (const f of files) {
      if (!f.endsWith('.arrow') || keep.has(f.slice(0, -6))) continue;
      await rm(shardPath(outDir, sp.stage.name, f.slice(0, -6)), { force: true });
      pruned++;
    }
  }
  if (!ranSomething && !pruned) {
    const existing = await readFile(join(outDir, 'manifest.json'), 'utf8').catch(() => undefined);
    if (existing) return JSON.parse(existing) as Manifest;
  }
  return writeManifest(outDir, byStage);
}
