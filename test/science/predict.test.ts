// Agreement of predicted and measured orientations (science/predict.ts thetaAgreement, docs/method.md §5): mean cos 2Δθ
// with its seeded bootstrap interval — identical angles, independent uniform angles, issue 13's reproduction.
import { describe, expect, it } from 'vitest';
import { meanEstimate } from '../../science/intervals.ts';
import {
  axialCosines,
  matchFlags,
  orientationDifference,
  predictAwaFft,
  predictAwcFft,
  predictByModel,
  modelTuningSurface,
  predictionVerdicts,
  spearman,
  thetaAgreement,
  type RfLayout,
} from '../../science/predict.ts';
import { lcg } from '../fixtures/synthetic-units.ts';

const agreement = (a: number[], b: number[], seed = 1) => meanEstimate(axialCosines(a, b), { reps: 2000, seed, level: 0.95 });

describe('thetaAgreement (mean cos 2Δθ)', () => {
  it('identical angles give 1 with the interval [1, 1]; orthogonal ones −1; the axis wraps at 180°', () => {
    const t = [0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165];
    expect(thetaAgreement(t, t)).toBeCloseTo(1, 12);
    const e = agreement(t, t);
    expect(e.value).toBeCloseTo(1, 12);
    expect(e.lo).toBeCloseTo(1, 12);
    expect(e.hi).toBeCloseTo(1, 12);
    expect(e.n).toBe(12);
    expect(thetaAgreement(t, t.map((x) => x + 90))).toBeCloseTo(-1, 12);
    expect(thetaAgreement([1, 179], [179, 1])).toBeCloseTo(Math.cos((4 * Math.PI) / 180), 12); // 2° apart across 0/180
    expect(thetaAgreement([10, NaN, 20], [10, 5, NaN])).toBeCloseTo(1, 12); // only finite pairs
    expect(thetaAgreement([NaN], [1])).toBeNaN();
  });

  it('independent uniform angles: the 95% interval covers 0 (one seeded set, and in 90–99% of 200 sets)', () => {
    const rand = lcg(77);
    const draw = (n: number) => Array.from({ length: n }, () => 180 * rand());
    const one = agreement(draw(300), draw(300));
    expect(one.lo).toBeLessThan(0);
    expect(one.hi).toBeGreaterThan(0);
    let covered = 0;
    for (let s = 0; s < 200; s++) {
      const e = meanEstimate(axialCosines(draw(60), draw(60)), { reps: 500, seed: s + 1, level: 0.95 });
      if (e.lo <= 0 && 0 <= e.hi) covered++;
    }
    expect(covered / 200).toBeGreaterThan(0.9);
    expect(covered / 200).toBeLessThan(0.99);
  });

  it("issue 13's reproduction (14 of 15 pairs identical, the 15th 75° apart): (14 + cos 150°)/15 = 0.876, not the circular correlation's −1", () => {
    const base = [0, 30, 60, 90, 120, 150, 0, 30, 60, 90, 120, 150];
    const x = [...base, 45, 105, 0];
    const y = [...base, 120, 105, 0];
    expect(orientationDifference(45, 120)).toBe(75);
    const e = agreement(x, y);
    // The issue asks for ≥ 0.9; mean cos 2Δθ of these pairs is exactly (14 + cos 150°)/15 = 0.8756 (one pair
    // nearly orthogonal costs 1.87/15). Pinned exactly, with an interval well clear of 0.
    expect(e.value).toBeCloseTo((14 + Math.cos((150 * Math.PI) / 180)) / 15, 12);
    expect(e.value).toBeGreaterThan(0.87);
    expect(e.n).toBe(15);
    expect(e.lo).toBeGreaterThan(0.6);
    expect(e.hi).toBeCloseTo(1, 12); // resamples without the 15th pair
  });

  it('the bootstrap interval is seeded: the same seed gives the same interval, another seed a different one', () => {
    const rand = lcg(5);
    const a = Array.from({ length: 40 }, () => 180 * rand());
    const b = a.map((t) => t + 40 * (rand() - 0.5));
    expect(agreement(a, b, 3)).toEqual(agreement(a, b, 3));
    expect(agreement(a, b, 3).lo).not.toBe(agreement(a, b, 4).lo);
  });
});

/** A grating cos(2π f (x cos θ + y sin θ)) on an r×r map in absolute image coordinates, each value repeated per channel. */
function gratingMap(rf: RfLayout, thetaDeg: number, f: number): Float64Array {
  const t = (thetaDeg * Math.PI) / 180;
  const m = new Float64Array(rf.r * rf.r * rf.channels);
  for (let y = 0; y < rf.r; y++)
    for (let x = 0; x < rf.r; x++)
      for (let c = 0; c < rf.channels; c++)
        m[(y * rf.r + x) * rf.channels + c] = Math.cos(2 * Math.PI * f * ((rf.x0 + x) * Math.cos(t) + (rf.y0 + y) * Math.sin(t)));
  return m;
}

describe('predictions from an RF that is a grating (docs/method.md §5)', () => {
  // 16×16 maps, zero-padded to 32: a grating with 4 cycles per 32 px along x and y lies on FFT bin (4, 4)
  const rf: RfLayout = { r: 16, channels: 1, x0: 0, y0: 0 };
  it('FFT method: the peak of an AWA grating is its own θ and f (also on interleaved RGB)', () => {
    const p = predictAwaFft(gratingMap(rf, 45, Math.SQRT2 / 8), rf);
    expect(p.thetaDeg).toBeCloseTo(45, 9);
    expect(p.fCpp).toBeCloseTo(Math.SQRT2 / 8, 12); // |(4, 4)| / 32
    const rgb = { ...rf, channels: 3 };
    expect(predictAwaFft(gratingMap(rgb, 90, 1 / 8), rgb)).toEqual({ thetaDeg: 90, fCpp: 1 / 8 });
  });
  it('FFT method for AWC: the λ-weighted spectrum peaks at the heavier eigenvector; no eigenvector, no prediction', () => {
    const e0 = gratingMap(rf, 0, 1 / 8);
    const e90 = gratingMap(rf, 90, 1 / 4);
    expect(predictAwcFft([e0, e90], [3, 1], rf)).toEqual({ thetaDeg: 0, fCpp: 1 / 8 });
    expect(predictAwcFft([e0, e90], [1, 3], rf)).toEqual({ thetaDeg: 90, fCpp: 1 / 4 });
    const none = predictAwcFft([], [], rf);
    expect(none.thetaDeg).toBeNaN();
    expect(none.fCpp).toBeNaN();
  });
  it('model-response method: the AWA grating, placed off the origin, is the grating it answers most ([AWA·g]₊)', () => {
    const off: RfLayout = { r: 16, channels: 1, x0: 5, y0: 7 };
    const axes = { thetasDeg: [0, 45, 90, 135], sfsCpp: [1 / 16, 1 / 8, 1 / 4], phasesDeg: [0, 90, 180, 270] };
    for (const [theta, f] of [[45, 1 / 8], [135, 1 / 4], [0, 1 / 16], [90, 1 / 8], [45, 1 / 16]] as const) {
      expect(predictByModel('awa', [gratingMap(off, theta, f)], [1], off, axes)).toEqual({ thetaDeg: theta, fCpp: f });
    }
    // the eigenvalues are ignored for AWA (even a negative one)
    expect(predictByModel('awa', [gratingMap(off, 135, 1 / 4)], [-1], off, axes)).toEqual({ thetaDeg: 135, fCpp: 1 / 4 });
    // an RGB map whose grating fills only its lower half: every pixel and channel of the probe gratings counts
    const rgb: RfLayout = { ...off, channels: 3 };
    const lower = gratingMap(rgb, 0, 1 / 8).map((v, i) => (i >= (rgb.r * rgb.r * 3) / 2 ? v : 0));
    expect(predictByModel('awa', [lower], [1], rgb, axes)).toEqual({ thetaDeg: 0, fCpp: 1 / 8 });
    const zero = predictByModel('awa', [new Float64Array(256)], [1], off, axes); // answers nothing: no prediction
    expect(zero.thetaDeg).toBeNaN();
    expect(zero.fCpp).toBeNaN();
    expect(predictByModel('awa', [], [], off, axes).thetaDeg).toBeNaN();
  });
  it('model tuning surface: equals the grating patches presented pixel by pixel (docs/method.md §5), grey and RGB, AWA and AWC', () => {
    // the oracle: every grating of the grid drawn over the RF window (absolute coordinates, channels replicated)
    const patch = (thetaDeg: number, f: number, phaseDeg: number, l: RfLayout) => {
      const t = (thetaDeg * Math.PI) / 180;
      const g = new Float64Array(l.r * l.r * l.channels);
      for (let y = 0; y < l.r; y++) {
        for (let x = 0; x < l.r; x++) {
          const v = 127.5 * Math.cos(2 * Math.PI * f * ((l.x0 + x) * Math.cos(t) + (l.y0 + y) * Math.sin(t)) + (phaseDeg * Math.PI) / 180);
          for (let c = 0; c < l.channels; c++) g[(y * l.r + x) * l.channels + c] = v;
        }
      }
      return g;
    };
    const oracle = (kind: 'awa' | 'awc', vs: Float64Array[], lams: number[], l: RfLayout, ax: typeof axes) =>
      ax.thetasDeg.flatMap((th) =>
        ax.sfsCpp.map((f) => {
          let sum = 0;
          for (const ph of ax.phasesDeg) {
            const g = patch(th, f, ph, l);
            (kind === 'awa' ? vs.slice(0, 1) : vs).forEach((v, k) => {
              const dot = v.reduce((acc, x, i) => acc + x * g[i]!, 0);
              sum += kind === 'awa' ? Math.max(0, dot) : lams[k]! * dot * dot;
            });
          }
          return sum / ax.phasesDeg.length;
        }),
      );
    const axes = { thetasDeg: [0, 15, 50, 90, 133], sfsCpp: [1 / 19, 1 / 8, 0.3], phasesDeg: [0, 45, 90, 200, 315] };
    const rnd = lcg(5);
    for (const l of [{ r: 9, channels: 1, x0: 3, y0: 11 }, { r: 7, channels: 3, x0: 40, y0: 2 }] as RfLayout[]) {
      const vs = [0, 1, 2].map(() => Float64Array.from({ length: l.r * l.r * l.channels }, () => rnd() - 0.5));
      for (const kind of ['awa', 'awc'] as const) {
        const want = oracle(kind, vs, [2, 0.5, 1], l, axes);
        const got = Array.from(modelTuningSurface(kind, vs, [2, 0.5, 1], l, axes));
        const scale = Math.max(...want.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        got.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThan(1e-12 * scale));
      }
    }
  });
  it('model-response method for AWC: Σ λₖ(eₖ·g)² peaks at the heavier eigenvector', () => {
    const axes = { thetasDeg: [0, 45, 90, 135], sfsCpp: [1 / 16, 1 / 8, 1 / 4], phasesDeg: [0, 90, 180, 270] };
    const e0 = gratingMap(rf, 0, 1 / 8);
    const e135 = gratingMap(rf, 135, 1 / 4);
    expect(predictByModel('awc', [e0, e135], [1, 3], rf, axes)).toEqual({ thetaDeg: 135, fCpp: 1 / 4 });
    expect(predictByModel('awc', [e0, e135], [3, 1], rf, axes)).toEqual({ thetaDeg: 0, fCpp: 1 / 8 });
    expect(predictByModel('awc', [], [], rf, axes).fCpp).toBeNaN();
  });
});

describe('match flags and verdicts (docs/method.md §5)', () => {
  const tol = { thetaDeg: 15, octaves: 1 };
  it('a difference equal to the tolerance matches; more does not, on either side; NaN never matches', () => {
    expect(matchFlags({ thetaDeg: 30, fCpp: 0.25 }, 45, 0.125, tol)).toEqual({ theta: true, f: true }); // 15°, +1 octave
    expect(matchFlags({ thetaDeg: 175, fCpp: 0.0625 }, 10, 0.125, tol)).toEqual({ theta: true, f: true }); // 15° across 0°, −1 octave
    expect(matchFlags({ thetaDeg: 29, fCpp: 0.03125 }, 45, 0.125, tol)).toEqual({ theta: false, f: false }); // 16°, −2 octaves
    expect(matchFlags({ thetaDeg: 45, fCpp: 0.5 }, 45, 0.125, tol).f).toBe(false); // +2 octaves
    expect(matchFlags({ thetaDeg: NaN, fCpp: NaN }, 45, 0.125, tol)).toEqual({ theta: false, f: false });
    expect(matchFlags({ thetaDeg: 45, fCpp: 0.125 }, NaN, NaN, tol)).toEqual({ theta: false, f: false });
  });
  it('reconstructed = significant ∧ θ match ∧ f match, per unit', () => {
    const v = predictionVerdicts([10, 10, 10, 10, NaN], [0.1, 0.1, 0.1, 0.4, 0.1], [12, 40, 10, 10, 10], [0.1, 0.1, 0.1, 0.1, 0.1], (u) => u !== 2, tol);
    expect([...v.thetaMatch]).toEqual([1, 0, 1, 1, 0]);
    expect([...v.fMatch]).toEqual([1, 1, 1, 0, 1]);
    expect([...v.reconstructed]).toEqual([1, 0, 0, 0, 0]);
  });
});

describe('spearman', () => {
  it('3 pairs are enough (ρ = 1 − 6Σd²/(n(n²−1)) = 0.5); pairs with a non-finite side are left out; ties share ranks', () => {
    expect(spearman([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 12);
    expect(spearman([1, 2], [1, 2])).toBeNaN();
    expect(spearman([1, 2, NaN, 3, 4], [1, 2, 5, 4, Infinity])).toBeCloseTo(1, 12); // (1,1), (2,2), (3,4)
    expect(spearman([1, 2, 3, 4], [1, 2, 4, 3])).toBeCloseTo(0.8, 12);
    // ties: x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4 → Pearson of the ranks = 4.5/√(4.5·5)
    expect(spearman([1, 2, 2, 3], [10, 20, 30, 40])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});
