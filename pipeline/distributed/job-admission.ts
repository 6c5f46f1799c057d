// What a worker decides about a job before it computes anything, without Redis: the payload is validated (shape,
// paths, code version, --allow), the output directory's experiment must plan the shard with the job's cache key,
// a shard already recorded with that key is skipped, and every upstream shard must be recorded with the key the
// shard's key was made from. Rejections are JobRejected (the queue does not retry them); a missing upstream record
// is a plain Error (retried: a shared file system may show it late).
import type { FileHasher } from '../cache-key.ts';
import { RevcorError } from '../errors.ts';
import { readRecord, type ShardRecord } from '../manifest.ts';
import type { KeyedStage } from '../plan.ts';
import { resolvedConfigFile } from '../rundir.ts';
import { checkShard } from '../store.ts';
import { checkJob, checkJobPaths, JobRejected, type JobPolicy, type ShardJob } from './job.ts';
import type { RunView, RunViews } from './run-views.ts';

/** A job the worker runs: its payload, the experiment, the planned shard, its previous record and upstream records. */
export interface AdmittedJob {
  kind: 'run';
  data: ShardJob;
  view: RunView;
  entry: KeyedStage['shards'][number];
  previous?: ShardRecord;
  upstream: Map<string, Map<string, ShardRecord>>;
}

/** A job whose shard is already recorded with its cache key (and whose checkpoint checks out). */
export interface SkippedJob {
  kind: 'skip';
  data: ShardJob;
  record: ShardRecord;
}

/** A job that fails validation, with the payload when it parsed (for the rejection event). */
export class Rejection extends JobRejected {
  constructor(error: unknown, readonly data?: ShardJob) {
    const err = error as RevcorError;
    super(err.message, { hint: err.hint });
  }
}

/** Validates a job and decides whether to run or skip it; throws a Rejection for a job no worker should run. */
export async function admitJob(jobId: string | undefined, raw: unknown, policy: JobPolicy, views: RunViews, hasher: FileHasher): Promise<AdmittedJob | SkippedJob> {
  let data: ShardJob;
  try {
    data = checkJob(jobId, raw, policy);
    await checkJobPaths(data);
  } catch (e) {
    throw new Rejection(e);
  }
  const { outDir, stage, shard, key } = data;
  let view: RunView;
  try {
    view = await views.get(outDir);
  } catch (e) {
    if (e instanceof RevcorError) throw new Rejection(new JobRejected(`Job ${stage}/${shard}: cannot load ${resolvedConfigFile(outDir)}: ${e.message}`), data);
    throw e;
  }
  const entry = view.stages.get(stage)?.byId.get(shard);
  if (!entry) {
    throw new Rejection(new JobRejected(`Job ${stage}/${shard}: expected a shard of the experiment in ${resolvedConfigFile(outDir)}, got one it does not plan (a stale job: the experiment changed since it was queued).`), data);
  }
  if (entry.key !== key) {
    throw new Rejection(
      new JobRejected(
        `Job ${stage}/${shard}: expected cache key ${entry.key} (computed here from ${resolvedConfigFile(outDir)}, this code and the input files as this machine sees them), got ${key} from the coordinator.`,
        { hint: 'The experiment changed since the job was queued, or an input file (weights, images) differs on this machine.' },
      ),
      data,
    );
  }
  const previous = await readRecord(outDir, stage, shard);
  if (previous && previous.key === key && !(await checkShard(outDir, previous, hasher))) return { kind: 'skip', data, record: previous };
  return { kind: 'run', data, view, entry, previous, upstream: await upstreamRecords(data, entry) };
}

/** The records of the upstream shards a shard's key was made from; throws (retryable) when one is missing or stale. */
export async function upstreamRecords(data: Pick<ShardJob, 'outDir' | 'stage' | 'shard'>, entry: Pick<KeyedStage['shards'][number], 'basis'>): Promise<Map<string, Map<string, ShardRecord>>> {
  const { outDir, stage, shard } = data;
  const out = new Map<string, Map<string, ShardRecord>>();
  for (const [u, keys] of Object.entries(entry.basis.upstream)) {
    const m = new Map<string, ShardRecord>();
    for (const [uid, ukey] of Object.entries(keys)) {
      const r = await readRecord(outDir, u, uid);
      if (!r || r.key !== ukey) {
        throw new Error(`Upstream ${u}/${uid} of ${stage}/${shard} is not done in ${outDir}: expected its record with key ${ukey.slice(0, 12)}…, got ${r ? `key ${r.key.slice(0, 12)}…` : 'none'} (retried: a shared file system may show it late)`);
      }
      m.set(uid, r);
    }
    out.set(u, m);
  }
  return out;
}
