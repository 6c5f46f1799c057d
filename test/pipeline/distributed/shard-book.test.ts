// The coordinator's bookkeeping without Redis, on the plan of the toy pipeline (source → square → total): the stage
// barrier, stage-start/done events, the first failure, the closing message and job return values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun, type Plan } from '../../../pipeline/plan.ts';
import type { ProgressEvent } from '../../../pipeline/progress.ts';
import { label, parseJobResult, ShardBook } from '../../../pipeline/distributed/shard-book.ts';
import { registerSecret } from '../../../pipeline/distributed/redact.ts';
import { toyStages } from '../../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from '../helpers.ts';

let dir: string;
let plan: Plan;
beforeAll(async () => {
  dir = await tempDir('revcor-book-');
  plan = await planRun(toyStages(), toyExperiment(), dir);
});
afterAll(() => cleanup(dir));

/** A copy of the plan whose shards can be changed (stages hold functions: no structuredClone). */
const copy = (p: Plan): Plan => ({ ...p, stages: p.stages.map((sp) => ({ ...sp, shards: sp.shards.map((s) => ({ ...s })) })) });
const info = { seconds: 1, rows: 4, bytes: 10 };

describe('ShardBook', () => {
  it('queues a shard only once the upstream shards its key was made from are done, and says when a stage starts and ends', () => {
    const events: ProgressEvent[] = [];
    const book = new ShardBook(plan, (e) => events.push(e));
    expect(book.entries.size).toBe(7);
    expect(book.readyToQueue().map(label)).toEqual(['source/src-0000-0004', 'source/src-0004-0008', 'source/src-0008-0010']);
    const byLabel = new Map([...book.entries.values()].map((e) => [label(e), e]));
    const src0 = byLabel.get('source/src-0000-0004')!;
    book.startStage(src0);
    book.startStage(src0);
    expect(events).toEqual([{ type: 'stage-start', stage: 'source', shards: 3, cost: 3 }]);
    book.markDone(src0, info);
    expect(book.readyToQueue().map(label)).toEqual(['source/src-0004-0008', 'source/src-0008-0010', 'square/sq-0000-0004']);
    for (const l of ['source/src-0004-0008', 'source/src-0008-0010', 'square/sq-0000-0004', 'square/sq-0004-0008']) book.markDone(byLabel.get(l)!, info);
    expect(book.readyToQueue().map(label)).toEqual(['square/sq-0008-0010']); // total waits for every square shard
    book.markDone(byLabel.get('square/sq-0008-0010')!, info);
    expect(book.readyToQueue().map(label)).toEqual(['total/all']);
    expect(events.filter((e) => e.type === 'stage-done').map((e) => (e as { stage: string }).stage)).toEqual(['source', 'square']);
    expect(events.filter((e) => e.type === 'shard-done')).toHaveLength(6);
    expect(book.ran).toHaveLength(6);
    expect(book.counters).toEqual({ toRun: 7, done: 6 });
    expect(book.open().map(label)).toEqual(['total/all']);
  });

  it('a shard done before the round unblocks its consumers only with the key they were made from; two shards with one key are refused', async () => {
    const stale = copy(plan);
    const src0 = stale.stages[0].shards[0];
    src0.run = false;
    src0.status = 'done';
    const book = new ShardBook(stale, () => undefined);
    expect(book.readyToQueue().map(label)).toContain('square/sq-0000-0004');
    src0.key = 'e'.repeat(64); // recorded, but not with the key the consumer's key was made from
    expect(new ShardBook(stale, () => undefined).readyToQueue().map(label)).not.toContain('square/sq-0000-0004');
    const dup = copy(plan);
    dup.stages[0].shards[1].key = dup.stages[0].shards[0].key;
    expect(() => new ShardBook(dup, () => undefined)).toThrow(/Stage source shards src-0000-0004 and src-0004-0008 have the same cache key/);
  });

  it('keeps the first failure (redacted), says what a stopped round kept', () => {
    const events: ProgressEvent[] = [];
    const book = new ShardBook(plan, (e) => events.push(e));
    const [a, b, c] = [...book.entries.values()];
    registerSecret('zz-book-secret');
    book.markFailed(a, 'boom with zz-book-secret');
    book.markFailed(b, 'second');
    expect(book.failure).toEqual({ entry: a, reason: 'boom with ***' });
    expect(b.state).toBe('failed');
    expect(events).toEqual([{ type: 'shard-failed', stage: 'source', shard: 'src-0000-0004', error: 'boom with ***' }]);
    c.state = 'queued';
    expect(book.queued()).toBe(1);
    expect(book.kept(0, 0)).toBe('0 of 7 shards finished this run and are kept.');
    book.markDone(c, info);
    expect(book.kept(1, 1)).toBe('1 of 7 shards finished this run and are kept; 1 queued job was withdrawn; 1 shard still running on workers is recorded when finished.');
    expect(book.kept(3, 2)).toBe('1 of 7 shards finished this run and are kept; 3 queued jobs were withdrawn; 2 shards still running on workers are recorded when finished.');
  });
});

describe('parseJobResult', () => {
  it('reads an object or its JSON text; anything else is an empty result', () => {
    expect(parseJobResult({ status: 'done', outDir: '/r' })).toEqual({ status: 'done', outDir: '/r' });
    expect(parseJobResult('{"status":"skipped","rows":3}')).toEqual({ status: 'skipped', rows: 3 });
    expect(parseJobResult('not json')).toEqual({});
    expect(parseJobResult(undefined)).toEqual({});
  });
});
