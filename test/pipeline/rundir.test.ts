// The run directory owner: a run writes only into a new, empty or revcor directory, and deletes only what it
// recorded as its own (stale records' checkpoints, unfinished writes) — never a user's file beside them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputError } from '../../pipeline/errors.ts';
import { markWriting } from '../../pipeline/manifest.ts';
import { runPipeline, type RunOptions } from '../../pipeline/runner.ts';
import { claimRunDir, probeRunDir, requireRunDir, writeDerived } from '../../pipeline/rundir.ts';
import type { Experiment } from '../../config/schema.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

let base: string;
let out: string;
beforeEach(async () => {
  base = await tempDir();
  out = join(base, 'out');
});
afterEach(() => cleanup(base));

const run = (over: Partial<RunOptions<Experiment>> = {}) =>
  runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out, workers: 1, concurrency: 2, ...over });

describe('what a directory is', () => {
  it('missing, empty, a run (marker, or a run made before the marker existed), foreign, a file', async () => {
    expect((await probeRunDir(out)).kind).toBe('missing');
    await mkdir(out);
    expect((await probeRunDir(out)).kind).toBe('empty');
    await writeFile(join(out, 'notes.txt'), 'mine');
    expect(await probeRunDir(out)).toEqual({ kind: 'foreign', entries: ['notes.txt'] });
    const legacy = join(base, 'legacy');
    await mkdir(join(legacy, '.revcor', 'records'), { recursive: true });
    expect((await probeRunDir(legacy)).kind).toBe('run');
    const file = join(base, 'f');
    await writeFile(file, '');
    expect((await probeRunDir(file)).kind).toBe('not-a-directory');
    await expect(requireRunDir(out)).rejects.toThrow(/Expected a revcor output directory, got a directory without/);
    await expect(claimRunDir('')).rejects.toThrow(/expected an absolute path, got ""/);
  });
});

describe('a run never damages what is not its own', () => {
  it('refuses a non-empty directory that is not a run, and leaves every file in it as it was', async () => {
    await mkdir(join(out, 'total'), { recursive: true });
    await writeFile(join(out, 'report.html'), 'notes');
    await writeFile(join(out, 'total', 'mine.arrow'), 'my data');
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as Error).message).toMatch(/expected a new or empty directory, or the output directory of a revcor run, got a directory that holds other files \(report\.html, total\)/);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toBe('notes');
    expect(await readFile(join(out, 'total', 'mine.arrow'), 'utf8')).toBe('my data');
    expect((await readdir(out)).sort()).toEqual(['report.html', 'total']);
  });

  it('pruning removes stale checkpoints and unfinished writes of the run, never a file it did not record', async () => {
    await run();
    await writeFile(join(out, 'source', 'mine.arrow'), 'my data'); // a user's file in a stage folder of the run
    await writeFile(join(out, 'source', 'notes.txt'), 'notes');
    // a write killed between its checkpoint and its record, of a shard the next plan no longer has
    await markWriting(out, 'source', 'src-0008-0012');
    await writeFile(join(out, 'source', 'src-0008-0012.arrow'), 'half a run');
    await run({ experiment: toyExperiment((c) => (c.stimuli.noise.count = 6)) });
    expect((await readdir(join(out, 'source'))).sort()).toEqual(['mine.arrow', 'notes.txt', 'src-0000-0004.arrow', 'src-0004-0006.arrow']);
    expect(await readFile(join(out, 'source', 'mine.arrow'), 'utf8')).toBe('my data');
  });

  it('derived files are remembered as the run’s own and cannot leave the directory', async () => {
    await run();
    await writeDerived(out, 'summary/summary.csv', 'a,b\n');
    expect(existsSync(join(out, 'summary', 'summary.csv'))).toBe(true);
    await expect(writeDerived(out, '../x.txt', 'x')).rejects.toThrow(/inside the output directory/);
    await expect(writeDerived(out, '.revcor/lock', 'x')).rejects.toThrow(/inside the output directory/);
  });
});
