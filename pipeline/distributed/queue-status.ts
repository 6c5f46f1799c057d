// What the queue says about one output directory: its queued / running / failed shard jobs, its coordinator,
// and the live workers of the queue (from their heartbeats). Read-only.
// Tested in test/cli/distributed.test.ts.
import { Queue, type Job } from 'bullmq';
import type { ShardJob } from './job.ts';
import { redact } from './redact.ts';
import { checkRedis, newClient, type RedisTarget } from './redis.ts';
import { getCoordinator, listWorkers, type CoordinatorBeat, type WorkerBeat } from './registry.ts';

/** One job of the output directory. */
export interface QueuedShard {
  stage: string;
  shard: string;
  key: string;
  state: 'queued' | 'running' | 'failed';
  /** Worker running it (running jobs). */
  worker?: string;
  /** When it started (running) or failed. */
  since?: string;
  attempts: number;
  failedReason?: string;
}

/** The queue's view of an output directory. */
export interface QueueStatus {
  queue: string;
  redis: string;
  coordinator?: CoordinatorBeat;
  jobs: QueuedShard[];
  workers: (WorkerBeat & { sameCode: boolean })[];
}

/** Reads the queue's view of `outDir` (throws a RedisError when Redis cannot be used). */
export async function queueStatus(target: RedisTarget, queueName: string, outDir: string, codeVersion: string): Promise<QueueStatus> {
  await checkRedis(target, 'status');
  const client = newClient(target, 'status');
  const queue = new Queue(queueName, { connection: client });
  queue.on('error', () => undefined);
  try {
    const jobs: QueuedShard[] = [];
    const mine = (j: Job | undefined): j is Job => !!j && (j.data as Partial<ShardJob> | undefined)?.outDir === outDir;
    const add = (list: Job[], state: QueuedShard['state']): void => {
      for (const j of list.filter(mine)) {
        const d = j.data as ShardJob;
        const since = state === 'running' ? j.processedOn : state === 'failed' ? j.finishedOn : undefined;
        jobs.push({
          stage: d.stage,
          shard: d.shard,
          key: String(j.id),
          state,
          worker: state === 'running' ? (j.processedBy ?? undefined) : undefined,
          since: since ? new Date(since).toISOString() : undefined,
          attempts: j.attemptsMade,
          failedReason: state === 'failed' ? redact(j.failedReason ?? '') : undefined,
        });
      }
    };
    add((await queue.getJobs(['waiting', 'prioritized', 'delayed'])) as Job[], 'queued');
    add((await queue.getJobs(['active'])) as Job[], 'running');
    add((await queue.getJobs(['failed'])) as Job[], 'failed');
    const workers = (await listWorkers(client, queueName)).map((w) => ({ ...w, sameCode: w.codeVersion === codeVersion }));
    const coordinator = await getCoordinator(client, queueName, outDir);
    return { queue: queueName, redis: target.display, coordinator, jobs, workers };
  } finally {
    await queue.close().catch(() => undefined);
    client.disconnect();
  }
}
