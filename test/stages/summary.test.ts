// The summary stage on fake upstream tables: units aligned by channel across shards, the hand-countable
// percentages of the fake construction, NaN / empty columns for missing stages, the Arrow round trip, a
// real run directory (runner + finalize): summary.arrow, summary.csv, report.html, `revcor summary` / `report`;
// and its table checked by value (every declared column against counts, medians and intervals derived by hand).
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

describe('summary table checked by value (known units: verdicts chosen per unit, stages missing per layer)', () => {
  it('every declared column of the stage table (summarise → summaryTable, read back) equals counts, medians and intervals derived by hand', async () => {
    const { tableFromIPC, tableToIPC } = await import('apache-arrow');
    const { readColumns } = await import('../../results/columns.ts');
    const { SUMMARY } = await import('../../results/summary.ts');
    const { readTuning } = await import('../../results/tuning.ts');
    const { readCategory } = await import('../../results/category.ts');
    const { readV1Layers, V1_META } = await import('../../results/v1.ts');
    const { withSchemaMetadata } = await import('../../results/columns.ts');
    const { wilsonInterval, medianEstimate, meanEstimate, spearmanEstimate } = await import('../../science/intervals.ts');
    const { V1_PROPERTIES } = await import('../../science/v1-catalogue.ts');
    const { fakeV1Table } = await import('../fixtures/fake-analysis.ts');
    const { expectColumnsByValue, indistinctColumns } = await import('../fixtures/by-value.ts');
    // three layers of known units (fakeLayerTables with variants): unit u is grating-responsive for u mod 7 ≠ 6 and
    // noise-responsive for u mod 8 ≠ 7; its AWA is significant for u mod 3 ≠ 2 (finite-N null: u mod 3 = 0, population
    // null: u mod 6 ≠ 5), predicts θ 10° off (40° for u mod 5 = 4) and f exactly (an octave off for u mod 5 = 3); its
    // AWC has 2 significant eigenvalues for even u, predicting θ (7u mod 30)° off and f exactly
    // (reversed on the SF grid, SFS[3 − u mod 4], for u mod 6 ≠ 0), a suppressive one for u mod 5 = 0; category: preferred ['faces', 'places',
    // 'words'][u mod 3], selective for u mod 4 = 0, reliable for u < 2. block2_conv1 has no awc and no v1 checkpoint,
    // block3_conv1 no category and no finite-N/population/reliable columns; each v1 row has its own distinct values.
    const L = [
      { layer: 'block1_conv1', units: 13, side: 3, seed: 1, optionalVerdicts: true, awc: true, category: true, v1Depth: 0 },
      { layer: 'block2_conv1', units: 9, side: 5, seed: 4, optionalVerdicts: true, awc: false, category: true, v1Depth: -1 },
      { layer: 'block3_conv1', units: 31, side: 7, seed: 7, optionalVerdicts: false, awc: true, category: false, v1Depth: 2 },
    ];
    const up: Record<string, Record<string, Table>> = { tuning: {}, category: {}, awa: {}, awc: {}, v1: {} };
    for (const l of L) {
      const t = fakeLayerTables({ ...l, variants: true, unitsPerShard: 5 });
      up['tuning']![l.layer] = t.tuning;
      up['awa']![l.layer] = t.awa;
      if (l.category) up['category']![l.layer] = t.category;
      if (l.awc) for (const s of t.awc) up['awc']![s.id] = s.table;
      if (l.v1Depth >= 0) {
        // the layer row of the v1 checkpoint (schema metadata): a distinct value in every field
        const v1 = fakeV1Table(l, l.seed, l.v1Depth);
        const row = Object.fromEntries(Object.entries(readV1Layers(v1)[0]!).map(([k, v], i) => [k, typeof v === 'number' ? Math.round(1e6 * (l.v1Depth + 0.1 * i + 0.01 * Math.sin(i + l.seed))) / 1e6 : v]));
        up['v1']![l.layer] = withSchemaMetadata(v1, { [V1_META.layers]: JSON.stringify([row]) });
      }
    }
    const cfg = fakeExperiment(L.map((l) => l.layer), '/nonexistent').config;
    const t = tableFromIPC(tableToIPC(summaryTable(await summarise(cfg, reader(up)), cfg), 'file'));
    expect(t.numRows).toBe(3);
    const cols = readColumns(SUMMARY, t, 'summary checkpoint');

    // the expectation of every column, row by row
    const boot = { reps: cfg.summary.bootstrapReps, seed: cfg.summary.seed, level: 0.95 };
    const none = { value: NaN, lo: NaN, hi: NaN, n: NaN };
    const prop = (k: number, n: number) => (n > 0 ? { value: (100 * k) / n, lo: 100 * wilsonInterval(k, n).lo, hi: 100 * wilsonInterval(k, n).hi, n } : { value: NaN, lo: NaN, hi: NaN, n });
    const handMedian = (v: number[]) => {
      const s = v.filter(Number.isFinite).sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    };
    const med = (v: number[]) => ({ ...medianEstimate(v, boot), value: handMedian(v) });
    const count = (us: number[], pick: (u: number) => boolean) => us.filter(pick).length;
    const THETAS = [0, 30, 60, 90, 120, 150];
    const SFS = [1 / 32, 1 / 16, 1 / 8, 1 / 4];
    const rows = L.map((l) => {
      const n = l.units;
      const all = Array.from({ length: n }, (_, u) => u);
      const resp = (u: number) => u % 7 !== 6;
      const awaSig = (u: number) => u % 3 !== 2;
      const awcOn = (u: number) => u % 2 === 0;
      const tuning = readTuning(up['tuning']![l.layer]!, 'tuning');
      const responsive = all.filter(resp);
      const stats: Record<string, { value: number; lo: number; hi: number; n: number }> = {};
      stats['pct_responsive'] = prop(responsive.length, n);
      const noise = all.filter((u) => u % 8 !== 7);
      stats['pct_noise_responsive'] = prop(noise.length, n);
      stats['median_n_eff'] = med(noise.map((u) => 10 * (u + 1)));
      stats['pct_awa_significant'] = prop(count(all, awaSig), n);
      stats['pct_awa_significant_finite_n'] = l.optionalVerdicts ? prop(count(all, (u) => u % 3 === 0), n) : none;
      stats['pct_awa_significant_population'] = l.optionalVerdicts ? prop(count(all, (u) => u % 6 !== 5), n) : none;
      stats['pct_awc_significant'] = l.awc ? prop(count(all, awcOn), n) : none;
      stats['pct_awc_suppressive'] = l.awc ? prop(count(all, (u) => u % 5 === 0), n) : none;
      // AWA against the grating tuning over the significant responsive units (verdicts need the awc checkpoint)
      const awaC = all.filter((u) => awaSig(u) && resp(u));
      const awaTheta = (u: number) => u % 5 !== 4;
      const awaF = (u: number) => u % 5 !== 3;
      const log2f = (us: number[], fPred: (u: number) => number) => [us.map((u) => Math.log2(fPred(u))), us.map((u) => Math.log2(SFS[u % 4]!))] as const;
      const agreement = (us: number[], dTheta: (u: number) => number) => {
        const cos = us.map((u) => Math.cos((2 * dTheta(u) * Math.PI) / 180));
        return { ...meanEstimate(cos, boot), value: cos.reduce((a, b) => a + b, 0) / cos.length };
      };
      stats['pct_awa_theta_match'] = l.awc ? prop(count(awaC, awaTheta), awaC.length) : none;
      stats['pct_awa_f_match'] = l.awc ? prop(count(awaC, awaF), awaC.length) : none;
      stats['pct_awa_reconstructed'] = l.awc ? prop(count(awaC, (u) => awaTheta(u) && awaF(u)), n) : none;
      stats['awa_theta_agreement'] = l.awc ? agreement(awaC, (u) => (awaTheta(u) ? 10 : 40)) : none;
      stats['awa_logf_spearman'] = l.awc ? spearmanEstimate(...log2f(awaC, (u) => SFS[u % 4]! * (awaF(u) ? 1 : 2)), boot) : none;
      const awcC = all.filter((u) => awcOn(u) && resp(u));
      const awcTheta = (u: number) => (7 * u) % 30 <= 15;
      const awcF = (u: number) => u % 6 === 0;
      stats['pct_awc_theta_match'] = l.awc ? prop(count(awcC, awcTheta), awcC.length) : none;
      stats['pct_awc_f_match'] = l.awc ? prop(count(awcC, awcF), awcC.length) : none;
      stats['pct_awc_reconstructed'] = l.awc ? prop(count(awcC, (u) => awcTheta(u) && awcF(u)), n) : none;
      stats['awc_theta_agreement'] = l.awc ? agreement(awcC, (u) => (7 * u) % 30) : none;
      stats['awc_logf_spearman'] = l.awc ? spearmanEstimate(...log2f(awcC, (u) => SFS[awcF(u) ? u % 4 : 3 - (u % 4)]!), boot) : none;
      // tuning medians over the responsive units, of the tuning checkpoint's own columns
      const tcol = tuning as unknown as Record<string, ArrayLike<number>>;
      for (const [name, of] of [['median_circular_variance', 'circular_variance'], ['median_osi', 'osi'], ['median_ori_half_width', 'ori_half_width'], ['median_ori_bandwidth', 'ori_bandwidth'], ['median_sf_bandwidth', 'sf_bandwidth'], ['median_f1f0', 'f1f0']] as const) {
        stats[name] = med(responsive.map((u) => tcol[of]![u]!));
      }
      const v1 = l.v1Depth >= 0 ? readV1Layers(up['v1']![l.layer]!)[0]! : undefined;
      const at = (k: string) => v1![k] as number;
      stats['v1_score'] = v1 ? { value: at('v1_score'), lo: at('v1_score_lo'), hi: at('v1_score_hi'), n: at('v1_n_responsive') } : none;
      for (const p of V1_PROPERTIES) stats[`v1_${p.name}`] = v1 ? { value: at(`v1_${p.name}`), lo: at(`v1_${p.name}_lo`), hi: at(`v1_${p.name}_hi`), n: at(`v1_${p.name}_n`) } : none;
      const cat = l.category ? readCategory(up['category']![l.layer]!, 'category') : undefined;
      stats['pct_category_selective'] = cat ? prop(count(all, (u) => u % 4 === 0), n) : none;
      stats['pct_category_reliable'] = cat && l.optionalVerdicts ? prop(count(all, (u) => u < 2), n) : none;
      stats['median_csi'] = cat ? med(all.map((u) => cat.csi[u]!)) : none;
      stats['median_sparseness'] = cat ? med(all.map((u) => cat.sparseness[u]!)) : none;
      const cats = ['faces', 'places', 'words'];
      const counts = (us: number[]) => JSON.stringify(Object.fromEntries(cats.map((c, k) => [c, count(us, (u) => u % 3 === k)]).filter(([, k]) => (k as number) > 0)));
      const plain: Record<string, unknown> = {
        layer: l.layer,
        n_units: n,
        rf_size: l.side,
        n_awa_compared: l.awc ? awaC.length : NaN,
        n_awc_compared: l.awc ? awcC.length : NaN,
        n_responsive: responsive.length,
        preferred_counts: cat ? counts(all) : '',
        selective_preferred_counts: cat ? counts(all.filter((u) => u % 4 === 0)) : '',
      };
      expect(tuning.theta_pref[0]).toBe(THETAS[0]); // the construction the counts above rest on
      for (const [name, e] of Object.entries(stats)) Object.assign(plain, { [name]: e.value, [`${name}_lo`]: e.lo, [`${name}_hi`]: e.hi, [`${name}_n`]: e.n });
      return plain;
    });
    const expected = Object.fromEntries(Object.keys(rows[0]!).map((name) => [name, (r: number) => rows[r]![name]]));
    // numbers to 1e-9 relative (a mean summed in another order), NaN equal to NaN; strings exactly
    const same = (got: unknown, want: unknown, label: string) => {
      if (typeof want === 'number' && Number.isFinite(want)) expect(got as number, label).toBeCloseTo(want, 9 - Math.max(0, Math.ceil(Math.log10(Math.abs(want) + 1e-300))));
      else expect(got, label).toEqual(want);
    };
    expectColumnsByValue(SUMMARY, cols, expected, 3, same);
    // no two columns can be swapped unnoticed, except observation counts, which are one denominator by definition
    // (every share of a layer's units rests on n_units, every AWA match statistic on n_awa_compared, …)
    const names = new Set(SUMMARY.columns.map((c) => c.name));
    const isCount = (c: string) => c.startsWith('n_') || (c.endsWith('_n') && names.has(c.slice(0, -2))); // not pct_awa_significant_finite_n
    const byDefinition = (pair: string) => pair.split(' = ').every(isCount);
    expect(indistinctColumns(SUMMARY, cols, 3).filter((p) => !byDefinition(p))).toEqual([]);
  });
});
