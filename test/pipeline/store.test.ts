import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { removeTempFiles, writeFileAtomic } from '../../pipeline/atomic.ts';
import { CheckpointError } from '../../pipeline/errors.ts';
import { readShardVerified, shardPath, writeShard } from '../../pipeline/store.ts';
import type { ShardRecord } from '../../pipeline/manifest.ts';
import { cleanup, tempDir } from './helpers.ts';

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(() => cleanup(dir));

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
