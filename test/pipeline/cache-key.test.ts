import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { canonicalJson, FileHasher, pickConfig, sha256, shardKey, type KeyBasis } from '../../pipeline/cache-key.ts';
import { InputError } from '../../pipeline/errors.ts';
import { cleanup, tempDir } from './helpers.ts';

const basis = (over: Partial<KeyBasis> = {}): KeyBasis => ({
  stage: 's', version: '1', slice: { a: { b: 1 } }, params: { start: 0 }, inputs: {}, upstream: {}, ...over,
});

describe('canonicalJson and shardKey', () => {
  it('is independent of key order, drops undefined, and rejects what JSON cannot hold', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: undefined, b: -0 } })).toBe('{"a":{"b":0,"d":[1,null]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    expect(() => canonicalJson({ a: NaN })).toThrow('Expected a finite number at $.a, got NaN');
    expect(() => canonicalJson({ a: new Map() })).toThrow('Expected plain JSON data at $.a, got Map');
    expect(() => canonicalJson({ f: () => 1 })).toThrow('Expected JSON-serialisable data at $.f, got function');
  });

  it('keeps null, booleans and prototype-less objects; names the path of what it rejects in arrays and odd objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { z: 1, a: false });
    expect(canonicalJson({ n: null, t: true, f: false, bare })).toBe('{"bare":{"a":false,"z":1},"f":false,"n":null,"t":true}');
    expect(() => canonicalJson({ a: [1, Infinity] })).toThrow('Expected a finite number at $.a[1], got Infinity');
    // an object whose prototype has no constructor: named as "object", not a TypeError
    expect(() => canonicalJson({ x: Object.create(Object.create(null)) })).toThrow('Expected plain JSON data at $.x, got object');
    expect(pickConfig({ a: null }, ['a.b.c'])).toEqual({ a: { b: { c: undefined } } });
  });

  it('changes with every part of the basis and only with it', () => {
    const k = shardKey(basis());
    expect(shardKey(basis({ slice: { a: { b: 1 } } }))).toBe(k);
    const variants = [
      basis({ version: '2' }), basis({ slice: { a: { b: 2 } } }), basis({ params: { start: 1 } }), basis({ stage: 't' }),
      basis({ inputs: { '/w.h5': 'aa' } }), basis({ upstream: { u: { x: 'k1' } } }),
    ];
    const keys = new Set(variants.map(shardKey));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(k)).toBe(false);
    expect(shardKey(basis({ upstream: { u: { x: 'k1' } } }))).not.toBe(shardKey(basis({ upstream: { u: { x: 'k2' } } })));
  });

  it('pickConfig nests picked paths so diffs name config keys', () => {
    expect(pickConfig({ awc: { shuffles: 20, top: 4 }, stimuli: { noise: { seed: 1, sigma: 48 } } }, ['awc', 'stimuli.noise.seed'])).toEqual({
      awc: { shuffles: 20, top: 4 },
      stimuli: { noise: { seed: 1 } },
    });
  });
});

describe('FileHasher', () => {
  let dir: string;
  beforeEach(async () => (dir = await tempDir()));
  afterEach(() => cleanup(dir));

  it('hashes content, memoises by stat in <out>/.revcor/file-hashes.json, and notices same-size replacement', async () => {
    const f = join(dir, 'w.bin');
    await writeFile(f, 'hello');
    const h = await FileHasher.open(dir);
    expect(await h.hash(f)).toBe(sha256('hello'));
    await h.save();
    const memo = JSON.parse(await readFile(join(dir, '.revcor', 'file-hashes.json'), 'utf8'));
    expect(memo[f].sha256).toBe(sha256('hello'));
    // A poisoned memo with matching stat is trusted (that is the point of the memo) ...
    memo[f].sha256 = 'from-memo';
    await writeFile(join(dir, '.revcor', 'file-hashes.json'), JSON.stringify(memo));
    expect(await (await FileHasher.open(dir)).hash(f)).toBe('from-memo');
    // ... but replacing the file at the same path (same size) changes its stat, so content decides again.
    await writeFile(join(dir, 'new.bin'), 'jello');
    await rename(join(dir, 'new.bin'), f);
    expect(await (await FileHasher.open(dir)).hash(f)).toBe(sha256('jello'));
    await writeFile(f, 'hellp');
    expect(await (await FileHasher.open(dir)).hash(f)).toBe(sha256('hellp'));
  });

  it('during a run, recorded digests reach the memo at most every 30 s, so `revcor status` meanwhile finds the checkpoints', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const memo = async () => Object.keys(JSON.parse(await readFile(join(dir, '.revcor', 'file-hashes.json'), 'utf8')));
      const files = ['a', 'b', 'c'].map((n) => join(dir, `${n}.arrow`));
      for (const f of files) await writeFile(f, f);
      const h = await FileHasher.open(dir);
      await h.remember(files[0], sha256(files[0])); // the first record saves
      expect(await memo()).toEqual([files[0]]);
      vi.advanceTimersByTime(29_000);
      await h.remember(files[1], sha256(files[1])); // too soon after the last save
      expect(await memo()).toEqual([files[0]]);
      vi.advanceTimersByTime(2_000);
      await h.remember(files[2], sha256(files[2]));
      expect((await memo()).sort()).toEqual(files);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a file given other content with the same size and mtime (`touch -r`) is rehashed: ctime and inode decide', async () => {
    const f = join(dir, 'weights.h5');
    const ref = join(dir, 'ref');
    await writeFile(f, 'AAAA');
    const h = await FileHasher.open(dir);
    expect(await h.hash(f)).toBe(sha256('AAAA'));
    await h.save();
    const before = await stat(f);
    await writeFile(ref, '');
    execFileSync('touch', ['-r', f, ref]); // ref keeps f's timestamps
    await ticked(before.ctimeMs, dir);
    // rewritten in place (same inode), then its mtime put back
    await writeFile(f, 'BBBB');
    execFileSync('touch', ['-r', ref, f]);
    const inPlace = await stat(f);
    expect([inPlace.size, inPlace.mtimeMs, inPlace.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
    expect(inPlace.ctimeMs).not.toBe(before.ctimeMs);
    expect(await (await FileHasher.open(dir)).hash(f)).toBe(sha256('BBBB'));
    // replaced by another file (new inode) of the same size, its mtime set to the old one
    const h2 = await FileHasher.open(dir);
    expect(await h2.hash(f)).toBe(sha256('BBBB'));
    await h2.save();
    await writeFile(join(dir, 'new.h5'), 'CCCC');
    execFileSync('touch', ['-r', ref, join(dir, 'new.h5')]);
    await rename(join(dir, 'new.h5'), f);
    const replaced = await stat(f);
    expect([replaced.size, replaced.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(await (await FileHasher.open(dir)).hash(f)).toBe(sha256('CCCC'));
  });

  /** The memo file of `dir`, with the entry of `f` set to its stat now and `over` (a poisoned sha256 by default). */
  async function memoWith(f: string, over: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<void> {
    const st = await stat(f);
    const entry = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: 'from-memo', ...over };
    await mkdir(join(dir, '.revcor'), { recursive: true });
    await writeFile(join(dir, '.revcor', 'file-hashes.json'), JSON.stringify({ ...extra, [f]: entry }));
  }

  it('a memo entry is used only when size, mtime, ctime and inode all match, and only with a sha256', async () => {
    const f = join(dir, 'w.bin');
    await writeFile(f, 'hello');
    await memoWith(f);
    expect(await (await FileHasher.open(dir)).hash(f)).toBe('from-memo');
    const st = await stat(f);
    for (const over of [{ size: st.size + 1 }, { mtimeMs: st.mtimeMs + 1 }, { ctimeMs: st.ctimeMs + 1 }, { ino: st.ino + 1 }, { sha256: undefined }]) {
      await memoWith(f, over);
      expect(await (await FileHasher.open(dir)).hash(f), JSON.stringify(over)).toBe(sha256('hello'));
    }
    // a damaged entry beside it does not discard the good one
    await memoWith(f, {}, { '/elsewhere': null });
    expect(await (await FileHasher.open(dir)).hash(f)).toBe('from-memo');
  });

  it('forget drops an entry (the file is read again) and saves that; forgetting nothing changes nothing', async () => {
    const f = join(dir, 'w.bin');
    await writeFile(f, 'hello');
    await memoWith(f);
    const memoFile = join(dir, '.revcor', 'file-hashes.json');
    const h = await FileHasher.open(dir);
    h.forget(join(dir, 'never-hashed'));
    await rm(memoFile);
    await h.save();
    expect(existsSync(memoFile)).toBe(false);
    await memoWith(f);
    const h2 = await FileHasher.open(dir);
    h2.forget(f);
    expect(await h2.hash(f)).toBe(sha256('hello'));
    await memoWith(f);
    const h3 = await FileHasher.open(dir);
    h3.forget(f);
    await h3.save();
    expect(JSON.parse(await readFile(memoFile, 'utf8'))).toEqual({});
  });

  it('save writes only a changed memo, drops files that are gone, and needs no memo file', async () => {
    const [a, b] = [join(dir, 'a.bin'), join(dir, 'b.bin')];
    await writeFile(a, 'A');
    await writeFile(b, 'B');
    const memoFile = join(dir, '.revcor', 'file-hashes.json');
    const fresh = await FileHasher.open(dir);
    await fresh.save();
    expect(existsSync(memoFile)).toBe(false); // nothing hashed: nothing written
    const h = await FileHasher.open(dir);
    await h.hash(a);
    await h.hash(b);
    await rm(b);
    await h.save();
    expect(Object.keys(JSON.parse(await readFile(memoFile, 'utf8')))).toEqual([a]);
    await rm(memoFile);
    await h.save(); // saved already, unchanged since
    expect(existsSync(memoFile)).toBe(false);
    const memoless = new FileHasher();
    expect(await memoless.hash(a)).toBe(sha256('A'));
    await expect(memoless.save()).resolves.toBeUndefined();
  });

  it('names a missing input file by its default role, and refuses a directory', async () => {
    const h = await FileHasher.open();
    await expect(h.hash(join(dir, 'nope.h5'))).rejects.toThrow(`Expected input file ${join(dir, 'nope.h5')} to exist, got ENOENT`);
    const err = await h.hash(dir).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`Expected input file ${dir} to be a file, got a directory or special file`);
  });

  it('names a missing input file', async () => {
    const h = await FileHasher.open();
    const err = await h.hash(join(dir, 'nope.h5'), 'input file of stage activations:').catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`Expected input file of stage activations: ${join(dir, 'nope.h5')} to exist, got ENOENT`);
  });
});

/** Waits (polling a probe file, at most 10 s) until a file written now gets a ctime other than `ctimeMs`. */
async function ticked(ctimeMs: number, dir: string): Promise<void> {
  const probe = join(dir, '.tick');
  for (const t0 = Date.now(); Date.now() - t0 < 10_000; ) {
    await writeFile(probe, '');
    if ((await stat(probe)).ctimeMs !== ctimeMs) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error('the file system clock did not move in 10 s');
}
