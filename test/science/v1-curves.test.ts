// Brain-Score's tuning-curve measurements (science/v1-curves.ts) against analytic answers and against the values
// Brain-Score's own functions return (brain-score/vision benchmark_helpers/properties_common.py: calc_bandwidth,
// calc_spatial_frequency_tuning, run with numpy 2.4 / scipy 1.17 on the curves below).
import { describe, expect, it } from 'vitest';
import {
  argmax,
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


/** A profile placed symmetrically around `centre`: value prof[d] at centre − d and centre + d. */
function mirrored(prof: readonly number[], centre: number): Record<number, number> {
  const at: Record<number, number> = {};
  prof.forEach((v, d) => {
    at[centre - d] = v;
    at[centre + d] = v;
  });
  return at;
}
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

describe('edge cases, exactly', () => {
  it('slopes: a cubic’s derivative on nodes away from 0, the parabola’s on uneven nodes, 0 for one node, none for none', () => {
    const x = [1, 1.5, 2.7, 3.0, 4.1, 5.0, 6.5];
    const p = (t: number) => 0.3 * t ** 3 - 1.2 * t ** 2 + 0.7 * t - 2;
    const dp = (t: number) => 0.9 * t ** 2 - 2.4 * t + 0.7;
    const s = notAKnotSlopes(x, x.map(p));
    x.forEach((t, i) => expect(s[i]).toBeCloseTo(dp(t), 10));
    // q(t) = 2t² − t + 1 on x = 1, 3, 4 (steps 2 and 1): q′ = 4t − 1
    const q = (t: number) => 2 * t * t - t + 1;
    [...notAKnotSlopes([1, 3, 4], [q(1), q(3), q(4)])].forEach((v, i) => expect(v).toBeCloseTo([3, 11, 15][i]!, 12));
    expect([...notAKnotSlopes([5], [3])]).toEqual([0]);
    expect(notAKnotSlopes([], []).length).toBe(0);
    expect(() => notAKnotSlopes([0, 2, 2, 3], [0, 1, 2, 3])).toThrow('got x[1] = 2, x[2] = 2');
  });
  it('splineInterpolate: one node is a constant; points asked in any order get the same values', () => {
    expect([...splineInterpolate([2], [7], [0, 2, 5])]).toEqual([7, 7, 7]);
    // the scipy values of the test above, asked for from right to left and back
    const x = [0, 0.5, 1.7, 2.0, 3.1, 4.0, 5.5];
    const y = [1, 2, 0.5, 0.7, 3, 2, 2.2];
    const at = [6.5, 3.5, 0, -0.5, 2.5, 1];
    const scipy = [12.781868334113632, 2.8825454379452164, 1.0000000000000002, -2.7832482486822365, 1.8148998848862248, 1.4626830438684852];
    const v = splineInterpolate(x, y, at);
    scipy.forEach((s, i) => expect(v[i], `at ${at[i]}`).toBeCloseTo(s, 10));
  });
  it('argmax: the first maximum, −1 when empty; the orthogonal/preferred ratio with the peak at 0°', () => {
    expect(argmax([])).toBe(-1);
    expect(argmax([7])).toBe(0);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    const r = ori12.map((t) => 3 + 2 * Math.cos(2 * t * DEG));
    expect(orthogonalPreferredRatio(r, ori12)).toBeCloseTo(1 / 5, 12);
  });
});

// On 1° sampling the spline's nodes are the 1° grid, so the fitted curve on that grid is the smoothed curve itself,
// [2/5, 1, 2/5]/1.8 of each sample and its neighbours: the answers below follow from the samples by hand.
describe('orientationBandwidth on 1° sampling, exactly', () => {
  const fine = Array.from({ length: 180 }, (_, i) => i);
  const curve = (at: Record<number, number>, rest = 0) => fine.map((t) => at[t] ?? rest);
  it('a single-sample spike: its neighbours fall to 0.4 of its smoothed peak, a half-width of 1°', () => {
    expect(orientationBandwidth(curve({ 60: 1 }), fine)).toBe(1);
  });
  it('of two equal smoothed peaks, the first counts (narrow at 40°: 1°; wide at 120°: 2°)', () => {
    // both peaks smooth to 1.4/1.8; the narrow one's neighbours to 0.9/1.4 = 0.64 of it, the wide one's to 1.1/1.4
    // = 0.79 and its second neighbours to 0.9/1.4
    const two = curve({ 39: 0.5, 40: 1, 41: 0.5, 116: 0.5, 117: 0.5, 118: 0.5, 119: 0.5, 120: 1, 121: 0.5, 122: 0.5, 123: 0.5, 124: 0.5 });
    expect(orientationBandwidth(two, fine)).toBe(1);
    const wideOnly = curve({ 116: 0.5, 117: 0.5, 118: 0.5, 119: 0.5, 120: 1, 121: 0.5, 122: 0.5, 123: 0.5, 124: 0.5 });
    expect(orientationBandwidth(wideOnly, fine)).toBe(2);
  });
  it('a point exactly at the threshold is the crossing (at or below, on both sides)', () => {
    // around 90°: 1, 0.9, 0.8, 0.45, 0.5, 0.45, 0 — the smoothed value at ±4° is exactly half the peak's
    // ((0.4·0.45 + 0.5 + 0.4·0.45) = (0.4·0.9 + 1 + 0.4·0.9)/2 in binary too); at ±3° it is 0.97/1.72 of it
    const prof = [1, 0.9, 0.8, 0.45, 0.5, 0.45];
    const at = mirrored(prof, 90);
    expect(orientationBandwidth(curve(at), fine, 0.5)).toBe(4);
  });
  it('a one-sample notch opposite the peak: crossings 180° apart, a half-width of exactly 90° (still selective)', () => {
    // flat 1 smooths to 1.8/1.8; the notch at 90° to 0.8/1.8 (≤ 0.707), its neighbours to 1.4/1.8 (> 0.707)
    expect(orientationBandwidth(curve({ 90: 0 }, 1), fine)).toBe(90);
  });
  it('NaN when the curve stays above 0.707 of its peak over its period and falls below only at the tiling’s zero-padded ends', () => {
    // within the period the lowest smoothed value is at 0°: (0.4·0.8 + 0.6 + 0.4)/1.8 = 0.73 of the peak; at −180°
    // and 359° the zero beyond the tiling pulls it to 1.0/1.8 and 1.2/1.8: those are 539° apart
    expect(orientationBandwidth(curve({ 0: 0.6, 179: 0.8 }, 1), fine)).toBeNaN();
  });
});

// 100 frequencies 1/16 octave apart from 2⁻⁹ c/px: exactly the fit's 100-point grid in log2 f (checked below), so the
// fitted curve there is the smoothed curve itself, [1/5, 1, 1/5]/1.4 of each sample and its neighbours.
describe('sfCurveFit on its own grid, exactly', () => {
  const sf = Array.from({ length: 100 }, (_, i) => 2 ** (-9 + i / 16));
  const curve = (at: Record<number, number>, rest = 0) => sf.map((_, i) => at[i] ?? rest);
  it('the grid is the frequencies', () => {
    const lo = -9;
    const hi = Math.log2(sf[99]!);
    sf.forEach((f, i) => expect(Math.log2(f)).toBe(lo + ((hi - lo) * i) / 99));
  });
  it('all NaN for an empty curve', () => {
    expect(sfCurveFit([], [])).toEqual({ peak: NaN, ratio: NaN, low: NaN, high: NaN });
  });
  it('a single-sample spike: crossings at its neighbours (0.2 of its smoothed peak), ratio 100·2^(−1/8)', () => {
    const got = sfCurveFit(curve({ 50: 1 }), sf);
    expect(got.peak).toBe(sf[50]);
    expect(got.low).toBe(sf[49]);
    expect(got.high).toBe(sf[51]);
    expect(got.ratio).toBeCloseTo(100 * 2 ** (-1 / 8), 12);
  });
  it('a crossing at the lowest frequency counts', () => {
    // flat 1 except 0.3 at both ends: the ends smooth to 0.56/1.4 = 0.4 of the peak, their neighbours to 1.26/1.4
    const got = sfCurveFit(curve({ 0: 0.3, 99: 0.3 }, 1), sf);
    expect(got.peak).toBe(sf[2]); // the first of the flat samples
    expect(got.low).toBe(sf[0]);
    expect(got.high).toBe(sf[99]);
    expect(got.ratio).toBeCloseTo(100 * 2 ** (-99 / 16), 12);
  });
  it('a point exactly at the threshold is the crossing (at or below, on both sides)', () => {
    // around sample 50: 1, 0.9, 0.8, 0.45, 0.5, 0.45, 0 — the smoothed value 4 samples away is exactly half the peak's
    const prof = [1, 0.9, 0.8, 0.45, 0.5, 0.45];
    const at = mirrored(prof, 50);
    const got = sfCurveFit(curve(at), sf, 0.5);
    expect([got.low, got.high]).toEqual([sf[46], sf[54]]);
    expect(got.ratio).toBeCloseTo(100 * 2 ** (-8 / 16), 12);
  });
});
