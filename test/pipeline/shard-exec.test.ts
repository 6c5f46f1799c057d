// One shard on its own (pipeline/shard-exec.ts): what the stage is given, the order of the writes (record deleted,
// mark, checkpoint, record, mark cleared), the shared cache (restore, publish, a failing publish), and the
// upstream view a shard reads through. Whole runs: test/pipeline/runner.test.ts, reuse.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, tableFromArrays } from 'apache-arrow';
import { FileHasher, sha256, type KeyBasis } from '../../pipeline/cache-key.ts';
import { CheckpointCache } from '../../pipeline/cache-store.ts';
import { CheckpointError, RevcorError } from '../../pipeline/errors.ts';
import { readRecord, recordPath, writeRecord, writingMarks, type ShardRecord } from '../../pipeline/manifest.ts';
import { executeShard, makeUpstreamView, restoreShard, type ShardEnv, type ShardTask } from '../../pipeline/shard-exec.ts';
import { hashMemoFile } from '../../pipeline/rundir.ts';
import type { Stage, StageContext } from '../../pipeline/stage.ts';
import { shardPath } from '../../pipeline/store.ts';
import { cleanup, tempDir } from './helpers.ts';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await tempDir();
  out = join(dir, 'out');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup(dir);
});

const KEY = 'c3'.repeat(32);
const basis = (upstream: KeyBasis['upstream'] = {}): KeyBasis => ({ stage: 'st', version: '2', slice: null, params: { n: 3 }, inputs: {}, upstream });
const table = () => tableFromArrays({ v: Float64Array.from([1, 2, 3]) });

function stage(run: Stage['run']): Stage {
  return { name: 'st', description: 'test', version: '2', upstream: [], configSlice: () => null, plan: () => [], run };
}
const task = (run: Stage['run'], over: Partial<ShardTask> = {}): ShardTask => ({
  stage: stage(run), shard: { id: 's-0', params: { n: 3 } }, key: KEY, basis: basis(), ...over,
});
function env(over: Partial<ShardEnv> = {}): ShardEnv & { logs: string[]; fractions: number[] } {
  const logs: string[] = [];
  const fractions: number[] = [];
  return {
    experiment: { config: { c: 1 }, configDir: '/cfg' }, outDir: out, pool: { size: 1, run: async () => undefined as never }, threads: 3,
    signal: new AbortController().signal, upstream: (s) => ({ stage: `view of ${s}`, shards: [], read: async () => table() }),
    progress: (f) => void fractions.push(f), log: (m) => void logs.push(m), logs, fractions, ...over,
  };
}

describe('executeShard', () => {
  it('the stage gets the config, its directory, pool, threads, signal, upstream, progress and log of the env', async () => {
    const e = env();
    let seen: StageContext | undefined;
    await executeShard(task(async (_s, ctx) => {
      seen = ctx;
      ctx.progress(0.5);
      ctx.log('hello');
      return table();
    }), e);
    expect(seen).toMatchObject({ config: { c: 1 }, configDir: '/cfg', pool: e.pool, threads: 3, signal: e.signal });
    expect(seen!.upstream('up').stage).toBe('view of up');
    expect(e.fractions).toEqual([0.5]);
    expect(e.logs).toEqual(['hello']);
  });

  it('writes the checkpoint and then its record; the record says what the file says, and the hash memo is told', async () => {
    const hasher = await FileHasher.open(out);
    const phases: string[] = [];
    const rec = await executeShard(task(async () => table()), env({
      hasher,
      writeHook: async (phase, target) => {
        phases.push(phase);
        expect(target).toBe(shardPath(out, 'st', 's-0'));
        // until the record exists, the mark says the file is the run's own
        expect(await writingMarks(out, 'st')).toEqual(['s-0']);
        expect(existsSync(recordPath(out, 'st', 's-0'))).toBe(false);
      },
    }));
    expect(phases).toEqual(['mid-write', 'before-rename', 'before-record']);
    const bytes = await readFile(shardPath(out, 'st', 's-0'));
    expect(rec).toMatchObject({ stage: 'st', shard: 's-0', key: KEY, sha256: sha256(bytes), rows: 3, bytes: bytes.length, params: { n: 3 }, file: 'st/s-0.arrow', basis: basis() });
    expect(rec.cached).toBeUndefined();
    expect(rec.seconds).toBeGreaterThanOrEqual(0);
    expect(new Date(rec.finishedAt).toISOString()).toBe(rec.finishedAt);
    expect(await readRecord(out, 'st', 's-0')).toEqual(rec);
    expect(await writingMarks(out, 'st')).toEqual([]);
    // the memo holds the digest of the bytes just written (nothing was hashed: only remember() adds it)
    await hasher.save();
    expect(JSON.parse(await readFile(hashMemoFile(out), 'utf8'))[shardPath(out, 'st', 's-0')]).toMatchObject({ sha256: rec.sha256 });
  });

  it('a previous record is deleted before the new checkpoint is written; beforeWrite can still discard the result', async () => {
    const old = await executeShard(task(async () => table()), env());
    let recordAtWrite: ShardRecord | undefined = old;
    await executeShard(task(async () => table(), { previous: old }), env({
      writeHook: async (phase) => void (phase === 'mid-write' && (recordAtWrite = await readRecord(out, 'st', 's-0'))),
    }));
    expect(recordAtWrite).toBeUndefined();
    // without `previous` the record stays until the new one replaces it
    let kept: ShardRecord | undefined;
    await executeShard(task(async () => table()), env({
      writeHook: async (phase) => void (phase === 'mid-write' && (kept = await readRecord(out, 'st', 's-0'))),
    }));
    expect(kept).toMatchObject({ key: KEY });
    const refused = executeShard(task(async () => table(), { previous: old }), env({ beforeWrite: async () => { throw new Error('stop'); } }));
    await expect(refused).rejects.toThrow('stop');
    expect(await readRecord(out, 'st', 's-0')).toMatchObject({ key: KEY }); // nothing written, nothing deleted
  });

  it('seconds: the wall-clock time from the start of the shard to its record', async () => {
    let clock = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const rec = await executeShard(task(async () => ((clock += 2500), table())), env());
    expect(rec.seconds).toBe(2.5);
  });

  it('a result that is not an Arrow Table is named by its type', async () => {
    const cases: [unknown, string][] = [[null, 'null'], [undefined, 'undefined'], [3, 'number'], [[], 'Array'], [Object.create(null), 'object'], [{ a: 1 }, 'Object']];
    for (const [value, name] of cases) {
      const err = await executeShard(task(async () => value as Table), env()).catch((e) => e);
      expect(err.message).toBe(`Stage st shard s-0: expected run() to return an Arrow Table, got ${name}`);
    }
    expect(existsSync(shardPath(out, 'st', 's-0'))).toBe(false);
  });
});

describe('executeShard with the shared cache', () => {
  it('a computed shard is published; the next identical shard is restored from the cache, a fresh one computed', async () => {
    const cache = await CheckpointCache.open(join(dir, 'cache'));
    let runs = 0;
    const t = () => task(async () => (runs++, table()));
    const published = env({ cache });
    const first = await executeShard(t(), published);
    expect(runs).toBe(1);
    expect(published.logs).toEqual([]);
    const entry = await cache.entry(KEY);
    expect(entry).toMatchObject({ key: KEY, sha256: first.sha256, bytes: first.bytes, rows: 3 });
    const other = join(dir, 'other');
    const hasher = await FileHasher.open(other);
    const restored = await executeShard({ ...t(), previous: first }, env({ cache, outDir: other, hasher }));
    expect(runs).toBe(1);
    expect(restored).toMatchObject({ key: KEY, sha256: first.sha256, bytes: first.bytes, rows: 3, seconds: entry!.seconds, cached: true, file: 'st/s-0.arrow', basis: basis() });
    expect(await readRecord(other, 'st', 's-0')).toEqual(restored);
    expect(await writingMarks(other, 'st')).toEqual([]);
    expect(sha256(await readFile(shardPath(other, 'st', 's-0')))).toBe(first.sha256);
    await hasher.save();
    expect(JSON.parse(await readFile(hashMemoFile(other), 'utf8'))[shardPath(other, 'st', 's-0')]).toMatchObject({ sha256: first.sha256 });
    await executeShard({ ...t(), fresh: true }, env({ cache, outDir: other }));
    expect(runs).toBe(2);
    // a restored record carries the original computation's seconds
    const third = await restoreShard(t(), env({ outDir: join(dir, 'third') }), cache, { ...entry!, seconds: 12.5 });
    expect(third).toMatchObject({ seconds: 12.5, cached: true });
  });

  it('a damaged entry is dropped and the shard computed; the previous record is gone, the mark cleared', async () => {
    const cache = await CheckpointCache.open(join(dir, 'cache'));
    const first = await executeShard(task(async () => table()), env({ cache }));
    const entry = (await cache.entry(KEY))!;
    const other = join(dir, 'other');
    await writeRecord(other, first);
    // the cache file: same size, other bytes
    const bytes = await readFile(cache.objectPath(KEY));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(cache.objectPath(KEY), bytes);
    // without a previous record to replace, the record there stays
    const e = env({ outDir: other });
    expect(await restoreShard(task(async () => table()), e, cache, entry)).toBeUndefined();
    expect(e.logs).toEqual([expect.stringMatching(new RegExp(`^cache entry ${KEY.slice(0, 12)}… is corrupt.*: removed from the cache, computing the shard$`))]);
    expect(await readRecord(other, 'st', 's-0')).toEqual(first);
    expect(await cache.entry(KEY)).toBeUndefined();
    // the entry gone now: with a previous record, that record is deleted all the same
    const e2 = env({ outDir: other });
    expect(await restoreShard(task(async () => table(), { previous: first }), e2, cache, entry)).toBeUndefined();
    expect(e2.logs).toEqual([`cache entry ${KEY.slice(0, 12)}… is file missing: removed from the cache, computing the shard`]);
    expect(await readRecord(other, 'st', 's-0')).toBeUndefined();
    expect(await writingMarks(other, 'st')).toEqual([]);
  });

  it('a cache that cannot take the checkpoint: a warning, and the run goes on with its record', async () => {
    const cache = await CheckpointCache.open(join(dir, 'cache'));
    cache.publish = async () => {
      throw new Error('disk full');
    };
    const e = env({ cache });
    const rec = await executeShard(task(async () => table()), e);
    expect(await readRecord(out, 'st', 's-0')).toEqual(rec);
    expect(e.logs).toEqual([`warning: could not add the checkpoint to the cache ${cache.dir} (disk full); the run goes on without it`]);
    cache.publish = async () => {
      throw 'plain';
    };
    const e2 = env({ cache });
    await executeShard(task(async () => table(), { fresh: true }), e2);
    expect(e2.logs).toEqual([`warning: could not add the checkpoint to the cache ${cache.dir} (plain); the run goes on without it`]);
  });
});

describe('makeUpstreamView', () => {
  const up = (id: string, rows: number): ShardRecord => ({
    stage: 'up', shard: id, key: id, sha256: `sha-${id}`, rows, bytes: 0, seconds: 0, finishedAt: '', params: {}, file: `up/${id}.arrow`, basis: basis(),
  });

  it('lists only the shards the consumer needs, with their rows (0 while not done) and digests; refuses other stages and shards', async () => {
    const records = new Map([['u-0', up('u-0', 5)]]);
    const src = {
      consumer: { stage: 'st', shard: 's-0', basis: basis({ up: { 'u-0': 'k0', 'u-1': 'k1' } }) },
      stage: 'up',
      shards: [{ id: 'u-0', params: { a: 0 } }, { id: 'u-1', params: { a: 1 } }, { id: 'u-2', params: { a: 2 } }],
      record: (id: string) => records.get(id),
      outDir: out,
    };
    const view = makeUpstreamView(src);
    expect(view.stage).toBe('up');
    expect(view.shards).toStrictEqual([{ id: 'u-0', params: { a: 0 }, rows: 5, sha256: 'sha-u-0' }, { id: 'u-1', params: { a: 1 }, rows: 0, sha256: undefined }]);
    await expect(view.read('u-2')).rejects.toThrow('Stage st shard s-0 read up shard u-2: expected one of the shards it needs (u-0, u-1)');
    await expect(view.read('u-1')).rejects.toThrow('Stage st shard s-0 read up shard u-1 before it was done');
    const two = { ...src.consumer, basis: basis({ up: { 'u-0': 'k0' }, side: {} }) };
    expect(() => makeUpstreamView({ ...src, stage: 'down', consumer: two })).toThrow('Stage st asked for upstream down: expected one of up, side');
    expect(() => makeUpstreamView({ ...src, stage: 'down', consumer: { ...src.consumer, basis: basis() } })).toThrow(
      'Stage st asked for upstream down: expected one of (none)',
    );
  });

  it('reads verified; a corrupt checkpoint loses its record, any other failure does not', async () => {
    const w = await executeShard({ ...task(async () => table()), stage: { ...stage(async () => table()), name: 'up' }, shard: { id: 'u-0', params: {} } }, env());
    const src = (record: ShardRecord) => ({
      consumer: { stage: 'st', shard: 's-0', basis: basis({ up: { 'u-0': 'k0' } }) }, stage: 'up', shards: [{ id: 'u-0', params: {} }], record: () => record, outDir: out,
    });
    expect((await makeUpstreamView(src(w)).read('u-0')).getChild('v')!.toArray()).toEqual(Float64Array.from([1, 2, 3]));
    // not a RevcorError (bytes that match their record but are no Arrow file): the record stays
    const garbage = Buffer.from('not an arrow file at all');
    await writeFile(join(out, 'up', 'garbage.arrow'), garbage);
    const odd = { ...w, file: 'up/garbage.arrow', sha256: sha256(garbage), bytes: garbage.length };
    const err = await makeUpstreamView(src(odd)).read('u-0').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RevcorError);
    expect(await readRecord(out, 'up', 'u-0')).toEqual(w);
    const bytes = await readFile(shardPath(out, 'up', 'u-0'));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(shardPath(out, 'up', 'u-0'), bytes);
    await expect(makeUpstreamView(src(w)).read('u-0')).rejects.toBeInstanceOf(CheckpointError);
    expect(await readRecord(out, 'up', 'u-0')).toBeUndefined();
  });
});
