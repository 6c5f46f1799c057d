// `revcor diff A B` (cli/diff.ts) on real run directories of the fake analysis stages: identical data exit 0, other
// data exit 1 naming the columns; columns only the second run has count as a difference unless --allow-added.
// Tested file: cli/diff.ts.
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Experiment } from '../../config/schema.ts';
import { runPipeline } from '../../pipeline/runner.ts';
import { manifestFile } from '../../pipeline/rundir.ts';
import type { Stage } from '../../pipeline/stage.ts';
import { numberVector, tableWithMetadata } from '../fixtures/arrow-tables.ts';
import { summaryStage } from '../../stages/summary.ts';
import { fakeAnalysisStages, fakeExperiment } from '../fixtures/fake-analysis.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { cli } from './helpers.ts';

describe('revcor diff', () => {
  let dir: string;
  const layers = [{ layer: 'block1_conv1', units: 8, side: 3 }];
  /** A stage writing column a (and, in a newer version, also b). */
  const growing = (withB: boolean, version = '1'): Stage<Experiment> => ({
    name: 'grow',
    description: 'a stage that gained a column',
    version,
    upstream: [],
    configSlice: () => null,
    plan: () => [{ id: 'only', params: {} }],
    run: async () => tableWithMetadata({ a: numberVector(Float64Array.of(1, 2)), ...(withB ? { b: numberVector(Float64Array.of(3, 4)) } : {}) }, {}),
  });
  const run = (name: string, opts: { seed?: number; withB?: boolean; version?: string; summaryVersion?: string } = {}) =>
    runPipeline({
      stages: [...fakeAnalysisStages(layers, { unitsPerShard: 4, seed: opts.seed }), { ...summaryStage, version: opts.summaryVersion ?? summaryStage.version }, growing(opts.withB ?? false, opts.version)],
      experiment: fakeExperiment(['block1_conv1'], join(dir, 'no-images')),
      outDir: join(dir, name),
      workers: 1,
    });
  beforeAll(async () => {
    dir = await tempDir('revcor-diff-');
    await run('a');
    await run('same');
    await run('seed2', { seed: 2 });
    await run('newer', { withB: true });
  }, 120_000);
  afterAll(() => cleanup(dir));

  it('identical data: exit 0, every shard agrees', async () => {
    const r = await cli(['diff', join(dir, 'a'), join(dir, 'same')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/(\d+) shards compared: \1 agree within 0, 0 differ/);
  });

  it('other data: exit 1, the differing columns named', async () => {
    const r = await cli(['diff', join(dir, 'a'), join(dir, 'seed2'), '--stage', 'tuning']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/tuning\/block1_conv1\.circular_variance: \d+ of 8 values differ/);
    expect(r.stderr).toMatch(/shards differ beyond a relative 0/);
  });

  it('a rerun stopped before it rewrote its manifest: the replaced checkpoint is read by its new record, not called corrupt', async () => {
    // the rerun replaces grow/only and the summary (newer versions) and their records; its manifest is the old one until
    // the run ends
    await cp(join(dir, 'a'), join(dir, 'stopped'), { recursive: true });
    await run('stopped', { withB: true, version: '2', summaryVersion: 'rerun' });
    await cp(manifestFile(join(dir, 'a')), manifestFile(join(dir, 'stopped')));
    const r = await cli(['diff', join(dir, 'a'), join(dir, 'stopped'), '--allow-added', '--stage', 'grow']);
    expect(r.stderr).not.toMatch(/corrupt/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/grow\/only: columns added in B \(not compared\): b/);
    const exported = await cli(['export', join(dir, 'stopped'), '--stage', 'grow', '--format', 'csv']);
    expect(exported.stderr).not.toMatch(/corrupt/);
    expect(exported.code).toBe(0);
    const summary = await cli(['summary', join(dir, 'stopped'), '--format', 'json']);
    expect(summary.stderr).not.toMatch(/corrupt/);
    expect(summary.code).toBe(0);
  });

  it('added columns differ, unless --allow-added lists them instead; lost columns always differ', async () => {
    const strict = await cli(['diff', join(dir, 'a'), join(dir, 'newer')]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/grow\/only: columns only in B: b/);
    const added = await cli(['diff', join(dir, 'a'), join(dir, 'newer'), '--allow-added']);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/grow\/only: columns added in B \(not compared\): b/);
    const lost = await cli(['diff', join(dir, 'newer'), join(dir, 'a'), '--allow-added']);
    expect(lost.code).toBe(1); // columns the second run lacks are never allowed
  });
});
