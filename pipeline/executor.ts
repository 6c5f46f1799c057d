// The executor contract: how the shards a plan marks `run` get computed. The run lifecycle (pipeline/runner.ts) is
// one; executors are several — the local queue (pipeline/local-executor.ts) and BullMQ workers
// (pipeline/distributed/coordinator.ts). An executor owns its compute resources (pool, threads, connections).
// Tested in test/pipeline/runner.test.ts.
import type { WriteHook } from './atomic.ts';
import type { FileHasher } from './cache-key.ts';
import type { Plan, PlannedShard, PlanOptions } from './plan.ts';
import type { ProgressEvent } from './progress.ts';
import type { PlanContext, Stage } from './stage.ts';

/** What an executor gets from the lifecycle for one run. */
export interface ExecutionContext<C = unknown> {
  stages: readonly Stage<C>[];
  experiment: PlanContext<C>;
  outDir: string;
  hasher: FileHasher;
  /** Aborts on SIGINT/SIGTERM: stop starting shards, let running ones finish and be recorded. */
  signal: AbortSignal;
  emit(e: ProgressEvent): void;
  /** The shell command that resumes this run (for messages). */
  resume: string;
  writeHook?: WriteHook;
  /** Plans again from the records, with the run's --from/--only (for executors that verify what others wrote). */
  replan(options?: Pick<PlanOptions, 'force'>): Promise<Plan>;
}

/** What an executor did. */
export interface Execution {
  /** Shards computed by this run, in completion order. */
  ran: PlannedShard[];
  /** The plan after execution (every shard done), which the lifecycle prunes and records against. */
  plan: Plan;
}

/** Computes shards. */
export interface Executor<C = unknown> {
  /** Checks that must pass before anything is written (e.g. the queue is reachable). */
  check?(): Promise<void>;
  /** Whether temp files of killed writers in the run directory may be removed now (nobody else may be writing). */
  mayRemoveLeftovers(phase: 'start' | 'end'): Promise<boolean>;
  /**
   * Computes every shard `plan` marks `run`, each once the upstream shards it reads are done; on failure or abort it
   * throws (a RevcorError or ShardFailure with the resume command, or InterruptedError) after the shards in flight
   * settle, every finished one recorded.
   */
  execute(plan: Plan, ctx: ExecutionContext<C>): Promise<Execution>;
  /** Frees the executor's resources (always called, also after a failure). */
  close(): Promise<void>;
}

/** A shard failed with an error that is not a RevcorError (a bug); `advice` says what was kept and how to resume. */
export class ShardFailure extends Error {
  constructor(readonly stage: string, readonly shard: string, readonly advice: string, cause: unknown) {
    super(`Stage ${stage} shard ${shard} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ShardFailure';
  }
}
