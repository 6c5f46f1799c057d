import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdir, readdir, readFile, readlink, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { fsyncDir, removeTempFiles, TEMP_SUFFIX, writeFileAtomic } from '../../pipeline/atomic.ts';
import { CheckpointError, OutputError } from '../../pipeline/errors.ts';
import { checkShard, readArrowFile, readShardVerified, shardPath, VerifiedFiles, writeShard } from '../../pipeline/store.ts';
import { FileHasher, sha256 } from '../../pipeline/cache-key.ts';
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

describe('checkpoint verification', () => {
  const t = () => tableFromArrays({ x: Float64Array.from([1, 2, 3, 4]), y: Int32Array.from([5, 6, 7, 8]) });
  /** `bytes` with one byte in the middle changed: same size, other content. */
  const flipped = (bytes: Buffer) => {
    const b = Buffer.from(bytes);
    b[b.length >> 1] ^= 0xff;
    return b;
  };

  it('a checkpoint is an Arrow IPC file (ARROW1 magic at both ends), readable by readArrowFile with its bytes', async () => {
    const w = await writeShard(dir, stamp, t());
    const bytes = await readFile(w.path);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    expect(bytes.subarray(bytes.length - 6).toString('latin1')).toBe('ARROW1');
    expect(w).toMatchObject({ bytes: bytes.length, rows: 4, sha256: sha256(bytes) });
    const read = await readArrowFile(w.path);
    expect(read.bytes).toEqual(bytes);
    expect(read.table.getChild('y')!.toArray()).toEqual(Int32Array.from([5, 6, 7, 8]));
    expect(read.table.schema.metadata.get('revcor.shard')).toBe('a-0');
  });

  it('readShardVerified hashes an unchanged checkpoint once per process; rewritten in place with its size and mtime kept, it is hashed again and caught', async () => {
    const w = await writeShard(dir, stamp, t());
    const when = new Date('2026-01-02T03:04:05.000Z');
    await utimes(w.path, when, when);
    const memo = new VerifiedFiles();
    for (let i = 0; i < 3; i++) expect((await readShardVerified(dir, record(w), memo)).numRows).toBe(4);
    expect(memo.hashed).toBe(1);
    // other content of the same size, mtime set back (touch -r): only the ctime tells
    const bytes = await readFile(w.path);
    await writeFile(w.path, flipped(bytes));
    await utimes(w.path, when, when);
    expect((await stat(w.path)).mtimeMs).toBe(when.getTime());
    const err = await readShardVerified(dir, record(w), memo).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(memo.hashed).toBe(2);
    // a corrupt read is not remembered as verified: the good bytes back are hashed again, then remembered
    await writeFile(w.path, bytes);
    await readShardVerified(dir, record(w), memo);
    await readShardVerified(dir, record(w), memo);
    expect(memo.hashed).toBe(3);
    // a record with another digest for the same file is not answered from the memo
    const other = await readShardVerified(dir, record({ ...w, sha256: '0'.repeat(64) }), memo).catch((e) => e);
    expect(other).toBeInstanceOf(CheckpointError);
    expect(memo.hashed).toBe(4);
  });

  it('readShardVerified with columns: only those, the file hashed whole once per process; a changed byte of a column not read is caught', async () => {
    const w = await writeShard(dir, stamp, t());
    const when = new Date('2026-01-02T03:04:05.000Z');
    await utimes(w.path, when, when);
    const memo = new VerifiedFiles();
    for (let i = 0; i < 3; i++) {
      const y = await readShardVerified(dir, record(w), memo, { columns: ['y'] });
      expect(y.schema.fields.map((f) => f.name)).toEqual(['y']);
      expect(y.getChild('y')!.toArray()).toEqual(Int32Array.from([5, 6, 7, 8]));
      expect(y.schema.metadata.get('revcor.shard')).toBe('a-0');
    }
    expect(memo.hashed).toBe(1);
    // the last byte of x's values changed in place, mtime set back: y's bytes are the same, the file is not
    const bytes = await readFile(w.path);
    const xAt = bytes.indexOf(Buffer.from(Float64Array.from([1, 2, 3, 4]).buffer));
    expect(xAt).toBeGreaterThan(0);
    const changed = Buffer.from(bytes);
    changed[xAt + 31] ^= 0x01;
    await writeFile(w.path, changed);
    await utimes(w.path, when, when);
    const err = await readShardVerified(dir, record(w), memo, { columns: ['y'] }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toContain(`is corrupt: expected ${w.bytes} bytes with sha256 ${w.sha256}, got ${w.bytes} bytes`);
    expect(memo.hashed).toBe(2);
    // a column the file lacks: the whole table, for the caller's own error
    await writeFile(w.path, bytes);
    const all = await readShardVerified(dir, record(w), memo, { columns: ['y', 'z'] });
    expect(all.schema.fields.map((f) => f.name)).toEqual(['x', 'y']);
  });

  it('readShardVerified: other content of the same size, a record lying about the size, a missing file: CheckpointError with the hint', async () => {
    const w = await writeShard(dir, stamp, t());
    const bytes = await readFile(w.path);
    const hint = 'Run the same command again: the shard will be recomputed.';
    // the record's size is right, only the digest differs
    await writeFile(w.path, flipped(bytes));
    const same = await readShardVerified(dir, record(w)).catch((e) => e);
    expect(same).toBeInstanceOf(CheckpointError);
    expect(same.message).toBe(
      `Checkpoint ${w.path} is corrupt: expected ${w.bytes} bytes with sha256 ${w.sha256}, got ${w.bytes} bytes with sha256 ${sha256(flipped(bytes))}`,
    );
    expect(same.hint).toBe(hint);
    // the digest is right, only the recorded size differs
    await writeFile(w.path, bytes);
    const lying = await readShardVerified(dir, record({ ...w, bytes: w.bytes + 1 })).catch((e) => e);
    expect(lying).toBeInstanceOf(CheckpointError);
    expect(lying.message).toBe(
      `Checkpoint ${w.path} is corrupt: expected ${w.bytes + 1} bytes with sha256 ${w.sha256}, got ${w.bytes} bytes with sha256 ${w.sha256}`,
    );
    await rm(w.path);
    const missing = await readShardVerified(dir, record(w)).catch((e) => e);
    expect(missing).toBeInstanceOf(CheckpointError);
    expect(missing.message).toBe(`Checkpoint ${w.path} is missing: expected the file recorded in the manifest, got ENOENT`);
    expect(missing.hint).toBe(hint);
  });

  it('checkShard: undefined for a matching file; missing, other size, other content each named', async () => {
    const w = await writeShard(dir, stamp, t());
    const bytes = await readFile(w.path);
    const hasher = new FileHasher();
    expect(await checkShard(dir, record(w), hasher)).toBeUndefined();
    await writeFile(w.path, bytes.subarray(0, bytes.length - 8));
    expect(await checkShard(dir, record(w), hasher)).toBe(`checkpoint corrupt: expected ${w.bytes} bytes, got ${w.bytes - 8}`);
    await writeFile(w.path, flipped(bytes));
    expect(await checkShard(dir, record(w), hasher)).toBe(
      `checkpoint corrupt: expected sha256 ${w.sha256.slice(0, 12)}…, got ${sha256(flipped(bytes)).slice(0, 12)}…`,
    );
    await writeFile(w.path, bytes);
    expect(await checkShard(dir, record(w), hasher)).toBeUndefined();
    await rm(w.path);
    expect(await checkShard(dir, record(w), hasher)).toBe('checkpoint file missing');
  });

  it('checkShard: the size decides before any hashing, and the hasher names the file a checkpoint', async () => {
    const w = await writeShard(dir, stamp, t());
    // a folder where the checkpoint should be: other size → no hash asked; same size → the hasher refuses it
    await rm(w.path);
    await mkdir(w.path);
    const size = (await stat(w.path)).size;
    expect(await checkShard(dir, record(w), new FileHasher())).toBe(`checkpoint corrupt: expected ${w.bytes} bytes, got ${size}`);
    await expect(checkShard(dir, record({ ...w, bytes: size }), new FileHasher())).rejects.toThrow(
      `Expected checkpoint ${w.path} to be a file, got a directory or special file`,
    );
  });
});
