import { afterAll, describe, expect, it } from 'vitest';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import { JsMatMul } from '../../science/gemm.ts';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('OrtMatMul', () => {
  const ortMm = new OrtMatMul({ threads: 1 });
  const js = new JsMatMul();
  afterAll(() => ortMm.dispose());

  it('gemm matches the JS reference for every transpose combination (views included)', async () => {
    const [m, k, n] = [7, 13, 5];
    const bigA = rand(m * k + 3, 1);
    const A = bigA.subarray(3); // a view with a byte offset
    const B = rand(k * n, 2);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const o = { transA, transB };
        expect(maxAbsDiff(await ortMm.gemm(A, B, m, k, n, o), await js.gemm(A, B, m, k, n, o))).toBeLessThan(1e-5);
        const C = rand(m * n, 9);
        const withC = { ...o, addTo: C };
        expect(maxAbsDiff(await ortMm.gemm(A, B, m, k, n, withC), await js.gemm(A, B, m, k, n, withC))).toBeLessThan(1e-5);
      }
    }
  });

  it('batched gemm and weighted Gram match the JS reference', async () => {
    const [batch, m, k, n] = [3, 4, 9, 6];
    const A = rand(batch * m * k, 3);
    const B = rand(batch * k * n, 4);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const o = { transA, transB };
        expect(maxAbsDiff(await ortMm.gemmBatched(batch, A, B, m, k, n, o), await js.gemmBatched(batch, A, B, m, k, n, o))).toBeLessThan(1e-5);
      }
    }
    const [N, D] = [50, 8];
    const X = rand(N * D, 5);
    const a = rand(N, 6).map((v) => Math.max(0, v));
    expect(maxAbsDiff(await ortMm.weightedGram(X, a, N, D), await js.weightedGram(X, a, N, D))).toBeLessThan(1e-5);
  });
});
