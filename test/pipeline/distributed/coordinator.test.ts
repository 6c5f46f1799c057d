// The coordinator's job payload and options without Redis: what it queues passes the worker's validation (the
// contract between the two), job id = cache key, earlier stages first. The loop itself runs against a real
// redis-server in test/pipeline/distributed.test.ts and test/cli/distributed.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun, type Plan } from '../../../pipeline/plan.ts';
import { shardJob, shardJobOptions } from '../../../pipeline/distributed/coordinator.ts';
import { checkJob } from '../../../pipeline/distributed/job.ts';
import { toyStages } from '../../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from '../helpers.ts';

let dir: string;
let plan: Plan;
beforeAll(async () => {
  dir = await tempDir('revcor-coord-');
  plan = await planRun(toyStages(), toyExperiment(), dir);
});
afterAll(() => cleanup(dir));

describe('shardJob / shardJobOptions', () => {
  it('builds a payload every worker of the same code accepts, keyed by the cache key', () => {
    const policy = { codeVersion: 'v7', stageNames: ['source', 'square', 'total'] };
    for (const sp of plan.stages) {
      for (const ps of sp.shards) {
        const j = shardJob(ps, '/data/run', 'v7', 'b'.repeat(64));
        expect(checkJob(ps.key, j, policy)).toEqual(j);
        expect(j).toMatchObject({ outDir: '/data/run', stage: ps.stage, shard: ps.shard.id, key: ps.key, codeVersion: 'v7', coordinator: { pid: process.pid } });
      }
    }
    expect(() => checkJob(plan.stages[0].shards[0].key, shardJob(plan.stages[0].shards[0], '/data/run', 'v6', 'b'.repeat(64)), policy)).toThrow(/expected code version v7/);
  });

  it('runs earlier stages first, retries with backoff and keeps failures a week', () => {
    expect(shardJobOptions('k', 0)).toEqual({ jobId: 'k', priority: 1, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: { age: 604800 } });
    expect(shardJobOptions('k', 2, 5)).toMatchObject({ priority: 3, attempts: 5 });
  });
});
