// `revcor export DIR` (cli/export.ts) on run directories of the fake analysis stages: what it prints (each file and its
// size), exit 2 with "Expected …" for a directory that is not a run, an unknown stage, a foreign --out folder and CSV
// with --partition layer; a repeated export rewrites only the files whose checkpoints changed (by their sha256) or
// that are gone; a corrupt checkpoint stops the export with exit 2 and leaves no file or temp file behind.
// Tested file: cli/export.ts (and pipeline/export.ts).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryStage } from '../../stages/summary.ts';
import { runPipeline } from '../../pipeline/runner.ts';
import { EXPORT_MARKER } from '../../pipeline/export.ts';
import { fakeAnalysisStages, fakeExperiment } from '../fixtures/fake-analysis.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { cli } from './helpers.ts';

describe('revcor export', () => {
  let dir: string;
  const layers = [
    { layer: 'block1_conv1', units: 8, side: 3 },
    { layer: 'block2_conv1', units: 8, side: 5 },
  ];
  const run = (name: string, opts: { seed?: number; force?: string[] } = {}) =>
    runPipeline({
      stages: [...fakeAnalysisStages(layers, { unitsPerShard: 4, seed: opts.seed }), summaryStage],
      experiment: fakeExperiment(layers.map((l) => l.layer), join(dir, 'no-images')),
      outDir: join(dir, name),
      workers: 1,
      force: opts.force,
    });
  beforeAll(async () => {
    dir = await tempDir('revcor-export-cli-');
    await run('a');
  }, 120_000);
  afterAll(() => cleanup(dir));

  it('writes one Parquet file per stage into DIR/export and prints each with its size', async () => {
    const r = await cli(['export', join(dir, 'a')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const stage of ['tuning', 'category', 'awa', 'awc', 'summary']) {
      expect(r.stdout).toMatch(new RegExp(`^wrote +${stage}\\.parquet  [\\d.]+ (B|kB|MB), \\d+ rows$`, 'm'));
      expect(existsSync(join(dir, 'a', 'export', `${stage}.parquet`))).toBe(true);
    }
    expect(r.stdout).toMatch(/: 5 files written \([\d.]+ kB\), 0 unchanged/);
  });

  it('exports again only what changed: unchanged checkpoints skip their files, changed ones (sha256) and deleted files are rewritten', async () => {
    const out = join(dir, 'again');
    expect((await cli(['export', join(dir, 'a'), '--out', out])).code).toBe(0);
    const before = (await stat(join(out, 'tuning.parquet'))).mtimeMs;
    const same = await cli(['export', join(dir, 'a'), '--out', out]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/: 0 files written \(0 B\), 5 unchanged/);
    expect((await stat(join(out, 'tuning.parquet'))).mtimeMs).toBe(before);

    await run('a', { seed: 2, force: ['awa'] }); // new awa checkpoints under the same cache keys: only their sha256 tells
    await rm(join(out, 'category.parquet'));
    const changed = await cli(['export', join(dir, 'a'), '--out', out]);
    expect(changed.code).toBe(0);
    const written = [...changed.stdout.matchAll(/^wrote +(\S+)/gm)].map((m) => m[1]).sort();
    const unchanged = [...changed.stdout.matchAll(/^unchanged (\S+)/gm)].map((m) => m[1]).sort();
    expect(written).toEqual(['awa.parquet', 'category.parquet']);
    expect(unchanged).toEqual(['awc.parquet', 'summary.parquet', 'tuning.parquet']);
    const marker = JSON.parse(await readFile(join(out, EXPORT_MARKER), 'utf8')) as { files: Record<string, { sources: Record<string, string> }> };
    expect(Object.keys(marker.files).sort()).toEqual([...written, ...unchanged].sort());
  }, 120_000);

  it('--partition layer: one Hive-style folder per layer; switching back to one file removes the layer files', async () => {
    const out = join(dir, 'hive');
    const r = await cli(['export', join(dir, 'a'), '--out', out, '--stage', 'tuning', '--partition', 'layer']);
    expect(r.code).toBe(0);
    expect((await readdir(join(out, 'tuning'))).sort()).toEqual(['layer=block1_conv1', 'layer=block2_conv1']);
    expect(existsSync(join(out, 'tuning', 'layer=block2_conv1', 'part-0.parquet'))).toBe(true);
    const flat = await cli(['export', join(dir, 'a'), '--out', out, '--stage', 'tuning']);
    expect(flat.code).toBe(0);
    expect(existsSync(join(out, 'tuning.parquet'))).toBe(true);
    expect(existsSync(join(out, 'tuning', 'layer=block1_conv1', 'part-0.parquet'))).toBe(false);
  });

  it('CSV: one file per stage, list cells as JSON arrays', async () => {
    const out = join(dir, 'csv');
    const r = await cli(['export', join(dir, 'a'), '--out', out, '--format', 'csv', '--stage', 'awa']);
    expect(r.code).toBe(0);
    const [header, first] = (await readFile(join(out, 'awa.csv'), 'utf8')).split('\r\n');
    const cols = header!.split(',');
    expect(cols.slice(0, 2)).toEqual(['layer', 'channel']);
    const awa = cols.indexOf('awa');
    expect(awa).toBeGreaterThan(0);
    expect(first).toMatch(/^block1_conv1,0,/);
    expect(JSON.parse(/"(\[[^"]*\])"/.exec(first!)![1]!)).toHaveLength(9); // the 3×3 AWA map
  });

  it('exit 2 with "Expected …": not a run directory, unknown stage, CSV partitioned by layer', async () => {
    await mkdir(join(dir, 'plain'), { recursive: true });
    await writeFile(join(dir, 'plain', 'notes.txt'), 'x');
    const notRun = await cli(['export', join(dir, 'plain')]);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toMatch(/Expected a revcor output directory, got a directory without \.revcor/);
    expect(notRun.stderr).not.toMatch(/\n\s+at /);
    const stage = await cli(['export', join(dir, 'a'), '--stage', 'awq']);
    expect(stage.code).toBe(2);
    expect(stage.stderr).toMatch(/--stage awq: Expected a stage with finished checkpoints \(.*tuning.*\), got "awq"/);
    const csv = await cli(['export', join(dir, 'a'), '--format', 'csv', '--partition', 'layer']);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/Expected --partition none with --format csv/);
  });

  it('refuses an --out folder that holds other files and is not an export: exit 2, nothing written there', async () => {
    const r = await cli(['export', join(dir, 'a'), '--out', join(dir, 'plain')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Expected a new or empty directory, or an earlier revcor export .*got a directory that holds other files \(notes\.txt\)/);
    expect(await readdir(join(dir, 'plain'))).toEqual(['notes.txt']);
  });

  it('a corrupt checkpoint: exit 2 naming it; no partial file, no temp file, earlier files stay', async () => {
    await run('b');
    const out = join(dir, 'b-export');
    expect((await cli(['export', join(dir, 'b'), '--out', out, '--stage', 'tuning'])).code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'b', 'manifest.json'), 'utf8')) as { stages: Record<string, { file: string }[]> };
    const victim = manifest.stages['awc']!.at(-1)!.file.split(/[\\/]/).pop()!;
    await appendFile(join(dir, 'b', 'awc', victim), 'x');
    const r = await cli(['export', join(dir, 'b'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`Checkpoint .*${victim.replace('.', '\\.')} is corrupt: expected \\d+ bytes`));
    const left = await readdir(out);
    expect(left).not.toContain('awc.parquet');
    expect(left.filter((n) => n.includes('revcor-tmp'))).toEqual([]);
    expect(left).toContain('tuning.parquet');
  }, 120_000);
});
