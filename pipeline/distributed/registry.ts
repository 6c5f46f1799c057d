// Heartbeats in Redis: each worker (and each coordinator) refreshes a small JSON key with a TTL, so `revcor status`
// can list the live ones; a process that dies simply stops refreshing and its key expires.
// Tested in test/cli/distributed.test.ts.
import type { Redis } from 'ioredis';
import { sha256 } from '../cache-key.ts';

/** What a worker says about itself. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  beatAt: string;
  codeVersion: string;
  queue: string;
  concurrency: number;
  threads: number;
  /** Shards it is running now. */
  jobs: { stage: string; shard: string; outDir: string; since: string }[];
  done: number;
  skipped: number;
  failed: number;
}

/** What a coordinator says about itself. */
export interface CoordinatorBeat {
  outDir: string;
  host: string;
  pid: number;
  startedAt: string;
  beatAt: string;
  codeVersion: string;
  queue: string;
  toRun: number;
  done: number;
}

const workerPrefix = (queue: string): string => `revcor:${queue}:worker:`;

/** Redis key of a worker's heartbeat. */
export function workerKey(queue: string, id: string): string {
  return workerPrefix(queue) + id;
}

/** Redis key of the coordinator heartbeat of an output directory. */
export function coordinatorKey(queue: string, outDir: string): string {
  return `revcor:${queue}:coordinator:${sha256(outDir).slice(0, 16)}`;
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Writes one beat now. */
  beat(): Promise<void>;
  /** Stops beating and deletes the key. */
  stop(): Promise<void>;
}

/** Sets `key` to `value()` (JSON) every `intervalMs`, expiring after 3 intervals without a beat. */
export function startHeartbeat(client: Redis, key: string, intervalMs: number, value: () => object): Heartbeat {
  let stopped = false;
  const beat = async (): Promise<void> => {
    if (stopped) return;
    await client.set(key, JSON.stringify({ ...value(), beatAt: new Date().toISOString() }), 'PX', Math.max(3 * intervalMs, 2000)).catch(() => undefined);
  };
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await client.del(key).catch(() => undefined);
    },
  };
}

/** Live workers of a queue (those whose heartbeat has not expired), by id. */
export async function listWorkers(client: Redis, queue: string): Promise<WorkerBeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${workerPrefix(queue)}*`, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (!keys.length) return [];
  const values = await client.mget(...keys);
  const out: WorkerBeat[] = [];
  for (const v of values) {
    if (!v) continue;
    try {
      out.push(JSON.parse(v) as WorkerBeat);
    } catch {
      /* a damaged beat is ignored until it expires */
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** The live coordinator of an output directory, if any. */
export async function getCoordinator(client: Redis, queue: string, outDir: string): Promise<CoordinatorBeat | undefined> {
  const v = await client.get(coordinatorKey(queue, outDir));
  try {
    return v ? (JSON.parse(v) as CoordinatorBeat) : undefined;
  } catch {
    return undefined;
  }
}
