// The run lifecycle with a shared cache (pipeline/reuse.ts, and the restore/publish steps of pipeline/shard-exec.ts):
// a second run of the same experiment computes nothing and holds hard links to the first one's checkpoints, a
// changed key computes only what it changes, --force bypasses the cache, a damaged cache entry is recomputed, and
// a run that another run overtakes picks up the other's results as it goes (one result per key, nothing torn).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointCache } from '../../pipeline/cache-store.ts';
import { readStageRecords } from '../../pipeline/manifest.ts';
import { runPipeline, type RunOptions } from '../../pipeline/runner.ts';
import { runCounts, toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let base: string;
let cache: CheckpointCache;
beforeEach(async () => {
  base = await tempDir();
  cache = await CheckpointCache.open(join(base, 'cache'));
  for (const k of Object.keys(runCounts)) delete runCounts[k];
});
afterEach(() => cleanup(base));

const run = (out: string, over: Partial<RunOptions> = {}) =>
  runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: join(base, out), workers: 1, concurrency: 1, cache, ...over });
const ids = (list: { stage: string; shard: { id: string } }[]) => list.map((s) => `${s.stage}/${s.shard.id}`).sort();
const computed = () => Object.values(runCounts).reduce((a, b) => a + b, 0);

/** Every checkpoint of a run directory: relative path → bytes. */
async function arrows(out: string): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  for (const s of ['source', 'square', 'total']) for (const f of await readdir(join(out, s)).catch(() => [])) m.set(`${s}/${f}`, await readFile(join(out, s, f)));
  return m;
}

describe('a run with a shared cache', () => {
  it('a second run of the same experiment computes nothing: verified hard links, records marked cached', async () => {
    const first = await run('a');
    expect(first.ran).toHaveLength(7);
    expect(computed()).toBe(7);
    const logs: string[] = [];
    const second = await run('b', { reporter: { event: (e) => (e.type === 'log' || e.type === 'run-done') && logs.push(e.message), close() {} } });
    expect(computed()).toBe(7);
    expect(second.ran).toEqual([]);
    expect(ids(second.restored)).toEqual(ids(first.ran));
    expect(logs).toContain(`7 shards restored from the cache ${cache.dir} (verified by sha256)`);
    expect(logs.at(-1)).toMatch(/^Done: 0 shards computed and 7 restored from the cache in/);
    expect(await arrows(join(base, 'b'))).toEqual(await arrows(join(base, 'a')));
    expect((await stat(join(base, 'b', 'total', 'all.arrow'))).ino).toBe((await stat(join(base, 'a', 'total', 'all.arrow'))).ino);
    const recA = (await readStageRecords(join(base, 'a'), 'square')).get('sq-0000-0004')!;
    const recB = (await readStageRecords(join(base, 'b'), 'square')).get('sq-0000-0004')!;
    expect(recB).toMatchObject({ cached: true, key: recA.key, sha256: recA.sha256, seconds: recA.seconds });
    expect(recA.cached).toBeUndefined();
    expect((await run('b')).upToDate).toBe(true);
  });

  it('a changed key computes only what it changes; --force computes although the cache holds the key', async () => {
    await run('a');
    const changed = await run('b', { experiment: toyExperiment((c) => (c.awc.shuffles = 7)) });
    expect(ids(changed.ran)).toEqual(['total/all']);
    expect(changed.restored).toHaveLength(6);
    const forced = await run('c', { force: ['square'] });
    expect(ids(forced.ran)).toEqual(['square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010', 'total/all']);
    expect(ids(forced.restored)).toEqual(['source/src-0000-0004', 'source/src-0004-0008', 'source/src-0008-0010']);
    expect(await arrows(join(base, 'c'))).toEqual(await arrows(join(base, 'a'))); // deterministic: same bytes
  });

  it('a damaged cache entry is detected when reused, dropped and recomputed; the new result replaces it', async () => {
    await run('a');
    const key = (await readStageRecords(join(base, 'a'), 'total')).get('all')!.key;
    const obj = cache.objectPath(key);
    const bytes = await readFile(obj);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(join(base, 'damaged'), bytes);
    const { rename } = await import('node:fs/promises');
    await rename(join(base, 'damaged'), obj); // the cache's own copy only: run a keeps its intact file
    const logs: string[] = [];
    const second = await run('b', { reporter: { event: (e) => e.type === 'log' && logs.push(e.message), close() {} } });
    expect(ids(second.ran)).toEqual(['total/all']);
    expect(logs.some((m) => new RegExp(`^cache entry ${key.slice(0, 12)}… is corrupt: expected sha256 .*removed from the cache, computing the shard$`).test(m))).toBe(true);
    expect(await arrows(join(base, 'b'))).toEqual(await arrows(join(base, 'a')));
    expect((await cache.entry(key))!.sha256).toBe((await readStageRecords(join(base, 'b'), 'total')).get('all')!.sha256);
    expect(Buffer.compare(await readFile(obj), await readFile(join(base, 'a', 'total', 'all.arrow')))).toBe(0);
  });

  it('a run overtaken by another on the same cache picks up its results as it goes; one entry per key', async () => {
    let releaseB!: () => void;
    const bPaused = new Promise<void>((resolve) => (releaseB = resolve));
    let paused!: () => void;
    const bAtFirstWrite = new Promise<void>((resolve) => (paused = resolve));
    let first = true;
    // b computes its first shard, and stops before writing it until a has run to the end
    const b = run('b', {
      writeHook: async (phase) => {
        if (phase !== 'mid-write' || !first) return;
        first = false;
        paused();
        await bPaused;
      },
    });
    await bAtFirstWrite;
    const a = await run('a');
    expect(a.ran).toHaveLength(7);
    releaseB();
    const rb = await b;
    expect(computed()).toBe(8); // a's 7 and b's first source shard
    expect(rb.restored).toEqual([]); // planned before a ran …
    expect(rb.ran.filter((s) => s.record?.cached)).toHaveLength(6); // … and restored while running
    expect(await arrows(join(base, 'b'))).toEqual(await arrows(join(base, 'a')));
    const { entries } = await cache.scan();
    expect(entries).toHaveLength(7);
    const srcKey = (await readStageRecords(join(base, 'a'), 'source')).get('src-0000-0004')!.key;
    // both computed src-0000-0004: the cache kept a's (published first), b has its own identical file
    expect((await stat(cache.objectPath(srcKey))).ino).toBe((await stat(join(base, 'a', 'source', 'src-0000-0004.arrow'))).ino);
    expect((await stat(join(base, 'b', 'source', 'src-0000-0004.arrow'))).ino).not.toBe((await stat(cache.objectPath(srcKey))).ino);
  });
});
