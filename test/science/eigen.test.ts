import { describe, expect, it } from 'vitest';
import { blockKrylovExtremes, gaussian, mulberry32, symEig, transposeEach, type BatchOperator } from '../../science/eigen.ts';
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
