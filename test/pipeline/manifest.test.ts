// The manifest's files on their own: shard records (a damaged one means "not done"), the marks of checkpoints being
// written, and the aggregated manifest. Their part in whole runs: test/pipeline/runner.test.ts, rundir.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  clearWriting,
  deleteRecord,
  markWriting,
  readCurrentManifest,
  readManifest,
  readRecord,
  readStageRecords,
  recordDir,
  recordPath,
  writeManifest,
  writeRecord,
  writingMarks,
  type ShardRecord,
} from '../../pipeline/manifest.ts';
import { manifestFile, writingDir } from '../../pipeline/rundir.ts';
import { cleanup, tempDir } from './helpers.ts';

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(() => cleanup(dir));

const rec = (shard: string, over: Partial<ShardRecord> = {}): ShardRecord => ({
  stage: 'st', shard, key: `k-${shard}`, sha256: `s-${shard}`, rows: 3, bytes: 10, seconds: 1.5, finishedAt: '2026-01-01T00:00:00.000Z',
  params: { n: 1 }, file: `st/${shard}.arrow`, basis: { stage: 'st', version: '1', slice: null, params: { n: 1 }, inputs: {}, upstream: {} },
  ...over,
});

describe('shard records', () => {
  it('round-trip; a record without a string key or sha256 or without its basis, or not JSON, reads as not done', async () => {
    await writeRecord(dir, rec('a-0'));
    expect(await readRecord(dir, 'st', 'a-0')).toEqual(rec('a-0'));
    expect(await readRecord(dir, 'st', 'nothing')).toBeUndefined();
    const { basis: _b, ...noBasis } = rec('b-0');
    const damaged: [string, unknown][] = [
      ['no-key', { ...rec('no-key'), key: undefined }],
      ['num-key', { ...rec('num-key'), key: 7 }],
      ['no-sha', { ...rec('no-sha'), sha256: undefined }],
      ['num-sha', { ...rec('num-sha'), sha256: 7 }],
      ['no-basis', noBasis],
    ];
    for (const [shard, body] of damaged) {
      await writeFile(recordPath(dir, 'st', shard), JSON.stringify(body));
      expect(await readRecord(dir, 'st', shard), shard).toBeUndefined();
    }
    await writeFile(recordPath(dir, 'st', 'cut'), JSON.stringify(rec('cut')).slice(0, 40));
    expect(await readRecord(dir, 'st', 'cut')).toBeUndefined();
  });

  it('readStageRecords: every good record by its shard, damaged ones left out; a stage without records is empty', async () => {
    expect(await readStageRecords(dir, 'st')).toEqual(new Map());
    await writeRecord(dir, rec('a-0'));
    await writeRecord(dir, rec('a-1'));
    await writeFile(recordPath(dir, 'st', 'bad'), '{');
    await writeFile(recordPath(dir, 'st', 'nobasis'), JSON.stringify({ ...rec('nobasis'), basis: null }));
    await writeFile(join(recordDir(dir, 'st'), 'notes.txt'), 'mine');
    const got = await readStageRecords(dir, 'st');
    expect([...got.keys()].sort()).toEqual(['a-0', 'a-1']);
    expect(got.get('a-1')).toEqual(rec('a-1'));
  });

  it('deleteRecord and clearWriting of what is not there are no errors', async () => {
    await expect(deleteRecord(dir, 'st', 'a-0')).resolves.toBeUndefined();
    await writeRecord(dir, rec('a-0'));
    await deleteRecord(dir, 'st', 'a-0');
    expect(existsSync(recordPath(dir, 'st', 'a-0'))).toBe(false);
    await expect(deleteRecord(dir, 'st', 'a-0')).resolves.toBeUndefined();
    await expect(clearWriting(dir, 'st', 'a-0')).resolves.toBeUndefined();
  });
});

describe('marks of checkpoints being written', () => {
  it('marked shards are listed until cleared; a stage without marks, or a writer’s temp file, lists nothing', async () => {
    expect(await writingMarks(dir, 'st')).toEqual([]);
    await markWriting(dir, 'st', 'a-0');
    await markWriting(dir, 'st', 'a-1');
    // a mark's own atomic write killed before its rename leaves a hidden temp file: not a mark
    await writeFile(join(writingDir(dir, 'st'), '.a-2.123.abcd.revcor-tmp'), '');
    expect((await writingMarks(dir, 'st')).sort()).toEqual(['a-0', 'a-1']);
    await clearWriting(dir, 'st', 'a-0');
    expect(await writingMarks(dir, 'st')).toEqual(['a-1']);
    await expect(clearWriting(dir, 'st', 'a-0')).resolves.toBeUndefined();
  });
});

describe('the aggregated manifest', () => {
  it('is written with its format, stages in order and records without basis, as JSON ending in a newline', async () => {
    const records = new Map([['second', [rec('b-0', { stage: 'second' })]], ['first', [rec('a-1'), rec('a-0', { cached: true })]]]);
    const m = await writeManifest(dir, records);
    expect(m.format).toBe('revcor-manifest/1');
    expect(Date.parse(m.generatedAt)).toBeGreaterThan(0);
    expect(Object.keys(m.stages)).toEqual(['second', 'first']);
    const { basis: _b, ...a1 } = rec('a-1');
    expect(m.stages.first![0]).toEqual(a1);
    expect(m.stages.first![1]).toMatchObject({ shard: 'a-0', cached: true });
    expect(m.stages.first![1]).not.toHaveProperty('basis');
    expect(await readFile(manifestFile(dir), 'utf8')).toBe(JSON.stringify(m, null, 1) + '\n');
    expect(await readManifest(dir)).toEqual(m);
  });

  it('reads as null when absent, not JSON, JSON null, or without a stages object', async () => {
    expect(await readManifest(dir)).toBeNull();
    await mkdir(dir, { recursive: true });
    for (const text of ['{"format":', 'null', '{"format":"revcor-manifest/1"}', '{"stages":"none"}', '7']) {
      await writeFile(manifestFile(dir), text);
      expect(await readManifest(dir), text).toBeNull();
    }
  });
});

describe('the manifest as readers see it during or after an unfinished rerun', () => {
  it('a listed shard recomputed since the manifest was written reads with its new record; shards the manifest does not list stay out', async () => {
    // a rerun (new stage version) replaces a checkpoint and its record first and rewrites the manifest only at its end:
    // a reader of the old manifest saw the new file with the old sha256 and called it corrupt
    await writeManifest(dir, new Map([['st', [rec('a-0'), rec('a-1')]]]));
    await writeRecord(dir, rec('a-0'));
    await writeRecord(dir, rec('a-1', { sha256: 'new-a-1', bytes: 12, key: 'k2-a-1' }));
    await writeRecord(dir, rec('b-0')); // a shard of a new plan, not finished as a whole: not listed
    const m = (await readCurrentManifest(dir))!;
    expect(m.stages.st!.map((r) => [r.shard, r.sha256, r.bytes, r.key])).toEqual([
      ['a-0', 's-a-0', 10, 'k-a-0'],
      ['a-1', 'new-a-1', 12, 'k2-a-1'],
    ]);
    expect(m.stages.st![1]).not.toHaveProperty('basis');
    expect(m.generatedAt).toBe((await readManifest(dir))!.generatedAt);
  });

  it('a shard whose record is gone (deleted as untrusted) is still listed as the manifest has it; no manifest reads as null', async () => {
    expect(await readCurrentManifest(dir)).toBeNull();
    await writeManifest(dir, new Map([['st', [rec('a-0')]], ['other', [rec('c-0', { stage: 'other' })]]]));
    const m = (await readCurrentManifest(dir))!;
    expect(Object.keys(m.stages)).toEqual(['st', 'other']);
    expect(m.stages.st![0]).toMatchObject({ shard: 'a-0', sha256: 's-a-0' });
  });
});
