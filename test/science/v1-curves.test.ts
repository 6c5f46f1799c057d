// Brain-Score's tuning-curve measurements (science/v1-curves.ts) against analytic answers and against the values
// Brain-Score's own functions return (brain-score/vision benchmark_helpers/properties_common.py: calc_bandwidth,
// calc_spatial_frequency_tuning, run with numpy 2.4 / scipy 1.17 on the curves below).
import { describe, expect, it } from 'vitest';
import {
  circularVarianceBS,
  notAKnotSlopes,
  orientationBandwidth,
  orthogonalPreferredRatio,
  sfCurveFit,
  splineInterpolate,
} from '../../science/v1-curves.ts';

const DEG = Math.PI / 180;
const ori12 = Array.from({ length: 12 }, (_, i) => i * 15);
const sf22 = Array.from({ length: 22 }, (_, i) => 2 ** (-6.25 + 0.25 * i));

describe('splineInterpolate (not-a-knot cubic, scipy UnivariateSpline s = 0)', () => {
  const x = [0, 0.5, 1.7, 2.0, 3.1, 4.0, 5.5];
  it('reproduces a cubic polynomial exactly on uneven nodes, inside and outside the nodes', () => {
    const p = (t: number) => 0.3 * t ** 3 - 1.2 * t ** 2 + 0.7 * t - 2;
    const at = [-1, 0.25, 1.1, 1.85, 2.5, 3.7, 5, 6.5];
    const v = splineInterpolate(x, x.map(p), at);
    at.forEach((t, i) => expect(v[i]).toBeCloseTo(p(t), 10));
  });
  it("equals scipy's UnivariateSpline(x, y, s=0) on data that is no cubic", () => {
    const y = [1, 2, 0.5, 0.7, 3, 2, 2.2];
    const at = Array.from({ length: 16 }, (_, i) => -1 + i * 0.5);
    const scipy = [-10.595676038597437, -2.7832482486822365, 1.0000000000000002, 1.9999999999999996, 1.4626830438684852, 0.6339804241561805, 0.7000000000000004, 1.8148998848862248, 2.8965051580327725, 2.8825454379452164, 1.9999999999999993, 1.0536936317440189, 0.8511768071023327, 2.2, 5.90771368436208, 12.781868334113632];
    const v = splineInterpolate(x, y, at);
    scipy.forEach((s, i) => expect(v[i]).toBeCloseTo(s, 10));
  });
  it('is the line through two points and the parabola through three', () => {
    expect([...splineInterpolate([1, 3], [2, 6], [0, 2, 4])]).toEqual([0, 4, 8]);
    const q = (t: number) => 2 * t * t - t + 1;
    const v = splineInterpolate([0, 1, 3], [q(0), q(1), q(3)], [-1, 2, 4]);
    [-1, 2, 4].forEach((t, i) => expect(v[i]).toBeCloseTo(q(t), 12));
    expect(() => notAKnotSlopes([0, 1, 1], [0, 1, 2])).toThrow(/increase strictly/);
  });
});

describe('circular variance and orthogonal/preferred ratio', () => {
  it('CV = 1 − a/(2c) for r = c + a·cos 2(θ − θ0) on 12 orientations; Σ|r| in the denominator', () => {
    const r = ori12.map((t) => 3 + 2 * Math.cos(2 * (t - 40) * DEG));
    expect(circularVarianceBS(r, ori12)).toBeCloseTo(1 - 2 / 6, 12);
    expect(circularVarianceBS(ori12.map(() => 5), ori12)).toBeCloseTo(1, 12);
    // A negative value counts by its magnitude (Brain-Score's Σ|r|), unlike 1 − |Σ r e^{2iθ}|/Σ r.
    const neg = ori12.map((_, i) => (i === 0 ? 1 : i === 6 ? -1 : 0));
    expect(circularVarianceBS(neg, ori12)).toBeCloseTo(0, 12);
    expect(circularVarianceBS(ori12.map(() => 0), ori12)).toBeNaN();
  });
  it('orthogonal/preferred ratio at θ_pref + 90°, interpolated off the grid', () => {
    const r = ori12.map((t) => 3 + 2 * Math.cos(2 * (t - 45) * DEG));
    expect(orthogonalPreferredRatio(r, ori12)).toBeCloseTo(1 / 5, 12);
    // 5 orientations (36° steps): θ_pref = 72°, orth = 162° between 144° and 0°(=180°): halfway → mean.
    expect(orthogonalPreferredRatio([2, 1, 10, 4, 6], [0, 36, 72, 108, 144])).toBeCloseTo(((6 + 2) / 2) / 10, 12);
  });
});

describe('orientationBandwidth (calc_bandwidth, Hanning, 0.707, half)', () => {
  it("returns Brain-Score's values on 12-orientation curves", () => {
    const vonMises = ori12.map((t) => Math.exp(2.5 * (Math.cos(2 * (t - 50) * DEG) - 1)) + 0.1);
    expect(orientationBandwidth(vonMises, ori12)).toBe(20);
    expect(orientationBandwidth([3, 5, 9, 14, 10, 6, 4, 3.5, 3, 2.8, 2.9, 3.1], ori12)).toBe(20);
    expect(orientationBandwidth([1, 8, 2, 1, 1, 1, 1, 6, 1, 1, 1, 1], ori12)).toBe(11.5);
    // never falls to 0.707 of the peak: not orientation selective
    expect(orientationBandwidth([10, 9.5, 9, 8.8, 8.6, 8.5, 8.6, 8.8, 9, 9.5, 10, 10.2], ori12)).toBeNaN();
  });
  it('on 1° sampling, the analytic half-width of exp(κ(cos 2Δθ − 1)) at 0.707, up to the 1° grid (≤ +1°)', () => {
    const fine = Array.from({ length: 180 }, (_, i) => i);
    for (const [kappa, t0] of [[2, 30], [6, 100], [20, 170]] as const) {
      const r = fine.map((t) => Math.exp(kappa * (Math.cos(2 * (t - t0) * DEG) - 1)));
      const truth = Math.acos(1 + Math.log(0.707) / kappa) / 2 / DEG;
      const bw = orientationBandwidth(r, fine);
      expect(bw, `κ = ${kappa}`).toBeGreaterThanOrEqual(truth - 0.1);
      expect(bw, `κ = ${kappa}`).toBeLessThanOrEqual(truth + 1.1);
    }
  });
  it('is NaN when the smoothed curve never falls to 0.707 of its peak, and at most 90° when it does', () => {
    const dip = (depth: number) => ori12.map((t) => 1.6 - depth * Math.exp(-(((t - 90) / 10) ** 2)));
    expect(orientationBandwidth(dip(0.6), ori12)).toBeNaN(); // the Hanning filter lifts the one-sample dip above 0.707
    const deep = orientationBandwidth(dip(1.5), ori12);
    expect(deep).toBeGreaterThan(70);
    expect(deep).toBeLessThanOrEqual(90);
  });
});

describe('sfCurveFit (calc_spatial_frequency_tuning, smooth, 0.707, ratio)', () => {
  it("returns Brain-Score's ratio and peak on 22 quarter-octave frequencies", () => {
    const logNormal = sf22.map((f) => Math.exp(-((Math.log2(f) + 3.2) ** 2) / (2 * 0.6 ** 2)) + 0.05);
    const a = sfCurveFit(logNormal, sf22);
    expect(a.ratio).toBeCloseTo(46.21277524717256, 9);
    expect(a.peak).toBeCloseTo(0.10678102980228418, 12);
    const lowPass = sf22.map((f) => 1 / (1 + (f / 0.05) ** 2));
    const b = sfCurveFit(lowPass, sf22);
    expect(b.ratio).toBeNaN();
    expect(b.peak).toBeCloseTo(0.013139006488339289, 12);
    const noisy = sfCurveFit([2, 3, 5, 4, 7, 9, 12, 15, 14, 16, 13, 11, 9, 9, 6, 5, 4, 3, 3, 2.5, 2, 2], sf22);
    expect(noisy.ratio).toBeCloseTo(37.066346302258886, 9);
    expect(noisy.peak).toBeCloseTo(0.06152313061911599, 12);
  });
  it('on fine sampling, the analytic 100·f_low/f_high of a Gaussian in log2 f, up to the 100-point grid', () => {
    const fine = Array.from({ length: 97 }, (_, i) => 2 ** (-8 + i / 16));
    for (const [sigma, mu] of [[0.5, -4], [0.8, -3.5], [1.2, -4.2]] as const) {
      const r = fine.map((f) => Math.exp(-((Math.log2(f) - mu) ** 2) / (2 * sigma * sigma)));
      const halfOct = sigma * Math.sqrt(2 * Math.log(1 / 0.707));
      const truth = 100 * 2 ** (-2 * halfOct);
      const step = 6 / 99; // grid step, octaves: each crossing lies at most one step outside
      const got = sfCurveFit(r, fine);
      expect(got.ratio, `σ = ${sigma}`).toBeLessThanOrEqual(truth * 1.005);
      expect(got.ratio, `σ = ${sigma}`).toBeGreaterThanOrEqual(truth * 2 ** (-2 * step) * 0.995);
      expect(Math.abs(Math.log2(got.peak) - mu)).toBeLessThanOrEqual(step / 2 + 1e-9);
    }
  });
});
