// The small matrix-product interface reverse correlation runs on (docs/method.md §6), and a plain-JS implementation.
// Science code calls only this interface; model/ort-matmul.ts provides the ONNX Runtime implementation.
// All matrices are dense, row-major Float32Array; sums inside the JS implementation run in float64.
// Tested in test/science/gemm.test.ts (and through AWA and AWC in awa.test.ts, awc.test.ts).

/** Options of one product C = op(A)·op(B). */
export interface GemmOptions {
  /** A is stored k×m (so op(A) = Aᵀ is m×k). */
  transA?: boolean;
  /** B is stored n×k (so op(B) = Bᵀ is k×n). */
  transB?: boolean;
  /** gemm only: returns op(A)·op(B) + addTo (m×n), for accumulating over row chunks inside the backend. */
  addTo?: Float32Array;
}

/** Matrix products used by AWA (Aᵀ X), AWC (Xᵀ diag(a) X) and the eigensolvers (batched block products). */
export interface MatMul {
  /** Short name for logs and benchmarks ('js', 'ort'). */
  readonly name: string;
  /** C (m×n) = op(A) (m×k) · op(B) (k×n). */
  gemm(A: Float32Array, B: Float32Array, m: number, k: number, n: number, opts?: GemmOptions): Promise<Float32Array>;
  /** C[b] = op(A[b]) · op(B[b]) for b < batch; A, B, C are contiguous stacks of equal-shaped matrices. */
  gemmBatched(
    batch: number,
    A: Float32Array,
    B: Float32Array,
    m: number,
    k: number,
    n: number,
    opts?: GemmOptions,
  ): Promise<Float32Array>;
  /** G (D×D) = Xᵀ diag(a) X for X (N×D) and one weight vector a (N). */
  weightedGram(X: Float32Array, a: Float32Array, N: number, D: number): Promise<Float32Array>;
  /**
   * Prepares Y (rows×D) as the fixed operand of many products whose other side changes (the AWC's Krylov passes over
   * one chunk of samples); optional: a backend without it gets gemm calls.
   */
  fix?(Y: Float32Array, rows: number, D: number): Promise<FixedOperand>;
  /** Releases native resources (no-op for JS). */
  dispose?(): Promise<void>;
}

/** A matrix Y (rows×D) prepared once for products with changing right-hand sides. */
export interface FixedOperand {
  /** Y·B for B (D×n, row-major): rows×n. */
  times(B: Float32Array, n: number): Promise<Float32Array>;
  /** Yᵀ·B (+ addTo) for B (rows×n): D×n. */
  transposeTimes(B: Float32Array, n: number, addTo?: Float32Array): Promise<Float32Array>;
  /** Releases what the preparation holds. */
  dispose(): Promise<void>;
}

/** Y (rows×D) as a fixed operand whose products are plain gemm calls (nothing prepared, nothing to release). */
export function gemmOperand(mm: Pick<MatMul, 'gemm'>, Y: Float32Array, rows: number, D: number): FixedOperand {
  return {
    times: (B, n) => mm.gemm(Y, B, rows, D, n),
    transposeTimes: (B, n, addTo) => mm.gemm(Y, B, D, rows, n, { transA: true, addTo }),
    dispose: async () => undefined,
  };
}

/** Element (i, j) of op(M) for a row-major matrix stored rows×cols. */
function idx(trans: boolean, i: number, j: number, storedCols: number): number {
  return trans ? j * storedCols + i : i * storedCols + j;
}

/** Plain-JS C = op(A)·op(B) with float64 accumulation, writing into C at offset cOff. */
function gemmInto(
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  C: Float32Array,
  cOff: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): void {
  const aCols = transA ? m : k;
  const bCols = transB ? k : n;
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const a = A[aOff + idx(transA, i, p, aCols)];
      if (a === 0) continue;
      if (!transB) {
        const row = bOff + p * bCols;
        for (let j = 0; j < n; j++) acc[j] += a * B[row + j];
      } else {
        for (let j = 0; j < n; j++) acc[j] += a * B[bOff + j * bCols + p];
      }
    }
    for (let j = 0; j < n; j++) C[cOff + i * n + j] = acc[j];
  }
}

/** Plain-JS matrix products (tests, small sizes, and a reference for the ORT implementation). */
export class JsMatMul implements MatMul {
  readonly name = 'js';

  async gemm(A: Float32Array, B: Float32Array, m: number, k: number, n: number, opts: GemmOptions = {}): Promise<Float32Array> {
    checkSize('A', A, m * k);
    checkSize('B', B, k * n);
    const C = new Float32Array(m * n);
    gemmInto(A, 0, B, 0, C, 0, m, k, n, !!opts.transA, !!opts.transB);
    if (opts.addTo) {
      checkSize('addTo', opts.addTo, m * n);
      for (let i = 0; i < C.length; i++) C[i] += opts.addTo[i];
    }
    return C;
  }

  async gemmBatched(
    batch: number,
    A: Float32Array,
    B: Float32Array,
    m: number,
    k: number,
    n: number,
    opts: GemmOptions = {},
  ): Promise<Float32Array> {
    checkSize('A', A, batch * m * k);
    checkSize('B', B, batch * k * n);
    const C = new Float32Array(batch * m * n);
    for (let b = 0; b < batch; b++) {
      gemmInto(A, b * m * k, B, b * k * n, C, b * m * n, m, k, n, !!opts.transA, !!opts.transB);
    }
    return C;
  }

  async fix(Y: Float32Array, rows: number, D: number): Promise<FixedOperand> {
    checkSize('Y', Y, rows * D);
    return gemmOperand(this, Y, rows, D);
  }

  async weightedGram(X: Float32Array, a: Float32Array, N: number, D: number): Promise<Float32Array> {
    checkSize('X', X, N * D);
    checkSize('a', a, N);
    const G = new Float64Array(D * D);
    for (let r = 0; r < N; r++) {
      const w = a[r];
      if (w === 0) continue;
      const off = r * D;
      for (let i = 0; i < D; i++) {
        const xi = w * X[off + i];
        if (xi === 0) continue;
        const gi = i * D;
        for (let j = i; j < D; j++) G[gi + j] += xi * X[off + j];
      }
    }
    const out = new Float32Array(D * D);
    for (let i = 0; i < D; i++) {
      for (let j = i; j < D; j++) {
        const v = G[i * D + j];
        out[i * D + j] = v;
        out[j * D + i] = v;
      }
    }
    return out;
  }
}

/** Throws when a matrix buffer does not hold exactly the expected number of elements (a bug, not a user error). */
export function checkSize(name: string, M: ArrayLike<number>, expected: number): void {
  if (M.length !== expected) throw new Error(`matmul: ${name} has ${M.length} elements, expected ${expected}`);
}
