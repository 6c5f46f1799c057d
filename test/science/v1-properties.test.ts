// Per-unit V1 properties (science/v1-properties.ts) against analytic ground truth: the affine map to spikes/s,
// clipping before the phase mean, and a linear Gabor unit measured from its responses to rendered gratings, whose
// orientation bandwidth, SF bandwidth, peak SF, F1/F0, CV and orthogonal/preferred ratio follow in closed form.
import { describe, expect, it } from 'vitest';
import { gratingList } from '../../science/gratings.ts';
import { firingRateMap, v1UnitProperties, V1_CONSTANTS, type V1UnitProperties } from '../../science/v1-properties.ts';
import { gaborUnit, gratingRenderer, linearResponses } from '../fixtures/grating-units.ts';

const DEG = Math.PI / 180;
const SPAN = V1_CONSTANTS.medianMax - V1_CONSTANTS.medianBaseline; // 32.98 spikes/s

describe('firingRateMap (Brain-Score firing_rates_affine)', () => {
  it('maps the median blank to 0.82 and the median maximum to 33.8 over the units above 5/243.1 of the top difference', () => {
    // differences max − blank: 10, 18, 26, 1, 0.5; threshold (5/243.1)·26 = 0.535 leaves out the last unit
    const m = firingRateMap([10, 20, 30, 1, 0.5], [0, 2, 4, 0, 0]);
    expect(m.fitted).toBe(4);
    // medians over the fitted units: blank (0, 0, 2, 4) → 1, maximum (1, 10, 20, 30) → 15
    expect(m.slope).toBeCloseTo(SPAN / (15 - 1), 12);
    expect(m.offset).toBeCloseTo(0.82 - SPAN / 14, 12);
    expect(m.slope * 1 + m.offset).toBeCloseTo(0.82, 12);
    expect(m.slope * 15 + m.offset).toBeCloseTo(33.8, 12);
  });
  it('fits the units strictly above the threshold, on max − blank; a high blank neither raises the threshold nor fits a unit', () => {
    // top difference 243.1: the threshold is exactly 5, so a unit 5 above its blank is left out and one 10 above fitted
    expect(firingRateMap([243.1, 5, 10], [0, 0, 0]).fitted).toBe(2);
    // differences 10 (max 100 over a blank of 90) and 1: threshold (5/243.1)·10 = 0.21 fits both (a top of
    // max + blank = 190, or of the max alone = 100, would put it at 3.9 or 2.1 and leave out the second)
    expect(firingRateMap([100, 1], [90, 0]).fitted).toBe(2);
    // a unit 1 above a blank of 10 stays below (5/243.1)·100 = 2.06 (max + blank, or the max alone, would pass)
    expect(firingRateMap([100, 11], [0, 10]).fitted).toBe(1);
  });
  it('is undefined (NaN) when no unit responds above its blank', () => {
    expect(firingRateMap([3, 3], [3, 4]).slope).toBeNaN();
    expect(firingRateMap([0, 0], [0, 0]).slope).toBeNaN();
  });
});

// One (θ, f) cell per unit is enough for the mapping checks: 1 θ × 1 f × 8 phases.
const phases = Array.from({ length: 8 }, (_, i) => i * 45);
const oneCell = { thetaDeg: phases.map(() => 0), sfCpp: phases.map(() => 0.1), phaseDeg: phases };

describe('v1UnitProperties: responses mapped to spikes/s and clipped per stimulus', () => {
  it('clips every mapped response at 0 before the phase mean and F1 (the offset can be negative)', () => {
    // unit 0 alone sets the map: blank 2, max 20 → slope 32.98/18, offset 0.82 − 2·slope < 0
    const r0 = [20, 20, 20, 20, 20, 20, 20, 20];
    const r1 = [0, 0, 0, 0, 0, 0, 0.4, 2]; // mean 0.3 < (5/243.1)·18: not fitted
    const resp = new Float32Array(16);
    phases.forEach((_, i) => {
      resp[2 * i] = r0[i]!;
      resp[2 * i + 1] = r1[i]!;
    });
    const { map, units } = v1UnitProperties(resp, 2, oneCell, [2, 0], { pixelsPerDegree: 28 });
    expect(map.fitted).toBe(1);
    const mapped = r1.map((r) => Math.max(0, map.slope * r + map.offset));
    expect(mapped.filter((m) => m === 0).length).toBe(7); // 0.4 → below 0 → 0
    const mean = mapped.reduce((a, b) => a + b, 0) / 8;
    expect(units.maxDc[1]).toBeCloseTo(mean, 4);
    expect(units.baseline[1]).toBe(0); // max(0, offset)
    // one non-zero phase: F1 = 2·m/8 = 2·mean, F1/F0 = 2; raw F1/F0 = 2|0.4e^{i270°} + 2e^{i315°}|/2.4
    expect(units.modulationRatio[1]).toBeCloseTo(2, 5);
    const re = 2 * Math.cos(315 * DEG);
    const im = -0.4 + 2 * Math.sin(315 * DEG);
    expect(units.modulationRatioRaw[1]).toBeCloseTo((2 * Math.hypot(re, im)) / 2.4, 5);
    expect(units.responsive[0]).toBe(1); // 33.8 > 0.82 + 5
    expect(units.responsive[1]).toBe(0); // 0.1 spikes/s
  });
  it('a layer where nothing responds: no map, every unit non-responsive', () => {
    const { map, units } = v1UnitProperties(new Float32Array(8).fill(4), 1, oneCell, [4], { pixelsPerDegree: 28 });
    expect(map.slope).toBeNaN();
    expect(units.responsive[0]).toBe(0);
    expect(units.circularVariance[0]).toBeNaN();
  });
  it('without a map every property is NaN (undefined), not read from the raw responses or the grid', () => {
    const r = [0, 0, 0, 0, 0, 0, 0.5, 3]; // modulated, but not above its blank of 3
    const { map, units } = v1UnitProperties(Float32Array.from(r), 1, oneCell, [3], { pixelsPerDegree: 28 });
    expect(map.slope).toBeNaN();
    const { nUnits, responsive, ...properties } = units;
    expect([nUnits, responsive[0]]).toEqual([1, 0]);
    for (const [name, values] of Object.entries(properties)) expect(values[0], name).toBeNaN();
  });
  it('refuses a blank response count that is not the unit count, naming both', () => {
    expect(() => v1UnitProperties(new Float32Array(8), 1, oneCell, [0, 0], { pixelsPerDegree: 28 })).toThrow(
      'v1UnitProperties: expected 1 blank responses, got 2',
    );
  });
  it('a unit whose mapped responses are all 0: F1 amplitude 0 (not NaN), F1/F0 undefined', () => {
    // unit 0 alone sets the map (blank 2, max 20: offset < 0); unit 1's zero activations map below 0, clipped to 0
    const resp = new Float32Array(16);
    for (let i = 0; i < 8; i++) resp[2 * i] = 20;
    const { units } = v1UnitProperties(resp, 2, oneCell, [2, 0], { pixelsPerDegree: 28 });
    expect([units.maxDc[1], units.maxAc[1]]).toEqual([0, 0]);
    expect(units.modulationRatio[1]).toBeNaN();
  });
  it('negative activations count as 0 in the raw responses too (the map and the raw F1/F0)', () => {
    // raw [2, −2 × 7] → [2, 0 × 7]: mean 0.25 sets the map (blank 0), raw F1/F0 = 2·|2|/2 = 2
    const r = [2, -2, -2, -2, -2, -2, -2, -2];
    const { map, units } = v1UnitProperties(Float32Array.from(r), 1, oneCell, [0], { pixelsPerDegree: 28 });
    expect(map.slope).toBeCloseTo(SPAN / 0.25, 10);
    expect(units.maxDc[0]).toBeCloseTo(33.8, 4);
    expect(units.modulationRatioRaw[0]).toBeCloseTo(2, 6);
  });
  it('a unit exactly 5 spikes/s above its mapped blank is not responsive (more than 5)', () => {
    // units 0 and 1 (20, blank 0) and unit 2 (10) set the map: medians blank 0, max 20; unit 2's blank x is chosen
    // so that its mapped blank + 5 equals its mapped maximum exactly (found among the floats next to the closed form)
    const resp = new Float32Array(24);
    for (let i = 0; i < 8; i++) resp.set([20, 20, 10], 3 * i);
    const run = (x: number) => v1UnitProperties(resp, 3, oneCell, [0, 0, x], { pixelsPerDegree: 28 }).units;
    const top = run(0).maxDc[2]!;
    const x0 = ((top - 5 - 0.82) * 20) / SPAN;
    const ulp = 2 ** (Math.floor(Math.log2(x0)) - 52);
    let exact: V1UnitProperties | undefined;
    for (let k = -64; k <= 64 && !exact; k++) {
      const u = run(x0 + k * ulp);
      if (u.baseline[2]! + 5 === u.maxDc[2]) exact = u;
    }
    expect(exact, 'a blank at exactly 5 below').toBeDefined();
    expect(exact!.responsive[2]).toBe(0);
    expect(run(x0 - 1e-6).responsive[2]).toBe(1);
  });
});

// A layer on a full θ × f grid with 4 phases (0°, 90°, 180°, 270°): cells[u](t, f) gives unit u's four responses. A
// cell's responses [a, a, a, a] have F0 = a and F1 = 0; [4a, 0, 0, 0] have F0 = a and F1 = 2·|4a|/4 = 2a.
function layer(thetas: number[], sfs: number[], cells: ((t: number, f: number) => number[])[]) {
  const thetaDeg: number[] = [];
  const sfCpp: number[] = [];
  const phaseDeg: number[] = [];
  const rows: number[] = [];
  thetas.forEach((t, ti) =>
    sfs.forEach((f, fi) =>
      [0, 90, 180, 270].forEach((p, pi) => {
        thetaDeg.push(t);
        sfCpp.push(f);
        phaseDeg.push(p);
        for (const c of cells) rows.push(c(ti, fi)[pi]!);
      }),
    ),
  );
  return { resp: Float32Array.from(rows), set: { thetaDeg, sfCpp, phaseDeg } };
}
const flat = (a: number) => [a, a, a, a];

describe('v1UnitProperties: which cell and which component each property is read from', () => {
  it('raw F1/F0 at the preferred (θ, f) of each unit', () => {
    // unit 0 prefers (90°, 0.2 c/px), the only modulated cell (F1/F0 2; every other cell 0); unit 1 is flat
    const { resp, set } = layer([0, 90], [0.1, 0.2], [(t, f) => (t === 1 && f === 1 ? [4, 0, 0, 0] : flat(0.5)), () => flat(0.5)]);
    const { units } = v1UnitProperties(resp, 2, set, [0, 0], { pixelsPerDegree: 28 });
    expect([units.prefThetaDeg[0], units.prefSf[0]]).toEqual([90, 0.2 * 28]);
    expect(units.modulationRatioRaw[0]).toBeCloseTo(2, 6);
    expect(units.modulationRatioRaw[1]).toBeCloseTo(0, 12);
  });
  it("De Valois' peak SF: the SF curve of F1 when F1 holds the largest value, of F0 − blank otherwise", () => {
    // 5 frequencies an octave apart; both units: F0 = 1 at f1 (the map: slope 32.98, offset 0.82, blank 0.82), and
    // a half-wave-like cell at f3 — unit 0: F1 = 1.03 (mapped 33.97 > F0 − blank = 32.98, < F0 + blank = 34.62),
    // unit 1: F1 = 0.8. The F1 curve is a spike at f3, the F0 − blank curve peaks at f1.
    const sfs = [1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4];
    const unit = (a3: number) => (_t: number, f: number) => (f === 1 ? flat(1) : f === 3 ? [4 * a3, 0, 0, 0] : flat(0.2));
    const { resp, set } = layer([0], sfs, [unit(2.06 / 4), unit(1.6 / 4)]);
    const { map, units } = v1UnitProperties(resp, 2, set, [0, 0], { pixelsPerDegree: 1 });
    expect(map.slope).toBeCloseTo(SPAN, 5);
    const octavesFrom = (u: number, f: number) => Math.abs(Math.log2(units.peakSf[u]! / f));
    expect(octavesFrom(0, 1 / 8)).toBeLessThan(0.5);
    expect(octavesFrom(1, 1 / 32)).toBeLessThan(0.5);
  });
  it('ties: the first maximum in (f, θ) order, for the preferred grating and for De Valois’ peak', () => {
    // two cells with the same responses, (90°, 1/64) and (0°, 1/16); every other cell flat 0.2. Unit 0: flat 1 there
    // (an F0 tie); unit 1: [4, 0, 0, 0] there (F0 and F1 ties). (90°, 1/64) comes first: the SF curves at 90° peak
    // at the lowest frequency, those at 0° at the highest.
    const tie = (hi: number[]) => (t: number, f: number) => ((t === 1 && f === 0) || (t === 0 && f === 2) ? hi : flat(0.2));
    const { resp, set } = layer([0, 90], [1 / 64, 1 / 32, 1 / 16], [tie(flat(1)), tie([4, 0, 0, 0])]);
    const { units } = v1UnitProperties(resp, 2, set, [0, 0], { pixelsPerDegree: 64 });
    for (const u of [0, 1]) {
      expect([units.prefThetaDeg[u], units.prefSf[u]], `unit ${u}`).toEqual([90, 1]);
      expect(units.peakSf[u], `unit ${u}`).toBeCloseTo(1, 12);
    }
  });
});

describe('a linear Gabor unit measured from rendered gratings (closed-form ground truth)', () => {
  // Sine-phase Gabor centred on image pixel (0, 0): its response to a grating of phase φ is −127.5·sin φ·A(k),
  // A(k) = Σ g(x) sin(2πk·x) ∝ G(k − k0) − G(k + k0), G(d) = exp(−2π²σ²|d|²): the spatial phase at the unit is
  // φ for every θ and f, so the mean over the 8 phases of the rectified response is a fixed multiple of |A(k)|.
  const sigma = 3.1;
  const theta0 = 60;
  const f0 = 0.125;
  const ppd = 28;
  const gabor = gaborUnit(0, 0, 31, sigma, theta0, f0, Math.PI / 2);
  const orientations = 36; // 5° steps
  const sfStep = 1 / 16; // octaves
  const set = { orientations, kMin: -3 - 20 * sfStep, kMax: -3 + 20 * sfStep, kStep: sfStep, phases: 8, contrast: 1 };
  const list = gratingList(set);
  const descriptors = {
    thetaDeg: Float64Array.from(list, (g) => g.thetaDeg),
    sfCpp: Float64Array.from(list, (g) => g.sfCpp),
    phaseDeg: Float64Array.from(list, (g) => g.phaseDeg),
    contrast: Float64Array.from(list, (g) => g.contrast),
  };
  const gaborResp = linearResponses([gabor], list.length, gratingRenderer(descriptors));
  // Layer of two units: the Gabor and a unit that ignores its input (5 for every image, the blank included).
  const resp = new Float32Array(list.length * 2);
  for (let i = 0; i < list.length; i++) {
    resp[2 * i] = gaborResp[i]!;
    resp[2 * i + 1] = 5;
  }
  // Measured inside each test, not while the file is collected: Stryker treats collection-time code as static and
  // lets its mutants survive (docs/testing.md, "False survivors").
  const measure = () => v1UnitProperties(resp, 2, descriptors, [0, 5], { pixelsPerDegree: ppd });

  const G = (dx: number, dy: number) => Math.exp(-2 * Math.PI ** 2 * sigma ** 2 * (dx * dx + dy * dy));
  const A = (thetaDeg: number, f: number) => {
    const [kx, ky] = [f * Math.cos(thetaDeg * DEG), f * Math.sin(thetaDeg * DEG)];
    const [k0x, k0y] = [f0 * Math.cos(theta0 * DEG), f0 * Math.sin(theta0 * DEG)];
    return Math.abs(G(kx - k0x, ky - k0y) - G(kx + k0x, ky + k0y));
  };
  // Mapped mean response: the Gabor's blank is 0 and it alone sets the map, so R = 32.98·A/A(k0) + 0.82.
  const R = (thetaDeg: number, f: number) => (SPAN * A(thetaDeg, f)) / A(theta0, f0) + V1_CONSTANTS.medianBaseline;
  // Brain-Score's light smoothing, applied to the closed form: orientation [2/5, 1, 2/5]/1.8 at 5°, SF [1/5, 1, 1/5]/1.4 at 1/16 octave.
  const Rori = (d: number) => (0.4 * R(theta0 + d - 5, f0) + R(theta0 + d, f0) + 0.4 * R(theta0 + d + 5, f0)) / 1.8;
  const Rsf = (l: number) => (0.2 * R(theta0, 2 ** (l - sfStep)) + R(theta0, 2 ** l) + 0.2 * R(theta0, 2 ** (l + sfStep))) / 1.4;
  const solve = (g: (x: number) => number, lo: number, hi: number) => {
    for (let k = 0; k < 200; k++) {
      const mid = (lo + hi) / 2;
      if (g(lo) * g(mid) <= 0) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  };

  it('the affine map is fitted on the Gabor alone; the constant unit is excluded as non-responsive', () => {
    const { map, units } = measure();
    expect(map.fitted).toBe(1);
    expect(map.offset).toBeCloseTo(0.82, 12);
    expect(units.responsive[0]).toBe(1);
    expect(units.maxDc[0]).toBeCloseTo(33.8, 4);
    expect(units.baseline[0]).toBeCloseTo(0.82, 12);
    expect(units.responsive[1]).toBe(0);
    expect(units.maxDc[1]! - units.baseline[1]!).toBeCloseTo(0, 4);
    expect([units.prefThetaDeg[0], units.prefSf[0]]).toEqual([theta0, f0 * ppd]);
  });

  it('orientation half-bandwidth at 0.707 of the smoothed peak, up to the 1° grid', () => {
    const { units } = measure();
    const truth = solve((d) => Rori(d) - 0.707 * Rori(0), 0, 90);
    expect(truth).toBeGreaterThan(18); // a V1-like half-width (Ringach's median: 23°)
    expect(truth).toBeLessThan(23);
    expect(units.oriBandwidth[0]).toBeGreaterThanOrEqual(truth - 0.25);
    expect(units.oriBandwidth[0]).toBeLessThanOrEqual(truth + 1.25);
    expect(units.oriSelective[0]).toBe(1);
    console.log(`Gabor σ = ${sigma} px, f0 = ${f0} c/px: orientation half-width ${units.oriBandwidth[0]}° (closed form ${truth.toFixed(2)}°)`);
  });

  it("SF bandwidth 100·f_low/f_high at 0.707 of the smoothed peak, and the peak in c/deg, up to the 100-point grid", () => {
    const { units } = measure();
    const l0 = Math.log2(f0);
    const low = solve((l) => Rsf(l) - 0.707 * Rsf(l0), l0 - 2, l0);
    const high = solve((l) => Rsf(l) - 0.707 * Rsf(l0), l0, l0 + 1.2);
    const truth = 100 * 2 ** (low - high);
    const step = (40 * sfStep) / 99; // octaves between fitted points: each crossing lies at most one step outside
    expect(units.sfBandwidth[0]).toBeLessThanOrEqual(truth * 1.003);
    expect(units.sfBandwidth[0]).toBeGreaterThanOrEqual(truth * 2 ** (-2 * step) * 0.997);
    expect(units.sfSelective[0]).toBe(1);
    expect(Math.abs(Math.log2(units.peakSf[0]! / (f0 * ppd)))).toBeLessThanOrEqual(step / 2 + 1e-9);
    console.log(`Gabor SF bandwidth ${units.sfBandwidth[0]!.toFixed(2)} (closed form ${truth.toFixed(2)}), peak ${units.peakSf[0]!.toFixed(3)} c/deg (${f0 * ppd})`);
  });

  it('F1/F0 raw and mapped, circular variance and orthogonal/preferred ratio', () => {
    const { units } = measure();
    // 8-phase half-wave-rectified sinusoid: F0 = (1 + √2)/8, F1 = 2·2/8 → raw F1/F0 = 4(√2 − 1); mapped: F1 scales
    // with the slope, F0 = 33.8 at the peak.
    expect(units.modulationRatioRaw[0]).toBeCloseTo(4 * (Math.SQRT2 - 1), 4);
    expect(units.modulationRatio[0]).toBeCloseTo((SPAN * 4 * (Math.SQRT2 - 1)) / 33.8, 4);
    const thetas = Array.from({ length: orientations }, (_, i) => i * 5);
    const curve = thetas.map((t) => R(t, f0));
    let re = 0;
    let im = 0;
    thetas.forEach((t, i) => {
      re += curve[i]! * Math.cos(2 * t * DEG);
      im += curve[i]! * Math.sin(2 * t * DEG);
    });
    const cv = 1 - Math.hypot(re, im) / curve.reduce((a, b) => a + b, 0);
    expect(units.circularVariance[0]).toBeCloseTo(cv, 4);
    // at θ0 + 90° both lobes of A are equal: A = 0, R = 0.82
    expect(units.orthPrefRatio[0]).toBeCloseTo(0.82 / 33.8, 4);
    expect(units.minDc[0]).toBeCloseTo(0.82, 3);
  });
});
