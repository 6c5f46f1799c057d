// The plain-JS matrix products (science/gemm.ts JsMatMul) against products written out by hand: every transpose
// combination, accumulation into addTo, batches at their offsets, the weighted Gram matrix, and size errors. JsMatMul
// is the reference the ONNX Runtime implementation is tested against (test/model/ort-matmul.test.ts).
import { describe, expect, it } from 'vitest';
import { transposeEach } from '../../science/eigen.ts';
import { checkSize, JsMatMul } from '../../science/gemm.ts';

const mm = new JsMatMul();

/** Row-major transpose of a rows×cols matrix (eigen.ts's batched transpose, tested in eigen.test.ts). */
const transpose = (M: number[], rows: number, cols: number): number[] => Array.from(transposeEach(Float32Array.from(M), 1, rows, cols));

// A (2×3) · B (3×4) = C (2×4), small integers: every product exact in float32
const A = [1, 2, 3, 4, 5, 6];
const B = [1, 0, -1, 2, 2, 1, 0, -3, 0, 4, 5, 1];
const C = [5, 14, 14, -1, 14, 29, 26, -1];

describe('JsMatMul.gemm', () => {
  it('C = A·B for every combination of stored transposes (transA: A stored k×m, transB: B stored n×k)', async () => {
    const f = (x: number[]) => Float32Array.from(x);
    expect(Array.from(await mm.gemm(f(A), f(B), 2, 3, 4))).toEqual(C);
    expect(Array.from(await mm.gemm(f(transpose(A, 2, 3)), f(B), 2, 3, 4, { transA: true }))).toEqual(C);
    expect(Array.from(await mm.gemm(f(A), f(transpose(B, 3, 4)), 2, 3, 4, { transB: true }))).toEqual(C);
    expect(Array.from(await mm.gemm(f(transpose(A, 2, 3)), f(transpose(B, 3, 4)), 2, 3, 4, { transA: true, transB: true }))).toEqual(C);
  });

  it('zeros in A are skipped without changing the sums; sums run in float64 before the float32 result', async () => {
    const Z = Float32Array.from([0, 2, 0, 0, 0, 6]);
    expect(Array.from(await mm.gemm(Z, Float32Array.from(B), 2, 3, 4))).toEqual([4, 2, 0, -6, 0, 24, 30, 6]);
    // 1 + 2²⁴ − 2²⁴ is 1 in float64 and 0 if summed in float32
    const big = Float32Array.from([1, 2 ** 24, -(2 ** 24)]);
    expect(Array.from(await mm.gemm(big, Float32Array.from([1, 1, 1]), 1, 3, 1))).toEqual([1]);
  });

  it('addTo: returns op(A)·op(B) + addTo, leaving addTo as it was', async () => {
    const add = Float32Array.from([1, 1, 1, 1, 10, 20, 30, 40]);
    const out = await mm.gemm(Float32Array.from(A), Float32Array.from(B), 2, 3, 4, { addTo: add });
    expect(Array.from(out)).toEqual(C.map((c, i) => c + add[i]!));
    expect(Array.from(add)).toEqual([1, 1, 1, 1, 10, 20, 30, 40]);
  });

  it('wrong buffer sizes are errors naming the operand, its length and the expected one', async () => {
    await expect(mm.gemm(new Float32Array(5), new Float32Array(12), 2, 3, 4)).rejects.toThrow('matmul: A has 5 elements, expected 6');
    await expect(mm.gemm(new Float32Array(6), new Float32Array(13), 2, 3, 4)).rejects.toThrow('matmul: B has 13 elements, expected 12');
    await expect(mm.gemm(new Float32Array(6), new Float32Array(12), 2, 3, 4, { addTo: new Float32Array(7) })).rejects.toThrow(
      'matmul: addTo has 7 elements, expected 8',
    );
    expect(() => checkSize('X', [1, 2], 2)).not.toThrow();
    expect(() => checkSize('X', [1, 2], 3)).toThrow('matmul: X has 2 elements, expected 3');
  });
});

describe('JsMatMul.gemmBatched', () => {
  it('each matrix of the stack at its own offset, with the same transposes', async () => {
    // batch 3: A[b] = (b + 1)·A, B[b] = B shifted by b; C[b] = (b + 1)·A·(B + b·ones)
    const As = [0, 1, 2].flatMap((b) => A.map((x) => x * (b + 1)));
    const Bs = [0, 1, 2].flatMap((b) => B.map((x) => x + b));
    const want = [0, 1, 2].flatMap((b) => {
      const rowSums = [6, 15]; // A's row sums: (A·ones)[i]
      return C.map((c, i) => (b + 1) * (c + b * rowSums[Math.floor(i / 4)]!));
    });
    const f = (x: number[]) => Float32Array.from(x);
    expect(Array.from(await mm.gemmBatched(3, f(As), f(Bs), 2, 3, 4))).toEqual(want);
    const At = Array.from(transposeEach(f(As), 3, 2, 3));
    const Bt = Array.from(transposeEach(f(Bs), 3, 3, 4));
    expect(Array.from(await mm.gemmBatched(3, f(At), f(Bt), 2, 3, 4, { transA: true, transB: true }))).toEqual(want);
    expect(Array.from(await mm.gemmBatched(3, f(At), f(Bs), 2, 3, 4, { transA: true }))).toEqual(want);
    expect(Array.from(await mm.gemmBatched(3, f(As), f(Bt), 2, 3, 4, { transB: true }))).toEqual(want);
  });

  it('sizes are checked against the whole stack', async () => {
    await expect(mm.gemmBatched(2, new Float32Array(11), new Float32Array(24), 2, 3, 4)).rejects.toThrow('matmul: A has 11 elements, expected 12');
    await expect(mm.gemmBatched(2, new Float32Array(12), new Float32Array(12), 2, 3, 4)).rejects.toThrow('matmul: B has 12 elements, expected 24');
  });
});

describe('JsMatMul.fix', () => {
  it('a fixed Y (2×3): Y·B (3×4) and Yᵀ·P (+ addTo) for changing right-hand sides; sizes checked', async () => {
    const f = await mm.fix(Float32Array.from(A), 2, 3);
    expect(Array.from(await f.times(Float32Array.from(B), 4))).toEqual(C);
    expect(Array.from(await f.times(Float32Array.from([1, 0, 0]), 1))).toEqual([1, 4]); // Y's first column
    // Yᵀ (3×2) · P (2×1) with P = (1, −1): first row minus second
    expect(Array.from(await f.transposeTimes(Float32Array.from([1, -1]), 1))).toEqual([-3, -3, -3]);
    const add = Float32Array.from([10, 20, 30]);
    expect(Array.from(await f.transposeTimes(Float32Array.from([1, -1]), 1, add))).toEqual([7, 17, 27]);
    expect(Array.from(add)).toEqual([10, 20, 30]);
    await f.dispose();
    await expect(mm.fix(new Float32Array(5), 2, 3)).rejects.toThrow('matmul: Y has 5 elements, expected 6');
  });
});

describe('JsMatMul.weightedGram', () => {
  it('G = Xᵀ diag(a) X, symmetric, with zero weights and zero entries skipped', async () => {
    // X (4×3), a = [2, 0, 1, −1]: G[i][j] = Σ_r a_r X[r][i] X[r][j]
    const X = [1, 2, 0, 5, 5, 5, 0, 3, 1, 2, -1, 4];
    const a = [2, 0, 1, -1];
    const want: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) want.push([0, 1, 2, 3].reduce((s, r) => s + a[r]! * X[r * 3 + i]! * X[r * 3 + j]!, 0));
    expect(want).toEqual([-2, 6, -8, 6, 16, 7, -8, 7, -15]);
    expect(Array.from(await mm.weightedGram(Float32Array.from(X), Float32Array.from(a), 4, 3))).toEqual(want);
  });

  it('sizes of X and a are checked', async () => {
    await expect(mm.weightedGram(new Float32Array(11), new Float32Array(4), 4, 3)).rejects.toThrow('matmul: X has 11 elements, expected 12');
    await expect(mm.weightedGram(new Float32Array(12), new Float32Array(3), 4, 3)).rejects.toThrow('matmul: a has 3 elements, expected 4');
  });

  it('is named js (for logs and benchmarks)', () => {
    expect(new JsMatMul().name).toBe('js'); // constructed inside the test: a field initialiser runs here
  });
});
