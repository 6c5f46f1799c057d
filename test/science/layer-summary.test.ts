// Per-layer summary statistics against hand-computed small cases (science/layer-summary.ts).
import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../science/intervals.ts';
import { columnType, INTERVAL_METHOD, isStatistic, layerSummary, median, percent, rowEstimate, SUMMARY_COLUMNS, SUMMARY_STATISTICS, type AwcUnits, type LayerUnits, type SummaryRow } from '../../science/layer-summary.ts';
import { predictionVerdicts } from '../../science/predict.ts';

const tol = { thetaDeg: 15, octaves: 0.5 };

/** The units with the awc stage's verdicts (decided as the awc stage decides them, with tolerance `tol`). */
type Undecided = Omit<LayerUnits, 'awc'> & { awc?: Omit<AwcUnits, 'awaVerdicts' | 'awcVerdicts'> };
function decided(u: Undecided): LayerUnits {
  if (!u.awc) return u as LayerUnits;
  const t = u.tuning;
  const pref = { theta: t?.thetaPref ?? new Array(u.units).fill(NaN), f: t?.fPref ?? new Array(u.units).fill(NaN) };
  const nan = new Array(u.units).fill(NaN);
  const awa = predictionVerdicts(u.awa?.thetaPred ?? nan, u.awa?.fPred ?? nan, pref.theta, pref.f, (i) => u.awa?.significant[i] === 1, tol);
  const awc = predictionVerdicts(u.awc.thetaPred, u.awc.fPred, pref.theta, pref.f, (i) => u.awc!.nSigTop[i]! > 0, tol);
  const v = (x: typeof awa) => ({ thetaMatch: x.thetaMatch, fMatch: x.fMatch, reconstructed: x.reconstructed });
  return { ...u, awc: { ...u.awc, awaVerdicts: v(awa), awcVerdicts: v(awc) } };
}

/** Four units, every part present; the expected values are worked out in the comments. */
function fourUnits(): LayerUnits {
  return decided({
    layer: 'L',
    units: 4,
    rfSize: 10,
    tuning: {
      responsive: [1, 1, 1, 0],
      thetaPref: [0, 90, 45, NaN],
      fPref: [0.1, 0.2, 0.05, NaN],
      columns: {
        circular_variance: [0.2, 0.4, 0.6, NaN],
        osi: [0.5, 0.7, 0.9, NaN],
        ori_half_width: [20, NaN, 40, NaN],
        sf_bandwidth: [1, 2, NaN, NaN],
        f1f0: [0.1, 0.2, 0.3, NaN],
      },
    },
    awa: { responsive: [1, 1, 1, 1], significant: [1, 1, 0, 1], thetaPred: [10, 120, 45, 0], fPred: [0.1, 0.2 * 2 ** 0.6, 0.05, 0.1] },
    awc: { nSigTop: [0, 2, 1, 0], nSigBottom: [1, 0, 0, 0], thetaPred: [NaN, 90, 50, NaN], fPred: [NaN, 0.2, 0.05 * 2 ** 0.4, NaN] },
    category: { selective: [1, 0, 1, 0], preferred: ['faces', 'faces', 'cars', ''], csi: [0.5, 0.1, 0.3, 0], sparseness: [0.2, 0.4, 0.6, 0.8] },
  });
}

describe('percent and median', () => {
  it('percent of zero units is NaN; median ignores non-finite values and averages the middle pair', () => {
    expect(percent(1, 4)).toBe(25);
    expect(percent(0, 0)).toBeNaN();
    expect(median([3, NaN, 1, 2])).toBe(2);
    expect(median([4, 1, Infinity, 3, 2])).toBe(2.5);
    expect(median([NaN])).toBeNaN();
  });
});

describe('layerSummary', () => {
  it('median N_eff is over the noise-responsive units only, NaN when the awa checkpoint has no n_eff', () => {
    const u = fourUnits();
    u.awa = { ...u.awa!, responsive: [1, 1, 0, 1], nEff: [5, 100, 0, 7000] };
    expect(layerSummary(u).median_n_eff).toBe(100);
    expect(layerSummary(fourUnits()).median_n_eff).toBeNaN();
  });
  it('reproduces the hand-computed table of four units', () => {
    const r = layerSummary(fourUnits());
    expect(r).toMatchObject({ layer: 'L', n_units: 4, rf_size: 10, pct_responsive: 75, pct_noise_responsive: 100 });
    // AWA significant: units 0, 1, 3 → 75 %; compared (significant and grating-responsive): units 0, 1.
    // unit 0: Δθ 10° ≤ 15, f equal → match; unit 1: Δθ 30°, 0.6 octave → neither. Reconstructed: 1 of 4 units.
    expect(r.pct_awa_significant).toBe(75);
    expect(r.n_awa_compared).toBe(2);
    expect(r.pct_awa_theta_match).toBe(50);
    expect(r.pct_awa_f_match).toBe(50);
    expect(r.pct_awa_reconstructed).toBe(25);
    // θ agreement over the 2 compared units: mean of cos 2·10° and cos 2·30° (the circular correlation was NaN here)
    expect(r.awa_theta_agreement).toBeCloseTo((Math.cos((20 * Math.PI) / 180) + Math.cos((60 * Math.PI) / 180)) / 2, 12);
    expect(r.awa_theta_agreement_n).toBe(2);
    expect(r.awa_logf_spearman).toBeNaN(); // fewer than 3 pairs
    expect(r.awa_logf_spearman_n).toBe(2);
    // AWC: units 1, 2 have significant eigenvalues (50 %), unit 0 a suppressive one (25 %); both compared units match.
    expect(r.pct_awc_significant).toBe(50);
    expect(r.pct_awc_suppressive).toBe(25);
    expect(r.n_awc_compared).toBe(2);
    expect(r.pct_awc_theta_match).toBe(100);
    expect(r.pct_awc_f_match).toBe(100);
    expect(r.pct_awc_reconstructed).toBe(50);
    // Tuning medians over the 3 responsive units (finite values only).
    expect(r.n_responsive).toBe(3);
    expect(r.median_circular_variance).toBeCloseTo(0.4, 12);
    expect(r.median_osi).toBeCloseTo(0.7, 12);
    expect(r.median_ori_half_width).toBe(30);
    expect(r.median_sf_bandwidth).toBe(1.5);
    expect(r.median_f1f0).toBeCloseTo(0.2, 12);
    // Category: 2 of 4 selective; CSI median (0.1 + 0.3)/2; counts of preferred categories.
    expect(r.pct_category_selective).toBe(50);
    expect(r.median_csi).toBeCloseTo(0.2, 12);
    expect(r.median_sparseness).toBeCloseTo(0.5, 12);
    expect(JSON.parse(r.preferred_counts)).toEqual({ cars: 1, faces: 2 });
    expect(JSON.parse(r.selective_preferred_counts)).toEqual({ cars: 1, faces: 1 });
    expect(Object.keys(JSON.parse(r.preferred_counts))).toEqual(['cars', 'faces']);
  });

  it('correlations: exact predictions give 1, reversed log frequencies give a Spearman of −1', () => {
    const thetas = [0, 30, 60, 90, 120, 150];
    const fs = [0.02, 0.04, 0.08, 0.16, 0.32, 0.5];
    const n = thetas.length;
    const ones = new Array(n).fill(1);
    const base: Undecided = {
      layer: 'L',
      units: n,
      rfSize: NaN,
      tuning: { responsive: ones, thetaPref: thetas, fPref: fs, columns: { circular_variance: ones, osi: ones, ori_half_width: ones, sf_bandwidth: ones, f1f0: ones } },
      awa: { responsive: ones, significant: ones, thetaPred: thetas, fPred: fs },
      awc: { nSigTop: ones, nSigBottom: null, thetaPred: thetas.map((t) => (t + 90) % 180), fPred: [...fs].reverse() },
    };
    const r = layerSummary(decided(base));
    expect(r.awa_theta_agreement).toBeCloseTo(1, 12);
    expect(r.awc_theta_agreement).toBeCloseTo(-1, 12); // every AWC prediction is orthogonal
    expect(r.awa_logf_spearman).toBeCloseTo(1, 12);
    expect(r.pct_awa_reconstructed).toBe(100);
    expect(r.awc_logf_spearman).toBeCloseTo(-1, 12);
    expect(r.pct_awc_theta_match).toBe(0); // every prediction is orthogonal
    expect(r.pct_awc_suppressive).toBeNaN(); // no bottom eigenpairs kept
  });

  it('every statistic carries its 95% interval and n: Wilson for shares, bootstrap for medians', () => {
    const r = layerSummary(fourUnits());
    const w = wilsonInterval(3, 4);
    expect([r.pct_awa_significant_lo, r.pct_awa_significant_hi, r.pct_awa_significant_n]).toEqual([100 * w.lo, 100 * w.hi, 4]);
    const m = wilsonInterval(1, 2); // AWA θ match: 1 of the 2 compared units
    expect([r.pct_awa_theta_match_lo, r.pct_awa_theta_match_hi, r.pct_awa_theta_match_n]).toEqual([100 * m.lo, 100 * m.hi, 2]);
    expect(r.pct_awa_reconstructed_n).toBe(4); // of all units
    // medians over the 3 responsive units' finite values: their n and an interval inside the data's range
    expect(r.median_osi_n).toBe(3);
    expect(r.median_ori_half_width_n).toBe(2);
    expect(r.median_osi_lo).toBeGreaterThanOrEqual(0.5);
    expect(r.median_osi_hi).toBeLessThanOrEqual(0.9);
    expect(r.median_osi_lo).toBeLessThanOrEqual(r.median_osi);
    expect(r.median_csi_n).toBe(4);
    // every statistic has exactly its four columns, in order, and nothing else is a statistic
    for (const s of SUMMARY_STATISTICS) {
      const i = SUMMARY_COLUMNS.indexOf(s.name);
      expect(SUMMARY_COLUMNS.slice(i, i + 4)).toEqual([s.name, `${s.name}_lo`, `${s.name}_hi`, `${s.name}_n`]);
      for (const c of SUMMARY_COLUMNS.slice(i, i + 4)) expect(r[c], c).toBeTypeOf('number');
    }
    expect(SUMMARY_COLUMNS.filter((c) => isStatistic(c))).toHaveLength(SUMMARY_STATISTICS.length);
  });

  it('the same units give the same intervals (seeded); the Wilson ones do not depend on the seed', () => {
    const a = layerSummary(fourUnits(), { reps: 500, seed: 1, level: 0.95 });
    expect(layerSummary(fourUnits(), { reps: 500, seed: 1, level: 0.95 })).toEqual(a);
    const b = layerSummary(fourUnits(), { reps: 500, seed: 2, level: 0.95 });
    expect(b.pct_awa_significant_lo).toBe(a.pct_awa_significant_lo);
  });

  it('AWA significance under both null forms and the reliable category share are read when present', () => {
    const u = fourUnits();
    u.awa = { ...u.awa!, significantFiniteN: [1, 1, 0, 1], significantPopulation: [1, 0, 0, 0] };
    u.category = { ...u.category!, reliable: [0, 0, 1, 0] };
    const r = layerSummary(u);
    expect(r.pct_awa_significant_finite_n).toBe(75);
    expect(r.pct_awa_significant_population).toBe(25);
    expect(r.pct_category_reliable).toBe(25);
    const old = layerSummary(fourUnits()); // checkpoints that predate the columns
    expect(old.pct_awa_significant_population).toBeNaN();
    expect(old.pct_category_reliable).toBeNaN();
    expect(old.pct_category_reliable_n).toBeNaN();
  });

  it('missing upstream stages give NaN and empty columns, not errors', () => {
    const { awa: _a, awc: _c, category: _k, ...onlyTuning } = fourUnits();
    const r = layerSummary(onlyTuning);
    expect(r.pct_responsive).toBe(75);
    for (const k of ['pct_noise_responsive', 'pct_awa_significant', 'pct_awc_significant', 'n_awa_compared', 'pct_awa_theta_match', 'pct_awc_reconstructed', 'pct_category_selective', 'median_csi'] as const) {
      expect(r[k], k).toBeNaN();
    }
    expect(r.preferred_counts).toBe('');
    const { tuning: _t, ...noTuning } = fourUnits();
    const s = layerSummary(noTuning);
    expect(s.pct_awa_significant).toBe(75);
    expect(s.n_awa_compared).toBeNaN();
    expect(s.pct_awa_reconstructed).toBeNaN();
    expect(s.median_osi).toBeNaN();
  });
});

describe('the summary row: types, estimates, shares and counts (mutation-tested cases)', () => {
  it('columnType: string, int and number columns by their declaration; statistics and unknown names are numbers', () => {
    expect(columnType('layer')).toBe('string');
    expect(columnType('preferred_counts')).toBe('string');
    expect(columnType('n_units')).toBe('int');
    expect(columnType('rf_size')).toBe('number');
    expect(columnType('pct_responsive')).toBe('number');
    expect(columnType('no_such_column')).toBe('number');
  });

  it('rowEstimate reads a statistic’s value, _lo, _hi and _n columns', () => {
    const row = { pct_awc_significant: 40, pct_awc_significant_lo: 30, pct_awc_significant_hi: 55, pct_awc_significant_n: 64 } as unknown as SummaryRow;
    expect(rowEstimate(row, 'pct_awc_significant')).toEqual({ value: 40, lo: 30, hi: 55, n: 64 });
  });

  it('percent is 100·count/total (not 100/count/total); a total of 0 is NaN, not infinite', () => {
    expect(percent(2, 8)).toBe(25);
    expect(percent(3, 0)).toBeNaN();
  });

  it('AWC significant = share of units with ≥ 1 significant excitatory eigenvalue (3 of 4)', () => {
    const u = fourUnits();
    u.awc = { ...u.awc!, nSigTop: [0, 2, 1, 3] };
    const row = layerSummary(u);
    expect(row.pct_awc_significant).toBe(75);
    expect(row.pct_awc_significant_n).toBe(4);
  });

  it('category counts are JSON with sorted keys whatever order the units come in; without a category, empty strings', () => {
    const u = fourUnits();
    u.category = { ...u.category!, preferred: ['faces', 'words', 'cars', 'faces'], selective: [1, 1, 0, 1] }; // first seen: faces, words, cars
    const row = layerSummary(u);
    expect(row.preferred_counts).toBe('{"cars":1,"faces":2,"words":1}');
    expect(row.selective_preferred_counts).toBe('{"faces":2,"words":1}');
    const none = layerSummary({ ...fourUnits(), category: undefined });
    expect(none.preferred_counts).toBe('');
    expect(none.selective_preferred_counts).toBe('');
  });

  it('log f Spearman leaves out predictions of 0 Hz (log undefined) instead of ranking them lowest', () => {
    // four compared units (significant AWC, grating-responsive): f_pred 0 for the first, which would rank lowest
    // against the highest f_pref; without it the other three agree perfectly
    const u = fourUnits();
    u.tuning = { ...u.tuning!, responsive: [1, 1, 1, 1], thetaPref: [0, 90, 45, 30], fPref: [0.4, 0.1, 0.2, 0.3] };
    u.awc = { ...u.awc!, nSigTop: [1, 1, 1, 1], thetaPred: [0, 90, 45, 30], fPred: [0, 0.1, 0.2, 0.3] };
    const row = layerSummary(decided(u));
    expect(row.awc_logf_spearman_n).toBe(3);
    expect(row.awc_logf_spearman).toBeCloseTo(1, 12);
  });

  it('the V1 similarities come from the v1 row: value, _lo, _hi and the n column named for each; non-numbers are NaN', () => {
    const u = fourUnits();
    u.v1 = { v1_score: 0.7, v1_score_lo: 0.6, v1_score_hi: 0.8, v1_n_responsive: 12, v1_circular_variance: 0.5, v1_circular_variance_lo: 0.4, v1_circular_variance_hi: 'x', v1_circular_variance_n: 9 };
    const row = layerSummary(u);
    expect([row.v1_score, row.v1_score_lo, row.v1_score_hi, row.v1_score_n]).toEqual([0.7, 0.6, 0.8, 12]);
    expect([row.v1_circular_variance, row.v1_circular_variance_lo, row.v1_circular_variance_n]).toEqual([0.5, 0.4, 9]);
    expect(row.v1_circular_variance_hi).toBeNaN();
    const without = layerSummary({ ...fourUnits(), v1: undefined });
    expect(without.v1_score).toBeNaN();
    expect(without.v1_score_n).toBeNaN();
  });
});

describe('INTERVAL_METHOD (recorded in the summary checkpoint)', () => {
  it('names the interval each kind of statistic is given: Wilson for proportions, bootstraps for the rest', () => {
    for (const st of SUMMARY_STATISTICS) expect(INTERVAL_METHOD[st.kind], st.name).toMatch(/\w/);
    expect(INTERVAL_METHOD.proportion).toMatch(/^Wilson score interval$/);
    for (const k of ['median', 'mean', 'correlation', 'similarity'] as const) expect(INTERVAL_METHOD[k]).toMatch(/bootstrap/);
    expect(INTERVAL_METHOD.median).toMatch(/units resampled/);
    expect(INTERVAL_METHOD.correlation).toMatch(/pairs resampled/);
  });
});
