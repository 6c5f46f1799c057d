// The summary stage on fake upstream tables: units aligned by channel across shards, the hand-countable
// percentages of the fake construction, NaN / empty columns for missing stages, the Arrow round trip, and a
// real run directory (runner + finalize): summary.arrow, summary.csv, report.html, `revcor summary` / `report`.
import { allFinalizers } from '../../report/finalizers.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { runPipeline } from '../../pipeline/runner.ts';
import { summaryStage } from '../../stages/summary.ts';
import { readLayerUnits } from '../../results/layer-units.ts';
import type { UpstreamReader } from '../../results/reader.ts';
import { rowsFromTable, summarise, summaryTable } from '../../results/summary.ts';
import { SUMMARY_COLUMNS } from '../../science/layer-summary.ts';
import { fakeAnalysisStages, fakeExperiment, fakeLayerTables } from '../fixtures/fake-analysis.ts';
import { cli } from '../cli/helpers.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';

/** An UpstreamReader over in-memory tables: stage → shard id → table. */
function reader(stages: Record<string, Record<string, Table>>): UpstreamReader {
  return { shards: (s) => Object.keys(stages[s] ?? {}), read: async (s, id) => stages[s]![id]! };
}

/** Twelve fake units of one layer, awc split in shards of 5 (unit u: see fakeLayerTables). */
function twelve(): Record<string, Record<string, Table>> {
  const t = fakeLayerTables({ layer: 'block1_conv1', units: 12, side: 3, unitsPerShard: 5 });
  return {
    tuning: { block1_conv1: t.tuning },
    category: { block1_conv1: t.category },
    awa: { block1_conv1: t.awa },
    awc: Object.fromEntries(t.awc.map((s) => [s.id, s.table]).reverse()), // shard order must not matter
  };
}

const config = fakeExperiment(['block1_conv1', 'block2_conv1'], '/nonexistent').config;

describe('summarise (fake upstream)', () => {
  it('counts the fake construction: responsive u mod 7 ≠ 6, AWA significant u mod 3 ≠ 2, AWC significant for even u', async () => {
    const [r] = await summarise(config, reader(twelve()));
    expect(r!.layer).toBe('block1_conv1');
    expect(r!.n_units).toBe(12);
    expect(r!.rf_size).toBe(3);
    expect(r!.pct_responsive).toBeCloseTo((100 * 11) / 12, 10);
    expect(r!.pct_awa_significant).toBeCloseTo((100 * 8) / 12, 10);
    expect(r!.median_n_eff).toBe(65); // n_eff = 10(u + 1), all 12 noise-responsive: (60 + 70) / 2
    expect(r!.pct_awc_significant).toBe(50);
    expect(r!.pct_awc_suppressive).toBe(25); // u = 0, 5, 10
    // compared for AWA: significant and responsive, u = 0 1 3 4 7 9 10; θ off by 40° for u mod 5 = 4 (4, 9), f doubled for u mod 5 = 3 (3)
    expect(r!.n_awa_compared).toBe(7);
    expect(r!.pct_awa_theta_match).toBeCloseTo((100 * 5) / 7, 10);
    expect(r!.pct_awa_f_match).toBeCloseTo((100 * 6) / 7, 10);
    expect(r!.pct_awa_reconstructed).toBeCloseTo((100 * 4) / 12, 10);
    // AWC predicts exactly for the even units; all responsive except u = 6 → 5 compared, all match
    expect(r!.n_awc_compared).toBe(5);
    expect(r!.pct_awc_theta_match).toBe(100);
    expect(r!.pct_awc_reconstructed).toBeCloseTo((100 * 5) / 12, 10);
    expect(r!.awc_theta_agreement).toBeCloseTo(1, 10);
    expect(r!.awc_logf_spearman).toBeCloseTo(1, 10);
    // category: preferred = ['faces', 'places', 'words'][u mod 3], selective for u mod 4 = 0 (0 faces, 4 places, 8 words)
    expect(r!.pct_category_selective).toBe(25);
    expect(JSON.parse(r!.preferred_counts)).toEqual({ faces: 4, places: 4, words: 4 });
    expect(JSON.parse(r!.selective_preferred_counts)).toEqual({ faces: 1, places: 1, words: 1 });
  });

  it('aligns units by channel when a stage lacks some channels', async () => {
    const s = twelve();
    const awcIds = Object.keys(s['awc']!);
    delete s['awc']![awcIds.find((id) => id.endsWith('0005-0010'))!]; // units 5–9 have no AWC
    const [u] = await readLayerUnits(config, reader(s));
    expect(u!.units).toBe(12);
    expect(Array.from(u!.awc!.nSigTop as Float64Array).map((v) => (Number.isNaN(v) ? 'x' : v))).toEqual([2, 0, 2, 0, 2, 'x', 'x', 'x', 'x', 'x', 2, 0]);
  });

  it('missing stages give NaN and empty columns; the table round-trips through Arrow', async () => {
    const s = twelve();
    const rows = await summarise(config, reader({ tuning: s['tuning']! }));
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.pct_responsive).toBeCloseTo((100 * 11) / 12, 10);
    expect(r.rf_size).toBeNaN();
    expect(r.pct_awa_significant).toBeNaN();
    expect(r.pct_awc_reconstructed).toBeNaN();
    expect(r.pct_category_selective).toBeNaN();
    expect(r.preferred_counts).toBe('');
    const t = summaryTable(rows, config);
    expect(t.schema.fields.map((f) => f.name)).toEqual([...SUMMARY_COLUMNS]);
    const back = rowsFromTable(t)[0]!;
    for (const c of SUMMARY_COLUMNS) {
      if (typeof r[c] === 'number' && Number.isNaN(r[c])) expect(back[c], c).toBeNaN();
      else expect(back[c], c).toBe(r[c]);
    }
    expect(await summarise(config, reader({}))).toEqual([]);
  });
});

describe('summary stage in a run (fake analysis stages + finalize)', () => {
  let out: string;
  beforeEach(async () => (out = await tempDir('revcor-summary-')));
  afterEach(() => cleanup(out));
  const layers = [
    { layer: 'block1_conv1', units: 12, side: 3 },
    { layer: 'block2_conv1', units: 5, side: 10 },
  ];
  const run = (skip: string[] = []) =>
    runPipeline({
      stages: [...fakeAnalysisStages(layers, { skip, unitsPerShard: 4 }), summaryStage],
      finalizers: allFinalizers(),
      experiment: fakeExperiment(layers.map((l) => l.layer), join(out, 'no-images')),
      outDir: out,
      workers: 1,
    });

  it('writes summary.arrow, summary.csv and report.html; an up-to-date rerun leaves them; a missing report is rebuilt', async () => {
    await run();
    const csv = await readFile(join(out, 'summary/summary.csv'), 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(SUMMARY_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^block1_conv1,12,3,/);
    expect(lines[1]).toContain('"{""faces"":4,""places"":4,""words"":4}"'); // JSON cell quoted, quotes doubled
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<meta name="revcor-report-stamp" content="1:[0-9a-f]{64}">/);
    expect(html).toContain('block2_conv1');
    // the orientation bandwidth at 1/√2: a tuning column, a summary statistic with its interval, in the CSV and the report
    const header = lines[0]!.split(',');
    const at = header.indexOf('median_ori_bandwidth');
    expect(header.slice(at, at + 4)).toEqual(['median_ori_bandwidth', 'median_ori_bandwidth_lo', 'median_ori_bandwidth_hi', 'median_ori_bandwidth_n']);
    const cells = lines[1]!.split(',');
    // the fake units' ori_bandwidth 15 + 30r lies below their ori_half_width 20 + 40r (r = rand ∈ [−½, ½))
    expect(Number(cells[at])).toBeGreaterThan(0);
    expect(Number(cells[at])).toBeLessThan(Number(cells[header.indexOf('median_ori_half_width')]));
    expect(Number(cells[at + 1])).toBeLessThanOrEqual(Number(cells[at]));
    expect(html).toContain('bw 1/√2 °');
    const m1 = (await stat(join(out, 'report.html'))).mtimeMs;
    const again = await run();
    expect(again.upToDate).toBe(true);
    expect((await stat(join(out, 'report.html'))).mtimeMs).toBe(m1);
    await rm(join(out, 'report.html'));
    await run();
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('without noise stages the run still writes a summary (NaN AWA/AWC columns) and a report', async () => {
    await run(['awa', 'awc']);
    const csv = (await readFile(join(out, 'summary/summary.csv'), 'utf8')).split('\r\n');
    const header = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    expect(row[header.indexOf('pct_awa_significant')]).toBe('');
    expect(row[header.indexOf('pct_responsive')]).not.toBe('');
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('No awa results have finished in this run');
  });

  it('`revcor summary DIR` prints the tables; `revcor report DIR` rebuilds the page from the checkpoints', async () => {
    await run();
    const s = await cli(['summary', out]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('RF reconstruction');
    // 12 units: value [95% Wilson interval]; the 5-unit layer is too small to show percentages (n=5)
    expect(s.stdout).toMatch(/block1_conv1 +12 +3 +91\.7 \[65, 99\] +65 \[35, 95\] +66\.7 \[39, 86\] +— +— +50\.0 \[25, 75\]/);
    expect(s.stdout).toMatch(/block2_conv1 +5 +10 +n=5 +n=5 +n=5 /);
    expect(s.stdout).toMatch(/block1_conv1 +7 +n=7 +n=7 +n=7 +n=7 +5 +n=5/); // 7 and 5 units compared
    expect(s.stdout).toMatch(/block1_conv1 +11 +0\.23 \[0\.07, 0\.41\] .* n=8 /); // SF bandwidth: 8 units fall to half height
    const j = await cli(['summary', out, '--format', 'json']);
    const json = JSON.parse(j.stdout);
    expect(json[1].layer).toBe('block2_conv1');
    expect(json[0]).toMatchObject({ pct_awa_significant: expect.closeTo(200 / 3, 9), pct_awa_significant_n: 12, pct_awa_significant_population: null });
    const md = (await cli(['summary', out, '--format', 'markdown'])).stdout.split('\n');
    expect(md).toContain('| layer | units | RF px | responsive % | median N_eff | AWA sig. % | AWA sig. % finite-N | AWA sig. % population | AWC sig. % | AWC suppr. % | AWA reconstr. % | AWC reconstr. % |');
    expect(md.find((l) => l.startsWith('| block1_conv1 | 12 | 3 |'))).toMatch(/^\| block1_conv1 \| 12 \| 3 \| 91\.7 \[65, 99\] \| 65 \[35, 95\] \| 66\.7 \[39, 86\] \| — \| — \| 50\.0 \[25, 75\] \|/);
    expect(md.find((l) => l.startsWith('| block2_conv1 | 5 | 10 |'))).toMatch(/^\| block2_conv1 \| 5 \| 10 \| n=5 \| n=5 \| n=5 \|/);
    await rm(join(out, 'report.html'));
    const r = await cli(['report', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Wrote .*report\.html \(17 units in 2 layers/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const bad = await cli(['report', join(out, 'nope')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Expected a revcor output directory');
  });
});
