// Running a grid (pipeline/grid-run.ts) on the toy pipeline: points run in order into their own run directories
// with the shared shards restored, one grid at a time per directory, an interrupted grid resumes as a whole, and
// with the BullMQ executor the same workers compute every point's shards (each shared one once), the results equal a
// local grid's byte for byte and reach the cache through the coordinator.
import { requireOrSkip } from '../fixtures/require.ts';
import type { Experiment } from '../../config/schema.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExperiment, toResolvedYaml } from '../../config/load.ts';
import { CheckpointCache } from '../../pipeline/cache-store.ts';
import { redisExecutor } from '../../pipeline/distributed/coordinator.ts';
import { parseRedisUrl } from '../../pipeline/distributed/redis.ts';
import { runWorker, type WorkerEvent } from '../../pipeline/distributed/worker.ts';
import { InterruptedError, OutputError } from '../../pipeline/errors.ts';
import { readGridRecord, writeGridRecord } from '../../pipeline/grid-dir.ts';
import { runGrid, type GridRunOptions, type GridRunPoint } from '../../pipeline/grid-run.ts';
import { acquireLock } from '../../pipeline/lock.ts';
import { readStageRecords } from '../../pipeline/manifest.ts';
import { HAS_REDIS, startRedis, type TestRedis } from '../fixtures/redis-server.ts';
import { runCounts, toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let base: string;
beforeEach(async () => {
  base = await tempDir();
  for (const k of Object.keys(runCounts)) delete runCounts[k];
});
afterEach(() => cleanup(base));

/** Three points: two AWC shuffle counts (total only) and a z threshold (square and total). */
const points = (): GridRunPoint<Experiment>[] =>
  [
    ['shuffles=20', {}, toyExperiment()],
    ['shuffles=7', { 'awc.shuffles': 7 }, toyExperiment((c) => (c.awc.shuffles = 7))],
    ['zThreshold=6', { 'awa.zThreshold': 6 }, toyExperiment((c) => (c.awa.zThreshold = 6))],
  ].map(([name, settings, experiment]) => ({ name, settings, experiment, resolvedYaml: toResolvedYaml((experiment as { config: Experiment }).config) }) as GridRunPoint<Experiment>);

const grid = async (over: Partial<GridRunOptions<Experiment>> = {}) =>
  runGrid<Experiment>({ stages: toyStages(), gridDir: join(base, 'g'), file: '/x/grid.yaml', keys: ['awc.shuffles', 'awa.zThreshold'], points: points(), workers: 1, cache: await CheckpointCache.open(join(base, 'cache')), ...over });

/** The checkpoints of a grid directory: point/stage/file → bytes. */
async function arrows(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of await readdir(dir, { recursive: true })) if (String(f).endsWith('.arrow')) out.set(String(f), await readFile(join(dir, String(f))));
  return out;
}

describe('runGrid', () => {
  it('runs the points in order into their directories, computing each shared shard once', async () => {
    const r = await grid();
    expect(r.points.map((p) => p.name)).toEqual(['shuffles=20', 'shuffles=7', 'zThreshold=6']);
    expect(runCounts).toEqual({ source: 3, square: 6, total: 3 });
    expect([r.computed, r.restored]).toEqual([12, 9]);
    expect(r.plan.toCompute).toBe(12);
    expect((await readGridRecord(join(base, 'g')))!.points[1]).toEqual({ name: 'shuffles=7', settings: { 'awc.shuffles': 7 } });
    expect((await readStageRecords(join(base, 'g', 'shuffles=7'), 'square')).get('sq-0000-0004')!.cached).toBe(true);
    const again = await grid();
    expect([again.computed, again.restored]).toEqual([0, 0]);
  });

  it('one grid at a time in a directory; an interrupted grid resumes as a whole', async () => {
    await writeGridRecord(join(base, 'g'), { file: '/x/grid.yaml', keys: [], points: [], cache: null });
    const held = await acquireLock(join(base, 'g'), 'another grid'); // another grid is running in the directory
    await expect(grid()).rejects.toThrow(OutputError);
    await expect(grid()).rejects.toThrow(/Output directory is locked by process \d+ .*another grid/);
    await held.release();
    const ac = new AbortController();
    const reporter = {
      grid: (e: { type: string }) => void (e.type === 'point-done' && ac.abort(new Error('SIGINT'))),
      point: () => ({ event() {}, close() {} }),
      close() {},
    };
    const stopped = grid({ signal: ac.signal, reporter, resumeCommand: 'revcor run grid.yaml --out g' });
    await expect(stopped).rejects.toThrow(InterruptedError);
    await expect(stopped).rejects.toMatchObject({ hint: 'Resume with: revcor run grid.yaml --out g' });
    const resumed = await grid();
    expect(resumed.points[0]!.result.upToDate).toBe(true);
    expect(runCounts).toEqual({ source: 3, square: 6, total: 3 });
  });
});

requireOrSkip('redis', HAS_REDIS, 'test/pipeline/grid-run.test.ts: the grid on BullMQ workers needs redis-server (apt-get install redis-server; .ci/run installs it)');

describe.skipIf(!HAS_REDIS)('a grid on BullMQ workers (--redis)', () => {
  let dir: string;
  let redis: TestRedis;
  beforeAll(async () => {
    dir = await tempDir('revcor-grid-dist-');
    redis = await startRedis(dir);
  });
  afterAll(async () => {
    await redis?.stop();
    await cleanup(dir);
  });

  it('the same workers compute every point; shared shards once; outputs equal a local grid’s; the cache gets them all', async () => {
    const events: WorkerEvent[] = [];
    const ac = new AbortController();
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const worker = runWorker({ redis: parseRedisUrl(redis.url), queue: 'g', stages: toyStages(), codeVersion: 'v1', threads: 1, emit: (e) => events.push(e), signal: ac.signal, loadExperiment: (f) => loadExperiment(f), onReady: () => ready() });
    await started;
    try {
      const cache = await CheckpointCache.open(join(dir, 'cache'));
      const gridDir = join(dir, 'dist');
      const r = await grid({ gridDir, cache, executor: () => redisExecutor<Experiment>({ redis: parseRedisUrl(redis.url), queue: 'g', codeVersion: 'v1', pollMs: 300 }) });
      expect([r.computed, r.restored]).toEqual([12, 9]);
      const done = events.filter((e) => e.type === 'shard-done').map((e) => `${(e as { outDir: string }).outDir.split('/').pop()}:${(e as { shard: string }).shard}`);
      expect(done).toHaveLength(12); // every shard computed on the worker, the shared ones once
      expect(done.filter((d) => d.startsWith('shuffles=7:'))).toEqual(['shuffles=7:all']);
      expect((await cache.scan()).entries).toHaveLength(12); // added by the coordinator after each point
      const local = await grid({ gridDir: join(dir, 'local'), cache: await CheckpointCache.open(join(dir, 'cache-local')) });
      expect(local.computed).toBe(12);
      const [a, b] = [await arrows(join(dir, 'local')), await arrows(gridDir)];
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
    } finally {
      ac.abort();
      await worker;
    }
  });
});
