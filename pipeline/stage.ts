// The stage contract: a stage is data (name, upstream, config slice, version, shard plan) plus run(shard).
// The engine plans, skips, schedules and records; stages never touch the file system, queue or pool directly.
// The engine knows nothing of the experiment's schema: `C` is whatever configuration the stages share.
// Tested in test/pipeline/runner.test.ts.
import type { Table } from 'apache-arrow';
import type { TransferListItem } from 'node:worker_threads';
import type { ResourceEstimate } from './budget.ts';

/** One unit of checkpointed work: its output is exactly one Arrow IPC file. */
export interface Shard {
  /** Unique within the stage; safe as a file name ([A-Za-z0-9_.-]). */
  id: string;
  /** JSON-serialisable parameters; part of the cache key. */
  params: Record<string, unknown>;
  /** Upstream shards this shard reads, by stage; a stage not listed means all of its shards. */
  needs?: Record<string, string[]>;
  /** Relative cost, for progress/ETA (default 1). */
  cost?: number;
  /** Files whose content counts towards this shard's key only (absolute paths), on top of the stage's inputFiles. */
  inputFiles?: string[];
}

/** What planning may look at: the resolved experiment and where it came from. */
export interface PlanContext<C = unknown> {
  config: C;
  /** Directory of the YAML file (paths in config are already absolute). */
  configDir: string;
}

/** One finished upstream shard as the manifest records it. */
export interface UpstreamShardInfo {
  id: string;
  params: Record<string, unknown>;
  rows: number;
  /** The checkpoint's recorded sha256 (its content's identity: a stage may keep what it read by it); absent in test doubles. */
  sha256?: string;
}

/** Read access to one upstream stage's finished shards. */
export interface UpstreamView {
  stage: string;
  shards: readonly UpstreamShardInfo[];
  /**
   * Reads one shard's table (verified against its recorded sha256); with `columns`, only those columns where the
   * file allows it (a table with more columns otherwise: select from it by name).
   */
  read(id: string, opts?: { columns?: readonly string[] }): Promise<Table>;
}

/** Work that runs in the piscina pool: a function exported by a module, called with structured-clonable args. */
export interface PoolTask {
  /** Absolute path (or file URL) of the module exporting `fn`. */
  module: string;
  fn: string;
  args: unknown[];
}

/** The CPU pool a stage may hand heavy work to. */
export interface WorkerPool {
  run<T>(task: PoolTask, transfer?: TransferListItem[]): Promise<T>;
  readonly size: number;
}

/** What a running shard receives. */
export interface StageContext<C = unknown> extends PlanContext<C> {
  upstream(stage: string): UpstreamView;
  pool: WorkerPool;
  /** Threads one task of this shard may use (cores of the executor divided among the shards it runs at once). */
  threads: number;
  signal: AbortSignal;
  /** Reports progress inside the shard, 0..1. */
  progress(fraction: number): void;
  log(message: string): void;
}

/**
 * What a finalizer receives after a successful run: the run's finished checkpoints (read-only, verified) and a
 * place to write derived files (reports, CSV) that are not shards.
 */
export interface FinalizeContext<C = unknown> extends PlanContext<C> {
  outDir: string;
  /** Whether this run computed any shard of the stages the finalizer needs (false: all were already up to date). */
  changed: boolean;
  /** Finished shards of every planned stage, by stage name (the manifest's records). */
  records: Readonly<Record<string, readonly UpstreamShardInfo[]>>;
  /** Reads a finished shard of any planned stage (verified against its recorded sha256). */
  read(stage: string, id: string): Promise<Table>;
  /** Writes a file atomically at a path relative to the output directory (no `..`); the run remembers it as its own. */
  writeFile(relativePath: string, data: string | Uint8Array): Promise<void>;
  log(message: string): void;
}

/**
 * Writes derived files (report.html, summary.csv, …) after a successful run (not a dry run, not interrupted, not
 * failed) in which every stage it `needs` has ≥ 1 planned shard, all done, and at least one of them is selected —
 * also when nothing had to run (`changed` false), so a derived file that went missing is restored. Called in
 * registration order, under the run's lock, after the manifest is written; its files are not checkpoints.
 */
export interface Finalizer<C = unknown> {
  name: string;
  needs: readonly string[];
  run(ctx: FinalizeContext<C>): Promise<void>;
}

/** What a stage's `prepare` step receives: the experiment, whether the network may be used, and a log. */
export interface PrepareContext<C = unknown> extends PlanContext<C> {
  /** The user asked for no downloads (--offline). */
  offline: boolean;
  log(level: 'info' | 'warn', message: string): void;
}

/** A pipeline stage. */
export interface Stage<C = unknown> {
  name: string;
  description: string;
  /** Bump when the stage's outputs change for the same inputs. */
  version: string;
  upstream: readonly string[];
  /** The slice of the experiment this stage depends on (JSON-serialisable); part of every shard's key. */
  configSlice(config: C): unknown;
  /**
   * Optional: a narrower slice for one shard's key, where a shard depends on less of the experiment than the stage
   * (a stimulus set's shards are not keyed on another set's settings, so a grid varying one shares the others).
   * Default: configSlice.
   */
  shardSlice?(config: C, shard: Shard): unknown;
  /** Files whose content counts towards the cache key (weights, images), absolute paths. */
  inputFiles?(ctx: PlanContext<C>): string[] | Promise<string[]>;
  /**
   * Optional: readies what planning needs but may have to be fetched first (e.g. weights a config asks for by name),
   * once per run before anything is planned; not called on dry runs.
   */
  prepare?(ctx: PrepareContext<C>): Promise<void>;
  /**
   * Optional: shards, disk and peak memory this stage will need, from the config alone (no enumeration of shards),
   * checked against the machine before anything is planned (pipeline/budget.ts).
   */
  estimate?(ctx: PlanContext<C>): ResourceEstimate | Promise<ResourceEstimate>;
  /** The shards this run needs (may be empty when the stage is disabled by config). */
  plan(ctx: PlanContext<C>): Shard[] | Promise<Shard[]>;
  /** Computes one shard. */
  run(shard: Shard, ctx: StageContext<C>): Promise<Table>;
  /**
   * Optional: frees process-wide resources the stage's shards share (a model session and its memory arena)
   * once the run has no more of its shards to compute, and at the end of every run. A later shard of the
   * stage (another run in the same process) must still work: it recreates what it needs.
   */
  release?(): Promise<void>;
  /**
   * Optional: the cores one shard of this stage keeps busy by itself, outside the worker pool (0 = every core; e.g.
   * the activations stage's multi-threaded ONNX Runtime session). A shard that takes every core of the executor
   * runs beside shards of its own stage only: another stage's shard waits, instead of adding its pool task's
   * thread to threads that already fill the machine. Default: the shard's heavy work is the pool's.
   */
  cores?(config: C): number;
}
