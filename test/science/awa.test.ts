// The AWA null (docs/method.md §4, science/awa.ts awaNullSd): calibration of the per-pixel z under H0 for simulated
// stimulus-blind units, tonic and sparse, driven by the project's own noise. The default null form (config
// awa.nullModel) must give z with SD ≈ 1 for both kinds; the population form understates z for tonic units.
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { awaLayer, awaNullSd, variesOverSamples, zMaxUnderNull, type AwaNullModel } from '../../science/awa.ts';
import { JsMatMul } from '../../science/gemm.ts';
import { arraySource } from '../../science/samples.ts';
import { lcg, noiseMatrix } from '../fixtures/synthetic-units.ts';

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
