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

  it('a fixed operand (1×1 convolutions on prepacked Y and Yᵀ) gives Y·B and Yᵀ·B + C like gemm, NCHWc or not, views included', async () => {
    // 100×48 takes ONNX Runtime's NCHWc path (channel counts it blocks), 37×5 its plain convolution
    for (const [rows, D, n] of [[100, 48, 24], [37, 5, 3], [64, 33, 1]] as const) {
      const big = rand(rows * D + 5, rows);
      const Y = big.subarray(5);
      const f = await ortMm.fix(Y, rows, D);
      const B = rand(D * n, 7);
      expect(maxAbsDiff(await f.times(B, n), await js.gemm(Y, B, rows, D, n))).toBeLessThan(1e-5);
      const P = rand(rows * n, 8);
      expect(maxAbsDiff(await f.transposeTimes(P, n), await js.gemm(Y, P, D, rows, n, { transA: true }))).toBeLessThan(1e-5);
      const C = rand(D * n, 9);
      const Cbefore = C.slice();
      expect(maxAbsDiff(await f.transposeTimes(P, n, C), await js.gemm(Y, P, D, rows, n, { transA: true, addTo: Cbefore }))).toBeLessThan(1e-5);
      expect(C).toEqual(Cbefore); // addTo is read, not overwritten
      // the same prepared operand serves many right-hand sides
      const B2 = rand(D * n, 10);
      expect(maxAbsDiff(await f.times(B2, n), await js.gemm(Y, B2, rows, D, n))).toBeLessThan(1e-5);
      await f.dispose();
    }
  });

  it('a fixed operand rejects buffers of the wrong size', async () => {
    const f = await ortMm.fix(rand(12, 1), 4, 3);
    expect(() => f.times(rand(5, 2), 2)).toThrow(/B has 5 elements, expected 6/);
    expect(() => f.transposeTimes(rand(8, 2), 2, rand(5, 3))).toThrow(/addTo has 5 elements, expected 6/);
    await f.dispose();
    await expect(ortMm.fix(rand(11, 1), 4, 3)).rejects.toThrow(/Y has 11 elements, expected 12/);
  });
});
