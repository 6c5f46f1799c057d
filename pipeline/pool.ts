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

/**
 * Creates a lazily started piscina pool of `size` threads. When `signal` aborts, tasks not yet started are rejected
 * and running ones finish: piscina would end a running task's worker thread, and a thread ended inside a native call
 * (ONNX Runtime) aborts the whole process. At most `size` tasks are handed to piscina at a time, so the tasks still
 * waiting are ours to cancel.
 */
export function createPool(size = defaultWorkers(), signal?: AbortSignal): ClosablePool {
  if (!Number.isInteger(size) || size < 1) throw new Error(`Expected a pool size ≥ 1, got ${size}`);
  // A promise, so that tasks arriving together while piscina loads share one pool.
  let piscina: Promise<Piscina> | undefined;
  let running = 0;
  const waiting: { go: () => void; stop: (e: unknown) => void }[] = [];
  signal?.addEventListener('abort', () => {
    for (const w of waiting.splice(0)) w.stop(signal.reason);
  }, { once: true });
  /** Resolves when a thread is free for one more task (rejects if the signal aborts first). */
  const slot = (): Promise<void> => {
    signal?.throwIfAborted();
    if (running < size) {
      running++;
      return Promise.resolve();
    }
    return new Promise((go, stop) => waiting.push({ go: () => (running++, go()), stop }));
  };
  /** Frees a thread: the next waiting task starts. */
  const release = (): void => {
    running--;
    waiting.shift()?.go();
  };
  return {
    size,
    async run<T>(task: PoolTask, transfer?: TransferListItem[]): Promise<T> {
      await slot();
      try {
        piscina ??= import('piscina').then(({ Piscina }) => new Piscina({ filename: WORKER, minThreads: 0, maxThreads: size, idleTimeout: 30_000, execArgv: [] }));
        return (await (await piscina).run(task, { transferList: transfer })) as T;
      } finally {
        release();
      }
    },
    async close() {
      const p = piscina;
      piscina = undefined;
      await (await p)?.destroy();
    },
  };
}
