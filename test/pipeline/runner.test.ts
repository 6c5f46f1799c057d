import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Experiment } from '../../config/schema.ts';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { runPipeline, ShardFailure, type RunOptions } from '../../pipeline/runner.ts';
import { planRun } from '../../pipeline/plan.ts';
import { CheckpointError, InterruptedError, RevcorError } from '../../pipeline/errors.ts';
import { MANIFEST_FORMAT, type Manifest } from '../../pipeline/manifest.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { ProgressEvent } from '../../pipeline/progress.ts';
import { runCounts, toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let base: string;
let out: string;
beforeEach(async () => {
  base = await tempDir();
  out = join(base, 'out');
  for (const k of Object.keys(runCounts)) delete runCounts[k];
});
afterEach(() => cleanup(base));

const run = (over: Partial<RunOptions> = {}) =>
  runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out, workers: 1, concurrency: 2, resumeCommand: 'revcor run x.yaml', ...over });
const ranIds = (r: Awaited<ReturnType<typeof run>>) => r.ran.map((s) => `${s.stage}/${s.shard.id}`).sort();
const reasonsOf = async (exp = toyExperiment(), stage = 'total') =>
  (await planRun(toyStages(), exp, out)).stages.find((s) => s.stage.name === stage)!.shards.flatMap((s) => s.reasons);

describe('runPipeline: cache keys decide what runs', () => {
  it('first run computes everything, an unchanged rerun does nothing and says so', async () => {
    const first = await run();
    expect(ranIds(first)).toEqual(['source/src-0000-0004', 'source/src-0004-0008', 'source/src-0008-0010', 'square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010', 'total/all']);
    const manifestBefore = await readFile(join(out, 'manifest.json'), 'utf8');
    const mtimes = await Promise.all(['source/src-0000-0004.arrow', 'total/all.arrow'].map(async (f) => (await stat(join(out, f))).mtimeMs));
    const events: string[] = [];
    const again = await run({ reporter: { event: (e) => e.type === 'run-done' && events.push(e.message), close() {} } });
    expect(again.ran).toEqual([]);
    expect(again.upToDate).toBe(true);
    expect(events[0]).toMatch(/^Nothing to do: all 7 shards of 3 stages in .* are up to date\.$/);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);
    expect(await Promise.all(['source/src-0000-0004.arrow', 'total/all.arrow'].map(async (f) => (await stat(join(out, f))).mtimeMs))).toEqual(mtimes);
    expect(runCounts).toEqual({ source: 3, square: 3, total: 1 });
  });

  it('changing a key of the last stage’s slice reruns only that stage', async () => {
    await run();
    const exp = toyExperiment((c) => (c.awc.shuffles = 30));
    expect(await reasonsOf(exp)).toEqual(['config awc.shuffles: 20 → 30']);
    const r = await run({ experiment: exp });
    expect(ranIds(r)).toEqual(['total/all']);
  });

  it('changing a middle stage’s key reruns it and downstream, explaining the upstream cause', async () => {
    await run();
    const exp = toyExperiment((c) => (c.awa.zThreshold = 6));
    expect(await reasonsOf(exp, 'square')).toEqual(Array(3).fill('config awa.zThreshold: 5 → 6'));
    expect(await reasonsOf(exp, 'total')).toEqual(['upstream square changed (config awa.zThreshold: 5 → 6)']);
    const r = await run({ experiment: exp });
    expect(ranIds(r)).toEqual(['square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010', 'total/all']);
  });

  it('changing an upstream parameter reruns from there; code version changes are explained', async () => {
    await run();
    const r = await run({ experiment: toyExperiment((c) => (c.stimuli.noise.seed = 2)) });
    expect(r.ran).toHaveLength(7);
    const stages = toyStages();
    stages[1] = { ...stages[1], version: '2' };
    const plan = await planRun(stages, toyExperiment((c) => (c.stimuli.noise.seed = 2)), out);
    expect(plan.stages[1].shards[0].reasons).toEqual(['code version 1 → 2']);
    expect(plan.stages[0].shards.every((s) => s.status === 'done')).toBe(true);
  });

  it('an input file replaced at the same path (content, not name) reruns what depends on it', async () => {
    const weights = join(base, 'weights.bin');
    await writeFile(weights, 'AAAA');
    const exp = toyExperiment((c) => (c.model.weights = weights));
    await run({ experiment: exp });
    await writeFile(weights, 'AAAA'); // same content rewritten: still done
    expect((await run({ experiment: exp })).ran).toEqual([]);
    await writeFile(weights, 'BBBB'); // same size, same path, new content
    expect(await reasonsOf(exp, 'source')).toEqual(Array(3).fill(`input file ${weights} changed`));
    expect((await run({ experiment: exp })).ran).toHaveLength(7);
    const memo = JSON.parse(await readFile(join(out, '.revcor', 'file-hashes.json'), 'utf8'));
    expect(Object.keys(memo)).toContain(weights);
  });

  it('saves the input files\' digests once planned, so `revcor status` during a long run does not hash the inputs again', async () => {
    const weights = join(base, 'weights.bin');
    await writeFile(weights, 'AAAA');
    const exp = toyExperiment((c) => (c.model.weights = weights));
    let memoDuringRun: Record<string, unknown> | undefined;
    await run({
      experiment: exp,
      writeHook: async () => {
        memoDuringRun ??= JSON.parse(await readFile(join(out, '.revcor', 'file-hashes.json'), 'utf8').catch(() => '{}'));
      },
    });
    expect(Object.keys(memoDuringRun!)).toContain(weights);
  });

  it('an input file given new content with its old size and mtime (`touch -r`) still reruns what depends on it', async () => {
    const weights = join(base, 'weights.bin');
    const ref = join(base, 'ref');
    await writeFile(weights, 'AAAA');
    const exp = toyExperiment((c) => (c.model.weights = weights));
    await run({ experiment: exp });
    const before = await stat(weights);
    await writeFile(ref, '');
    execFileSync('touch', ['-r', weights, ref]);
    // a file written now must get another ctime than the recorded one (the memo's evidence of a change)
    for (let i = 0; (await stat(ref)).ctimeMs === before.ctimeMs; i++) {
      expect(i, 'the file system clock moves').toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 1));
      execFileSync('touch', ['-r', weights, ref]);
    }
    await writeFile(weights, 'BBBB');
    execFileSync('touch', ['-r', ref, weights]);
    const after = await stat(weights);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(await reasonsOf(exp, 'source')).toEqual(Array(3).fill(`input file ${weights} changed`));
    expect((await run({ experiment: exp })).ran).toHaveLength(7);
  });

  it('a shard-level input file reruns only that shard and what reads it', async () => {
    const img = join(base, 'img.png');
    await writeFile(img, 'one');
    const stages = (): Stage<Experiment>[] => {
      const s = toyStages();
      const plan = s[0].plan;
      s[0] = { ...s[0], plan: async (ctx) => (await plan(ctx)).map((sh, i) => (i === 1 ? { ...sh, inputFiles: [img] } : sh)) };
      return s;
    };
    await run({ stages: stages() });
    await writeFile(img, 'two');
    const plan = await planRun(stages(), toyExperiment(), out);
    expect(plan.stages[0].shards.map((s) => s.reasons)).toEqual([[], [`input file ${img} changed`], []]);
    expect(ranIds(await run({ stages: stages() }))).toEqual(['source/src-0004-0008', 'square/sq-0004-0008', 'total/all']);
  });

  it('a shrinking plan prunes checkpoints that are no longer part of it', async () => {
    await run();
    const r = await run({ experiment: toyExperiment((c) => (c.stimuli.noise.count = 6)) });
    expect(ranIds(r)).toContain('source/src-0004-0006');
    expect((await readdir(join(out, 'source'))).sort()).toEqual(['src-0000-0004.arrow', 'src-0004-0006.arrow']);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.stages.source.map((s) => s.shard)).toEqual(['src-0000-0004', 'src-0004-0006']);
  });
});

describe('runPipeline: checkpoints', () => {
  it('writes Arrow IPC files with revcor metadata merged over the stage’s own, and a manifest', async () => {
    await run();
    const t = tableFromIPC(await readFile(join(out, 'square', 'sq-0004-0008.arrow')));
    const meta = Object.fromEntries(t.schema.metadata);
    expect(meta['revcor.stage']).toBe('square');
    expect(meta['revcor.shard']).toBe('sq-0004-0008');
    expect(meta['revcor.version']).toBe('1');
    expect(JSON.parse(meta['revcor.params'])).toEqual({ end: 8, start: 4 });
    expect(meta['revcor.key']).toMatch(/^[0-9a-f]{64}$/);
    expect(meta['toy.note']).toBe('stage metadata survives');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.format).toBe(MANIFEST_FORMAT);
    const rec = manifest.stages.square[1];
    expect(rec).toMatchObject({ stage: 'square', shard: 'sq-0004-0008', key: meta['revcor.key'], rows: 4, file: 'square/sq-0004-0008.arrow' });
    expect(rec.bytes).toBe((await stat(join(out, 'square', 'sq-0004-0008.arrow'))).size);
    expect(existsSync(join(out, 'config.resolved.yaml'))).toBe(true);
    expect(existsSync(join(out, '.revcor', 'lock'))).toBe(false);
  });

  it('a truncated checkpoint is detected, reported and recomputed (downstream keys are unchanged)', async () => {
    await run();
    const f = join(out, 'source', 'src-0004-0008.arrow');
    const good = await readFile(f);
    await truncate(f, 100);
    const plan = await planRun(toyStages(), toyExperiment(), out);
    const shard = plan.stages[0].shards[1];
    expect(shard.status).toBe('stale');
    expect(shard.reasons).toEqual([`checkpoint corrupt: expected ${good.length} bytes, got 100`]);
    const r = await run();
    expect(ranIds(r)).toEqual(['source/src-0004-0008']);
    expect(await readFile(f)).toEqual(good);
  });

  it('a same-size alteration is caught by the sha256, and a verified read refuses it', async () => {
    await run();
    const f = join(out, 'source', 'src-0000-0004.arrow');
    const bytes = await readFile(f);
    bytes[bytes.length - 200] ^= 0xff;
    await writeFile(f, bytes);
    const plan = await planRun(toyStages(), toyExperiment(), out);
    expect(plan.stages[0].shards[0].reasons[0]).toMatch(/^checkpoint corrupt: expected sha256 [0-9a-f]{12}…, got [0-9a-f]{12}…$/);
    // Reading it as an upstream table (forced square rerun, source left alone) must fail, not return data.
    const err = await run({ only: ['square'], force: ['square'] }).catch((e) => e);
    expect(err).toBeInstanceOf(RevcorError);
  });

  it('a stage reading a corrupt upstream gets a CheckpointError and the record is dropped for the next run', async () => {
    await run();
    const f = join(out, 'source', 'src-0000-0004.arrow');
    const bytes = await readFile(f);
    // Alter content but restore the recorded stat memo so only the full read-time hash can notice.
    bytes[bytes.length - 200] ^= 0xff;
    await writeFile(f, bytes);
    const memoFile = join(out, '.revcor', 'file-hashes.json');
    const memo = JSON.parse(await readFile(memoFile, 'utf8'));
    const st = await stat(f);
    Object.assign(memo[f], { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, size: st.size });
    await writeFile(memoFile, JSON.stringify(memo));
    const err = await run({ force: ['square'] }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/src-0000-0004\.arrow is corrupt: expected \d+ bytes with sha256 [0-9a-f]{64}, got/);
    expect(err.hint).toMatch(/Resume with: revcor run x\.yaml/);
    const after = await planRun(toyStages(), toyExperiment(), out);
    expect(after.stages[0].shards[0].status).toBe('pending');
    const r = await run();
    expect(ranIds(r)).toContain('source/src-0000-0004');
  });
});

describe('runPipeline: selection, dry run, failure, interruption', () => {
  it('--only, --from and --force select what runs', async () => {
    await expect(run({ only: ['square'] })).rejects.toThrow(/Cannot run stage square: expected its upstream stage source done, got 3 of 3 shards pending \(never run\)/);
    expect(ranIds(await run({ only: ['source'] }))).toEqual(['source/src-0000-0004', 'source/src-0004-0008', 'source/src-0008-0010']);
    expect(ranIds(await run({ from: ['square'] }))).toEqual(['square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010', 'total/all']);
    expect(ranIds(await run({ force: ['square'] }))).toEqual(['square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010', 'total/all']);
    expect(ranIds(await run({ force: ['square'], only: ['square'] }))).toEqual(['square/sq-0000-0004', 'square/sq-0004-0008', 'square/sq-0008-0010']);
    await expect(run({ from: ['nope'] })).rejects.toThrow('--from nope: expected one of the stages source, square, total, got an unknown stage');
  });

  it('a dry run plans with explanations and writes nothing', async () => {
    const r = await run({ dryRun: true });
    expect(r.plan.toRun).toBe(7);
    expect(r.plan.stages[0].shards[0].reasons).toEqual(['never run']);
    expect(existsSync(out)).toBe(false); // not even created
  });

  it('a failing shard keeps finished checkpoints, names the resume command, and the rerun does only the rest', async () => {
    const stages = toyStages();
    const orig = stages[1].run;
    stages[1] = { ...stages[1], run: async (shard, ctx) => (shard.id === 'sq-0004-0008' ? Promise.reject(new TypeError('boom')) : orig(shard, ctx)) };
    const err = await run({ stages, concurrency: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ShardFailure);
    expect(err.message).toBe('Stage square shard sq-0004-0008 failed: boom');
    expect(err.advice).toMatch(/shards finished this run and are kept\. Resume with: revcor run x\.yaml/);
    expect((err.cause as Error).stack).toContain('TypeError: boom');
    const r = await run();
    expect(ranIds(r)).toContain('square/sq-0004-0008');
    expect(ranIds(r)).not.toContain('source/src-0000-0004');
    expect(ranIds(r)).not.toContain('square/sq-0000-0004');
  });

  it('calls a stage\'s release once its last shard of the run is done, before later stages finish, and at the end', async () => {
    const events: string[] = [];
    const stages: Stage<Experiment>[] = toyStages().map((st) => ({
      ...st,
      run: async (shard, ctx) => {
        events.push(`run:${st.name}`);
        return st.run(shard, ctx);
      },
      release: async () => void events.push(`release:${st.name}`),
    }));
    await run({ stages, concurrency: 1 });
    const first = events.indexOf('release:source');
    expect(first).toBeGreaterThan(events.lastIndexOf('run:source'));
    expect(first).toBeLessThan(events.indexOf('run:total'));
    // once when the stage's shards are done, once more as the run ends (also after a failure or Ctrl-C)
    expect(events.filter((e) => e === 'release:source')).toHaveLength(2);
    expect(events.slice(-3)).toEqual(['release:source', 'release:square', 'release:total']);
    const err = await run({ stages: stages.map((st) => (st.name === 'total' ? { ...st, run: () => Promise.reject(new Error('boom')) } : st)), force: ['total'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ShardFailure);
    expect(events.slice(-3)).toEqual(['release:source', 'release:square', 'release:total']);
  });

  it('a stage whose shards take every core (Stage.cores) runs beside no other stage\'s shard; one that takes fewer does', async () => {
    // source shards 40 ms each, three of them, two slots: square shards become ready while the last source shard runs
    const overlaps = async (cores: number, workers: number) => {
      const spans: { stage: string; start: number; end: number }[] = [];
      const stages: Stage<Experiment>[] = toyStages().map((st) => ({
        ...st,
        ...(st.name === 'source' ? { cores: () => cores } : {}),
        run: async (shard, ctx) => {
          const span = { stage: st.name, start: performance.now(), end: Infinity };
          spans.push(span);
          await new Promise((r) => setTimeout(r, st.name === 'source' ? 40 : 5));
          const t = await st.run(shard, ctx);
          span.end = performance.now();
          return t;
        },
      }));
      await run({ stages, workers, force: ['source'] });
      const src = spans.filter((x) => x.stage === 'source');
      expect(src).toHaveLength(3);
      return spans.filter((x) => x.stage !== 'source' && src.some((y) => x.start < y.end && y.start < x.end)).length;
    };
    expect(await overlaps(0, 1)).toBe(0); // 0 = every core
    expect(await overlaps(2, 2)).toBe(0); // as many as the pool has
    expect(await overlaps(1, 2)).toBeGreaterThan(0); // one of two cores: the other is the pool's
  });

  it('a user error inside a shard stays a RevcorError and gains the resume hint', async () => {
    const stages: Stage<Experiment>[] = toyStages();
    stages[2] = { ...stages[2], run: () => Promise.reject(new RevcorError('Expected X, got Y')) };
    const err = await run({ stages }).catch((e) => e);
    expect(err).toBeInstanceOf(RevcorError);
    expect(err.hint).toMatch(/6 of 7 shards finished this run and are kept\. Resume with: revcor run x\.yaml/);
  });

  it('a stage returning something other than an Arrow Table is a bug, reported as such', async () => {
    const stages: Stage<Experiment>[] = toyStages();
    stages[0] = { ...stages[0], run: async () => ({ rows: [] }) as never };
    const err = await run({ stages, concurrency: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ShardFailure);
    expect(err.message).toBe('Stage source shard src-0000-0004 failed: Stage source shard src-0000-0004: expected run() to return an Arrow Table, got Object');
  });

  it('aborting stops cleanly with InterruptedError (exit 130); the rerun completes the rest', async () => {
    process.env.TOY_SLEEP_MS = '150';
    try {
      // abort as soon as the first shard is done (an event, not a clock): the second is then mid-sleep
      const ac = new AbortController();
      const reporter = { event: (e: ProgressEvent) => void (e.type === 'shard-done' && ac.abort()), close: () => undefined };
      const err = await run({ signal: ac.signal, concurrency: 1, reporter }).catch((e) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect(err.exitCode).toBe(130);
      expect(err.hint).toBe('Resume with: revcor run x.yaml');
      expect(err.message).toMatch(/^Interrupted: 1 of 7 shards finished this run and are kept\.$/);
    } finally {
      delete process.env.TOY_SLEEP_MS;
    }
    const r = await run();
    expect(r.ran).toHaveLength(6);
    expect((await readdir(join(out, 'source'))).filter((f) => !f.endsWith('.arrow'))).toEqual([]);
  });

  it('stages may run work in the worker pool', async () => {
    process.env.TOY_POOL = '1';
    try {
      await run({ workers: 2 });
    } finally {
      delete process.env.TOY_POOL;
    }
    const pooled = await readFile(join(out, 'total', 'all.arrow'));
    const out2 = await tempDir();
    try {
      await runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out2, workers: 1 });
      expect(await readFile(join(out2, 'total', 'all.arrow'))).toEqual(pooled);
    } finally {
      await cleanup(out2);
    }
  });
});
