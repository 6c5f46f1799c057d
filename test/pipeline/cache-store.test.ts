// The shared checkpoint cache on its own: entries are placed into run directories verified (hard links on one file
// system, copies across two), a damaged entry is refused and dropped, concurrent publishers of one key leave one
// consistent entry, the first result of a key stays, gc keeps what registered runs reference, and the cache
// directory is resolved from run.cache and the environment.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../../pipeline/cache-key.ts';
import { cacheDirFor, CheckpointCache, defaultCacheDir, placeVerified } from '../../pipeline/cache-store.ts';
import { OutputError } from '../../pipeline/errors.ts';
import { runPipeline } from '../../pipeline/runner.ts';
import { requireOrSkip } from '../fixtures/require.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

// node:fs/promises wrapped for the tests that need what root cannot cause for real (a link refused by the file
// system, a full disk) or another process's step at a chosen moment (a publisher or gc running alongside): `fs.fail`
// makes an operation on a matching path throw an errno (after doing it, with `after`), `fs.before` runs a step just
// before it; `fs.opened` collects every FileHandle opened.
type FsOp = 'link' | 'copyFile' | 'open' | 'mkdir' | 'rm';
const fs = vi.hoisted(() => ({
  fail: [] as { op: string; hit: (path: string) => boolean; code?: string; error?: Error; after?: boolean }[],
  before: [] as { op: string; hit: (path: string) => boolean; run: () => Promise<void> }[],
  opened: [] as { fd: number }[],
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const wrap = (op: string, fn: (...a: any[]) => Promise<any>, at: number) => async (...args: any[]) => {
    const path = String(args[at]);
    for (const b of fs.before.filter((x) => x.op === op && x.hit(path))) await b.run();
    const fault = fs.fail.find((x) => x.op === op && x.hit(path));
    const error = fault && (fault.error ?? Object.assign(new Error(`${fault.code}: simulated, ${op} '${path}'`), { code: fault.code, syscall: op, path }));
    if (fault && !fault.after) throw error;
    const r = await fn(...args);
    if (op === 'open') fs.opened.push(r);
    if (fault) throw error;
    return r;
  };
  const m = { link: wrap('link', real.link, 1), copyFile: wrap('copyFile', real.copyFile, 1), open: wrap('open', real.open, 0), mkdir: wrap('mkdir', real.mkdir, 0), rm: wrap('rm', real.rm, 0) };
  return { ...real, ...m, default: { ...real, ...m } };
});
const failOn = (op: FsOp, hit: (path: string) => boolean, code: string, after = false) => fs.fail.push({ op, hit, code, after });

let dir: string;
let cache: CheckpointCache;
beforeEach(async () => {
  dir = await tempDir();
  cache = await CheckpointCache.open(join(dir, 'cache'));
});
afterEach(async () => {
  fs.fail.length = 0;
  fs.before.length = 0;
  fs.opened.length = 0;
  await cleanup(dir);
});

const KEY = 'a1'.repeat(32);
/** A checkpoint-like file with its entry fields. */
async function file(name: string, text: string, key = KEY) {
  const path = join(dir, name);
  await writeFile(path, text);
  return { path, rec: { key, stage: 'st', shard: 's-0', sha256: sha256(text), bytes: Buffer.byteLength(text), rows: 3, seconds: 1.5 } };
}

describe('publish and restore', () => {
  it('a published checkpoint is restored into a run directory as a verified hard link, and its last use is noted', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    expect(await cache.publish(path, rec)).toBe('added');
    expect(await cache.publish(path, rec)).toBe('present');
    const entry = (await cache.entry(KEY))!;
    expect(entry).toMatchObject({ key: KEY, stage: 'st', shard: 's-0', sha256: rec.sha256, bytes: 16, rows: 3, seconds: 1.5 });
    expect((await stat(cache.objectPath(KEY))).ino).toBe((await stat(path)).ino);
    const old = new Date(Date.now() - 86_400_000);
    await utimes(cache.entryPath(KEY), old, old);
    const target = join(dir, 'run', 'st', 's-0.arrow');
    const placed = await cache.restore(entry, target);
    expect(placed).toMatchObject({ placement: 'linked' });
    expect(await readFile(target, 'utf8')).toBe('checkpoint bytes');
    expect((await stat(target)).ino).toBe((await stat(path)).ino);
    expect((await stat(cache.entryPath(KEY))).mtimeMs).toBeGreaterThan(old.getTime() + 3_600_000);
    expect((await readdir(join(dir, 'run', 'st'))).sort()).toEqual(['s-0.arrow']); // no temp file left
  });

  it('a damaged entry (same size, other bytes) is refused, dropped from the cache, and the target is left alone', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    await cache.publish(path, rec);
    const entry = (await cache.entry(KEY))!;
    await writeFile(cache.objectPath(KEY), 'checkpoint BYTES'); // in place: the run's hard link sees it too
    const target = join(dir, 'run', 's-0.arrow');
    await mkdir(join(dir, 'run'));
    await writeFile(target, 'previous');
    const placed = await cache.restore(entry, target);
    expect(placed).toMatchObject({ problem: expect.stringMatching(/^corrupt: expected sha256 /) });
    expect(await readFile(target, 'utf8')).toBe('previous');
    expect(await cache.entry(KEY)).toBeUndefined();
    expect(existsSync(cache.objectPath(KEY))).toBe(false);
    expect(await readdir(join(dir, 'run'))).toEqual(['s-0.arrow']);
    const missing = await placeVerified({ file: join(dir, 'nope'), sha256: rec.sha256, bytes: 16 }, target);
    expect(missing).toEqual({ problem: 'file missing' });
  });

  it('the first result of a key stays: a different one is kept out, an entry never disagrees with its checkpoint', async () => {
    const a = await file('a.arrow', 'first result');
    const b = await file('b.arrow', 'other result');
    expect(await cache.publish(a.path, a.rec)).toBe('added');
    expect(await cache.publish(b.path, b.rec)).toBe('kept');
    expect((await cache.entry(KEY))!.sha256).toBe(a.rec.sha256);
    // a checkpoint without an entry (a publisher killed between its two steps): the same bytes get their entry,
    // other bytes leave it alone, and gc removes it
    const k2 = 'b2'.repeat(32);
    await mkdir(join(cache.dir, 'objects', 'b2'), { recursive: true });
    await link(a.path, cache.objectPath(k2));
    expect(await cache.publish(b.path, { ...b.rec, key: k2 })).toBe('kept');
    expect(await cache.entry(k2)).toBeUndefined();
    expect(await cache.publish(a.path, { ...a.rec, key: k2 })).toBe('present');
    expect((await cache.entry(k2))!.sha256).toBe(a.rec.sha256);
  });

  it('concurrent publishers of one key, same or different bytes, end with one entry that matches its checkpoint', async () => {
    for (let round = 0; round < 12; round++) {
      const key = sha256(`round ${round}`).slice(0, 40);
      const files = await Promise.all([0, 1, 2, 3].map((i) => file(`c${round}-${i}.arrow`, round % 2 ? `same ${round}` : `bytes ${i} of ${round}`, key)));
      const outcomes = await Promise.all(files.map((f) => cache.publish(f.path, f.rec)));
      expect(outcomes.filter((o) => o === 'added')).toHaveLength(1);
      const entry = (await cache.entry(key))!;
      expect(sha256(await readFile(cache.objectPath(key)))).toBe(entry.sha256);
      expect(files.map((f) => f.rec.sha256)).toContain(entry.sha256);
      expect((await readdir(join(cache.dir, 'objects', key.slice(0, 2)))).filter((n) => n.startsWith(key)).sort()).toEqual([`${key}.arrow`, `${key}.json`]);
    }
  });
});

describe('gc and status', () => {
  it('keeps entries a registered run directory references; removes the rest, leftovers and vanished runs', async () => {
    const out = join(dir, 'out');
    await runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out, workers: 1, cache });
    const { entries } = await cache.scan();
    expect(entries).toHaveLength(7); // 3 source, 3 square, 1 total
    expect(entries.every((e) => e.links === 2)).toBe(true); // the cache's name and the run's
    const extra = await file('x.arrow', 'not used by any run', 'c3'.repeat(32));
    await cache.publish(extra.path, extra.rec);
    // a dead writer's partial file (pid of a process that has exited) and a live one's
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(cache.dir, 'objects', 'c3', `.x.arrow.${dead}.0badf00d.revcor-tmp`), 'partial');
    await writeFile(join(cache.dir, 'objects', 'c3', `.y.arrow.${process.pid}.0badf00d.revcor-tmp`), 'being written');
    let st = await cache.status();
    expect(st).toMatchObject({ entries: 8, unreferenced: 1, runs: [{ outDir: out, exists: true, entries: 7 }] });
    expect(st.byStage).toMatchObject({ source: { entries: 3 }, square: { entries: 3 }, total: { entries: 1 } });
    expect(st.ownBytes).toBe(0); // every entry is also a file of a run… except the extra one, whose other link is x.arrow
    const gc = await cache.gc();
    expect(gc).toMatchObject({ removed: 1, kept: 7, leftovers: 1, forgotten: 0, bytes: extra.rec.bytes, freed: 0 });
    expect(await cache.entry(extra.rec.key)).toBeUndefined();
    expect(existsSync(join(cache.dir, 'objects', 'c3', `.y.arrow.${process.pid}.0badf00d.revcor-tmp`))).toBe(true);
    // the run goes: its entries are unreferenced now, but recently used ones survive --older-than
    await cleanup(out);
    expect(await cache.gc({ olderThanMs: 3_600_000 })).toMatchObject({ removed: 0, kept: 7, forgotten: 1 });
    const later = await cache.gc({ olderThanMs: 3_600_000, now: Date.now() + 7_200_000 });
    expect(later).toMatchObject({ removed: 7, kept: 0 });
    expect(later.freed).toBe(later.bytes); // no run holds a link any more
    st = await cache.status();
    expect(st).toMatchObject({ entries: 0, runs: [] });
  });

  it('refuses a directory that is not a cache, for writing and for maintenance', async () => {
    await mkdir(join(dir, 'notes'));
    await writeFile(join(dir, 'notes', 'a.txt'), 'mine');
    await expect(CheckpointCache.open(join(dir, 'notes'))).rejects.toThrow(OutputError);
    await expect(CheckpointCache.open(join(dir, 'notes'))).rejects.toThrow(/expected a new or empty directory, or a revcor cache, got a directory that holds other files \(a\.txt\)/);
    await expect(CheckpointCache.existing(join(dir, 'notes'))).rejects.toThrow(/Expected a revcor cache \(a directory with revcor-cache\.json\), got a directory without it/);
    expect(await readdir(join(dir, 'notes'))).toEqual(['a.txt']);
    expect((await CheckpointCache.existing(cache.dir)).dir).toBe(cache.dir);
    expect(await readFile(join(cache.dir, 'CACHEDIR.TAG'), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
  });
});

describe('across file systems', () => {
  const shm = '/dev/shm';
  const other = existsSync(shm) && spawnSync('stat', ['-c', '%d', shm]).stdout?.toString() !== spawnSync('stat', ['-c', '%d', '/tmp']).stdout?.toString();
  requireOrSkip('tmpfs', other, `test/pipeline/cache-store.test.ts: ${shm} is not a separate file system here: the copy fallback is not exercised`);

  it.skipIf(!other)('copies where hard links are impossible, still verified, and says so', async () => {
    const far = join(shm, `revcor-cache-test-${process.pid}`);
    try {
      const cache2 = await CheckpointCache.open(far);
      const { path, rec } = await file('a.arrow', 'checkpoint bytes');
      expect(await cache2.publish(path, rec)).toBe('added');
      expect((await stat(cache2.objectPath(KEY))).ino).not.toBe((await stat(path)).ino);
      expect(await cache2.registerRun(dir)).toEqual({ otherFileSystem: true });
      const placed = await cache2.restore((await cache2.entry(KEY))!, join(dir, 'run', 'a.arrow'));
      expect(placed).toMatchObject({ placement: 'copied' });
      expect(await readFile(join(dir, 'run', 'a.arrow'), 'utf8')).toBe('checkpoint bytes');
      expect((await cache2.status()).ownBytes).toBe(16);
    } finally {
      await cleanup(far);
    }
  });
});

describe('where the cache is', () => {
  it('run.cache false/true/auto/path, for single runs and grids; REVCOR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache', () => {
    const env = { XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' };
    expect(defaultCacheDir(env)).toBe('/x/cache/revcor');
    expect(defaultCacheDir({ ...env, REVCOR_CACHE_DIR: '/r' })).toBe('/r');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/revcor$/);
    expect(cacheDirFor(false, true, env)).toBeNull();
    expect(cacheDirFor('auto', false, env)).toBeNull();
    expect(cacheDirFor('auto', true, env)).toBe('/x/cache/revcor');
    expect(cacheDirFor(true, false, env)).toBe('/x/cache/revcor');
    expect(cacheDirFor('/data/c', false, env)).toBe('/data/c');
  });
});

describe('the cache directory', () => {
  it('a cache whose creation failed on a full disk opens once space is free (its own folders are not "other files")', async () => {
    const at = join(dir, 'c2');
    failOn('open', (p) => p.includes('.revcor-cache.json.'), 'ENOSPC');
    await expect(CheckpointCache.open(at)).rejects.toThrow(/ENOSPC \(no space left on the device\)/);
    expect((await readdir(at)).sort()).toEqual(['CACHEDIR.TAG', 'objects', 'runs']);
    fs.fail.length = 0;
    expect((await CheckpointCache.open(at)).dir).toBe(at);
    expect((await readdir(at)).sort()).toEqual(['CACHEDIR.TAG', 'objects', 'revcor-cache.json', 'runs']);
  });
});
