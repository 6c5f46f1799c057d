// science/awa.ts products (the null is calibrated in awa.test.ts): AWA of a layer against the definitions computed directly in float64 (docs/method.md §4): the empirical mean s̄, the pooled
// σ_e, AWA = Σ aₙ(sₙ − s̄)/Σ aₙ and its z-map, whatever the row chunking and whether samples are stored minus 127.5.
import { describe, expect, it } from 'vitest';
import { awaLayer, awaNullSd, chunkRows, sumOfSquares } from '../../science/awa.ts';
import { JsMatMul } from '../../science/gemm.ts';
import { arraySource, storedSource } from '../../science/samples.ts';
import { featureLayout, noiseSource } from '../../science/noise-source.ts';
import { lcg } from '../fixtures/synthetic-units.ts';

const N = 301; // not a multiple of the chunk sizes below, nor of 4
const D = 7;
const U = 3;
const rand = lcg(5);
const X = Float32Array.from({ length: N * D }, () => Math.round(127.5 + 60 * (rand() - 0.5) + 20 * rand()));
const A = Float32Array.from({ length: N * U }, (_, i) => (i % U === 2 ? 0 : Math.max(0, rand() - 0.4) * (1 + (i % U))));

/** The definitions, straight: float64 everywhere. */
function reference() {
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mean[d] += X[n * D + d]! / N;
  let ss = 0;
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) ss += (X[n * D + d]! - mean[d]!) ** 2;
  const sigma = Math.sqrt(ss / (N * D));
  const awa = new Float64Array(U * D);
  const z = new Float64Array(U * D);
  for (let u = 0; u < U; u++) {
    let s = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++) (s += A[n * U + u]!), (s2 += A[n * U + u]! ** 2);
    if (!(s > 0)) continue;
    for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) awa[u * D + d] += (A[n * U + u]! * (X[n * D + d]! - mean[d]!)) / s;
    const sd = awaNullSd(sigma, s, s2, N);
    for (let d = 0; d < D; d++) z[u * D + d] = awa[u * D + d]! / sd;
  }
  return { mean, sigma, awa, z };
}

describe('awaLayer', () => {
  const ref = reference();
  it('matches the float64 definitions for any chunking, raw or stored − 127.5', async () => {
    const sources = { raw: arraySource(X, N, D), stored: storedSource(arraySource(X, N, D), 'f32', 64, 127.5) };
    for (const [name, src] of Object.entries(sources)) {
      for (const chunk of [1, 64, 100, N]) {
        const res = await awaLayer(src, A, U, new JsMatMul(), { zThreshold: 2, chunk });
        const at = `${name}, chunk ${chunk}`;
        for (let d = 0; d < D; d++) expect(res.mean[d], at).toBeCloseTo(ref.mean[d]!, 9);
        expect(res.sigma, at).toBeCloseTo(ref.sigma, 9);
        for (let i = 0; i < U * D; i++) {
          expect(res.awa[i], at).toBeCloseTo(ref.awa[i]!, 4);
          expect(res.z[i], at).toBeCloseTo(ref.z[i]!, 4);
        }
        expect(Array.from(res.sum, (s) => +(s > 0))).toEqual([1, 1, 0]);
        expect(res.zMax[2]).toBe(0);
      }
    }
  });

  it('chunks hold many rows (one product per chunk), at least 64 and at most N', () => {
    expect(chunkRows(20000, 38416)).toBe(Math.floor((64 * 2 ** 20) / 38416));
    expect(chunkRows(20000, 9)).toBe(20000);
    expect(chunkRows(50, 10 ** 9)).toBe(50);
    expect(chunkRows(20000, 10 ** 9)).toBe(64);
  });

  it('sumOfSquares covers every element (lengths not a multiple of 4)', () => {
    for (const n of [0, 1, 5, 8, 11]) {
      const v = Float32Array.from({ length: n }, (_, i) => i + 0.5);
      expect(sumOfSquares(v)).toBe(Array.from(v).reduce((a, x) => a + x * x, 0));
    }
  });
  it('a chunk buffer lent by the caller, holding anything (NaN, the last layer\'s chunk), gives the bits of a fresh one', async () => {
    const p = { seed: 3, sigma: 40, color: 'grey' as const, check: 1 };
    const crop = { x0: 1, y0: 2, size: 6 };
    const layout = featureLayout(p, crop, 'pixels');
    const n = 257;
    const src = noiseSource(p, Int32Array.from({ length: n }, (_, i) => i), crop, layout, null, { centred: true });
    const act = Float32Array.from({ length: n * 2 }, (_, i) => ((i * 7919) % 13) / 3);
    const fresh = await awaLayer(src, act, 2, new JsMatMul(), { zThreshold: 2, chunk: 50 });
    const buffer = new Float32Array(60 * layout.D).fill(NaN);
    for (let k = 0; k < 2; k++) {
      const lent = await awaLayer(src, act, 2, new JsMatMul(), { zThreshold: 2, chunk: 50, buffer }); // then again, reused
      expect(Array.from(lent.awa)).toEqual(Array.from(fresh.awa));
      expect([lent.sigma, ...lent.zMax]).toEqual([fresh.sigma, ...fresh.zMax]);
    }
    await expect(awaLayer(src, act, 2, new JsMatMul(), { zThreshold: 2, chunk: 50, buffer: new Float32Array(49 * layout.D) })).rejects.toThrow(/cannot hold 50×36/);
  });
});
