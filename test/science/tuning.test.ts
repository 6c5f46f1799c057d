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
  // Computed inside each test, not while the file is collected or in a hook: Stryker reliably switches a mutant on
  // only for code that runs inside a test (docs/testing.md, false survivors).
  const phases = Array.from({ length: 8 }, (_, i) => i * 45);
  const grid = () => gratingGrid({ thetaDeg: phases.map(() => 0), sfCpp: phases.map(() => 0.1), phaseDeg: phases });
  const reduced = () => {
    const resp = new Float32Array(8 * 4);
    phases.forEach((p, i) => {
      resp[i * 4] = Math.max(0, Math.cos(p * DEG));
      resp[i * 4 + 1] = 1 + Math.cos(p * DEG);
      resp[i * 4 + 2] = 2;
      resp[i * 4 + 3] = 0;
    });
    return reducePhase(resp, 4, grid());
  };
  it('F1/F0 = 2|Σ R e^{iφ}|/Σ R: 4(√2−1) for a half-wave-rectified cosine on 8 phases, 1 for 1 + cos, 0 for a constant', () => {
    const r = reduced();
    expect(r.f1f0[0]).toBeCloseTo(4 * (Math.SQRT2 - 1), 6); // Σ R = 1 + √2, Σ R e^{iφ} = 2
    expect(r.f1f0[1]).toBeCloseTo(1, 6);
    expect(r.f1f0[2]).toBeCloseTo(0, 6);
    expect(r.f1f0[3]).toBeNaN();
  });
  it('mean and max over phase', () => {
    const r = reduced();
    expect(r.mean[0]).toBeCloseTo((1 + Math.SQRT2) / 8, 6);
    expect(r.max[0]).toBeCloseTo(1, 6);
    expect(r.mean[1]).toBeCloseTo(1, 6);
    expect(r.max[1]).toBeCloseTo(2, 6);
  });
  it('rejects a response matrix of the wrong size', () => {
    expect(() => reducePhase(new Float32Array(5), 4, grid())).toThrow(/expected 8×4/);
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
  const tuned = () => gratingTuning(resp, 3, set);
  it('finds θ_pref, f_pref, the vector average and flags', () => {
    const ix = tuned().indices;
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
    const ix = tuned().indices;
    const fp = ix.sfPrefIndex[0]!;
    for (let t = 0; t < 12; t++) {
      expect(ix.oriCurve[t]).toBeCloseTo(Math.exp(2 * (Math.cos(2 * (t * 15 - 75) * DEG) - 1)), 5);
    }
    expect(ix.sfCurve[fp]).toBeCloseTo(ix.maxResponse[0]!, 6);
  });
  it('an unresponsive unit gets NaN indices and responsive = 0', () => {
    const ix = tuned().indices;
    expect(ix.responsive[1]).toBe(0);
    expect(ix.thetaPref[1]).toBeNaN();
    expect(ix.circularVariance[1]).toBeNaN();
    expect(ix.sfPrefIndex[1]).toBe(-1);
  });
  it('a low-pass unit is open at the low end of the SF range', () => {
    const { grid, indices: ix } = tuned();
    expect(ix.sfPref[2]).toBe(grid.sfCpp[0]);
    expect(ix.sfLowOpen[2]).toBe(1);
    expect(ix.sfHighOpen[2]).toBe(0);
    expect(ix.sfBandwidth[2]).toBeNaN();
    expect(ix.oriHalfWidth[2]).toBeNaN(); // 1 + 0.2·cos never falls to half of its peak
    expect(ix.oriWidthOpen[2]).toBe(1);
    expect(tuningIndices(tuned().reduced, grid, { halfHeight: 'baseline' }).oriHalfWidth[2]).toBeCloseTo(45, 0);
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
    const grid = gratingGrid(set);
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
  const indices = () => gratingTuning(resp, 4, set).indices;
  it('a linear Gabor unit [g·s]₊ peaks at its own θ and f, and is a simple cell (F1/F0 > 1)', () => {
    const ix = indices();
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
    const ix = indices();
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
    const ix = indices();
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

/** A full θ × f × φ grating set and the [stimulus × unit] responses R(θ index, f index, φ°) of each unit. */
function onGrid(thetas: number[], sfs: number[], phases: number[], units: ((t: number, f: number, phaseDeg: number) => number)[]) {
  const set = { thetaDeg: [] as number[], sfCpp: [] as number[], phaseDeg: [] as number[] };
  const rows: number[] = [];
  thetas.forEach((th, t) =>
    sfs.forEach((sf, f) =>
      phases.forEach((ph) => {
        set.thetaDeg.push(th), set.sfCpp.push(sf), set.phaseDeg.push(ph);
        for (const unit of units) rows.push(unit(t, f, ph));
      }),
    ),
  );
  return { set, resp: Float32Array.from(rows) };
}

describe('grid edges (found by mutation testing)', () => {
  it('gratingGrid names the descriptor lengths when they differ', () => {
    expect(() => gratingGrid({ thetaDeg: [0, 90], sfCpp: [0.1], phaseDeg: [0, 0] })).toThrow(/descriptor lengths differ \(2, 1, 2\)/);
    expect(() => gratingGrid({ thetaDeg: [0, 90], sfCpp: [0.1, 0.1], phaseDeg: [0] })).toThrow(/descriptor lengths differ \(2, 2, 1\)/);
  });
  it('the missing cell of an incomplete grid is named by θ and f', () => {
    expect(() => gratingGrid({ thetaDeg: [0, 90, 0], sfCpp: [0.1, 0.1, 0.2], phaseDeg: [0, 0, 0] })).toThrow(/no grating at θ = 90°, f = 0\.2 c\/px/);
  });
  it('negative θ and θ ≥ 180° fold onto [0, 180)', () => {
    const g = gratingGrid({ thetaDeg: [-30, 150, 330, 0], sfCpp: [0.1, 0.1, 0.1, 0.1], phaseDeg: [0, 90, 180, 0] });
    expect([...g.thetaDeg]).toEqual([0, 150]);
    expect([...g.cell]).toEqual([1, 1, 1, 0]);
    expect([...g.cellCount]).toEqual([1, 3]);
  });
  it('descriptors that differ by float noise (< 1e-9) share a grid value, the first one given, and a cell', () => {
    // θ noise 1e-10 on 30° and 60° (beyond 1e-9·|θ|/θ² ≈ 3e-11), f noise 5e-11 on 0.01 c/px (beyond 1e-9·f = 1e-11)
    const g = gratingGrid({ thetaDeg: [30, 30 + 1e-10, 60, 60 - 1e-10], sfCpp: [0.01, 0.01 + 5e-11, 0.01, 0.01 - 5e-11], phaseDeg: [0, 180, 0, 180] });
    expect([...g.thetaDeg]).toEqual([30, 60]);
    expect([...g.sfCpp]).toEqual([0.01]);
    expect([...g.cell]).toEqual([0, 0, 1, 1]);
    expect([...g.cellCount]).toEqual([2, 2]);
  });
  it('F1/F0 is NaN where the responses sum to 0 over phase even though F1 is not 0 (1, 0, −1, 0 at 0°, 90°, 180°, 270°)', () => {
    const phases = [0, 90, 180, 270];
    const grid = gratingGrid({ thetaDeg: [0, 0, 0, 0], sfCpp: [0.1, 0.1, 0.1, 0.1], phaseDeg: phases });
    const r = reducePhase(Float32Array.from([1, 0, -1, 0]), 1, grid);
    expect(r.f1f0[0]).toBeNaN();
    expect(r.mean[0]).toBe(0);
    expect(r.max[0]).toBe(1);
  });
});

describe('orientation and SF index edges (found by mutation testing)', () => {
  const th4 = [0, 45, 90, 135];
  it('a curve summing to 0 (1 at 0°, −1 at 90°) has CV and OSI NaN, not ±∞', () => {
    expect(circularVariance([1, -1], [0, 90])).toBeNaN();
    expect(orientationSelectivity([1, -1], [0, 90], 0)).toBeNaN();
  });
  it('vector average: NaN for a zero curve, 0° for a delta at 0°, 45° for equal responses at 0°, 45° and 90°', () => {
    expect(vectorAverageOrientation([0, 0, 0, 0], th4)).toBeNaN();
    expect(vectorAverageOrientation([3, 0, 0, 0], th4)).toBe(0); // Σ R e^{2iθ} = 3: real
    expect(vectorAverageOrientation([1, 1, 1, 0], th4)).toBeCloseTo(45, 12); // 0° and 90° cancel: Σ R e^{2iθ} = i
  });
  it('a one-orientation curve interpolates to its only value at any angle', () => {
    expect(interpolateOrientation([4], [30], 100)).toBe(4);
  });
  it('half-width: the first sample at half height is the crossing (a curve that rises again after it)', () => {
    expect(orientationHalfWidth([1, 0.5, 0.8, 0.5], th4, 0)).toBe(45);
  });
  it('half-width averages two different sides: 7.5° one way, 22.5° the other, 15°', () => {
    // peak 1 at 90°; 105° → 0 (crossing 7.5° away); 75° → 0.75, 60° → 0.25 (crossing 15° + 7.5° away)
    const c = grid12.map((t) => ({ 90: 1, 105: 0, 75: 0.75, 60: 0.25 })[t] ?? 0);
    expect(orientationHalfWidth(c, grid12, 6)).toBeCloseTo(15, 12);
  });
  it('a peak of 0 is not above its half height (zero mode): half-width and SF bandwidth NaN', () => {
    expect(orientationHalfWidth([0, -1, -1, -1], th4, 0, 'zero')).toBeNaN();
    expect(sfBandwidth([-1, 0, -1], [0.1, 0.2, 0.4], 1, 'zero')).toBeNaN();
  });
  it('sfCrossing: a crossing between the first two frequencies, and a sample exactly at half height', () => {
    // between f = 0.2 (R = 1) and f = 0.1 (R = 0.2): 0.625 of the way in log2 f
    expect(sfCrossing([0.2, 1, 0.2], [0.1, 0.2, 0.4], 1, 0.5, -1)).toBeCloseTo(0.2 * 2 ** -0.625, 12);
    expect(sfCrossing([1, 0.5, 0.8, 0.2], [0.1, 0.2, 0.4, 0.8], 0, 0.5, 1)).toBeCloseTo(0.2, 12);
  });
  it('sfBandwidth from the baseline: 1.5 octaves for a 0.5 + triangle(1.5 octaves) curve, 2.25 from zero', () => {
    const ks = Array.from({ length: 9 }, (_, i) => -6 + i * 0.5);
    const f = ks.map((k) => 2 ** k);
    const c = ks.map((k) => 0.5 + Math.max(0, 1 - Math.abs(k + 4) / 1.5)); // peak 1.5 at k = −4 (index 4), floor 0.5
    expect(sfBandwidth(c, f, 4, 'baseline')).toBeCloseTo(1.5, 12); // level 1.0: |Δk| = 0.75
    expect(sfBandwidth(c, f, 4, 'zero')).toBeCloseTo(2.25, 12); // level 0.75: |Δk| = 1.125
  });
});

describe('tuningIndices on hand-made grids (found by mutation testing)', () => {
  const thetas = [0, 45, 90, 135];
  const sfs = [0.05, 0.1, 0.2];
  const phases = [0, 180];
  it('f_pref is the lowest f among ties, θ_pref the first θ among ties; the minimum over the whole grid decides responsiveness', () => {
    const { set, resp } = onGrid(thetas, sfs, phases, [
      (t, f) => (t === 1 && f !== 1 ? 2 : 1), // 2 at (45°, 0.05) and (45°, 0.2)
      (t, f) => (f === 1 && (t === 1 || t === 3) ? 2 : 1), // 2 at (45°, 0.1) and (135°, 0.1)
      (t, f) => (t === 0 && f === 0 ? 0 : 1), // 1 everywhere but 0 at the first cell
      (t, f) => (t === 2 && f === 1 ? 0.5 : 0), // range exactly 0.5
    ]);
    const ix = gratingTuning(resp, 4, set).indices;
    expect([...ix.sfPrefIndex]).toEqual([0, 1, 0, 1]);
    expect([...ix.thetaPrefIndex]).toEqual([1, 1, 1, 2]);
    expect([...ix.maxResponse]).toEqual([2, 2, 1, 0.5]);
    expect([...ix.responsive]).toEqual([1, 1, 1, 1]);
    expect([...ix.oriCurve.subarray(0, 4)]).toEqual([1, 2, 1, 1]);
    expect([...ix.oriCurve.subarray(4, 8)]).toEqual([1, 2, 1, 2]); // unit 1 at 0.1 c/px
    expect([...ix.sfCurve.subarray(3, 6)]).toEqual([1, 2, 1]); // unit 1 at 45°
    expect([...ix.maxPhasePref]).toEqual([2, 2, 1, 0.5]); // each unit's own (θ_pref, f_pref) cell
    const reduced = gratingTuning(resp, 4, set).reduced;
    expect(tuningIndices(reduced, gratingGrid(set), { epsilon: 0.5 }).responsive[3]).toBe(0); // max − min > ε, strictly
    expect(tuningIndices(reduced, gratingGrid(set), { epsilon: 0.25 }).responsive[3]).toBe(1);
  });
  it('SF crossings at θ_pref from zero and from the baseline; a unit peaking at 0 has open SF and orientation widths', () => {
    const ks = Array.from({ length: 9 }, (_, i) => -6 + i * 0.5);
    const B = ks.map((k) => 0.5 + Math.max(0, 1 - Math.abs(k + 4) / 1.5)); // 1.5 at k = −4, floor 0.5
    const { set, resp } = onGrid(thetas, ks.map((k) => 2 ** k), phases, [
      (t, f) => B[f]! * (t === 0 ? 1 : 0.5),
      (t, f) => (t === 0 && f === 4 ? 0 : -1),
    ]);
    const zero = gratingTuning(resp, 2, set).indices; // float32 responses: 6 digits
    expect(zero.sfLow[0]).toBeCloseTo(2 ** (-4 - 1.125), 6);
    expect(zero.sfHigh[0]).toBeCloseTo(2 ** (-4 + 1.125), 6);
    expect(zero.sfBandwidth[0]).toBeCloseTo(2.25, 6);
    expect([zero.sfLowOpen[0], zero.sfHighOpen[0], zero.oriWidthOpen[0]]).toEqual([0, 0, 0]);
    const base = gratingTuning(resp, 2, set, { halfHeight: 'baseline' }).indices;
    expect(base.sfLow[0]).toBeCloseTo(2 ** (-4 - 0.75), 6);
    expect(base.sfHigh[0]).toBeCloseTo(2 ** (-4 + 0.75), 6);
    expect(base.sfBandwidth[0]).toBeCloseTo(1.5, 6);
    // unit 1: responsive (range 1), its peak R = 0 is not above half of itself
    expect(zero.responsive[1]).toBe(1);
    expect(zero.sfLow[1]).toBeNaN();
    expect(zero.sfHigh[1]).toBeNaN();
    expect([zero.sfLowOpen[1], zero.sfHighOpen[1], zero.oriWidthOpen[1]]).toEqual([1, 1, 1]);
  });
  it('a unit whose responses are all NaN is not responsive, and the search for its f_pref ends', () => {
    const { set, resp } = onGrid(thetas, sfs, phases, [() => NaN, (t) => t]);
    const ix = gratingTuning(resp, 2, set).indices;
    expect([...ix.responsive]).toEqual([0, 1]);
    expect(ix.thetaPref[0]).toBeNaN();
    expect(ix.sfPrefIndex[0]).toBe(-1);
    expect([...ix.oriCurve.subarray(0, 4)].every(Number.isNaN)).toBe(true);
    expect(ix.thetaPref[1]).toBe(135);
  });
});
