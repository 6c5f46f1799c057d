// What a worker decides before computing, without Redis, on a toy run: malformed or stale jobs are rejections (with
// the payload once it parsed), a shard recorded with the job's key is skipped, a pending one runs with its upstream
// records, and a missing upstream record is a retryable error, not a rejection.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment, toResolvedYaml } from '../../../config/load.ts';
import { FileHasher } from '../../../pipeline/cache-key.ts';
import { deleteRecord, readRecord } from '../../../pipeline/manifest.ts';
import { planRun, type Plan } from '../../../pipeline/plan.ts';
import { runPipeline } from '../../../pipeline/runner.ts';
import { admitJob, Rejection } from '../../../pipeline/distributed/job-admission.ts';
import { JOB_FORMAT, type ShardJob } from '../../../pipeline/distributed/job.ts';
import { RunViews } from '../../../pipeline/distributed/run-views.ts';
import { toyStages } from '../../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from '../helpers.ts';

const stages = toyStages();
const policy = { codeVersion: 'v1', stageNames: stages.map((s) => s.name) };
let dir: string;
let out: string;
let plan: Plan;
let views: RunViews;
const hasher = new FileHasher();

beforeAll(async () => {
  dir = await tempDir('revcor-admit-');
  out = join(dir, 'run');
  const experiment = toyExperiment();
  await runPipeline({ stages, experiment, outDir: out, workers: 1, resolvedYaml: toResolvedYaml(experiment.config) });
  plan = await planRun(stages, experiment, out);
  views = new RunViews(stages, loadExperiment, hasher);
});
afterAll(() => cleanup(dir));

const jobFor = (stage: number, shard: number, over: Partial<ShardJob> = {}): ShardJob => {
  const ps = plan.stages[stage].shards[shard];
  return { format: JOB_FORMAT, outDir: out, stage: ps.stage, shard: ps.shard.id, key: ps.key, codeVersion: 'v1', configSha256: 'b'.repeat(64), coordinator: { host: 'h', pid: 1 }, queuedAt: 'now', ...over };
};
const admit = (j: ShardJob) => admitJob(j.key, j, policy, views, hasher);
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e) => e as Rejection);

describe('admitJob', () => {
  it('skips a shard recorded with the job’s key', async () => {
    const j = jobFor(1, 0);
    const a = await admit(j);
    expect(a.kind).toBe('skip');
    expect(a.kind === 'skip' && a.record).toEqual(await readRecord(out, 'square', 'sq-0000-0004'));
  });

  it('rejects a malformed job without its payload, and an unplanned shard or a stale key with it', async () => {
    const bad = await rejection(admitJob('x', { hello: 1 }, policy, views, hasher));
    expect(bad).toBeInstanceOf(Rejection);
    expect(bad!.data).toBeUndefined();
    const unplanned = jobFor(0, 0, { shard: 'src-9000-9004' });
    const u = await rejection(admit(unplanned));
    expect(u).toBeInstanceOf(Rejection);
    expect(u!.data).toEqual(unplanned);
    expect(u!.message).toMatch(/^Job source\/src-9000-9004: expected a shard of the experiment in .*, got one it does not plan/);
    const stale = jobFor(0, 0, { key: 'c'.repeat(64) });
    const s = await rejection(admitJob(stale.key, stale, policy, views, hasher));
    expect(s!.message).toMatch(/expected cache key [0-9a-f]{64} \(computed here from .*, got c{64} from the coordinator/);
    expect(s!.hint).toMatch(/The experiment changed since the job was queued/);
  });

  it('runs a shard without a record, with the records of its upstream shards; a missing upstream record is retryable', async () => {
    await deleteRecord(out, 'square', 'sq-0004-0008');
    const a = await admit(jobFor(1, 1));
    expect(a.kind).toBe('run');
    if (a.kind !== 'run') return;
    expect(a.previous).toBeUndefined();
    expect(a.entry.shard.id).toBe('sq-0004-0008');
    expect([...a.upstream.keys()]).toEqual(['source']);
    expect(a.upstream.get('source')!.get('src-0004-0008')).toEqual(await readRecord(out, 'source', 'src-0004-0008'));
    await deleteRecord(out, 'source', 'src-0008-0010');
    await deleteRecord(out, 'square', 'sq-0008-0010');
    const e = await rejection(admit(jobFor(1, 2)));
    expect(e).not.toBeInstanceOf(Rejection);
    expect((e as Error).message).toMatch(/^Upstream source\/src-0008-0010 of square\/sq-0008-0010 is not done in .*: expected its record with key [0-9a-f]{12}…, got none/);
  });
});
