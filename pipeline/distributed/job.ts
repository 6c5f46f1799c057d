// The job a coordinator puts on the queue for one shard, and the checks a worker makes before acting on one:
// shape (zod), code version, known stage, safe shard id, and an output path that stays inside the run's
// output directory (a revcor output directory this worker may write).
// Tested in test/pipeline/distributed.test.ts.
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import * as z from 'zod'; // a namespace import lets the bundle drop zod's 60-odd message locales (only English is used)
import { RevcorError } from '../errors.ts';
import { recordPath } from '../manifest.ts';
import { shardPath } from '../store.ts';
import { metaDir, recordDir, recordsRoot, resolvedConfigFile, stageDir, writingDir } from '../rundir.ts';

/** Version tag of the job payload. */
export const JOB_FORMAT = 'revcor-job/1';

/** Queue used when none is named. */
export const DEFAULT_QUEUE = 'revcor';

/** Shard ids the engine accepts (plan.ts enforces the same at planning time). */
export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
const STAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

/** One shard's job: everything a worker needs to find, check and run it (the experiment is read from outDir). */
export const ShardJobSchema = z
  .object({
    format: z.literal(JOB_FORMAT),
    /** Absolute path of the shared output directory (holds the resolved experiment, the checkpoints and records). */
    outDir: z.string().min(1).max(4096),
    stage: z.string().regex(STAGE_NAME),
    shard: z.string().min(1).max(200),
    /** The shard's cache key as the coordinator computed it (also the job id). */
    key: z.string().regex(/^[0-9a-f]{64}$/),
    /** The coordinator's code version (see code-version.ts). */
    codeVersion: z.string().min(1).max(200),
    /** sha256 of the resolved experiment file the coordinator wrote (diagnostics: which experiment queued it). */
    configSha256: z.string().regex(/^[0-9a-f]{64}$/),
    coordinator: z.object({ host: z.string().max(255), pid: z.number().int().nonnegative() }).strict(),
    queuedAt: z.string().max(64),
  })
  .strict();

/** A validated job payload. */
export type ShardJob = z.infer<typeof ShardJobSchema>;

/** A job a worker refuses to act on (wrong shape, other code version, unsafe path, stale): never retried. */
export class JobRejected extends RevcorError {}

/** What a worker checks a job against. */
export interface JobPolicy {
  codeVersion: string;
  stageNames: readonly string[];
  /** Output directories must lie inside one of these (absolute); empty = anywhere. */
  allow?: readonly string[];
}

/** Whether `child` is `parent` or inside it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Checks a job's shape and paths without touching the file system; returns the payload or throws JobRejected. */
export function checkJob(jobId: string | undefined, raw: unknown, policy: JobPolicy): ShardJob {
  const parsed = ShardJobSchema.safeParse(raw);
  const label = `Job ${JSON.stringify(jobId ?? '(no id)')}`;
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 4).map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new JobRejected(`${label}: expected a ${JOB_FORMAT} payload, got one that fails validation (${issues.join('; ')}).`);
  }
  const job = parsed.data;
  if (jobId !== job.key) throw new JobRejected(`${label}: expected the job id to equal its cache key ${job.key}, got ${JSON.stringify(jobId)}.`);
  if (job.codeVersion !== policy.codeVersion) {
    throw new JobRejected(
      `${label} (${job.stage}/${job.shard}): expected code version ${policy.codeVersion} (this worker), got ${job.codeVersion} from the coordinator on ${job.coordinator.host}.`,
      { hint: 'Run the same revcor version (same sources, same package-lock.json) on the coordinator and every worker.' },
    );
  }
  if (!policy.stageNames.includes(job.stage)) {
    throw new JobRejected(`${label}: expected one of the stages ${policy.stageNames.join(', ')}, got ${JSON.stringify(job.stage)}.`);
  }
  if (!SAFE_ID.test(job.shard)) {
    throw new JobRejected(`${label}: expected a shard id of [A-Za-z0-9_.-] not starting with '.', got ${JSON.stringify(job.shard)}.`);
  }
  const out = job.outDir;
  if (out.includes('\0') || !isAbsolute(out) || normalize(out) !== out || (out.length > 1 && out.endsWith(sep)) || out === sep) {
    throw new JobRejected(`${label}: expected outDir to be an absolute, normalised directory path, got ${JSON.stringify(out)}.`);
  }
  for (const target of [shardPath(out, job.stage, job.shard), recordPath(out, job.stage, job.shard)]) {
    if (!isInside(out, target) || resolve(target) !== target) {
      throw new JobRejected(`${label}: expected its files inside ${out}, got ${JSON.stringify(target)}.`);
    }
  }
  if (policy.allow?.length && !policy.allow.some((root) => isInside(resolve(root), out))) {
    throw new JobRejected(`${label}: expected an output directory inside ${policy.allow.join(' or ')} (--allow), got ${out}.`);
  }
  return job;
}

/**
 * Checks on the file system that `job.outDir` is a revcor output directory this worker sees (pipeline/rundir.ts)
 * and that no symbolic link leads the stage or record folders outside it.
 */
export async function checkJobPaths(job: ShardJob): Promise<void> {
  const out = job.outDir;
  const label = `Job ${job.key.slice(0, 12)}… (${job.stage}/${job.shard})`;
  const st = await stat(resolvedConfigFile(out)).catch(() => undefined);
  const meta = await stat(metaDir(out)).catch(() => undefined);
  if (!st?.isFile() || !meta?.isDirectory()) {
    throw new JobRejected(`${label}: expected ${out} to be a revcor output directory (its resolved config and metadata folder) visible on this machine, got ${st || meta ? 'an incomplete one' : 'nothing there'}.`, {
      hint: 'Workers must mount the shared output directory at the same path as the coordinator (or make that path a symbolic link to it).',
    });
  }
  const realOut = await realpath(out);
  for (const dir of [stageDir(out, job.stage), recordsRoot(out), recordDir(out, job.stage), writingDir(out, job.stage)]) {
    const l = await lstat(dir).catch(() => undefined);
    if (!l) continue;
    const real = await realpath(dir);
    if (!isInside(realOut, real)) throw new JobRejected(`${label}: expected ${dir} inside ${out}, got a link to ${real}.`);
  }
}
