// docs/method.md §7 ground truth: a linear Gabor unit, an energy-model complex cell and a unit that ignores its input.
import { afterAll, describe, expect, it } from 'vitest';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import { awaLayer } from '../../science/awa.ts';
import { awcLayer, type AwcOptions } from '../../science/awc.ts';
import { matchFlags, predictAwaFft, predictAwcFft, predictByModel } from '../../science/predict.ts';
import { arraySource, storedSource } from '../../science/samples.ts';
import { gabor, maxPrincipalAngle, noiseMatrix, pearson, project } from '../fixtures/synthetic-units.ts';

// 10×10 RF and N = 20,000: at N_eff ≈ N/2 (energy-model weights) the top-2 eigenvectors land ≈ 10° from the
// quadrature pair (estimation noise grows with D/N_eff: 16×16 at N = 6,000 gives ≈ 30°).
const r = 10;
const D = r * r;
const N = 20000;
const theta = 30;
const f = 0.2;
const noise = { seed: 7, sigma: 48, color: 'grey' as const, check: 1 };
const x0 = 40;
const y0 = 24;
const X = noiseMatrix(noise, N, x0, y0, r);
const src = arraySource(X, N, D);
const g0 = gabor(r, theta, f, 0, 2);
const g90 = gabor(r, theta, f, 90, 2);
const p0 = project(X, N, g0, 48);
const p90 = project(X, N, g90, 48);
const tol = { thetaDeg: 15, octaves: 0.5 };
const rf = { r, channels: 1, x0, y0 };
const axes = {
  thetasDeg: Array.from({ length: 12 }, (_, i) => i * 15),
  sfsCpp: Array.from({ length: 14 }, (_, i) => 2 ** (-8 + 0.5 * i)),
  phasesDeg: Array.from({ length: 8 }, (_, i) => i * 45),
};
const base: AwcOptions = { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 20, level: 0.99, solver: 'full', block: 8, steps: 10, seed: 3 };

describe('docs/method.md §7 ground truth', () => {
  const mm = new OrtMatMul({ threads: 1 });
  afterAll(() => mm.dispose());

  it('linear Gabor unit: AWA recovers the filter (r ≥ 0.9), significant, and predicts θ and f', async () => {
    const A = Float32Array.from(p0, (v) => Math.max(0, v));
    const res = await awaLayer(src, A, 1, mm, { zThreshold: 5 });
    const corr = pearson(res.awa, g0);
    expect(corr).toBeGreaterThan(0.9);
    expect(res.significant[0]).toBe(1);
    expect(res.zMax[0]).toBeGreaterThan(8);
    const fft = predictAwaFft(res.awa, rf);
    expect(matchFlags(fft, theta, f, tol)).toEqual({ theta: true, f: true });
    const model = predictByModel('awa', [res.awa], [1], rf, axes);
    expect(matchFlags(model, theta, f, tol)).toEqual({ theta: true, f: true });
  });

  for (const solver of ['full', 'subspace'] as const) {
    it(`energy-model complex cell (${solver}): AWA not significant; top-2 AWC eigenvectors span the quadrature pair`, async () => {
      const A = Float32Array.from(p0, (v, n) => v * v + p90[n] * p90[n]);
      const awa = await awaLayer(src, A, 1, mm, { zThreshold: 5 });
      expect(awa.significant[0]).toBe(0);
      const res = await awcLayer(src, A, 1, mm, { ...base, solver }, awa);
      const u = res.units[0];
      expect(u.topSignificant.slice(0, 2)).toEqual([true, true]);
      expect(u.topSignificant.slice(2)).toEqual([false, false]);
      expect(u.bottomSignificant).toEqual([false, false]);
      expect(maxPrincipalAngle(u.topVectors.slice(0, 2), [g0, g90])).toBeLessThan(15);
      const sig = u.topVectors.filter((_, k) => u.topSignificant[k]);
      const lam = u.top.filter((_, k) => u.topSignificant[k]);
      expect(matchFlags(predictAwcFft(sig, lam, rf), theta, f, tol)).toEqual({ theta: true, f: true });
      expect(matchFlags(predictByModel('awc', sig, lam, rf, axes), theta, f, tol)).toEqual({ theta: true, f: true });
      // energy map is non-negative and concentrated where the envelope is
      let centre = 0;
      let edge = 0;
      for (let y = 0; y < r; y++)
        for (let x = 0; x < r; x++) {
          const v = u.energy[y * r + x];
          expect(v).toBeGreaterThanOrEqual(0);
          if (Math.abs(x - 4.5) < 2 && Math.abs(y - 4.5) < 2) centre += v;
          if (x === 0 || y === 0) edge += v;
        }
      expect(centre).toBeGreaterThan(10 * edge);
    });
  }

  it('a suppressive (negative-weight) quadrature direction shows up as a significant bottom eigenvalue', async () => {
    // a = exp(−(g0·y)²/2)·2: responds less when the stimulus projects on g0 either way → variance along g0 shrinks
    const A = Float32Array.from(p0, (v) => 2 * Math.exp(-(v * v) / 2));
    const res = await awcLayer(src, A, 1, mm, { ...base, solver: 'full' });
    const u = res.units[0];
    expect(u.bottomSignificant[0]).toBe(true);
    expect(maxPrincipalAngle([u.bottomVectors[0]], [g0])).toBeLessThan(15);
  });

  it('samples stored minus 127.5 (float32 and float16) give the same AWA and AWC as raw samples', async () => {
    const A = Float32Array.from(p0, (v, n) => v * v + p90[n]! * p90[n]! + Math.max(0, v));
    for (const solver of ['full', 'subspace'] as const) {
      const ref = await awcLayer(src, A, 1, mm, { ...base, solver });
      for (const precision of ['f32', 'f16'] as const) {
        const stored = storedSource(src, precision, 1000, 127.5);
        const awa = await awaLayer(stored, A, 1, mm, { zThreshold: 5 });
        for (let d = 0; d < D; d++) expect(Math.abs(awa.awa[d]! - ref.moments.awa[d]!)).toBeLessThan(precision === 'f32' ? 1e-3 : 2e-2);
        const res = await awcLayer(stored, A, 1, mm, { ...base, solver, cacheBytes: 0 });
        const [u, r] = [res.units[0]!, ref.units[0]!];
        for (let k = 0; k < 4; k++) expect(Math.abs(u.top[k]! - r.top[k]!)).toBeLessThan(precision === 'f32' ? 0.5 : 2);
        expect(u.topSignificant).toEqual(r.topSignificant);
        expect(maxPrincipalAngle(u.topVectors.slice(0, 2), r.topVectors.slice(0, 2))).toBeLessThan(precision === 'f32' ? 0.5 : 2);
      }
    }
  });

  it('sparse stimulus-blind units (active on 3–60 of 20,000 samples): subspace solver = dense solver, none flagged', async () => {
    // the AWC of a unit active on k samples has rank k − 1: the Krylov basis (8 × 12 vectors) outruns it. Before
    // the breakdown fix the subspace solver returned eigenvalues ~20× the true largest here and flagged them all.
    const counts = [3, 6, 12, 12, 25, 25, 40, 60];
    const U = counts.length;
    const A = new Float32Array(N * U);
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    counts.forEach((k, u) => {
      for (let j = 0; j < k; j++) A[Math.floor(rand() * N) * U + u] = 0.5 + 3 * rand();
    });
    const awa = await awaLayer(src, A, U, mm, { zThreshold: 5 });
    const dense = await awcLayer(src, A, U, mm, { ...base, solver: 'full' }, awa);
    const sub = await awcLayer(src, A, U, mm, { ...base, solver: 'subspace', steps: 12 }, awa);
    for (let u = 0; u < U; u++) {
      const [d, s] = [dense.units[u]!, sub.units[u]!];
      const scale = d.top[0]! + awa.sigma ** 2;
      for (let k = 0; k < Math.min(4, counts[u]! - 1); k++) expect(Math.abs(s.top[k]! - d.top[k]!) / scale).toBeLessThan(1e-3);
      expect(Math.abs(s.bottom[0]! - d.bottom[0]!) / scale).toBeLessThan(1e-3);
      expect(s.topSignificant).toEqual(d.topSignificant);
    }
    const flagged = (units: typeof dense.units) => units.filter((u) => u.topSignificant.some(Boolean) || u.bottomSignificant.some(Boolean)).length;
    expect(flagged(dense.units)).toBe(0);
    expect(flagged(sub.units)).toBe(0);
  });
});
