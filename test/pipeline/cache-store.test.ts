// The shared checkpoint cache on its own: entries are placed into run directories verified (hard links on one file
// system, copies across two), a damaged entry is refused and dropped, concurrent publishers of one key leave one
// consistent entry, the first result of a key stays, gc keeps what registered runs reference, and the cache
// directory is resolved from run.cache and the environment.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
type FsOp = 'link' | 'copyFile' | 'open' | 'mkdir' | 'rm' | 'rename';
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
  const m = { link: wrap('link', real.link, 1), copyFile: wrap('copyFile', real.copyFile, 1), open: wrap('open', real.open, 0), mkdir: wrap('mkdir', real.mkdir, 0), rm: wrap('rm', real.rm, 0), rename: wrap('rename', real.rename, 1) };
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

describe('the cache directory, in detail', () => {
  it('a new cache (parents created): the marker’s exact text, CACHEDIR.TAG, objects/ and runs/; reopening changes nothing', async () => {
    const at = join(dir, 'a', 'b', 'cache');
    await CheckpointCache.open(at);
    expect((await readdir(at)).sort()).toEqual(['CACHEDIR.TAG', 'objects', 'revcor-cache.json', 'runs']);
    expect([(await stat(join(at, 'objects'))).isDirectory(), (await stat(join(at, 'runs'))).isDirectory()]).toEqual([true, true]);
    const marker = await readFile(join(at, 'revcor-cache.json'), 'utf8');
    expect(marker).toMatch(/^\{\n "format": "revcor-cache\/1",\n "createdAt": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\n\}\n$/);
    expect(await readFile(join(at, 'CACHEDIR.TAG'), 'utf8')).toBe(
      'Signature: 8a477f597d28d172789f06886806bc55\n# This directory is the revcor checkpoint cache (revcor cache status, revcor cache gc).\n',
    );
    const inodes = async () => Promise.all(['revcor-cache.json', 'CACHEDIR.TAG'].map(async (n) => (await stat(join(at, n))).ino));
    const before = await inodes();
    expect((await CheckpointCache.open(at)).dir).toBe(at);
    expect(await inodes()).toEqual(before); // not rewritten
    expect(await readFile(join(at, 'revcor-cache.json'), 'utf8')).toBe(marker);
  });

  it('what an interrupted creation left is created again (its temp files removed); anything else is refused, naming only it', async () => {
    const at = join(dir, 'left');
    await mkdir(join(at, 'objects'), { recursive: true });
    await writeFile(join(at, '.revcor-cache.json.123.abcd.revcor-tmp'), '{"form');
    await CheckpointCache.open(at);
    expect((await readdir(at)).sort()).toEqual(['CACHEDIR.TAG', 'objects', 'revcor-cache.json', 'runs']);
    const other = join(dir, 'other');
    await mkdir(join(other, 'runs'), { recursive: true });
    await writeFile(join(other, 'CACHEDIR.TAG'), 'x');
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expect(CheckpointCache.open(other)).rejects.toThrow(/got a directory that holds other files \(notes\.txt\)$/);
    expect((await readdir(other)).sort()).toEqual(['CACHEDIR.TAG', 'notes.txt', 'runs']);
  });

  it('refusals: a file, a foreign directory (three names, then the count), a path below a file, an error without a code', async () => {
    const errorOf = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as OutputError);
    const f = join(dir, 'file');
    await writeFile(f, 'x');
    let e = await errorOf(CheckpointCache.open(f));
    expect(e).toBeInstanceOf(OutputError);
    expect([e.message, e.hint]).toEqual([`Cache ${f}: expected a directory, got a file`, 'Choose another directory with --cache DIR (or run.cache).']);
    for (const names of [['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e']]) {
      const d = join(dir, `foreign${names.length}`);
      await mkdir(d);
      for (const n of names) await writeFile(join(d, n), n);
      e = await errorOf(CheckpointCache.open(d));
      expect(e).toBeInstanceOf(OutputError);
      const shown = /holds other files \((.*)\)$/.exec(e.message)![1]!;
      if (names.length === 3) expect(shown.split(', ').sort()).toEqual(names);
      else expect(shown).toMatch(/^[a-e], [a-e], [a-e], … \(5 entries\)$/);
      expect(e.hint).toBe('revcor never writes into a directory it did not create: choose another --cache DIR (or run.cache).');
    }
    e = await errorOf(CheckpointCache.open(join(f, 'cache')));
    expect(e).toBeInstanceOf(OutputError);
    expect([e.message, e.hint]).toEqual([`Cache ${join(f, 'cache')}: expected a writable directory, got ENOTDIR`, 'Choose another directory with --cache DIR (or run.cache), or --no-cache.']);
    fs.fail.push({ op: 'mkdir', hit: (p) => p.startsWith(join(dir, 'odd')), error: new Error('boom') });
    e = await errorOf(CheckpointCache.open(join(dir, 'odd')));
    expect(e.message).toBe(`Cache ${join(dir, 'odd')}: expected a writable directory, got Error: boom`);
    // a full disk: the write's own OutputError, naming the file
    fs.fail.length = 0;
    failOn('open', (p) => p.includes('.CACHEDIR.TAG.'), 'ENOSPC');
    e = await errorOf(CheckpointCache.open(join(dir, 'full')));
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/^Cannot write .*full\/CACHEDIR\.TAG: expected a writable file system with free space, got ENOSPC/);
    // for maintenance: an existing cache only
    await expect(CheckpointCache.existing(join(dir, 'nowhere'))).rejects.toThrow(`${join(dir, 'nowhere')}: Expected a revcor cache (a directory with revcor-cache.json), got no such directory`);
  });

  it('keys: 16 to 128 letters and digits, under objects/<first two>/; anything else is refused by name', () => {
    for (const key of ['a'.repeat(16), 'Zz09'.repeat(32)]) {
      expect(cache.objectPath(key)).toBe(join(cache.dir, 'objects', key.slice(0, 2), `${key}.arrow`));
      expect(cache.entryPath(key)).toBe(join(cache.dir, 'objects', key.slice(0, 2), `${key}.json`));
    }
    for (const key of ['a'.repeat(15), 'a'.repeat(129), '', `../${'a'.repeat(16)}`, `${'a'.repeat(16)}/..`, `${'a'.repeat(16)}-`, `-${'a'.repeat(16)}`, 'é'.repeat(16)]) {
      expect(() => cache.objectPath(key), key).toThrow(`Cache key: expected 16–128 letters and digits, got ${JSON.stringify(key)}`);
      expect(() => cache.entryPath(key), key).toThrow(/^Cache key: expected/);
    }
  });

  it('where the cache is: a path given for a grid is that path', () => {
    expect(cacheDirFor('/data/c', true, { XDG_CACHE_HOME: '/x/cache' })).toBe('/data/c');
  });
});

describe('entries, in detail', () => {
  it('an entry’s file: its exact JSON; each damaged form reads as absent; missing seconds and createdAt', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    await cache.publish(path, { ...rec, extra: 'dropped' } as typeof rec);
    const text = await readFile(cache.entryPath(KEY), 'utf8');
    const json = JSON.parse(text);
    expect(Object.keys(json)).toEqual(['format', 'key', 'stage', 'shard', 'sha256', 'bytes', 'rows', 'seconds', 'createdAt']);
    expect(json).toMatchObject({ format: 'revcor-cache-entry/1', key: KEY, stage: 'st', shard: 's-0', sha256: rec.sha256, bytes: 16, rows: 3, seconds: 1.5 });
    expect(text).toBe(JSON.stringify(json, null, 1) + '\n');
    expect((await cache.entry(KEY))!.createdAt).toBe(json.createdAt);
    const write = (over: Record<string, unknown>) => writeFile(cache.entryPath(KEY), JSON.stringify({ ...json, ...over }));
    for (const over of [{ format: 'revcor-cache-entry/2' }, { key: 'b2'.repeat(32) }, { sha256: 5 }, { bytes: '16' }, { rows: null }, { stage: 1 }, { shard: undefined }]) {
      await write(over);
      expect(await cache.entry(KEY), JSON.stringify(over)).toBeUndefined();
    }
    await writeFile(cache.entryPath(KEY), text.slice(0, 40));
    expect(await cache.entry(KEY)).toBeUndefined();
    await write({ seconds: undefined, createdAt: undefined });
    expect(await cache.entry(KEY)).toEqual({ key: KEY, stage: 'st', shard: 's-0', sha256: rec.sha256, bytes: 16, rows: 3, seconds: 0, createdAt: '' });
  });
});

describe('restore and placeVerified, in detail', () => {
  it('another size is refused by its size, other bytes by their sha256: the exact problems; the entry dropped', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    const target = join(dir, 'run', 's-0.arrow');
    for (const [bytes, problem] of [
      ['short', 'corrupt: expected 16 bytes, got 5'],
      ['checkpoint BYTES', `corrupt: expected sha256 ${rec.sha256.slice(0, 12)}…, got ${sha256('checkpoint BYTES').slice(0, 12)}…`],
    ]) {
      await cache.publish(path, rec);
      const entry = (await cache.entry(KEY))!;
      await rm(cache.objectPath(KEY)); // a new file: the source keeps its bytes
      await writeFile(cache.objectPath(KEY), bytes!);
      const ino = (await stat(cache.objectPath(KEY))).ino;
      expect(await cache.restore(entry, target)).toEqual({ problem, ino });
      expect([await cache.entry(KEY), existsSync(cache.objectPath(KEY)), existsSync(target)]).toEqual([undefined, false, false]);
    }
  });

  it('an entry whose checkpoint is gone: “file missing”, the entry dropped', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    await cache.publish(path, rec);
    const entry = (await cache.entry(KEY))!;
    await rm(cache.objectPath(KEY));
    expect(await cache.restore(entry, join(dir, 'run', 'x.arrow'))).toEqual({ problem: 'file missing' });
    expect(await cache.entry(KEY)).toBeUndefined();
  });

  it('links the file system refuses (EXDEV, EPERM, ENOTSUP, EOPNOTSUPP, EMLINK) become verified copies, every file closed; other errors are raised', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    for (const code of ['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']) {
      fs.fail.length = 0;
      fs.opened.length = 0;
      failOn('link', (p) => p.endsWith('.revcor-tmp'), code);
      const target = join(dir, 'run', `${code}.arrow`);
      expect(await placeVerified({ file: path, sha256: rec.sha256, bytes: 16 }, target), code).toMatchObject({ placement: 'copied' });
      expect(await readFile(target, 'utf8')).toBe('checkpoint bytes');
      expect((await stat(target)).ino).not.toBe((await stat(path)).ino);
      expect(fs.opened.length, code).toBeGreaterThan(0);
      expect(fs.opened.map((h) => h.fd), code).toEqual(fs.opened.map(() => -1));
    }
    for (const code of ['EIO', 'EACCES', 'EEXIST']) {
      fs.fail.length = 0;
      failOn('link', (p) => p.endsWith('.revcor-tmp'), code);
      await expect(placeVerified({ file: path, sha256: rec.sha256, bytes: 16 }, join(dir, 'run', `${code}.arrow`)), code).rejects.toMatchObject({ code });
      expect(existsSync(join(dir, 'run', `${code}.arrow`))).toBe(false);
    }
    expect((await readdir(join(dir, 'run'))).filter((n) => n.endsWith('.revcor-tmp'))).toEqual([]);
  });

  it('a copy that fails (a full disk, before or after the file exists) is an OutputError and leaves no temp file', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    failOn('link', (p) => p.endsWith('.revcor-tmp'), 'EXDEV');
    for (const after of [false, true]) {
      fs.fail.splice(1);
      failOn('copyFile', (p) => p.endsWith('.revcor-tmp'), 'ENOSPC', after);
      const e = await placeVerified({ file: path, sha256: rec.sha256, bytes: 16 }, join(dir, 'run', 'a.arrow')).catch((x: unknown) => x);
      expect(e, String(after)).toBeInstanceOf(OutputError);
      expect((e as Error).message).toMatch(/^Cannot write .*run\/\.a\.arrow\.\d+\.[0-9a-f]+\.revcor-tmp: expected a writable file system with free space, got ENOSPC/);
      expect(await readdir(join(dir, 'run'))).toEqual([]);
    }
  });
});

describe('evict', () => {
  it('with an inode: only if the checkpoint is still that file; without: whatever is there; missing files are no error', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    await cache.publish(path, rec);
    const ino = (await stat(cache.objectPath(KEY))).ino;
    await cache.evict(KEY, ino + 1); // replaced meanwhile by a good one: stays
    expect([existsSync(cache.entryPath(KEY)), existsSync(cache.objectPath(KEY))]).toEqual([true, true]);
    await cache.evict(KEY, ino);
    expect([existsSync(cache.entryPath(KEY)), existsSync(cache.objectPath(KEY))]).toEqual([false, false]);
    await cache.evict(KEY);
    await cache.publish(path, rec);
    await rm(cache.entryPath(KEY));
    await cache.evict(KEY);
    expect(existsSync(cache.objectPath(KEY))).toBe(false);
    await cache.publish(path, rec);
    await rm(cache.objectPath(KEY));
    await cache.evict(KEY, ino);
    expect(existsSync(cache.entryPath(KEY))).toBe(false);
  });
});

describe('publish, in detail', () => {
  it('the same result again while its checkpoint in the cache is damaged (other size, or gone): the checkpoint is replaced', async () => {
    for (const damage of ['short', null]) {
      const a = await file('a.arrow', 'first result');
      await cache.publish(a.path, a.rec);
      await rm(cache.objectPath(KEY));
      if (damage) await writeFile(cache.objectPath(KEY), damage);
      const again = await file('again.arrow', 'first result');
      expect(await cache.publish(again.path, again.rec), String(damage)).toBe('added');
      expect(await readFile(cache.objectPath(KEY), 'utf8')).toBe('first result');
      expect((await stat(cache.objectPath(KEY))).ino).toBe((await stat(again.path)).ino);
      expect((await cache.entry(KEY))!.sha256).toBe(a.rec.sha256);
      expect((await readdir(join(cache.dir, 'objects', 'a1'))).sort()).toEqual([`${KEY}.arrow`, `${KEY}.json`]);
      await cache.evict(KEY);
    }
  });

  it('another result for a key whose entry or checkpoint is damaged replaces it (only an intact first result stays)', async () => {
    const a = await file('a.arrow', 'first result');
    const b = await file('b.arrow', 'other result');
    // the checkpoint: other bytes of the same size
    await cache.publish(a.path, a.rec);
    await rm(cache.objectPath(KEY));
    await writeFile(cache.objectPath(KEY), 'first RESULT');
    expect(await cache.publish(b.path, b.rec)).toBe('added');
    expect([(await cache.entry(KEY))!.sha256, await readFile(cache.objectPath(KEY), 'utf8')]).toEqual([b.rec.sha256, 'other result']);
    await cache.evict(KEY);
    // the entry: a size its (intact) checkpoint does not have
    await cache.publish(a.path, a.rec);
    const json = JSON.parse(await readFile(cache.entryPath(KEY), 'utf8'));
    await writeFile(cache.entryPath(KEY), JSON.stringify({ ...json, bytes: 999 }));
    expect(await cache.publish(b.path, b.rec)).toBe('added');
    expect([(await cache.entry(KEY))!.sha256, await readFile(cache.objectPath(KEY), 'utf8')]).toEqual([b.rec.sha256, 'other result']);
  });

  it('replacing a damaged checkpoint, or placing a verified one, fails at the rename: the error is raised, no temp file is left', async () => {
    const a = await file('a.arrow', 'first result');
    await cache.publish(a.path, a.rec);
    await rm(cache.objectPath(KEY));
    await writeFile(cache.objectPath(KEY), 'short');
    failOn('rename', (p) => p === cache.objectPath(KEY), 'EIO');
    await expect(cache.publish(a.path, a.rec)).rejects.toMatchObject({ code: 'EIO' });
    expect((await readdir(join(cache.dir, 'objects', 'a1'))).sort()).toEqual([`${KEY}.arrow`, `${KEY}.json`]);
    const target = join(dir, 'run', 'a.arrow');
    failOn('rename', (p) => p === target, 'EIO');
    await expect(placeVerified({ file: a.path, sha256: a.rec.sha256, bytes: 12 }, target)).rejects.toMatchObject({ code: 'EIO' });
    expect(await readdir(join(dir, 'run'))).toEqual([]);
  });

  it('a file that cannot be read is an error (its own), and leaves no temp file', async () => {
    const { rec } = await file('a.arrow', 'checkpoint bytes');
    const missing = join(dir, 'gone.arrow');
    await expect(cache.publish(missing, rec)).rejects.toMatchObject({ code: 'ENOENT', path: missing });
    expect(await readdir(join(cache.dir, 'objects', 'a1'))).toEqual([]);
  });

  it('another publisher links its checkpoint between our check and our link: the same bytes get our entry, other bytes are kept out', async () => {
    for (const [theirs, outcome] of [['checkpoint bytes', 'present'], ['other bytes!!!!!', 'kept']] as const) {
      const mine = await file('mine.arrow', 'checkpoint bytes');
      const other = await file('theirs.arrow', theirs);
      fs.before.length = 0;
      fs.before.push({ op: 'link', hit: (p) => p === cache.objectPath(KEY), run: async () => {
        fs.before.length = 0;
        await link(other.path, cache.objectPath(KEY));
      } });
      expect(await cache.publish(mine.path, { ...mine.rec, seconds: 9 }), theirs).toBe(outcome);
      expect((await stat(cache.objectPath(KEY))).ino).toBe((await stat(other.path)).ino);
      if (outcome === 'present') expect((await cache.entry(KEY))!.seconds).toBe(9);
      else expect(await cache.entry(KEY)).toBeUndefined();
      expect((await readdir(join(cache.dir, 'objects', 'a1'))).filter((n) => n.endsWith('.revcor-tmp'))).toEqual([]);
      fs.before.length = 0;
      await cache.evict(KEY);
    }
  });
});

describe('runs, status and gc, in detail', () => {
  it('registerRun: its file’s exact text; the same file system, and a directory that does not exist, are not another one', async () => {
    const out = join(dir, 'out');
    await mkdir(out);
    expect(await cache.registerRun(out)).toEqual({ otherFileSystem: false });
    const text = await readFile(join(cache.dir, 'runs', `${sha256(out).slice(0, 24)}.json`), 'utf8');
    expect(text).toMatch(/^\{\n "outDir": ".*\/out",\n "lastUsed": "\d{4}-[^"]+Z"\n\}\n$/);
    expect(await cache.registerRun(join(dir, 'not-yet'))).toEqual({ otherFileSystem: false });
  });

  it('users: sorted by directory with their last use; damaged registrations, other files and a missing runs/ are skipped', async () => {
    for (const n of ['c', 'a', 'd', 'b']) await cache.registerRun(join(dir, n));
    const runs = join(cache.dir, 'runs');
    const registration = (outDir: string) => JSON.stringify({ outDir, lastUsed: '2026-01-01T00:00:00.000Z' });
    await writeFile(join(runs, 'cut.json'), '{"outDir": "/x');
    await writeFile(join(runs, 'no-dir.json'), JSON.stringify({ lastUsed: 'x' }));
    await writeFile(join(runs, '.e.json.123.abcd.revcor-tmp'), registration(join(dir, 'e')));
    await writeFile(join(runs, 'notes.txt'), registration(join(dir, 'f')));
    await writeFile(join(runs, 'old.json'), JSON.stringify({ outDir: join(dir, 'g') }));
    const users = await cache.users();
    expect(users.map((u) => u.outDir)).toEqual(['a', 'b', 'c', 'd', 'g'].map((n) => join(dir, n)));
    const reg = JSON.parse(await readFile(join(runs, `${sha256(join(dir, 'a')).slice(0, 24)}.json`), 'utf8'));
    expect(users[0]!.lastUsed).toBe(reg.lastUsed);
    expect(users[4]!.lastUsed).toBe('');
    expect(users.every((u) => !u.exists && u.keys.size === 0)).toBe(true);
    await rm(runs, { recursive: true });
    expect(await cache.users()).toEqual([]);
  });

  it('leftovers: an entry without its checkpoint, a damaged entry with its checkpoint, a checkpoint without an entry, a temp file of no writer; other files stay', async () => {
    const keep = await file('keep.arrow', 'kept result', 'k1'.repeat(32));
    await cache.publish(keep.path, keep.rec);
    const put = async (key: string, ext: string, text: string) => {
      await mkdir(join(cache.dir, 'objects', key.slice(0, 2)), { recursive: true });
      await writeFile(join(cache.dir, 'objects', key.slice(0, 2), `${key}.${ext}`), text);
      return join(cache.dir, 'objects', key.slice(0, 2), `${key}.${ext}`);
    };
    const noObject = await put('e1'.repeat(32), 'json', JSON.stringify({ format: 'revcor-cache-entry/1', key: 'e1'.repeat(32), stage: 's', shard: 'x', sha256: 'ab', bytes: 1, rows: 1 }));
    const cutEntry = await put('e2'.repeat(32), 'json', '{"format": "revcor-cache-en');
    const itsObject = await put('e2'.repeat(32), 'arrow', 'x');
    const orphan = await put('e3'.repeat(32), 'arrow', 'y');
    const odd = await put('e4'.repeat(32), 'tmp', 'z');
    const badKey = join(cache.dir, 'objects', 'e4', 'short.json');
    await writeFile(badKey, '{}');
    const noPid = join(cache.dir, 'objects', 'e4', '.junk.revcor-tmp');
    await writeFile(noPid, 'partial');
    await writeFile(join(cache.dir, 'objects', 'README'), 'not a folder');
    const { entries, leftovers } = await cache.scan();
    expect(entries.map((e) => e.key)).toEqual([keep.rec.key]);
    expect(leftovers.sort()).toEqual([noObject, cutEntry, itsObject, orphan, badKey, noPid].sort());
    const gc = await cache.gc();
    expect(gc).toMatchObject({ leftovers: 6, removed: 1 });
    expect([noObject, cutEntry, itsObject, orphan, badKey, noPid].filter(existsSync)).toEqual([]);
    expect(existsSync(odd)).toBe(true);
    await rm(join(cache.dir, 'objects'), { recursive: true });
    expect(await cache.scan()).toEqual({ entries: [], leftovers: [] });
  });

  it('status: bytes per stage and in all; a run counts only the entries still in the cache', async () => {
    const out = join(dir, 'out');
    await runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out, workers: 1, cache });
    const { entries } = await cache.scan();
    const size = async (key: string) => (await stat(cache.objectPath(key))).size;
    const byStage: Record<string, { entries: number; bytes: number }> = {};
    let total = 0;
    for (const e of entries) {
      const s = (byStage[e.stage] ??= { entries: 0, bytes: 0 });
      s.entries++;
      s.bytes += await size(e.key);
      total += await size(e.key);
    }
    expect(Object.keys(byStage).sort()).toEqual(['source', 'square', 'total']);
    const gone = entries.find((e) => e.stage === 'square')!;
    const goneSize = await size(gone.key);
    let st = await cache.status();
    expect(st).toMatchObject({ entries: 7, bytes: total, byStage, runs: [{ outDir: out, exists: true, entries: 7 }] });
    await cache.evict(gone.key);
    st = await cache.status();
    expect(st.runs).toEqual([{ outDir: out, exists: true, entries: 6 }]);
    expect(st.bytes).toBe(total - goneSize);
  });

  it('gc --older-than: an entry unused for exactly that long goes, one a millisecond younger stays', async () => {
    const { path, rec } = await file('a.arrow', 'checkpoint bytes');
    await cache.publish(path, rec);
    const t = new Date('2026-06-01T12:00:00.000Z');
    await utimes(cache.entryPath(KEY), t, t);
    const hour = 3_600_000;
    expect(await cache.gc({ olderThanMs: hour, now: t.getTime() + hour - 1 })).toMatchObject({ removed: 0, kept: 1 });
    expect(await cache.gc({ olderThanMs: hour, now: t.getTime() + hour })).toMatchObject({ removed: 1, kept: 0, bytes: 16, freed: 0 });
  });

  it('gc alongside another gc: a leftover or registration the other removed first is no error', async () => {
    const orphan = join(cache.dir, 'objects', 'e3', `${'e3'.repeat(32)}.arrow`);
    await mkdir(dirname(orphan), { recursive: true });
    await writeFile(orphan, 'y');
    await cache.registerRun(join(dir, 'gone'));
    const registration = join(cache.dir, 'runs', `${sha256(join(dir, 'gone')).slice(0, 24)}.json`);
    for (const f of [orphan, registration]) fs.before.push({ op: 'rm', hit: (p) => p === f, run: () => unlink(f) });
    expect(await cache.gc()).toMatchObject({ leftovers: 1, forgotten: 1 });
    expect([existsSync(orphan), existsSync(registration)]).toEqual([false, false]);
  });
});
