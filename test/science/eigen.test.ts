import { describe, expect, it } from 'vitest';
import { blockKrylovExtremes, cholUpper, columnNorms, extremeFromFull, fixSigns, invUpper, gaussian, mulberry32, symEig, transposeEach, type BatchOperator } from '../../science/eigen.ts';
import { JsMatMul } from '../../science/gemm.ts';

/** A random symmetric matrix with a known spectrum: Q diag(λ) Qᵀ, Q from Gram–Schmidt on Gaussians. */
function plantedMatrix(D: number, lambdas: number[], seed: number): { A: Float64Array; Q: Float64Array } {
  const g = gaussian(mulberry32(seed));
  const Q = new Float64Array(D * D);
  for (let c = 0; c < D; c++) {
    const v = Float64Array.from({ length: D }, () => g());
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < D; r++) dot += v[r] * Q[r * D + p];
      for (let r = 0; r < D; r++) v[r] -= dot * Q[r * D + p];
    }
    const n = Math.hypot(...v);
    for (let r = 0; r < D; r++) Q[r * D + c] = v[r] / n;
  }
  const A = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += Q[i * D + k] * lambdas[k] * Q[j * D + k];
      A[i * D + j] = s;
    }
  return { A, Q };
}

describe('symEig (tred2/tql2)', () => {
  it('recovers a planted spectrum and orthonormal eigenvectors', () => {
    const D = 40;
    const lambdas = Array.from({ length: D }, (_, i) => (i - 10) * 0.7 + (i % 3) * 0.01);
    const { A } = plantedMatrix(D, lambdas, 3);
    const eig = symEig(A, D, true);
    const sorted = [...lambdas].sort((a, b) => a - b);
    for (let i = 0; i < D; i++) expect(eig.values[i]).toBeCloseTo(sorted[i], 9);
    const V = eig.vectors!;
    for (let c = 0; c < D; c++) {
      // A v = λ v
      for (let r = 0; r < D; r++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += A[r * D + k] * V[k * D + c];
        expect(s).toBeCloseTo(eig.values[c] * V[r * D + c], 8);
      }
      for (let c2 = 0; c2 <= c; c2++) {
        let dot = 0;
        for (let r = 0; r < D; r++) dot += V[r * D + c] * V[r * D + c2];
        expect(dot).toBeCloseTo(c === c2 ? 1 : 0, 10);
      }
    }
    const valuesOnly = symEig(A, D, false);
    for (let i = 0; i < D; i++) expect(valuesOnly.values[i]).toBeCloseTo(eig.values[i], 9);
  });

  it('handles diagonal, degenerate and 1×1 matrices', () => {
    expect(Array.from(symEig([5], 1).values)).toEqual([5]);
    const e = symEig([2, 0, 0, 0, 2, 0, 0, 0, -1], 3);
    expect(Array.from(e.values)).toEqual([-1, 2, 2]);
  });
});

/** A BatchOperator applying one dense symmetric D×D matrix per unit, counting its calls and the block sizes asked for. */
function denseOperator(mats: ArrayLike<number>[], D: number): BatchOperator & { calls: number[] } {
  const calls: number[] = [];
  return {
    units: mats.length,
    dim: D,
    calls,
    async apply(V, b) {
      calls.push(b);
      expect(V.length).toBe(mats.length * D * b);
      const out = new Float32Array(V.length);
      mats.forEach((M, u) => {
        for (let r = 0; r < D; r++)
          for (let c = 0; c < b; c++) {
            let s = 0;
            for (let q = 0; q < D; q++) s += M[r * D + q] * V[u * D * b + q * b + c];
            out[u * D * b + r * b + c] = s;
          }
      });
      return out;
    },
  };
}

/** diag(λ) as a row-major matrix. */
function diagonal(lambdas: number[]): Float64Array {
  const D = lambdas.length;
  const A = new Float64Array(D * D);
  lambdas.forEach((l, i) => (A[i * D + i] = l));
  return A;
}

/** Largest |A v − λ v| over all eigenpairs and largest |VᵀV − I| of a full decomposition. */
function eigResiduals(A: ArrayLike<number>, n: number, values: Float64Array, V: Float64Array): { residual: number; ortho: number } {
  let residual = 0;
  let ortho = 0;
  for (let c = 0; c < n; c++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += 0.5 * (A[r * n + k] + A[k * n + r]) * V[k * n + c];
      residual = Math.max(residual, Math.abs(s - values[c] * V[r * n + c]));
    }
    for (let c2 = 0; c2 < n; c2++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += V[r * n + c] * V[r * n + c2];
      ortho = Math.max(ortho, Math.abs(dot - (c === c2 ? 1 : 0)));
    }
  }
  return { residual, ortho };
}

/** The largest-magnitude entry of a vector (the first of equal magnitudes). */
function largestEntry(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 0; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(best) + 1e-12) best = v[i];
  return best;
}

describe('symEig: closed forms and edge cases', () => {
  it('the adjacency matrix of a path of n vertices (zero diagonal): eigenvalues 2 cos(kπ/(n + 1)), vectors sin(jkπ/(n + 1))', () => {
    // off-diagonal entries dominate every row: the QL convergence scale must be |d| + |e| (with |d| − |e| ≤ 0 the
    // test |e| ≤ eps·scale never holds and n = 9 gave NaN)
    for (let n = 2; n <= 14; n++) {
      const A = new Float64Array(n * n);
      for (let i = 0; i + 1 < n; i++) A[i * n + i + 1] = A[(i + 1) * n + i] = 1;
      const { values, vectors } = symEig(A, n);
      for (let k = 1; k <= n; k++) {
        expect(values[k - 1], `n = ${n}, k = ${k}`).toBeCloseTo(2 * Math.cos(((n + 1 - k) * Math.PI) / (n + 1)), 13);
        // the eigenvector of 2cos(mπ/(n+1)), m = n + 1 − k, is ∝ sin(jmπ/(n+1)) (its sign free)
        const m = n + 1 - k;
        const want = Array.from({ length: n }, (_, j) => Math.sin(((j + 1) * m * Math.PI) / (n + 1)));
        const norm = Math.hypot(...want);
        const dot = want.reduce((a, w, j) => a + (w / norm) * vectors![j * n + (k - 1)]!, 0);
        expect(Math.abs(dot), `n = ${n}, k = ${k}`).toBeCloseTo(1, 12);
      }
    }
  });

  it('rejects a matrix whose length is not n², naming both', () => {
    expect(() => symEig([1, 2, 3], 2)).toThrow('symEig: matrix has 3 elements, expected 4');
    expect(() => symEig([1, 2, 3, 4, 5], 2)).toThrow('matrix has 5 elements, expected 4');
  });

  it('n = 0: no values, an empty vector matrix only when asked for', () => {
    const e = symEig([], 0);
    expect(e.n).toBe(0);
    expect(e.values.length).toBe(0);
    expect(e.vectors).toBeInstanceOf(Float64Array);
    expect(e.vectors!.length).toBe(0);
    expect(symEig([], 0, false).vectors).toBeUndefined();
  });

  it('2×2 rotations: λ = (a+c)/2 ± √(((a−c)/2)² + b²), eigenvectors (cos θ, sin θ), signs fixed', () => {
    // A = R(θ) diag(λ1, λ2) R(θ)ᵀ for θ in every quadrant, λ1 < λ2 of either sign
    for (const [theta, l1, l2] of [[0.3, -1, 2], [1.2, 0.5, 3], [2.0, -4, -1], [-0.7, 1, 1.5], [2.9, -2, 7], [Math.PI / 4, 0, 1]]) {
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      const a = l1 * c * c + l2 * s * s;
      const b = (l1 - l2) * c * s;
      const d = l1 * s * s + l2 * c * c;
      const e = symEig([a, b, b, d], 2);
      expect(e.values[0]).toBeCloseTo(l1, 13);
      expect(e.values[1]).toBeCloseTo(l2, 13);
      expect(e.values[0]).toBeCloseTo((a + d) / 2 - Math.hypot((a - d) / 2, b), 13);
      // eigenvector of l1 is ±(c, s), of l2 is ±(−s, c); the sign makes the larger-magnitude entry positive
      const v1 = [c, s];
      const v2 = [-s, c];
      for (const [col, v] of [[0, v1], [1, v2]] as const) {
        const sign = Math.sign(largestEntry(v));
        expect(e.vectors![0 * 2 + col]).toBeCloseTo(sign * v[0], 13);
        expect(e.vectors![1 * 2 + col]).toBeCloseTo(sign * v[1], 13);
      }
      const vo = symEig([a, b, b, d], 2, false);
      expect(vo.vectors).toBeUndefined();
      expect(vo.values[0]).toBeCloseTo(l1, 13);
      expect(vo.values[1]).toBeCloseTo(l2, 13);
    }
  });

  it('reads only the symmetric part (A + Aᵀ)/2 of a non-symmetric input', () => {
    // [[1, 3], [1, 1]] has symmetric part [[1, 2], [2, 1]]: eigenvalues −1 and 3
    const e = symEig([1, 3, 1, 1], 2);
    expect(e.values[0]).toBeCloseTo(-1, 14);
    expect(e.values[1]).toBeCloseTo(3, 14);
    expect(e.vectors![0]).toBeCloseTo(Math.SQRT1_2, 14); // (1, −1)/√2 signed: first entry wins the tie
    expect(e.vectors![2]).toBeCloseTo(-Math.SQRT1_2, 14);
    expect(e.vectors![1]).toBeCloseTo(Math.SQRT1_2, 14);
    expect(e.vectors![3]).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it('scale invariance: symEig(c·A) = c·symEig(A) for c = 1e-12 … 1e12 (convergence relative to the matrix’s size)', () => {
    const n = 6;
    const lambdas = [-2, -0.5, 0.25, 1, 1.5, 3];
    const { A } = plantedMatrix(n, lambdas, 71);
    for (const c of [1e-12, 1e-6, 1e6, 1e12]) {
      const e = symEig(A.map((x) => c * x), n);
      for (let i = 0; i < n; i++) expect(e.values[i] / c).toBeCloseTo(lambdas[i], 12);
      const { residual, ortho } = eigResiduals(A, n, e.values.map((v) => v / c), e.vectors!);
      expect(residual).toBeLessThan(1e-12);
      expect(ortho).toBeLessThan(1e-12);
    }
  });

  it('diagonal matrices: values ascending, eigenvectors the unit vectors (+1), with and without vectors', () => {
    const lambdas = [3, -1, 2, 0, 5, -1.5, 4];
    const n = lambdas.length;
    const e = symEig(diagonal(lambdas), n);
    const order = lambdas.map((l, i) => [l, i]).sort((p, q) => p[0] - q[0]);
    expect(Array.from(e.values)).toEqual(order.map(([l]) => l));
    for (let c = 0; c < n; c++) for (let r = 0; r < n; r++) expect(e.vectors![r * n + c]).toBe(r === order[c][1] ? 1 : 0);
    expect(Array.from(symEig(diagonal(lambdas), n, false).values)).toEqual(order.map(([l]) => l));
  });

  it('eigenpairs of planted, degenerate, rank-deficient and zero-row matrices: ‖Av − λv‖ and ‖VᵀV − I‖ below 1e-12', () => {
    const g = gaussian(mulberry32(77));
    const cases: { A: Float64Array; n: number; lambdas: number[] }[] = [];
    for (const n of [2, 3, 4, 5, 7, 12]) {
      const distinct = Array.from({ length: n }, (_, i) => i * 1.7 - 3 + 0.1 * g());
      const degenerate = Array.from({ length: n }, (_, i) => (i < n / 2 ? 2 : -1));
      const lowRank = Array.from({ length: n }, (_, i) => (i === 0 ? 4 : i === 1 && n > 2 ? -2.5 : 0));
      for (const [k, lambdas] of [distinct, degenerate, lowRank].entries()) cases.push({ A: plantedMatrix(n, lambdas, 1000 + 10 * n + k).A, n, lambdas });
      // a matrix whose last rows are zero: tred2 meets a zero row to reduce (its scale = 0 branch)
      const Z = plantedMatrix(n, distinct, 2000 + n).A;
      for (let r = Math.ceil(n / 2); r < n; r++) for (let c = 0; c < n; c++) Z[r * n + c] = Z[c * n + r] = 0;
      const zl = symEig(Z, n, false).values; // checked through the residuals below
      cases.push({ A: Z, n, lambdas: Array.from(zl) });
      // a diagonal block followed by a dense block
      const B = plantedMatrix(n, distinct, 3000 + n).A;
      for (let c = 1; c < n; c++) B[c] = B[c * n] = 0;
      cases.push({ A: B, n, lambdas: [] });
    }
    for (const { A, n, lambdas } of cases) {
      const e = symEig(A, n);
      const { residual, ortho } = eigResiduals(A, n, e.values, e.vectors!);
      expect(residual).toBeLessThan(1e-12);
      expect(ortho).toBeLessThan(1e-12);
      for (let i = 1; i < n; i++) expect(e.values[i]).toBeGreaterThanOrEqual(e.values[i - 1]);
      if (lambdas.length) {
        const sorted = [...lambdas].sort((p, q) => p - q);
        for (let i = 0; i < n; i++) expect(e.values[i]).toBeCloseTo(sorted[i], 12);
      }
      const vo = symEig(A, n, false).values;
      for (let i = 0; i < n; i++) expect(vo[i]).toBeCloseTo(e.values[i], 12);
      // every column's largest-magnitude entry is positive
      for (let c = 0; c < n; c++) expect(largestEntry(Array.from({ length: n }, (_, r) => e.vectors![r * n + c]))).toBeGreaterThan(0);
    }
  });
});

describe('fixSigns', () => {
  it('flips a column whose largest-magnitude entry is negative; among entries within 1e-12 the first decides', () => {
    // 3×4 row-major, columns: (1, −2, 0.5) flips; (−1, 1, 0) flips (a tie: the first decides); (0, 0, −3) flips;
    // (2, −2 − 1e-13, 0) stays (magnitudes within 1e-12: the first decides)
    const M = Float64Array.from([1, -1, 0, 2, -2, 1, 0, -2 - 1e-13, 0.5, 0, -3, 0]);
    fixSigns(M, 3, 4);
    expect(Array.from(M)).toEqual([-1, 1, -0, 2, 2, -1, -0, -2 - 1e-13, -0.5, -0, 3, 0]);
    const F = Float32Array.from([0, 0, -1e-3]); // a column vector; all-zero columns stay
    fixSigns(F, 3, 1);
    expect(Array.from(F)).toEqual([-0, -0, Math.fround(1e-3)]);
    // exactly 1e-12 larger in magnitude is not larger: the first entry (−1) still decides
    const T = Float64Array.from([-1, 1 + 1e-12]);
    fixSigns(T, 2, 1);
    expect(Array.from(T)).toEqual([1, -1 - 1e-12]);
    const Z = new Float64Array(4);
    fixSigns(Z, 2, 2);
    expect(Array.from(Z)).toEqual([0, 0, 0, 0]);
  });
});

describe('cholUpper and invUpper (CholQR’s triangular factor and its inverse)', () => {
  // R = [[2, 1, −1], [0, 3, 2], [0, 0, 1]]: G = RᵀR = [[4, 2, −2], [2, 10, 5], [−2, 5, 6]], all exact in float32
  const R3 = [2, 1, -1, 0, 3, 2, 0, 0, 1];
  const G3 = [4, 2, -2, 2, 10, 5, -2, 5, 6];

  it('recovers a planted upper factor from G = RᵀR at an offset, from the symmetric part of G', () => {
    const G = Float32Array.from([7, 7, ...G3]); // two entries of another unit first
    expect(Array.from(cholUpper(G, 2, 3)!)).toEqual(R3);
    // an asymmetric pair (2 ± 0.5) is averaged
    const A = Float32Array.from([4, 2.5, -2, 1.5, 10, 5, -2, 5, 6]);
    expect(Array.from(cholUpper(A, 0, 3)!)).toEqual(R3);
    // a 4×4 planted factor with non-integer entries
    const R4 = [1.5, -0.3, 0.2, 0.7, 0, 0.9, -0.4, 0.1, 0, 0, 2.2, -0.6, 0, 0, 0, 0.05];
    const G4 = new Float32Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) G4[i * 4 + j] += R4[k * 4 + i] * R4[k * 4 + j];
    const F = cholUpper(G4, 0, 4)!;
    const back = new Float64Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) back[i * 4 + j] += F[k * 4 + i] * F[k * 4 + j];
    for (let i = 0; i < 16; i++) expect(back[i]).toBeCloseTo(G4[i], 12);
    for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) expect(F[i * 4 + j]).toBe(0);
    for (let i = 0; i < 4; i++) expect(F[i * 4 + i]).toBeGreaterThan(0);
  });

  it('null when a pivot is at most 1e-6 of the largest diagonal entry: singular, indefinite, rounding-level', () => {
    expect(cholUpper(Float32Array.from([1, 1, 1, 1]), 0, 2)).toBeNull(); // rank 1
    expect(cholUpper(Float32Array.from([1, 2, 2, 1]), 0, 2)).toBeNull(); // eigenvalues −1, 3
    expect(cholUpper(Float32Array.from([-1, 0, 0, 1]), 0, 2)).toBeNull();
    expect(cholUpper(Float32Array.from([Number.NaN, 0, 0, 1]), 0, 2)).toBeNull();
    // the threshold is relative to the largest diagonal entry, wherever it is
    expect(cholUpper(Float32Array.from([1, 0, 0, 0.9e-6]), 0, 2)).toBeNull();
    expect(cholUpper(Float32Array.from([0.9e-6, 0, 0, 1]), 0, 2)).toBeNull();
    expect(Array.from(cholUpper(Float32Array.from([1, 0, 0, 1.1e-6]), 0, 2)!)).toEqual([1, 0, 0, Math.sqrt(Math.fround(1.1e-6))]);
    expect(Array.from(cholUpper(Float32Array.from([1.1e-6, 0, 0, 1]), 0, 2)!)).toEqual([Math.sqrt(Math.fround(1.1e-6)), 0, 0, 1]);
    // a Schur-complement pivot: [[1, 1], [1, 1 + 2e-6]] has second pivot 2e-6 (kept), [[1, 1], [1, 1 + 5e-7]] 5e-7 (refused)
    expect(cholUpper(Float32Array.from([1, 0, 0, 0, 1, 1, 0, 1, 1 + 2e-6]), 0, 3)).not.toBeNull();
    expect(cholUpper(Float32Array.from([1, 0, 0, 0, 1, 1, 0, 1, 1 + 5e-7]), 0, 3)).toBeNull();
  });

  it('the refusal scales with the Gram matrix: the same pivots at 1e4× and 1e-4× are kept and refused alike', () => {
    // Gram matrices of images of an operator with eigenvalues ~1e2 or ~1e-2 (the AWC's scale is the activations')
    for (const c of [1e4, 1e-4]) {
      expect(cholUpper(Float32Array.from([c, 0, 0, 0.9e-6 * c]), 0, 2), `scale ${c}`).toBeNull();
      expect(cholUpper(Float32Array.from([0.9e-6 * c, 0, 0, c]), 0, 2), `scale ${c}`).toBeNull();
      expect(cholUpper(Float32Array.from([c, 0, 0, 1.1e-6 * c]), 0, 2), `scale ${c}`).not.toBeNull();
      expect(cholUpper(Float32Array.from([1, 1, 0, 1, 1 + 5e-7, 0, 0, 0, 1]).map((x) => x * c), 0, 3), `scale ${c}`).toBeNull();
    }
  });

  it('columnNorms: the norm of every column of every unit’s D×b block', () => {
    // U = 3 units, D = 2 rows, b = 3 columns, unit u's entries scaled by (u + 1): W[u][r][c]
    const base = [3, 0, 1, 4, 2, 2]; // rows [3, 0, 1] and [4, 2, 2]: column norms 5, 2, √5
    const W = Float32Array.from([0, 1, 2].flatMap((u) => base.map((x) => x * (u + 1))));
    const got = Array.from(columnNorms(W, 3, 2, 3));
    const want = [0, 1, 2].flatMap((u) => [5, 2, Math.sqrt(5)].map((x) => x * (u + 1)));
    for (let i = 0; i < 9; i++) expect(got[i], `entry ${i}`).toBeCloseTo(want[i]!, 12);
    expect(got).toHaveLength(9);
  });

  it('invUpper: the exact inverse of an upper-triangular matrix', () => {
    // R3⁻¹ = [[1/2, −1/6, 5/6], [0, 1/3, −2/3], [0, 0, 1]]
    const X = invUpper(Float64Array.from(R3), 3);
    const want = [0.5, -1 / 6, 5 / 6, 0, 1 / 3, -2 / 3, 0, 0, 1];
    for (let i = 0; i < 9; i++) expect(X[i]).toBeCloseTo(want[i], 15);
    expect(Array.from(invUpper(Float64Array.from([4]), 1))).toEqual([0.25]);
    const R4 = Float64Array.from([1.5, -0.3, 0.2, 0.7, 0, 0.9, -0.4, 0.1, 0, 0, 2.2, -0.6, 0, 0, 0, 0.05]);
    const X4 = invUpper(R4, 4);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += R4[i * 4 + k] * X4[k * 4 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 13);
        if (i > j) expect(X4[i * 4 + j]).toBe(0);
      }
  });
});

describe('extremeFromFull', () => {
  it('top descending, bottom ascending, vectors the matching columns, counts capped at n', () => {
    const eig = symEig(diagonal([4, 1, 3, 2]), 4);
    const ext = extremeFromFull(eig, 2, 3);
    expect(Array.from(ext.top)).toEqual([4, 3]);
    expect(Array.from(ext.bottom)).toEqual([1, 2, 3]);
    expect(ext.topVectors.map((v) => Array.from(v))).toEqual([[1, 0, 0, 0], [0, 0, 1, 0]]);
    expect(ext.bottomVectors.map((v) => Array.from(v))).toEqual([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]);
    const all = extremeFromFull(eig, 9, 5);
    expect(Array.from(all.top)).toEqual([4, 3, 2, 1]);
    expect(Array.from(all.bottom)).toEqual([1, 2, 3, 4]);
    expect(all.topVectors.length).toBe(4);
    expect(all.bottomVectors.length).toBe(4);
    const valuesOnly = extremeFromFull(symEig(diagonal([4, 1, 3, 2]), 4, false), 1, 1);
    expect(Array.from(valuesOnly.top)).toEqual([4]);
    expect(Array.from(valuesOnly.topVectors[0])).toEqual([0, 0, 0, 0]);
    expect(extremeFromFull(eig, 0, 0)).toEqual({ top: new Float64Array(0), topVectors: [], bottom: new Float64Array(0), bottomVectors: [] });
  });
});

describe('mulberry32 and gaussian', () => {
  it('mulberry32 gives the reference sequence (seeds taken modulo 2³²)', () => {
    const take = (seed: number) => {
      const r = mulberry32(seed);
      return [r(), r(), r()];
    };
    // the reference implementation's first outputs (computed independently with 32-bit integer arithmetic)
    expect(take(0)).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
    expect(take(1)).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    expect(take(42)).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    expect(take(-1)).toEqual(take(2 ** 32 - 1));
    expect(take(2 ** 32 + 42)).toEqual(take(42));
  });

  it('gaussian: Box–Muller pairs from (u, v), skipping u = 0, the second of a pair returned next', () => {
    const seq = [0, 0.5, 0.25, 0.1, 0.6];
    let i = 0;
    const g = gaussian(() => seq[i++]);
    const r1 = Math.sqrt(-2 * Math.log(0.5));
    const r2 = Math.sqrt(-2 * Math.log(0.1));
    expect(g()).toBeCloseTo(r1 * Math.cos(Math.PI / 2), 15);
    expect(g()).toBeCloseTo(r1, 15); // r sin(π/2)
    expect(g()).toBeCloseTo(r2 * Math.cos(1.2 * Math.PI), 15);
    expect(g()).toBeCloseTo(r2 * Math.sin(1.2 * Math.PI), 15);
    expect(i).toBe(5);
  });

  it('gaussian: mean 0 and variance 1 over 40,000 draws', () => {
    const g = gaussian(mulberry32(9));
    const n = 40_000;
    let s = 0;
    let s2 = 0;
    for (let k = 0; k < n; k++) {
      const x = g();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02); // SE 0.005
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.04); // SE 0.007
  });
});

/** Checks that the returned pairs of a Krylov solve are Ritz pairs of M: unit, mutually orthogonal vectors with value = xᵀMx. */
function expectRitzPairs(M: ArrayLike<number>, D: number, res: { top: Float64Array; topVectors: Float32Array[]; bottom: Float64Array; bottomVectors: Float32Array[] }, tol: number): void {
  const pairs = [...Array.from(res.top).map((v, i) => [v, res.topVectors[i]] as const), ...Array.from(res.bottom).map((v, i) => [v, res.bottomVectors[i]] as const)];
  for (const [value, x] of pairs) {
    let q = 0;
    for (let r = 0; r < D; r++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += M[r * D + c] * x[c];
      q += x[r] * s;
    }
    expect(Math.abs(q - value)).toBeLessThan(tol);
    expect(largestEntry(x)).toBeGreaterThan(0);
  }
  const vecs = [...res.topVectors.slice(0, res.top.length), ...res.bottomVectors];
  for (let i = 0; i < vecs.length; i++)
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let r = 0; r < D; r++) dot += vecs[i][r] * vecs[j][r];
      expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    }
}

describe('blockKrylovExtremes: analytic spectra', () => {
  it('a basis that fills the space (block 4, 2 steps, D = 12): every eigenvalue of a diagonal operator exact, vectors ±eᵢ', async () => {
    const lambdas = [0.5, -2, 7, 3, 1, -0.25, 6, 2, -1, 4, 0, 5];
    const D = lambdas.length;
    const op = denseOperator([diagonal(lambdas)], D);
    const [res] = await blockKrylovExtremes(op, new JsMatMul(), { block: 4, steps: 2, top: 6, bottom: 6, seed: 3 });
    expect(op.calls).toEqual([4, 4, 4]); // steps + 1 applications of a D×b block
    const sorted = [...lambdas].sort((p, q) => p - q);
    expect(res.top.length).toBe(6);
    expect(res.bottom.length).toBe(6);
    for (let i = 0; i < 6; i++) {
      expect(res.top[i]).toBeCloseTo(sorted[D - 1 - i], 5);
      expect(res.bottom[i]).toBeCloseTo(sorted[i], 5);
      const ti = lambdas.indexOf(sorted[D - 1 - i]);
      const bi = lambdas.indexOf(sorted[i]);
      for (let r = 0; r < D; r++) {
        expect(res.topVectors[i][r]).toBeCloseTo(r === ti ? 1 : 0, 5);
        expect(res.bottomVectors[i][r]).toBeCloseTo(r === bi ? 1 : 0, 5);
      }
    }
    expectRitzPairs(diagonal(lambdas), D, res, 1e-5);
  });

  it('a block larger than D is cut to D: one application, the exact spectrum of a planted 6×6 matrix', async () => {
    const lambdas = [-3, -1, 0.5, 2, 2.5, 9];
    const D = 6;
    const { A, Q } = plantedMatrix(D, lambdas, 21);
    const op = denseOperator([A], D);
    const [res] = await blockKrylovExtremes(op, new JsMatMul(), { block: 20, steps: 5, top: 3, bottom: 3, seed: 2 });
    expect(op.calls).toEqual([6]);
    expect(Array.from(res.top).map((v) => +v.toFixed(5))).toEqual([9, 2.5, 2]);
    expect(Array.from(res.bottom).map((v) => +v.toFixed(5))).toEqual([-3, -1, 0.5]);
    // eigenvectors: ±the planted columns (λ index 5, 4, 3 for the top; 0, 1, 2 for the bottom), sign-fixed
    for (const [vec, k] of [[res.topVectors[0], 5], [res.topVectors[1], 4], [res.bottomVectors[0], 0], [res.bottomVectors[2], 2]] as const) {
      const q = Array.from({ length: D }, (_, r) => Q[r * D + k]);
      const sign = Math.sign(largestEntry(q));
      for (let r = 0; r < D; r++) expect(vec[r]).toBeCloseTo(sign * q[r], 5);
    }
    expectRitzPairs(A, D, res, 1e-5);
  });

  it('block sizes that do not divide D: ⌊D/b⌋ blocks at most, Ritz values inside [λmin, λmax] and Ritz pairs', async () => {
    const D = 23;
    const lambdas = Array.from({ length: D }, (_, i) => Math.cos(i * 0.9) * 3 + (i === 4 ? 6 : 0));
    const { A } = plantedMatrix(D, lambdas, 8);
    const lo = Math.min(...lambdas);
    const hi = Math.max(...lambdas);
    for (const [block, steps, applications] of [[5, 10, 4], [7, 1, 2], [3, 6, 7], [4, 0, 1]]) {
      const op = denseOperator([A], D);
      const [res] = await blockKrylovExtremes(op, new JsMatMul(), { block, steps, top: 2, bottom: 2, seed: 11 });
      expect(op.calls).toEqual(Array(applications).fill(block));
      for (const v of [...res.top, ...res.bottom]) {
        expect(v).toBeLessThanOrEqual(hi + 1e-5);
        expect(v).toBeGreaterThanOrEqual(lo - 1e-5);
      }
      expect(res.top[0]).toBeGreaterThanOrEqual(res.top[1]);
      expect(res.bottom[0]).toBeLessThanOrEqual(res.bottom[1]);
      expectRitzPairs(A, D, res, 1e-5);
    }
  });

  it('a single block (steps 0): the Ritz values of the start block, which more steps only move outward', async () => {
    const D = 40;
    const lambdas = Array.from({ length: D }, (_, i) => i / 4);
    const M = diagonal(lambdas);
    const op1 = denseOperator([M], D);
    const op2 = denseOperator([M], D);
    const one = (await blockKrylovExtremes(op1, new JsMatMul(), { block: 4, steps: 0, top: 2, bottom: 2, seed: 4 }))[0];
    const two = (await blockKrylovExtremes(op2, new JsMatMul(), { block: 4, steps: 1, top: 2, bottom: 2, seed: 4 }))[0];
    expect(op1.calls).toEqual([4]);
    expect(op2.calls).toEqual([4, 4]);
    expectRitzPairs(M, D, one, 1e-5);
    // the same start block (same seed): the 8-vector basis contains the 4-vector one (Cauchy interlacing)
    expect(two.top[0]).toBeGreaterThanOrEqual(one.top[0] - 1e-5);
    expect(two.bottom[0]).toBeLessThanOrEqual(one.bottom[0] + 1e-5);
    // four random directions in 40 dimensions do not reach the edges of a spread spectrum [0, 9.75]
    expect(one.top[0]).toBeLessThan(9.75 - 0.1);
    expect(one.bottom[0]).toBeGreaterThan(0.1);
  });

  it('more pairs asked than the basis holds: top and bottom capped at the basis size b·(steps+1)', async () => {
    const D = 30;
    const lambdas = Array.from({ length: D }, (_, i) => i - 10);
    const [res] = await blockKrylovExtremes(denseOperator([diagonal(lambdas)], D), new JsMatMul(), { block: 3, steps: 1, top: 10, bottom: 8, seed: 1 });
    expect(res.top.length).toBe(6);
    expect(res.bottom.length).toBe(6);
    expect(res.topVectors.length).toBe(6);
    expect(res.bottomVectors.length).toBe(6);
    // the same six Ritz values, in opposite orders
    expect(Array.from(res.bottom)).toEqual(Array.from(res.top).reverse());
    for (let i = 0; i < 6; i++) expect(Array.from(res.bottomVectors[i])).toEqual(Array.from(res.topVectors[5 - i]));
  });

  it('a degenerate top eigenvalue (multiplicity 3): three Ritz values at it, vectors spanning its eigenspace', async () => {
    const D = 50;
    const lambdas = Array.from({ length: D }, (_, i) => (i < 3 ? 5 : (i % 7) / 7));
    lambdas[10] = -2;
    const { A, Q } = plantedMatrix(D, lambdas, 31);
    const [res] = await blockKrylovExtremes(denseOperator([A], D), new JsMatMul(), { block: 5, steps: 6, top: 3, bottom: 1, seed: 6 });
    for (let i = 0; i < 3; i++) expect(res.top[i]).toBeCloseTo(5, 4);
    expect(res.bottom[0]).toBeCloseTo(-2, 4);
    for (const x of res.topVectors) {
      // projection onto span(q0, q1, q2) has norm 1
      let p2 = 0;
      for (let k = 0; k < 3; k++) {
        let dot = 0;
        for (let r = 0; r < D; r++) dot += x[r] * Q[r * D + k];
        p2 += dot * dot;
      }
      expect(p2).toBeCloseTo(1, 5);
    }
    expectRitzPairs(A, D, res, 1e-4);
    // the breakdown test is relative to each column's image: the same operator scaled by 10⁻⁶ or 10⁶ converges alike
    for (const c of [1e-6, 1e6]) {
      const [scaled] = await blockKrylovExtremes(denseOperator([A.map((x) => c * x)], D), new JsMatMul(), { block: 5, steps: 6, top: 3, bottom: 1, seed: 6 });
      for (let i = 0; i < 3; i++) expect(scaled.top[i] / c).toBeCloseTo(5, 4);
      expect(scaled.bottom[0] / c).toBeCloseTo(-2, 4);
    }
  });

  it('a steep spectrum (10⁻² … 10⁴): ill-conditioned Krylov blocks still give orthonormal Ritz vectors', async () => {
    const D = 60;
    const lambdas = Array.from({ length: D }, (_, i) => 10 ** (-2 + (6 * i) / (D - 1)));
    const { A } = plantedMatrix(D, lambdas, 51);
    const [res] = await blockKrylovExtremes(denseOperator([A], D), new JsMatMul(), { block: 6, steps: 4, top: 4, bottom: 4, seed: 8 });
    expect(res.top[0]).toBeCloseTo(1e4, 1);
    for (const v of [...res.top, ...res.bottom]) expect(v).toBeGreaterThanOrEqual(0.01 * (1 - 1e-4));
    expectRitzPairs(A, D, res, 1e-2);
    // small D, where a block of images of a steep spectrum is nearly dependent: one CholQR pass leaves its columns
    // off orthonormal by up to 2e-2, the second pass repairs them
    for (let seed = 0; seed < 12; seed++) {
      const d = 7;
      const { A: S } = plantedMatrix(d, Array.from({ length: d }, (_, i) => 10 ** (-2 + (4 * i) / (d - 1))), 200 + seed);
      const [r] = await blockKrylovExtremes(denseOperator([S], d), new JsMatMul(), { block: 3, steps: 1, top: 2, bottom: 2, seed });
      expectRitzPairs(S, d, r, 1e-3);
    }
  });

  it('the zero operator and a rank-1 operator: exhausted directions replaced, the basis stays orthonormal', async () => {
    const D = 24;
    const v = Float64Array.from({ length: D }, (_, i) => Math.sin(i + 1));
    const nv = Math.hypot(...v);
    const R1 = new Float64Array(D * D);
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) R1[r * D + c] = (3 * v[r] * v[c]) / (nv * nv);
    const Z = new Float64Array(D * D);
    const res = await blockKrylovExtremes(denseOperator([Z, R1], D), new JsMatMul(), { block: 4, steps: 3, top: 3, bottom: 3, seed: 9 });
    // zero operator: every Ritz value exactly 0, vectors still unit and orthogonal
    expect([...res[0].top, ...res[0].bottom]).toEqual([0, 0, 0, 0, 0, 0]);
    expectRitzPairs(Z, D, res[0], 1e-6);
    // rank 1: one value 3 with vector v/|v|, the rest 0
    expect(res[1].top[0]).toBeCloseTo(3, 5);
    for (const x of [...res[1].top.slice(1), ...res[1].bottom]) expect(Math.abs(x)).toBeLessThan(1e-5);
    const sign = Math.sign(largestEntry(v));
    for (let r = 0; r < D; r++) expect(res[1].topVectors[0][r]).toBeCloseTo((sign * v[r]) / nv, 5);
    expectRitzPairs(R1, D, res[1], 1e-5);
    // blocks of 1 and 2 columns over 6 steps: after the first steps every image lies in the basis (its remainder is
    // rounding noise), and each such column must be replaced by a fresh direction, not normalised noise
    for (const [rank, block] of [[1, 1], [1, 2], [2, 1], [2, 2], [3, 2]]) {
      const lambdas = Array.from({ length: 30 }, (_, i) => (i < rank ? 2 + i : 0));
      const { A } = plantedMatrix(30, lambdas, 90 + rank);
      const [r] = await blockKrylovExtremes(denseOperator([A], 30), new JsMatMul(), { block, steps: 5, top: 2, bottom: 2, seed: rank + block });
      for (const v of [...r.top, ...r.bottom]) expect(v).toBeGreaterThanOrEqual(-1e-5);
      expectRitzPairs(A, 30, r, 1e-5);
    }
    // an indefinite rank-2 operator (eigenvalues 1 and −2) with 2-column blocks: whole blocks become rounding noise,
    // whose float32 Gram matrix looks well-conditioned relative to itself; only the per-column test (remainder
    // against the column's image) replaces them (without it the vectors were off orthonormal by up to 0.8)
    for (const [D, seed] of [[20, 3], [20, 4], [30, 0]]) {
      const lambdas = Array.from({ length: D }, (_, i) => (i === 0 ? 1 : i === 1 ? -2 : 0));
      const A = plantedMatrix(D, lambdas, 300 + seed).A;
      const [r] = await blockKrylovExtremes(denseOperator([A], D), new JsMatMul(), { block: 2, steps: 5, top: 1, bottom: 2, seed });
      expect(r.top[0]).toBeCloseTo(1, 5);
      expect(r.bottom[0]).toBeCloseTo(-2, 5);
      expect(Math.abs(r.bottom[1])).toBeLessThan(1e-5);
      expectRitzPairs(A, D, r, 1e-5);
    }
  });

  it('an operator of rank below the block size: dependent block columns are replaced, Ritz pairs stay inside the spectrum', async () => {
    // the remainder of a block of b images of a rank-r operator (r < b) spans r dimensions, with no column small on
    // its own: its float32 Gram matrix has pivots at rounding level (~1e-7 of the largest), which CholQR must not
    // invert (before the fix, Ritz values fell below 0 for these positive semi-definite operators)
    const D = 9;
    for (const [rank, block, steps, seed] of [[2, 3, 1, 1], [3, 4, 3, 1], [2, 3, 1, 2], [1, 2, 3, 3], [3, 4, 1, 4], [2, 4, 1, 5]]) {
      const lambdas = Array.from({ length: D }, (_, i) => (i < rank ? 1 + i * 0.6 : 0));
      const { A } = plantedMatrix(D, lambdas, 60 + seed);
      const [res] = await blockKrylovExtremes(denseOperator([A], D), new JsMatMul(), { block, steps, top: 2, bottom: 2, seed });
      for (const v of [...res.top, ...res.bottom]) {
        expect(v).toBeGreaterThanOrEqual(-1e-5);
        expect(v).toBeLessThanOrEqual(lambdas[rank - 1] + 1e-5);
      }
      expectRitzPairs(A, D, res, 1e-5);
    }
  });

  it('a unit’s result does not depend on its batch: unitOffset and unitIds seed each unit by its id', async () => {
    const D = 30;
    const mats = [0, 1, 2].map((u) => plantedMatrix(D, Array.from({ length: D }, (_, i) => Math.sin(i * (1 + u))), 40 + u).A);
    const opts = { block: 3, steps: 2, top: 2, bottom: 2, seed: 12 };
    const all = await blockKrylovExtremes(denseOperator(mats, D), new JsMatMul(), opts);
    const second = await blockKrylovExtremes(denseOperator([mats[1]], D), new JsMatMul(), { ...opts, unitOffset: 1 });
    const third = await blockKrylovExtremes(denseOperator([mats[2]], D), new JsMatMul(), { ...opts, unitIds: [2], unitOffset: 7 });
    expect(all).toHaveLength(3);
    expect(second).toHaveLength(1);
    expect(second[0]).toEqual(all[1]);
    expect(third[0]).toEqual(all[2]);
    // without the id, unit 1 alone starts from unit 0's block: an unconverged Ritz value changes
    const alone = await blockKrylovExtremes(denseOperator([mats[1]], D), new JsMatMul(), opts);
    expect(alone[0].top[1]).not.toBe(all[1].top[1]);
    // another seed, another start block
    const reseeded = await blockKrylovExtremes(denseOperator(mats, D), new JsMatMul(), { ...opts, seed: 13 });
    expect(reseeded[1].top[1]).not.toBe(all[1].top[1]);
  });
});

describe('blockKrylovExtremes', () => {
  it('equals the full eigendecomposition on extreme eigenpairs (planted outliers over a bulk)', async () => {
    const D = 300;
    const units = 2;
    const mats = [0, 1].map((u) => {
      const lam = Array.from({ length: D }, (_, i) => 1 + Math.sin(i * 1.3 + u) * 0.5); // bulk in [0.5, 1.5]
      lam[0] = 4 + u;
      lam[1] = 3;
      lam[2] = 2.5;
      lam[3] = -2;
      return plantedMatrix(D, lam, 10 + u).A;
    });
    const op: BatchOperator = {
      units,
      dim: D,
      async apply(V, b) {
        const out = new Float32Array(V.length);
        for (let u = 0; u < units; u++)
          for (let r = 0; r < D; r++)
            for (let c = 0; c < b; c++) {
              let s = 0;
              for (let k = 0; k < D; k++) s += mats[u][r * D + k] * V[u * D * b + k * b + c];
              out[u * D * b + r * b + c] = s;
            }
        return out;
      },
    };
    const res = await blockKrylovExtremes(op, new JsMatMul(), { block: 8, steps: 10, top: 4, bottom: 2, seed: 1 });
    for (let u = 0; u < units; u++) {
      const full = symEig(mats[u], D, true);
      // the planted outliers converge to float32 accuracy
      expect(res[u].top[0]).toBeCloseTo(full.values[D - 1], 4);
      expect(res[u].top[1]).toBeCloseTo(full.values[D - 2], 4);
      expect(res[u].top[2]).toBeCloseTo(full.values[D - 3], 4);
      expect(res[u].bottom[0]).toBeCloseTo(full.values[0], 4);
      for (const [k, col] of [[0, D - 1], [1, D - 2], [2, D - 3]] as const) {
        let dot = 0;
        for (let r = 0; r < D; r++) dot += res[u].topVectors[k][r] * full.vectors![r * D + col];
        expect(Math.abs(dot)).toBeGreaterThan(0.9999);
      }
      // bulk-edge Ritz values lie inside the spectrum and close to the edge
      expect(res[u].top[3]).toBeLessThanOrEqual(full.values[D - 4] + 1e-4);
      expect(res[u].top[3]).toBeGreaterThan(full.values[D - 4] - 0.05);
      expect(res[u].bottom[1]).toBeGreaterThanOrEqual(full.values[1] - 1e-4);
      expect(res[u].bottom[1]).toBeLessThan(full.values[1] + 0.05);
    }
  });
});

describe('blockKrylovExtremes on low-rank operators (Krylov space exhausted before the last step)', () => {
  // M = Σⱼ pⱼ yⱼyⱼᵀ − m mᵀ over k random vectors: the AWC of a unit active on k samples, rank k − 1
  function sparseUnitMatrix(D: number, k: number, seed: number): Float64Array {
    const g = gaussian(mulberry32(seed));
    const rand = mulberry32(seed + 1);
    const ys = Array.from({ length: k }, () => Float64Array.from({ length: D }, () => g()));
    const w = Array.from({ length: k }, () => 0.1 + 3 * rand());
    const sw = w.reduce((a, b) => a + b, 0);
    const m = new Float64Array(D);
    ys.forEach((y, j) => y.forEach((v, d) => (m[d] += (w[j] * v) / sw)));
    const M = new Float64Array(D * D);
    for (let j = 0; j < k; j++) for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) M[r * D + c] += (w[j] * ys[j][r] * ys[j][c]) / sw;
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) M[r * D + c] -= m[r] * m[c];
    return M;
  }

  for (const k of [3, 12, 40]) {
    it(`rank ${k - 1} in D = 200 with a 104-vector basis: exact extremes, none outside the spectrum`, async () => {
      const D = 200;
      const M = sparseUnitMatrix(D, k, 100 + k);
      const op: BatchOperator = {
        units: 1,
        dim: D,
        async apply(V, b) {
          const out = new Float32Array(V.length);
          for (let r = 0; r < D; r++)
            for (let c = 0; c < b; c++) {
              let s = 0;
              for (let q = 0; q < D; q++) s += M[r * D + q] * V[q * b + c];
              out[r * b + c] = s;
            }
          return out;
        },
      };
      const [res] = await blockKrylovExtremes(op, new JsMatMul(), { block: 8, steps: 12, top: 4, bottom: 2, seed: 5 });
      const full = symEig(M, D, true);
      const scale = full.values[D - 1];
      // before the breakdown fix, the Ritz values here were 20–30× the largest eigenvalue (k = 12)
      for (let i = 0; i < Math.min(4, k - 1); i++) expect(Math.abs(res.top[i] - full.values[D - 1 - i]) / scale).toBeLessThan(1e-4);
      for (const v of [...res.top, ...res.bottom]) {
        expect(v).toBeLessThanOrEqual(scale * (1 + 1e-5));
        expect(v).toBeGreaterThanOrEqual(-1e-5 * scale);
      }
      // eigenvectors of the leading eigenvalue match (the spectrum of a random rank-k matrix is not degenerate)
      let dot = 0;
      for (let r = 0; r < D; r++) dot += res.topVectors[0][r] * full.vectors![r * D + D - 1];
      expect(Math.abs(dot)).toBeGreaterThan(0.999);
      // and every returned vector is unit-norm
      for (const v of [...res.topVectors, ...res.bottomVectors]) expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    });
  }
});

describe('transposeEach', () => {
  it('transposes every r×c matrix of a stack', () => {
    const M = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i); // [[0 1 2] [3 4 5]], [[6 7 8] [9 10 11]]
    expect(Array.from(transposeEach(M, 2, 2, 3))).toEqual([0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
  });
});
