// Tuning indices (docs/method.md §2) against analytic answers, and synthetic units on the default grating set.
import { describe, expect, it } from 'vitest';
import {
  circularVariance,
  gratingGrid,
  gratingTuning,
  interpolateOrientation,
  orientationHalfWidth,
  orientationSelectivity,
  reducePhase,
  sfBandwidth,
  sfCrossing,
  tuningIndices,
  vectorAverageOrientation,
} from '../../science/tuning.ts';
import { blobUnit, defaultGratingSet, gratingRenderer, gaborUnit, linearResponses } from '../fixtures/grating-units.ts';

const DEG = Math.PI / 180;
const grid12 = Array.from({ length: 12 }, (_, i) => i * 15);
const fine = (n: number) => Array.from({ length: n }, (_, i) => (i * 180) / n);
const circDist = (a: number, b: number) => {
  const d = Math.abs((((a - b) % 180) + 180) % 180);
  return Math.min(d, 180 - d);
};

describe('gratingGrid', () => {
  it('sorts distinct θ, f, φ and places shuffled stimuli on the grid', () => {
    const g = gratingGrid({ thetaDeg: [90, 0, 90, 0], sfCpp: [0.25, 0.25, 0.125, 0.125], phaseDeg: [0, 180, 180, 0] });
    expect([...g.thetaDeg]).toEqual([0, 90]);
    expect([...g.sfCpp]).toEqual([0.125, 0.25]);
    expect([...g.phaseDeg]).toEqual([0, 180]);
    expect([...g.cell]).toEqual([3, 1, 2, 0]);
    expect([...g.cellCount]).toEqual([1, 1, 1, 1]);
  });
  it('folds θ = 180° onto 0° and rejects an incomplete grid', () => {
    expect([...gratingGrid({ thetaDeg: [180, 90], sfCpp: [1, 1], phaseDeg: [0, 0] }).thetaDeg]).toEqual([0, 90]);
    expect(() => gratingGrid({ thetaDeg: [0, 90, 0], sfCpp: [0.1, 0.1, 0.2], phaseDeg: [0, 0, 0] })).toThrow(/no grating at θ = 90°/);
  });
});

describe('reducePhase', () => {
  // One (θ, f) cell, 8 phases; units: [cos φ]₊, 1 + cos φ, constant 2, and zero.
  const phases = Array.from({ length: 8 }, (_, i) => i * 45);
  const grid = gratingGrid({ thetaDeg: phases.map(() => 0), sfCpp: phases.map(() => 0.1), phaseDeg: phases });
  const resp = new Float32Array(8 * 4);
  phases.forEach((p, i) => {
    resp[i * 4] = Math.max(0, Math.cos(p * DEG));
    resp[i * 4 + 1] = 1 + Math.cos(p * DEG);
    resp[i * 4 + 2] = 2;
    resp[i * 4 + 3] = 0;
  });
  const r = reducePhase(resp, 4, grid);
  it('F1/F0 = 2|Σ R e^{iφ}|/Σ R: 4(√2−1) for a half-wave-rectified cosine on 8 phases, 1 for 1 + cos, 0 for a constant', () => {
    expect(r.f1f0[0]).toBeCloseTo(4 * (Math.SQRT2 - 1), 6); // Σ R = 1 + √2, Σ R e^{iφ} = 2
    expect(r.f1f0[1]).toBeCloseTo(1, 6);
    expect(r.f1f0[2]).toBeCloseTo(0, 6);
    expect(r.f1f0[3]).toBeNaN();
  });
  it('mean and max over phase', () => {
    expect(r.mean[0]).toBeCloseTo((1 + Math.SQRT2) / 8, 6);
    expect(r.max[0]).toBeCloseTo(1, 6);
    expect(r.mean[1]).toBeCloseTo(1, 6);
    expect(r.max[1]).toBeCloseTo(2, 6);
  });
  it('rejects a response matrix of the wrong size', () => {
    expect(() => reducePhase(new Float32Array(5), 4, grid)).toThrow(/expected 8×4/);
  });
});

describe('orientation indices', () => {
  const delta = grid12.map((t) => (t === 45 ? 3 : 0));
  const flat = grid12.map(() => 2);
  const cosine = (a: number, th0: number, thetas = grid12) => thetas.map((t) => 1 + a * Math.cos(2 * (t - th0) * DEG));
  it('circular variance: 0 for a delta, 1 for a flat curve, 1 − a/2 for 1 + a·cos 2(θ − θ0)', () => {
    expect(circularVariance(delta, grid12)).toBeCloseTo(0, 12);
    expect(circularVariance(flat, grid12)).toBeCloseTo(1, 12);
    expect(circularVariance(cosine(0.6, 37), grid12)).toBeCloseTo(0.7, 12);
    expect(circularVariance(grid12.map(() => 0), grid12)).toBeNaN();
  });
  it('vector-average orientation recovers an off-grid θ0 and wraps into [0, 180)', () => {
    expect(vectorAverageOrientation(cosine(0.6, 37), grid12)).toBeCloseTo(37, 9);
    expect(vectorAverageOrientation(cosine(0.6, 172), grid12)).toBeCloseTo(172, 9);
    expect(vectorAverageOrientation(delta, grid12)).toBeCloseTo(45, 9);
  });
  it('OSI = a for 1 + a·cos 2(θ − θ0); 1 for a delta; 0 for flat', () => {
    expect(orientationSelectivity(cosine(0.4, 30), grid12, 2)).toBeCloseTo(0.4, 12);
    expect(orientationSelectivity(delta, grid12, 3)).toBe(1);
    expect(orientationSelectivity(flat, grid12, 0)).toBe(0);
  });
  it('R_orth is interpolated circularly when θ + 90° is off the grid', () => {
    const th = [0, 40, 80, 120, 160];
    const c = [10, 8, 6, 4, 2];
    expect(interpolateOrientation(c, th, 100)).toBeCloseTo(5, 12); // between 80° and 120°
    expect(interpolateOrientation(c, th, 170)).toBeCloseTo(6, 12); // between 160° and 180° ≡ 0°
    expect(orientationSelectivity(c, th, 0)).toBeCloseTo((10 - 5.5) / (10 + 5.5), 12); // R(90°) = 5.5 between 80° and 120°
  });
  it('half-width at half height: exact for a triangle on the 15° grid', () => {
    const tri = grid12.map((t) => Math.max(0, 1 - circDist(t, 30) / 40));
    expect(orientationHalfWidth(tri, grid12, 2)).toBeCloseTo(20, 12);
    const triWrap = grid12.map((t) => Math.max(0, 1 - circDist(t, 165) / 50)); // peak at the wrap
    expect(orientationHalfWidth(triWrap, grid12, 11)).toBeCloseTo(25, 12);
  });
  it('half-width of a von Mises curve exp(κ(cos 2Δ − 1)) is ½·acos(1 − ln2/κ)', () => {
    const th = fine(360);
    for (const kappa of [1, 2, 5]) {
      const vm = th.map((t) => Math.exp(kappa * (Math.cos(2 * (t - 60) * DEG) - 1)));
      const expected = Math.acos(1 - Math.LN2 / kappa) / 2 / DEG;
      expect(Math.abs(orientationHalfWidth(vm, th, 120) - expected)).toBeLessThan(0.02);
    }
  });
  it('half height from zero or from the baseline: 60° vs 45° for 1 + ½cos 2Δ; open (NaN) when never at half', () => {
    const th = fine(720);
    const c = cosine(0.5, 0, th);
    expect(orientationHalfWidth(c, th, 0, 'zero')).toBeCloseTo(60, 2);
    expect(orientationHalfWidth(c, th, 0, 'baseline')).toBeCloseTo(45, 2);
    expect(orientationHalfWidth(cosine(0.2, 0), grid12, 0, 'zero')).toBeNaN();
    expect(orientationHalfWidth(flat, grid12, 0, 'baseline')).toBeNaN();
  });
});

describe('spatial-frequency bandwidth', () => {
  const log2Gauss = (ks: number[], k0: number, s: number) => ks.map((k) => Math.exp(-((k - k0) ** 2) / (2 * s * s)));
  it('log-Gaussian with SD s octaves has bandwidth 2s√(2 ln 2)', () => {
    const ks = Array.from({ length: 701 }, (_, i) => -8 + i * 0.01);
    const f = ks.map((k) => 2 ** k);
    for (const s of [0.4, 0.6, 1.0]) {
      const c = log2Gauss(ks, -4, s);
      expect(sfBandwidth(c, f, 400)).toBeCloseTo(2 * s * Math.sqrt(2 * Math.LN2), 3);
    }
  });
  it('exact for a triangle in log2 f on the default 0.5-octave grid', () => {
    const ks = Array.from({ length: 14 }, (_, i) => -8 + i * 0.5);
    const f = ks.map((k) => 2 ** k);
    const c = ks.map((k) => Math.max(0, 1 - Math.abs(k + 4) / 1.5)); // peak at index 8
    expect(sfBandwidth(c, f, 8)).toBeCloseTo(1.5, 12);
    expect(sfCrossing(c, f, 8, 0.5, -1)).toBeCloseTo(2 ** -4.75, 12);
    expect(sfCrossing(c, f, 8, 0.5, 1)).toBeCloseTo(2 ** -3.25, 12);
  });
  it('open (NaN) on the side where the curve does not fall to half within the range', () => {
    const ks = Array.from({ length: 14 }, (_, i) => -8 + i * 0.5);
    const f = ks.map((k) => 2 ** k);
    const lowPass = ks.map((k) => 1 / (1 + 2 ** (2 * (k + 5))));
    expect(sfBandwidth(lowPass, f, 0)).toBeNaN();
    expect(sfCrossing(lowPass, f, 0, 0.5, -1)).toBeNaN();
    expect(Math.log2(sfCrossing(lowPass, f, 0, 0.5, 1))).toBeCloseTo(-5, 1);
  });
});

describe('tuningIndices on phase-separable synthetic units', () => {
  // R(θ, f, φ) = A(θ)·B(f)·(1 + cos φ) for unit 0 (tuned), a unit responding to nothing, and a low-pass unit.
  const set = defaultGratingSet();
  const n = set.thetaDeg.length;
  const resp = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = set.thetaDeg[i]!;
    const k = Math.log2(set.sfCpp[i]!);
    const phase = 1 + Math.cos(set.phaseDeg[i]! * DEG);
    resp[i * 3] = Math.exp(2 * (Math.cos(2 * (t - 75) * DEG) - 1)) * Math.exp(-((k + 3) ** 2) / (2 * 0.5 ** 2)) * phase;
    resp[i * 3 + 1] = 0;
    resp[i * 3 + 2] = (1 + 0.2 * Math.cos(2 * (t - 120) * DEG)) * Math.exp(-(k + 8));
  }
  const { grid, indices: ix } = gratingTuning(resp, 3, set);
  it('finds θ_pref, f_pref, the vector average and flags', () => {
    expect(ix.responsive[0]).toBe(1);
    expect(ix.thetaPref[0]).toBe(75);
    expect(ix.sfPref[0]).toBeCloseTo(2 ** -3, 12);
    expect(ix.thetaVector[0]).toBeCloseTo(75, 9);
    expect(ix.circularVariance[0]).toBeGreaterThan(0.3);
    expect(ix.oriHalfWidth[0]).toBeGreaterThan(15);
    expect(ix.oriHalfWidth[0]).toBeLessThan(30);
    expect(ix.sfBandwidth[0]).toBeCloseTo(2 * 0.5 * Math.sqrt(2 * Math.LN2), 0);
    expect(ix.f1f0Pref[0]).toBeCloseTo(1, 6);
    expect(ix.maxPhasePref[0]).toBeCloseTo(2, 5);
  });
  it('keeps the orientation curve at f_pref and the SF curve at θ_pref', () => {
    const fp = ix.sfPrefIndex[0]!;
    for (let t = 0; t < 12; t++) {
      expect(ix.oriCurve[t]).toBeCloseTo(Math.exp(2 * (Math.cos(2 * (t * 15 - 75) * DEG) - 1)), 5);
    }
    expect(ix.sfCurve[fp]).toBeCloseTo(ix.maxResponse[0]!, 6);
  });
  it('an unresponsive unit gets NaN indices and responsive = 0', () => {
    expect(ix.responsive[1]).toBe(0);
    expect(ix.thetaPref[1]).toBeNaN();
    expect(ix.circularVariance[1]).toBeNaN();
    expect(ix.sfPrefIndex[1]).toBe(-1);
  });
  it('a low-pass unit is open at the low end of the SF range', () => {
    expect(ix.sfPref[2]).toBe(grid.sfCpp[0]);
    expect(ix.sfLowOpen[2]).toBe(1);
    expect(ix.sfHighOpen[2]).toBe(0);
    expect(ix.sfBandwidth[2]).toBeNaN();
    expect(ix.oriHalfWidth[2]).toBeNaN(); // 1 + 0.2·cos never falls to half of its peak
    expect(ix.oriWidthOpen[2]).toBe(1);
    expect(tuningIndices(gratingTuning(resp, 3, set).reduced, grid, { halfHeight: 'baseline' }).oriHalfWidth[2]).toBeCloseTo(45, 0);
  });
  it('a constant unit (tonically active or silent) is not responsive and gets no θ_pref / f_pref (docs/method.md §2: max R − min R > ε)', () => {
    // [stimulus × unit]: constant 5 (tonic), constant 0, and 5 plus a tiny grating dependence above ε
    const r2 = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      r2[i * 3] = 5;
      r2[i * 3 + 1] = 0;
      r2[i * 3 + 2] = 5 + 1e-3 * Math.cos(2 * (set.thetaDeg[i]! - 60) * DEG);
    }
    const t = gratingTuning(r2, 3, set).indices;
    expect([...t.responsive]).toEqual([0, 0, 1]);
    expect(t.maxResponse[0]).toBe(5);
    for (const u of [0, 1]) {
      expect(t.thetaPref[u]).toBeNaN();
      expect(t.sfPref[u]).toBeNaN();
      expect(t.thetaPrefIndex[u]).toBe(-1);
      expect(t.sfPrefIndex[u]).toBe(-1);
      expect(t.osi[u]).toBeNaN();
      expect(t.circularVariance[u]).toBeNaN();
    }
    expect(t.thetaPref[2]).toBe(60);
  });
  it('epsilon decides responsiveness; response = max uses max over phase', () => {
    const reduced = reducePhase(resp, 3, grid);
    expect(tuningIndices(reduced, grid, { epsilon: 10 }).responsive[0]).toBe(0);
    expect(tuningIndices(reduced, grid, { response: 'max' }).maxResponse[0]).toBeCloseTo(2, 5);
  });
});

describe('synthetic units on the default grating set (1,344 gratings)', () => {
  const set = defaultGratingSet();
  const render = gratingRenderer(set);
  const n = set.thetaDeg.length;
  const cases = [
    { theta: 30, f: 2 ** -4, sigma: 10 },
    { theta: 105, f: 2 ** -3, sigma: 6 },
    { theta: 165, f: 2 ** -2.5, sigma: 5 },
  ];
  const gabors = cases.map((c) => gaborUnit(112, 112, 64, c.sigma, c.theta, c.f, 0.7));
  const blob = blobUnit(112, 112, 64, 6);
  const resp = linearResponses([...gabors, blob], n, render);
  const { indices: ix } = gratingTuning(resp, 4, set);
  it('a linear Gabor unit [g·s]₊ peaks at its own θ and f, and is a simple cell (F1/F0 > 1)', () => {
    cases.forEach((c, u) => {
      expect(ix.thetaPref[u]).toBe(c.theta);
      expect(ix.sfPref[u]).toBeCloseTo(c.f, 12);
      expect(circDist(ix.thetaVector[u]!, c.theta)).toBeLessThan(1);
      expect(ix.f1f0Pref[u]).toBeGreaterThan(1.5);
      expect(ix.osi[u]).toBeGreaterThan(0.9);
      expect(Number.isFinite(ix.sfBandwidth[u])).toBe(true);
    });
  });
  it('its half-width and SF bandwidth match the Gabor Fourier transform (Gaussian of SD 1/2πσ around f0)', () => {
    // Mean-over-phase response of [g·s]₊ ∝ |ĝ(f, θ)|; half amplitude at distance σ_f·√(2 ln 2) from (f0, θ0).
    const { theta, f, sigma } = cases[0]!;
    const d = Math.sqrt(2 * Math.LN2) / (2 * Math.PI * sigma);
    const halfWidth = (2 * Math.asin(d / (2 * f))) / DEG;
    const bandwidth = Math.log2((f + d) / (f - d));
    expect(theta).toBe(30);
    expect(Math.abs(ix.oriHalfWidth[0]! - halfWidth)).toBeLessThan(1.5); // 15° grid, linear interpolation
    expect(Math.abs(ix.sfBandwidth[0]! - bandwidth)).toBeLessThan(0.1); // 0.5-octave grid
  });
  it('a Gaussian-blob unit is untuned for orientation: CV near 1', () => {
    expect(ix.responsive[3]).toBe(1);
    expect(ix.circularVariance[3]).toBeGreaterThan(0.95);
  });
});

describe('orientation bandwidth at 1/√2 of the peak', () => {
  it('is the analytic half-width of a cos² and of a von Mises curve, wider than at half height, NaN for a flat unit', () => {
    // R(θ, f, φ) = A(θ)·(1 + cos φ) on 180 orientations (1°), one f: unit 0 cos²(θ − 40°), unit 1 von Mises κ = 2 at 100°
    const thetas = fine(180);
    const phases = [0, 90, 180, 270];
    const set = { thetaDeg: [] as number[], sfCpp: [] as number[], phaseDeg: [] as number[] };
    for (const t of thetas) for (const p of phases) set.thetaDeg.push(t), set.sfCpp.push(0.1), set.phaseDeg.push(p);
    const n = set.thetaDeg.length;
    const resp = new Float32Array(n * 3);
    const kappa = 2;
    for (let i = 0; i < n; i++) {
      const t = set.thetaDeg[i]!;
      const ph = 1 + Math.cos(set.phaseDeg[i]! * DEG);
      resp[i * 3] = Math.cos((t - 40) * DEG) ** 2 * ph;
      resp[i * 3 + 1] = Math.exp(kappa * (Math.cos(2 * (t - 100) * DEG) - 1)) * ph;
      resp[i * 3 + 2] = 3;
    }
    const { indices: ix } = gratingTuning(resp, 3, set);
    expect(ix.oriBandwidth[0]).toBeCloseTo((Math.acos(Math.sqrt(Math.SQRT1_2)) / DEG), 1); // 32.77°
    // von Mises: exp(κ(cos 2d − 1)) = 1/√2 ⇒ d = ½ acos(1 − ln√2 / κ)
    expect(ix.oriBandwidth[1]).toBeCloseTo(Math.acos(1 - Math.log(Math.SQRT2) / kappa) / 2 / DEG, 1);
    expect(ix.oriBandwidth[1]).toBeLessThan(ix.oriHalfWidth[1]!);
    expect(ix.oriBandwidth[2]).toBeNaN();
  });
});
