// The end of a run on its own (pipeline/finish.ts), on hand-made plans: what pruning removes and keeps, when the
// manifest is rewritten, which finalizers are due and what they are given. Whole runs: runner.test.ts,
// finalize.test.ts, rundir.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { dueFinalizers, finish, removeLeftovers, runFinalizers } from '../../pipeline/finish.ts';
import { markWriting, readManifest, readStageRecords, writeRecord, writingMarks, type ShardRecord } from '../../pipeline/manifest.ts';
import type { Plan, PlannedShard, StagePlan } from '../../pipeline/plan.ts';
import type { ProgressEvent } from '../../pipeline/progress.ts';
import { metaDir, recordDir, stageDir, writingDir } from '../../pipeline/rundir.ts';
import type { FinalizeContext, Finalizer } from '../../pipeline/stage.ts';
import { shardPath, writeShard } from '../../pipeline/store.ts';
import { cleanup, tempDir } from './helpers.ts';

let out: string;
beforeEach(async () => (out = await tempDir()));
afterEach(() => cleanup(out));

/** Writes a real checkpoint and its record for stage/shard; returns the record. */
async function done(stage: string, shard: string): Promise<ShardRecord> {
  const basis = { stage, version: '1', slice: null, params: { id: shard }, inputs: {}, upstream: {} };
  const w = await writeShard(out, { stage, shard, key: `k-${shard}`, version: '1', params: basis.params }, tableFromArrays({ v: Float64Array.from([1, 2]) }));
  const rec: ShardRecord = { stage, shard, key: `k-${shard}`, sha256: w.sha256, rows: w.rows, bytes: w.bytes, seconds: 0, finishedAt: '', params: basis.params, file: w.file, basis };
  await writeRecord(out, rec);
  return rec;
}
const planned = (stage: string, id: string, status: PlannedShard['status'], record?: ShardRecord): PlannedShard => ({
  stage, shard: { id, params: { id } }, key: `k-${id}`, basis: { stage, version: '1', slice: null, params: { id }, inputs: {}, upstream: {} },
  status, reasons: [], record, run: false, forced: false, fresh: false,
} as PlannedShard);
const stagePlan = (name: string, shards: PlannedShard[], selected = true): StagePlan => ({
  stage: { name, description: '', version: '1', upstream: [], configSlice: () => null, plan: () => [], run: async () => tableFromArrays({}) },
  shards, selected, inputs: {}, slice: null,
});
const plan = (stages: StagePlan[]): Plan => ({ outDir: out, stages, toRun: 0, total: stages.reduce((a, s) => a + s.shards.length, 0) });

describe('finish: pruning and the manifest', () => {
  it('removes records and files of shards the plan no longer has, and unrecorded writes; keeps the planned', async () => {
    const a0 = await done('st', 'a-0');
    await done('st', 'old');
    await markWriting(out, 'st', 'a-0'); // its record exists: the file is the planned shard's, kept
    await markWriting(out, 'st', 'half'); // killed between file and record
    await writeFile(shardPath(out, 'st', 'half'), 'partial');
    await writeFile(join(stageDir(out, 'st'), 'mine.txt'), 'user');
    const m = await finish(plan([stagePlan('st', [planned('st', 'a-0', 'done', a0)])]), out, false);
    expect([...(await readStageRecords(out, 'st')).keys()]).toEqual(['a-0']);
    expect((await readdir(stageDir(out, 'st'))).sort()).toEqual(['a-0.arrow', 'mine.txt']);
    expect(await writingMarks(out, 'st')).toEqual([]);
    expect(m.stages).toEqual({ st: [expect.objectContaining({ shard: 'a-0', key: 'k-a-0' })] });
    expect(await readManifest(out)).toEqual(m);
  });

  it('a planned shard without a record loses an unrecorded write; nothing is pruned unless pruning, selected and all done', async () => {
    await done('st', 'old');
    await markWriting(out, 'st', 'a-0');
    await writeFile(shardPath(out, 'st', 'a-0'), 'partial');
    const p = (status: PlannedShard['status'], selected = true) => plan([stagePlan('st', [planned('st', 'a-0', status)], selected)]);
    const mixed = plan([stagePlan('st', [planned('st', 'a-0', 'done'), planned('st', 'a-1', 'pending')])]);
    for (const [pl, prune] of [[p('pending'), true], [p('done', false), true], [p('done'), false], [mixed, true]] as const) {
      await finish(pl, out, true, prune);
      expect(existsSync(shardPath(out, 'st', 'old'))).toBe(true);
      expect(await writingMarks(out, 'st')).toEqual(['a-0']);
    }
    const m = await finish(p('done'), out, true);
    expect(existsSync(shardPath(out, 'st', 'a-0'))).toBe(false);
    expect(existsSync(shardPath(out, 'st', 'old'))).toBe(false);
    expect(await writingMarks(out, 'st')).toEqual([]);
    expect(m.stages).toEqual({ st: [] }); // a done shard without a record is not listed
  });

  it('a record whose file is gone, a mark whose file never appeared: pruned without error; stale shards not listed', async () => {
    await done('st', 'old');
    await rm(shardPath(out, 'st', 'old'));
    await markWriting(out, 'st', 'never'); // killed before its temp file was renamed into place
    const stale = await done('up', 'u');
    const m = await finish(plan([stagePlan('st', [planned('st', 'a-0', 'done'), planned('st', 'a-1', 'done')]), stagePlan('up', [planned('up', 'u', 'stale', stale)], false)]), out, true);
    expect([...(await readStageRecords(out, 'st')).keys()]).toEqual([]);
    expect(await writingMarks(out, 'st')).toEqual([]);
    expect(m.stages).toEqual({ st: [], up: [] });
  });

  it('the manifest is kept when nothing ran and nothing was pruned, rewritten otherwise or when missing', async () => {
    const a0 = await done('st', 'a-0');
    const pl = plan([stagePlan('st', [planned('st', 'a-0', 'done', a0)])]);
    const first = await finish(pl, out, false);
    const stamp = { ...first, generatedAt: 'kept' };
    await writeFile(join(out, 'manifest.json'), JSON.stringify(stamp));
    expect((await finish(pl, out, false)).generatedAt).toBe('kept');
    expect((await finish(pl, out, true)).generatedAt).not.toBe('kept');
    await writeFile(join(out, 'manifest.json'), JSON.stringify(stamp));
    await done('st', 'old');
    expect((await finish(pl, out, false)).generatedAt).not.toBe('kept'); // pruned something
  });
});

describe('finalizers', () => {
  const fin = (name: string, needs: string[], run: Finalizer['run'] = async () => {}): Finalizer => ({ name, needs, run });

  it('due when every needed stage is planned with shards, all done, and one of them selected', () => {
    const d = (id: string) => planned('x', id, 'done');
    const pl = plan([stagePlan('x', [d('1'), d('2')]), stagePlan('y', [planned('y', '1', 'done')], false), stagePlan('e', []), stagePlan('p', [d('1'), planned('p', '2', 'pending')])]);
    const names = (fs: Finalizer[]) => dueFinalizers(pl, fs).map((f) => f.name);
    expect(names([fin('x', ['x']), fin('xy', ['x', 'y']), fin('y', ['y']), fin('e', ['e']), fin('p', ['p']), fin('gone', ['gone']), fin('xgone', ['x', 'gone'])])).toEqual(['x', 'xy']);
  });

  it('get the records, verified reads, changed, writeFile inside the directory and a log; nothing when none is due', async () => {
    const a0 = await done('x', 'a-0');
    const pl = plan([stagePlan('x', [planned('x', 'a-0', 'done', a0), planned('x', 'a-1', 'done')]), stagePlan('y', [planned('y', 'b', 'done')]), stagePlan('z', [planned('z', 's', 'stale', a0)], false)]);
    const events: ProgressEvent[] = [];
    const seen: Record<string, unknown>[] = [];
    const probe = fin('probe', ['x'], async (ctx: FinalizeContext) => {
      seen.push({ config: ctx.config, configDir: ctx.configDir, outDir: ctx.outDir, changed: ctx.changed, records: ctx.records });
      expect((await ctx.read('x', 'a-0')).numRows).toBe(2);
      await expect(ctx.read('x', 'a-1')).rejects.toThrow('Finalizer probe read x shard a-1: expected a finished shard of a planned stage');
      await ctx.writeFile('d/f.txt', 'x');
      await expect(ctx.writeFile('../out.txt', 'x')).rejects.toThrow(/^Finalizer probe: expected a path inside/);
      await mkdir(join(out, 'blocker'), { recursive: true });
      await expect(ctx.writeFile('blocker', 'x')).rejects.not.toThrow(/^Finalizer probe/);
      ctx.log('hi');
    });
    const env = (ran: string[]) => ({ experiment: { config: { c: 1 }, configDir: '/c' }, outDir: out, ran: ran.map((s) => planned(s, 'z', 'done')), emit: (e: ProgressEvent) => void events.push(e) });
    await runFinalizers(pl, [probe], env(['y']));
    expect(seen).toEqual([{ config: { c: 1 }, configDir: '/c', outDir: out, changed: false, records: { x: [{ id: 'a-0', params: { id: 'a-0' }, rows: 2, sha256: a0.sha256 }], y: [], z: [] } }]);
    expect(existsSync(join(out, 'd', 'f.txt'))).toBe(true);
    expect(events).toEqual([{ type: 'log', level: 'info', message: 'hi', stage: 'probe' }]);
    await runFinalizers(pl, [probe], env(['y', 'x']));
    expect(seen[1]!.changed).toBe(true);
    let called = false;
    await runFinalizers(pl, [fin('none', ['gone'], async () => void (called = true))], env([]));
    expect(called).toBe(false);
  });
});

describe('removeLeftovers', () => {
  it('removes temp files of killed writers in the output, meta, stage, record and being-written-mark folders, nothing else', async () => {
    // the mark folder: markWriting writes its mark atomically, so a kill -9 mid-mark leaves a temp there (kill.test.ts
    // "killed mid-write of a checkpoint" found one after the rerun)
    const dirs = [out, metaDir(out), stageDir(out, 'st'), recordDir(out, 'st'), writingDir(out, 'st')];
    for (const d of dirs) {
      await mkdir(d, { recursive: true });
      await writeFile(join(d, '.f.123.abcd.revcor-tmp'), 'partial');
      await writeFile(join(d, 'keep.txt'), 'mine');
    }
    await removeLeftovers(out, ['st']);
    for (const d of dirs) expect((await readdir(d)).filter((n) => n.endsWith('revcor-tmp')), d).toEqual([]);
    for (const d of dirs) expect(existsSync(join(d, 'keep.txt'))).toBe(true);
  });
});
