// The worker's settings and the watch it keeps on itself, without Redis: the defaults of the lock and stall handling,
// the worker's id, the warning when the event loop (which renews the job locks) was blocked long enough to endanger
// them, the same queue error said once per 30 s, and abandoning the shards whose lock renewal failed.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { defaultWorkers } from '../pool.ts';

/** Defaults of the lock and stall handling (see README: a dead worker's shard is retried after ≤ lock + 2 × interval). */
export const WORKER_DEFAULTS = {
  /** The job lock lives this long without renewal; renewed every half of it while the shard runs. */
  lockDurationMs: 60_000,
  /** How often each worker looks for jobs whose lock expired (their worker died) and puts them back. */
  stalledIntervalMs: 30_000,
  /** A job that stalls more often than this fails (e.g. a shard that kills every worker taking it, out of memory). */
  maxStalledCount: 2,
  heartbeatMs: 5_000,
  concurrency: 1,
};

/** The options a worker's settings come from (WorkerOptions extends them). */
export interface WorkerSettingsInput {
  /** Shards this process runs at once (default 1). */
  concurrency?: number;
  /** Threads of the piscina pool (default: cores). */
  threads?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  heartbeatMs?: number;
}

/** A worker's settings with the defaults filled in. */
export interface WorkerSettings {
  concurrency: number;
  threads: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  heartbeatMs: number;
}

/** Fills in the defaults (threads 0 or absent: one per core). */
export function workerSettings(o: WorkerSettingsInput): WorkerSettings {
  return {
    concurrency: o.concurrency ?? WORKER_DEFAULTS.concurrency,
    threads: o.threads || defaultWorkers(),
    lockDurationMs: o.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs,
    stalledIntervalMs: o.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
    heartbeatMs: o.heartbeatMs ?? WORKER_DEFAULTS.heartbeatMs,
  };
}

/** A worker id unique across machines and restarts: host, pid and a random suffix. */
export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/** The warning for an event loop blocked `blockedMs` while shards ran, when that exceeds a third of the lock; else undefined. */
export function lagWarning(blockedMs: number, lockDurationMs: number, running: readonly string[]): string | undefined {
  if (blockedMs <= lockDurationMs / 3 || !running.length) return undefined;
  return `the event loop was blocked for ${(blockedMs / 1000).toFixed(1)} s while running ${running.join(', ')}; job locks last ${lockDurationMs / 1000} s (raise --lock-duration if this grows)`;
}

/** Lets the same message through once per `windowMs` (the same Redis trouble is said once per 30 s, not per retry). */
export class RepeatFilter {
  private readonly last = new Map<string, number>();
  constructor(private readonly windowMs = 30_000) {}

  /** Whether `message` may be said at `now` (and, if so, remembers it). */
  admit(message: string, now = Date.now()): boolean {
    if ((this.last.get(message) ?? 0) > now - this.windowMs) return false;
    this.last.set(message, now);
    return true;
  }
}

/** A shard running on this worker. */
export interface ActiveShard {
  stage: string;
  shard: string;
  outDir: string;
  since: string;
  abort: AbortController;
}

/** Aborts the running shards whose job lock could not be renewed (another worker retries them); returns the warnings. */
export function abandonLostLocks(jobIds: readonly string[], active: ReadonlyMap<string, ActiveShard>, lockDurationMs: number): { message: string; stage: string; shard: string }[] {
  const out: { message: string; stage: string; shard: string }[] = [];
  for (const jid of jobIds) {
    const a = active.get(jid);
    if (!a) continue;
    out.push({ message: `lost the lock of ${a.stage}/${a.shard} (Redis unreachable or the event loop blocked for over ${lockDurationMs / 1000} s): abandoning it, another worker retries it`, stage: a.stage, shard: a.shard });
    a.abort.abort(new Error('job lock lost'));
  }
  return out;
}
