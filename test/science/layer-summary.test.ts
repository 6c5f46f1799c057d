// Per-layer summary statistics against hand-computed small cases (science/layer-summary.ts).
import { describe, expect, it } from 'vitest';
import { layerSummary, median, percent, type LayerUnits } from '../../science/layer-summary.ts';

const tol = { thetaDeg: 15, octaves: 0.5 };

/** Four units, every part present; the expected values are worked out in the comments. */
function fourUnits(): LayerUnits {
  return {
    layer: 'L',
    units: 4,
    rfSize: 10,
    tuning: {
      responsive: [1, 1, 1, 0],
      thetaPref: [0, 90, 45, NaN],
      fPref: [0.1, 0.2, 0.05, NaN],
      circularVariance: [0.2, 0.4, 0.6, NaN],
      osi: [0.5, 0.7, 0.9, NaN],
      oriHalfWidth: [20, NaN, 40, NaN],
      sfBandwidth: [1, 2, NaN, NaN],
      f1f0: [0.1, 0.2, 0.3, NaN],
    },
    awa: { responsive: [1, 1, 1, 1], significant: [1, 1, 0, 1], thetaPred: [10, 120, 45, 0], fPred: [0.1, 0.2 * 2 ** 0.6, 0.05, 0.1] },
    awc: { nSigTop: [0, 2, 1, 0], nSigBottom: [1, 0, 0, 0], thetaPred: [NaN, 90, 50, NaN], fPred: [NaN, 0.2, 0.05 * 2 ** 0.4, NaN] },
    category: { selective: [1, 0, 1, 0], preferred: ['faces', 'faces', 'cars', ''], csi: [0.5, 0.1, 0.3, 0], sparseness: [0.2, 0.4, 0.6, 0.8] },
  };
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
    expect(layerSummary(u, tol).median_n_eff).toBe(100);
    expect(layerSummary(fourUnits(), tol).median_n_eff).toBeNaN();
  });
  it('reproduces the hand-computed table of four units', () => {
    const r = layerSummary(fourUnits(), tol);
    expect(r).toMatchObject({ layer: 'L', n_units: 4, rf_size: 10, pct_responsive: 75, pct_noise_responsive: 100 });
    // AWA significant: units 0, 1, 3 → 75 %; compared (significant and grating-responsive): units 0, 1.
    // unit 0: Δθ 10° ≤ 15, f equal → match; unit 1: Δθ 30°, 0.6 octave → neither. Reconstructed: 1 of 4 units.
    expect(r.pct_awa_significant).toBe(75);
    expect(r.n_awa_compared).toBe(2);
    expect(r.pct_awa_theta_match).toBe(50);
    expect(r.pct_awa_f_match).toBe(50);
    expect(r.pct_awa_reconstructed).toBe(25);
    expect(r.awa_theta_circ_corr).toBeNaN(); // fewer than 3 units compared
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
    const base: LayerUnits = {
      layer: 'L',
      units: n,
      rfSize: NaN,
      tuning: { responsive: ones, thetaPref: thetas, fPref: fs, circularVariance: ones, osi: ones, oriHalfWidth: ones, sfBandwidth: ones, f1f0: ones },
      awa: { responsive: ones, significant: ones, thetaPred: thetas, fPred: fs },
      awc: { nSigTop: ones, nSigBottom: null, thetaPred: thetas.map((t) => (t + 90) % 180), fPred: [...fs].reverse() },
    };
    const r = layerSummary(base, tol);
    expect(r.awa_theta_circ_corr).toBeCloseTo(1, 12);
    expect(r.awa_logf_spearman).toBeCloseTo(1, 12);
    expect(r.pct_awa_reconstructed).toBe(100);
    expect(r.awc_logf_spearman).toBeCloseTo(-1, 12);
    expect(r.pct_awc_theta_match).toBe(0); // every prediction is orthogonal
    expect(r.pct_awc_suppressive).toBeNaN(); // no bottom eigenpairs kept
  });

  it('missing upstream stages give NaN and empty columns, not errors', () => {
    const { awa: _a, awc: _c, category: _k, ...onlyTuning } = fourUnits();
    const r = layerSummary(onlyTuning, tol);
    expect(r.pct_responsive).toBe(75);
    for (const k of ['pct_noise_responsive', 'pct_awa_significant', 'pct_awc_significant', 'n_awa_compared', 'pct_awa_theta_match', 'pct_awc_reconstructed', 'pct_category_selective', 'median_csi'] as const) {
      expect(r[k], k).toBeNaN();
    }
    expect(r.preferred_counts).toBe('');
    const { tuning: _t, ...noTuning } = fourUnits();
    const s = layerSummary(noTuning, tol);
    expect(s.pct_awa_significant).toBe(75);
    expect(s.n_awa_compared).toBeNaN();
    expect(s.pct_awa_reconstructed).toBeNaN();
    expect(s.median_osi).toBeNaN();
  });
});
