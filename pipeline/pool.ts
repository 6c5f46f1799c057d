// The CPU pool stages hand heavy work to: piscina worker threads running exported functions of TS modules (or of
// their compiled twins). piscina itself loads with the first task, so commands that never compute do not load it.
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import type { TransferListItem } from 'node:worker_threads';
import { packageFile } from './package-files.ts';
import type { PoolTask, WorkerPool } from './stage.ts';

/** The worker script (plain JavaScript, the same file for the sources and the compiled bundle). */
const WORKER = packageFile('pipeline/pool-worker.mjs');

/** A WorkerPool whose threads start on first use; `close()` ends them. */
export interface ClosablePool extends WorkerPool {
  close(): Promise<void>;
}

/** Number of threads when nothing says otherwise: the cores Node may use. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** Threads one task may use: the pool's threads divided among the shards in flight (at least 1). */
export function threadsPerShard(workers: number, concurrency: number): number {
  return Math.max(1, Math.floor(workers / Math.max(1, Math.min(workers, concurrency))));
}

/** Creates a lazily started piscina pool of `size` threads; tasks are cancelled when `signal` aborts. */
export function createPool(size = defaultWorkers(), signal?: AbortSignal): ClosablePool {
  if (!Number.isInteger(size) || size < 1) throw new Error(`Expected a pool size ≥ 1, got ${size}`);
  // A promise, so that tasks arriving together while piscina loads share one pool.
  let piscina: Promise<Piscina> | undefined;
  return {
    size,
    async run<T>(task: PoolTask, transfer?: TransferListItem[]): Promise<T> {
      signal?.throwIfAborted();
      piscina ??= import('piscina').then(({ Piscina }) => new Piscina({ filename: WORKER, minThreads: 0, maxThreads: size, idleTimeout: 30_000, execArgv: [] }));
      return (await (await piscina).run(task, { transferList: transfer, signal })) as T;
    },
    async close() {
      const p = piscina;
      piscina = undefined;
      await (await p)?.destroy();
    },
  };
}
