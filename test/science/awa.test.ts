// The AWA null (docs/method.md §4, science/awa.ts awaNullSd): calibration of the per-pixel z under H0 for simulated
// stimulus-blind units, tonic and sparse, driven by the project's own noise. The default null form (config
// awa.nullModel) must give z with SD ≈ 1 for both kinds; the population form understates z for tonic units.
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { awaLayer, awaNullSd, chunkRows, effectiveSampleSizes, variesOverSamples, weightSums, zMaxUnderNull, type AwaNullModel } from '../../science/awa.ts';
import { JsMatMul } from '../../science/gemm.ts';
import { arraySource } from '../../science/samples.ts';
import { lcg, noiseMatrix, project } from '../fixtures/synthetic-units.ts';

const N = 5000;
const r = 12;
const D = r * r;
const X = noiseMatrix({ seed: 11, sigma: 48, color: 'grey', check: 1 }, N, 30, 50, r);
const src = arraySource(X, N, D);
const rand = lcg(99);
const exp = () => -Math.log(rand());
// 6 tonic units (always active: 5 + Exp(1), CV ≈ 1/6) and 6 sparse ones (active on 10% of samples, Exp(1)),
// all drawn independently of the stimuli (H0).
const U = 12;
const A = new Float32Array(N * U);
for (let n = 0; n < N; n++) {
  for (let u = 0; u < 6; u++) A[n * U + u] = 5 + exp();
  for (let u = 6; u < 12; u++) A[n * U + u] = rand() < 0.1 ? exp() : 0;
}

/** SD of the per-pixel z over the pixels of units [u0, u1) under a null form. */
async function zSd(model: AwaNullModel, u0: number, u1: number): Promise<number> {
  const res = await awaLayer(src, A, U, new JsMatMul(), { zThreshold: 5, nullModel: model });
  let s = 0;
  let k = 0;
  for (let u = u0; u < u1; u++) for (let d = 0; d < D; d++) (s += res.z[u * D + d]! ** 2), k++;
  return Math.sqrt(s / k);
}

describe('AWA null calibration under H0 (stimulus-blind units)', () => {
  it('the default null form (finite-n) gives per-pixel z with SD 1 for tonic and sparse units', async () => {
    const model = ExperimentSchema.parse({}).awa.nullModel;
    const tonic = await zSd(model, 0, 6);
    const sparse = await zSd(model, 6, 12);
    expect(Math.abs(tonic - 1)).toBeLessThan(0.1); // 864 z values: sampling SE ≈ 0.025
    expect(Math.abs(sparse - 1)).toBeLessThan(0.1);
  });

  it('the population form σ√Σw² understates z for tonic units (SD ≈ CV/√(1 + CV²) ≈ 0.16), not for sparse ones', async () => {
    const tonic = await zSd('population', 0, 6);
    const sparse = await zSd('population', 6, 12);
    expect(tonic).toBeLessThan(0.3);
    expect(Math.abs(sparse - 1)).toBeLessThan(0.1); // n_eff/N ≈ 0.05: the forms differ by √(1 − 0.05)
  });

  it('awaNullSd: finite-n² = population² − σ²/N exactly; a constant unit has finite-n SD 0; zMaxUnderNull rescales', () => {
    const sum = 30;
    const sumSq = 200;
    const fin = awaNullSd(48, sum, sumSq, 1000, 'finite-n');
    const pop = awaNullSd(48, sum, sumSq, 1000, 'population');
    expect(pop ** 2 - fin ** 2).toBeCloseTo(48 ** 2 / 1000, 9);
    expect(pop).toBeCloseTo((48 * Math.sqrt(sumSq)) / sum, 12); // docs/method.md §4: σ·√Σa²/Σa
    expect(awaNullSd(48, 1000 * 2, 1000 * 4, 1000, 'finite-n')).toBe(0); // a ≡ 2 on 1,000 samples
    expect(awaNullSd(48, 0, 0, 1000, 'population')).toBe(0);
    expect(zMaxUnderNull(6, fin, pop)).toBeCloseTo((6 * fin) / pop, 12);
    expect(zMaxUnderNull(6, fin, 0)).toBe(0);
  });

  it('variesOverSamples: constant units (silent or tonic) do not vary, anything else does', () => {
    // 3 samples × 4 units: silent, constant 2, varies, varies only once
    const a = Float32Array.from([0, 2, 1, 5, 0, 2, 3, 5, 0, 2, 1, 5.5]);
    expect([...variesOverSamples(a, 3, 4)]).toEqual([0, 0, 1, 1]);
  });
});

describe('AWA significance is two-sided: max |z|, docs/method.md §4', () => {
  // A unit-norm Gaussian blob (SD 2 px) at the centre of the 12×12 crop: a "dark-only" unit responds only when the
  // blob is darker than mid-grey, a = [−g·(s − 127.5)/σ]₊, so its whole AWA is negative (≈ −g); the "bright-only"
  // unit [g·(s − 127.5)/σ]₊ is its mirror image.
  const c = (r - 1) / 2;
  const blob = Float64Array.from({ length: D }, (_, i) => Math.exp(-((i % r - c) ** 2 + (Math.floor(i / r) - c) ** 2) / 8));
  const norm = Math.hypot(...blob);
  const g = blob.map((v) => v / norm);
  const proj = project(X, N, g, 48);
  const units = Float32Array.from({ length: 2 * N }, (_, i) => Math.max(0, (i % 2 === 0 ? -1 : 1) * proj[i >> 1]!));

  it('a dark-only unit (negative AWA) is as significant as its bright mirror image', async () => {
    const res = await awaLayer(arraySource(X, N, D), units, 2, new JsMatMul(), { zThreshold: 5 });
    const z = (u: number) => Array.from(res.z.subarray(u * D, (u + 1) * D));
    // the dark unit's AWA is negative where the blob is: its most negative z is far beyond the threshold, its
    // largest positive z is noise
    expect(Math.min(...z(0))).toBeLessThan(-12);
    expect(Math.max(...z(0))).toBeLessThan(5);
    expect(res.zMax[0]).toBeCloseTo(-Math.min(...z(0)), 4);
    expect(res.significant[0]).toBe(1);
    // mirror image: same strength, opposite sign
    expect(Math.max(...z(1))).toBeGreaterThan(12);
    expect(res.zMax[0] / res.zMax[1]).toBeGreaterThan(0.8);
    expect(res.zMax[0] / res.zMax[1]).toBeLessThan(1.25);
    expect(res.significant[1]).toBe(1);
  });
});

// Killed Stryker survivors of science/awa.ts (docs/testing.md): the weight sums, the effective sample size, the
// shape check, a constant unit's z, the threshold's boundary and the chunk size.
describe('awaLayer edges and its weight sums', () => {
  it('weightSums: Σa, Σa² and the count of samples with a ≠ 0 (zeros and negatives included as they are)', () => {
    // 4 samples × 3 units: silent, sparse with a negative value, tonic
    const a = Float32Array.from([0, 0, 2, 0, 3, 2, 0, -1, 2, 0, 0, 2]);
    const w = weightSums(a, 4, 3);
    expect([...w.sum]).toEqual([0, 2, 8]);
    expect([...w.sumSq]).toEqual([0, 10, 16]);
    expect([...w.active]).toEqual([0, 2, 4]);
  });

  it('effectiveSampleSizes: (Σa)²/Σa² — n for n equal weights, 0 for a silent unit', () => {
    expect([...effectiveSampleSizes({ sum: Float64Array.from([8, 0, 4]), sumSq: Float64Array.from([16, 0, 10]) })]).toEqual([4, 0, 1.6]);
  });

  it('rejects activations that are not N×U, naming both', async () => {
    await expect(awaLayer(src, new Float32Array(N * U - 1), U, new JsMatMul(), { zThreshold: 5 })).rejects.toThrow(
      `awaLayer: activations have ${N * U - 1} values, expected ${N}×${U}`,
    );
  });

  it('a constant unit (finite-n null SD 0) has z 0 everywhere and is not significant', async () => {
    const constant = new Float32Array(N).fill(3);
    const res = await awaLayer(src, constant, 1, new JsMatMul(), { zThreshold: 5 });
    expect(res.nullSd[0]).toBe(0);
    expect(res.z.every((v) => v === 0)).toBe(true);
    expect(res.zMax[0]).toBe(0);
    expect(res.significant[0]).toBe(0);
  });

  it('a constant unit of any value has AWA 0, z 0 and is not significant under both nulls (not a ratio of rounding errors)', async () => {
    const values = [0.1, 0.37, 1e-3, 7.1, 123.456, 3];
    const constants = new Float32Array(N * values.length);
    for (let n = 0; n < N; n++) values.forEach((v, u) => (constants[n * values.length + u] = v));
    for (const nullModel of ['finite-n', 'population'] as const) {
      const res = await awaLayer(src, constants, values.length, new JsMatMul(), { zThreshold: 5, nullModel });
      expect({ nullModel, awa: res.awa.every((v) => v === 0), z: res.z.every((v) => v === 0) }).toEqual({ nullModel, awa: true, z: true });
      expect([...res.zMax]).toEqual(values.map(() => 0));
      expect([...res.significant]).toEqual(values.map(() => 0));
    }
  });

  it('max |z| equal to the threshold is significant (≥, docs/method.md §4)', async () => {
    const first = await awaLayer(src, A, U, new JsMatMul(), { zThreshold: 5 });
    const at = await awaLayer(src, A, U, new JsMatMul(), { zThreshold: first.zMax[3]! });
    expect(at.zMax[3]).toBe(first.zMax[3]);
    expect(at.significant[3]).toBe(1);
  });

  it('chunkRows: 64 Mi floats (256 MB of float32) per chunk, at least 64 rows, at most N', () => {
    expect(chunkRows(10 ** 6, 1024)).toBe(65_536);
    expect(chunkRows(10 ** 6, 10 ** 7)).toBe(64);
    expect(chunkRows(100, 1024)).toBe(100);
  });
});
