import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { fsyncDir, removeTempFiles, TEMP_SUFFIX, writeFileAtomic } from '../../pipeline/atomic.ts';
import { CheckpointError, OutputError } from '../../pipeline/errors.ts';
import { readShardVerified, shardPath, writeShard } from '../../pipeline/store.ts';
import type { ShardRecord } from '../../pipeline/manifest.ts';
import { cleanup, tempDir } from './helpers.ts';

// File-system conditions a test cannot make for real as root (a full disk, a read-only mount, a quota): `open` of a
// path that a test names here fails with that errno; every other call is the real node:fs/promises.
const faults = vi.hoisted(() => new Map<string, (path: string) => boolean>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
    for (const [code, hit] of faults) {
      if (hit(String(path))) throw Object.assign(new Error(`${code}: simulated, open '${String(path)}'`), { code, syscall: 'open', path: String(path) });
    }
    return (real.open as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof real.open;
  return { ...real, open, default: { ...real, open } };
});

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(async () => {
  faults.clear();
  await cleanup(dir);
});

/** Open file descriptors of this process on `path`. */
async function fdsOn(path: string): Promise<number> {
  const fds = await readdir('/proc/self/fd');
  return (await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')))).filter((p) => p === path).length;
}

const stamp = { stage: 'st', shard: 'a-0', key: 'k'.repeat(64), version: '3', params: { b: 2, a: 1 } };
const record = (w: { sha256: string; bytes: number; rows: number; file: string }): ShardRecord => ({
  ...w, stage: 'st', shard: 'a-0', key: stamp.key, seconds: 0, finishedAt: '', params: stamp.params,
  basis: { stage: 'st', version: '3', slice: null, params: stamp.params, inputs: {}, upstream: {} },
});

describe('atomic writes', () => {
  it('a writer dying mid-write leaves the old file intact and no partial target; leftovers are cleaned', async () => {
    const target = join(dir, 'x', 'f.bin');
    await writeFileAtomic(target, 'old content');
    let seenMidWrite = '';
    const dying = writeFileAtomic(target, 'N'.repeat(10_000), async (phase) => {
      if (phase !== 'mid-write') return;
      seenMidWrite = await readFile(target, 'utf8');
      throw new Error('killed');
    });
    await expect(dying).rejects.toThrow('killed');
    expect(seenMidWrite).toBe('old content');
    expect(await readFile(target, 'utf8')).toBe('old content');
    expect(await readdir(join(dir, 'x'))).toEqual(['f.bin']);
    // a SIGKILLed writer cannot clean up: simulate its leftover, then the next run removes it
    await writeFile(join(dir, 'x', '.f.bin.123.abcd.revcor-tmp'), 'partial');
    expect(await removeTempFiles(join(dir, 'x'))).toBe(1);
    expect(await readdir(join(dir, 'x'))).toEqual(['f.bin']);
  });

  it('the hook sees the first half written under the temp name, then the whole temp file before the rename', async () => {
    const target = join(dir, 'h.bin');
    const data = Buffer.alloc(10_001, 7);
    const seen: [string, number][] = [];
    await writeFileAtomic(target, data, async (phase, t) => {
      expect(t).toBe(target);
      const tmp = (await readdir(dir)).filter((n) => n.endsWith(TEMP_SUFFIX));
      expect(tmp).toHaveLength(1);
      seen.push([phase, (await stat(join(dir, tmp[0]!))).size]);
    });
    expect(seen).toEqual([['mid-write', 5000], ['before-rename', 10_001]]);
    expect(await readFile(target)).toEqual(data);
  });

  it('a temp file gone before the rename: the rename’s own error, nothing left behind', async () => {
    const target = join(dir, 'gone.bin');
    const err = await writeFileAtomic(target, 'abc', async (phase) => {
      if (phase === 'before-rename') for (const n of await readdir(dir)) await rm(join(dir, n));
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'rename' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a full disk, a quota, a read-only or forbidden file system: an OutputError saying which, naming the file', async () => {
    const meanings: Record<string, string> = {
      ENOSPC: 'no space left on the device',
      EDQUOT: 'the disk quota is exhausted',
      EROFS: 'the file system is read-only',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EFBIG: 'the file is too large for the file system',
    };
    for (const [code, meaning] of Object.entries(meanings)) {
      faults.clear();
      faults.set(code, (p) => p.endsWith(TEMP_SUFFIX));
      const target = join(dir, 'sub', `${code}.bin`);
      const err = await writeFileAtomic(target, 'abc').catch((e) => e);
      expect(err, code).toBeInstanceOf(OutputError);
      expect(err.message).toBe(`Cannot write ${target}: expected a writable file system with free space, got ${code} (${meaning})`);
      expect(err.hint).toBe('Nothing finished was lost: free space (or fix the permissions) and run the same command again.');
      expect(err.cause.code).toBe(code);
    }
    // any other failure is not the user's: it propagates unchanged
    faults.clear();
    faults.set('EIO', (p) => p.endsWith(TEMP_SUFFIX));
    const io = await writeFileAtomic(join(dir, 'io.bin'), 'abc').catch((e) => e);
    expect(io).not.toBeInstanceOf(OutputError);
    expect(io).toMatchObject({ code: 'EIO', syscall: 'open' });
    expect(existsSync(join(dir, 'io.bin'))).toBe(false);
  });

  it('fsyncDir: a folder that cannot be opened is not an error; an opened one is closed again', async () => {
    faults.set('EISDIR', (p) => p === dir);
    await expect(fsyncDir(dir)).resolves.toBeUndefined();
    await writeFileAtomic(join(dir, 'f.bin'), 'abc'); // its folder fsync fails the same way: the write still succeeds
    expect(await readFile(join(dir, 'f.bin'), 'utf8')).toBe('abc');
    faults.clear();
    const before = await fdsOn(dir);
    for (let i = 0; i < 5; i++) await fsyncDir(dir);
    expect(await fdsOn(dir)).toBe(before);
  });

  it('a new file does not appear before the rename', async () => {
    const target = join(dir, 'g.bin');
    await writeFileAtomic(target, 'abc', async () => expect(existsSync(target)).toBe(false));
    expect(await readFile(target, 'utf8')).toBe('abc');
  });
});

describe('checkpoint store', () => {
  it('round-trips a table with revcor metadata and verifies the digest on read', async () => {
    const t = tableFromArrays({ x: Float64Array.from([1, 2, 3]) });
    t.schema.metadata.set('mine', 'kept');
    const w = await writeShard(dir, stamp, t);
    expect(w.path).toBe(shardPath(dir, 'st', 'a-0'));
    expect(w.file).toBe('st/a-0.arrow');
    const back = await readShardVerified(dir, record(w));
    expect(back.getChild('x')!.toArray()).toEqual(Float64Array.from([1, 2, 3]));
    expect(Object.fromEntries(back.schema.metadata)).toEqual({
      mine: 'kept', 'revcor.stage': 'st', 'revcor.shard': 'a-0', 'revcor.key': stamp.key, 'revcor.version': '3', 'revcor.params': '{"a":1,"b":2}',
    });
    const bytes = await readFile(w.path);
    await writeFile(w.path, bytes.subarray(0, bytes.length - 8));
    const err = await readShardVerified(dir, record(w)).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toContain(`is corrupt: expected ${w.bytes} bytes with sha256 ${w.sha256}, got ${w.bytes - 8} bytes`);
  });
});
