// The CPU pool stages hand heavy work to: piscina worker threads running exported functions of TS modules.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { TransferListItem } from 'node:worker_threads';
import type { PoolTask, WorkerPool } from './stage.ts';

const WORKER = new URL('./pool-worker.mjs', import.meta.url).href;

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
  let piscina: Piscina | undefined;
  return {
    size,
    async run<T>(task: PoolTask, transfer?: TransferListItem[]): Promise<T> {
      signal?.throwIfAborted();
      piscina ??= new Piscina({ filename: WORKER, minThreads: 0, maxThreads: size, idleTimeout: 30_000, execArgv: [] });
      return (await piscina.run(task, { transferList: transfer, signal })) as T;
    },
    async close() {
      const p = piscina;
      piscina = undefined;
      await p?.destroy();
    },
  };
}
