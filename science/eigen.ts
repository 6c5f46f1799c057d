// Symmetric eigensolvers for AWC (docs/method.md §4, §6): a dense one (Householder tridiagonalisation + implicit QL,
// the EISPACK tred2/tql2 pair) for small D and for Rayleigh–Ritz matrices, and a block-Krylov (block Lanczos
// with full reorthogonalisation) solver that needs only batched products v ↦ M v, for large D.
import type { MatMul } from './gemm.ts';

/** Eigenvalues ascending, and eigenvectors as columns of a row-major n×n matrix when requested. */
export interface SymEig {
  n: number;
  values: Float64Array;
  /** Row-major n×n, column j is the eigenvector of values[j]; absent when only values were asked for. */
  vectors?: Float64Array;
}

/** Full eigendecomposition of a dense symmetric n×n matrix (row-major; only its values are read). */
export function symEig(A: ArrayLike<number>, n: number, wantVectors = true): SymEig {
  if (A.length !== n * n) throw new Error(`symEig: matrix has ${A.length} elements, expected ${n * n}`);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) V[i * n + j] = 0.5 * (A[i * n + j] + A[j * n + i]);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { n, values: d, vectors: wantVectors ? V : undefined };
  tred2(V, d, e, n, wantVectors);
  tql2(V, d, e, n, wantVectors);
  // sort ascending
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => d[p] - d[q]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!wantVectors) return { n, values };
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const src = order[c];
    for (let r = 0; r < n; r++) vectors[r * n + c] = V[r * n + src];
  }
  fixSigns(vectors, n, n);
  return { n, values, vectors };
}

/** Makes each column's largest-magnitude entry positive, so eigenvectors are reproducible. */
export function fixSigns(M: Float64Array | Float32Array, rows: number, cols: number): void {
  for (let c = 0; c < cols; c++) {
    let best = 0;
    for (let r = 0; r < rows; r++) if (Math.abs(M[r * cols + c]) > Math.abs(best) + 1e-12) best = M[r * cols + c];
    if (best < 0) for (let r = 0; r < rows; r++) M[r * cols + c] = -M[r * cols + c];
  }
}

// Householder reduction to tridiagonal form (EISPACK tred2, as in JAMA). V holds the matrix on entry.
function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  if (!accumulate) {
    for (let j = 0; j < n; j++) d[j] = V[j * n + j];
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

// Implicit QL iterations on the tridiagonal matrix (EISPACK tql2, as in JAMA).
function tql2(V: Float64Array, d: Float64Array, e: Float64Array, n: number, vectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symEig: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (vectors) {
            for (let k = 0; k < n; k++) {
              const row = k * n;
              h = V[row + i + 1];
              V[row + i + 1] = s * V[row + i] + c * h;
              V[row + i] = c * V[row + i] - s * h;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}

/** A batch of symmetric D×D operators (one per unit) applied to blocks: out[u] = M_u · V[u], V as [U, D, b]. */
export interface BatchOperator {
  /** Number of operators (units). */
  units: number;
  /** Dimension D of each operator. */
  dim: number;
  apply(V: Float32Array, b: number): Promise<Float32Array>;
}

/** Options of the block-Krylov solver. */
export interface KrylovOptions {
  /** Block size b (≥ top + bottom). */
  block: number;
  /** Krylov steps: the basis holds b·(steps + 1) vectors (capped at D). */
  steps: number;
  /** Largest eigenpairs to return. */
  top: number;
  /** Smallest eigenpairs to return. */
  bottom: number;
  /** Seed of the random start block (per unit: seed + unit offset). */
  seed: number;
  /** Added to the unit index when seeding, so a unit's start block does not depend on how units are batched. */
  unitOffset?: number;
  /** Explicit per-operator seed ids (overrides unitOffset + index). */
  unitIds?: readonly number[];
}

/** Extreme eigenpairs of one unit: values descending for top, ascending for bottom; vectors D-long each. */
export interface ExtremeEig {
  top: Float64Array;
  topVectors: Float32Array[];
  bottom: Float64Array;
  bottomVectors: Float32Array[];
}

/** Top/bottom eigenpairs from a full decomposition (the small-D path and the reference for tests). */
export function extremeFromFull(eig: SymEig, top: number, bottom: number): ExtremeEig {
  const n = eig.n;
  const t = Math.min(top, n);
  const bt = Math.min(bottom, n);
  const col = (c: number): Float32Array => {
    const v = new Float32Array(n);
    if (eig.vectors) for (let r = 0; r < n; r++) v[r] = eig.vectors[r * n + c];
    return v;
  };
  return {
    top: Float64Array.from({ length: t }, (_, i) => eig.values[n - 1 - i]),
    topVectors: Array.from({ length: t }, (_, i) => col(n - 1 - i)),
    bottom: Float64Array.from({ length: bt }, (_, i) => eig.values[i]),
    bottomVectors: Array.from({ length: bt }, (_, i) => col(i)),
  };
}

/** A small deterministic PRNG (mulberry32) for start blocks and shuffles. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates from a uniform generator (Box–Muller). */
export function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Where a unit's Krylov basis lives inside the shared [U, D, s] basis array, and how many columns are filled. */
interface BasisView {
  QB: Float32Array;
  off: number;
  s: number;
  filled: number;
}

/** Subtracts from `col` its projections on `count` orthonormal columns of a row-major matrix (element (r, p) at off + r·stride + p). */
function subtractColumns(col: Float64Array, M: Float32Array, off: number, stride: number, count: number): void {
  const D = col.length;
  for (let p = 0; p < count; p++) {
    let dot = 0;
    for (let r = 0; r < D; r++) dot += M[off + r * stride + p] * col[r];
    for (let r = 0; r < D; r++) col[r] -= dot * M[off + r * stride + p];
  }
}

/** One Gram–Schmidt pass of `col` against the filled basis columns and the first c columns of the D×b block. */
function projectOut(col: Float64Array, W: Float32Array, off: number, b: number, c: number, basis?: BasisView): void {
  if (basis) subtractColumns(col, basis.QB, basis.off, basis.s, basis.filled);
  subtractColumns(col, W, off, b, c);
}

/** Euclidean norm of a vector. */
function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Orthonormalises the b columns of one unit's D×b block in place (modified Gram–Schmidt, twice), against the
 * unit's earlier basis columns (when given) and among themselves. A column whose remainder is at most
 * BREAKDOWN_TOL of its size carries no new direction, only rounding noise: it is replaced by a random vector
 * made orthogonal to everything before it.
 */
function orthonormaliseUnit(
  W: Float32Array,
  off: number,
  D: number,
  b: number,
  rand: () => number,
  basis?: BasisView,
): void {
  const col = new Float64Array(D);
  for (let c = 0; c < b; c++) {
    for (let r = 0; r < D; r++) col[r] = W[off + r * b + c];
    const ref = norm2(col);
    projectOut(col, W, off, b, c, basis);
    projectOut(col, W, off, b, c, basis);
    let norm = norm2(col);
    if (!(norm > BREAKDOWN_TOL * ref) || norm === 0) {
      // breakdown: the Krylov space is exhausted in this direction; continue with a random orthogonal direction
      const g = gaussian(rand);
      for (let r = 0; r < D; r++) col[r] = g();
      for (let pass = 0; pass < 3; pass++) projectOut(col, W, off, b, c, basis);
      norm = norm2(col);
    }
    for (let r = 0; r < D; r++) W[off + r * b + c] = col[r] / norm;
  }
}

/**
 * Remainder size below which a Krylov direction counts as exhausted, relative to the norm of the operator's
 * output column it came from. Float32 products leave ~1e-6 of rounding noise in an exhausted direction;
 * normalising that noise would give a vector far from orthogonal to the basis (the failure this guards).
 */
const BREAKDOWN_TOL = 1e-3;

/**
 * Upper Cholesky factor R (b×b) of a symmetric positive matrix, or null when a pivot is not clearly positive: at most
 * BREAKDOWN_TOL² of the largest diagonal entry, the column test of orthonormaliseUnit in squared norms. A float32
 * Gram matrix of linearly dependent columns (a block of images of an operator of rank below b) has pivots at
 * rounding level, ~1e-7 of the largest, half of them positive: inverting one amplifies noise into a column that is
 * not orthogonal to the basis, and Ritz values leave the spectrum.
 */
export function cholUpper(G: Float32Array, off: number, b: number): Float64Array | null {
  const R = new Float64Array(b * b);
  let maxDiag = 0;
  for (let i = 0; i < b; i++) maxDiag = Math.max(maxDiag, G[off + i * b + i]);
  for (let i = 0; i < b; i++) {
    let sum = G[off + i * b + i];
    for (let k = 0; k < i; k++) sum -= R[k * b + i] * R[k * b + i];
    if (!(sum > BREAKDOWN_TOL ** 2 * maxDiag)) return null;
    const rii = Math.sqrt(sum);
    R[i * b + i] = rii;
    for (let j = i + 1; j < b; j++) {
      let v = 0.5 * (G[off + i * b + j] + G[off + j * b + i]);
      for (let k = 0; k < i; k++) v -= R[k * b + i] * R[k * b + j];
      R[i * b + j] = v / rii;
    }
  }
  return R;
}

/** Inverse of an upper-triangular b×b matrix. */
export function invUpper(R: Float64Array, b: number): Float64Array {
  const X = new Float64Array(b * b);
  for (let c = 0; c < b; c++) {
    X[c * b + c] = 1 / R[c * b + c];
    for (let r = c - 1; r >= 0; r--) {
      let s = 0;
      for (let k = r + 1; k <= c; k++) s += R[r * b + k] * X[k * b + c];
      X[r * b + c] = -s / R[r * b + r];
    }
  }
  return X;
}

/** Column norms of every unit's D×b block ([U, b]). */
export function columnNorms(W: Float32Array, U: number, D: number, b: number): Float64Array {
  const out = new Float64Array(U * b);
  for (let u = 0; u < U; u++) {
    for (let r = 0; r < D; r++) {
      const o = u * D * b + r * b;
      for (let c = 0; c < b; c++) out[u * b + c] += W[o + c] * W[o + c];
    }
  }
  return out.map(Math.sqrt);
}

/**
 * Orthonormalises every unit's D×b block of W in place by Cholesky QR, twice (CholQR2), with the Gram matrices
 * and the triangular solves run as batched products; a unit whose Gram matrix is near-singular is handed to
 * `fallback` (Gram–Schmidt against its whole basis, random replacement of vanished columns).
 */
async function cholQR2(W: Float32Array, U: number, D: number, b: number, mm: MatMul, rands: (() => number)[], fallback: (u: number) => void): Promise<void> {
  const ok = new Array<boolean>(U).fill(true);
  for (let pass = 0; pass < 2; pass++) {
    const G = await mm.gemmBatched(U, W, W, b, D, b, { transA: true });
    const Rinv = new Float32Array(U * b * b);
    for (let u = 0; u < U; u++) {
      const R = ok[u] ? cholUpper(G, u * b * b, b) : null;
      if (!R) {
        ok[u] = false;
        for (let i = 0; i < b; i++) Rinv[u * b * b + i * b + i] = 1; // identity: leave the block for the fallback
        continue;
      }
      Rinv.set(invUpper(R, b), u * b * b);
    }
    const Q = await mm.gemmBatched(U, W, Rinv, D, b, b);
    for (let u = 0; u < U; u++) if (ok[u]) W.set(Q.subarray(u * D * b, (u + 1) * D * b), u * D * b);
  }
  for (let u = 0; u < U; u++) if (!ok[u]) fallback(u);
}

/** Transposes each of `batch` row-major r×c matrices stored back to back ([batch, r, c] → [batch, c, r]). */
export function transposeEach(M: Float32Array, batch: number, r: number, c: number): Float32Array {
  const out = new Float32Array(batch * r * c);
  for (let u = 0; u < batch; u++) {
    const o = u * r * c;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[o + j * r + i] = M[o + i * c + j]!;
  }
  return out;
}

/**
 * W ← (I − QQᵀ)² W for every unit's block against its basis (classical Gram–Schmidt, twice, batched products).
 * Returns the summed coefficients QᵀW of the two passes ([U, s, b]). The coefficients are computed as
 * (WᵀQ)ᵀ: transposing the thin D×b blocks instead of the D×s basis (2.5× faster in ONNX Runtime).
 */
async function projectOutBasis(W: Float32Array, QB: Float32Array, U: number, D: number, s: number, b: number, mm: MatMul): Promise<Float32Array> {
  let sum: Float32Array | undefined;
  for (let pass = 0; pass < 2; pass++) {
    const C = transposeEach(await mm.gemmBatched(U, transposeEach(W, U, D, b), QB, b, D, s), U, b, s);
    const QC = await mm.gemmBatched(U, QB, C, D, s, b);
    for (let k = 0; k < W.length; k++) W[k] -= QC[k];
    if (sum) for (let k = 0; k < C.length; k++) sum[k] += C[k];
    else sum = C;
  }
  return sum!;
}

/**
 * Top and bottom eigenpairs of a batch of symmetric operators by block Lanczos with full reorthogonalisation
 * and one Rayleigh–Ritz step on the whole Krylov basis. Costs steps+1 operator applications; inter-block
 * projections run through the MatMul interface (batched across units), so nothing D×D is ever formed.
 * Ritz values lie inside the spectrum: unconverged extremes are biased toward the bulk (conservative).
 */
export async function blockKrylovExtremes(op: BatchOperator, mm: MatMul, opts: KrylovOptions): Promise<ExtremeEig[]> {
  const U = op.units;
  const D = op.dim;
  const b = Math.max(1, Math.min(opts.block, D));
  const maxBlocks = Math.max(1, Math.min(opts.steps + 1, Math.floor(D / b)));
  const offset = opts.unitOffset ?? 0;
  const ids = opts.unitIds ?? Array.from({ length: U }, (_, u) => u + offset);
  const rands = Array.from({ length: U }, (_, u) => mulberry32((Math.imul(opts.seed, 2654435761) + Math.imul(ids[u], 40503) + 17) >>> 0));

  // start block: Gaussian, orthonormalised
  let Q: Float32Array = new Float32Array(U * D * b);
  for (let u = 0; u < U; u++) {
    const g = gaussian(rands[u]);
    for (let i = 0; i < D * b; i++) Q[u * D * b + i] = g();
    orthonormaliseUnit(Q, u * D * b, D, b, rands[u]);
  }
  // the whole basis per unit as one D×s row-major matrix (columns of later blocks stay 0 until filled), so
  // projections onto all earlier blocks and the Ritz vectors are single batched products
  const s = b * maxBlocks;
  const QB = new Float32Array(U * D * s);
  const put = (block: Float32Array, i: number) => {
    for (let u = 0; u < U; u++) {
      for (let r = 0; r < D; r++) {
        const src = u * D * b + r * b;
        const dst = u * D * s + r * s + i * b;
        for (let c = 0; c < b; c++) QB[dst + c] = block[src + c];
      }
    }
  };
  // T[u] = Q_uᵀ M_u Q_u (s×s), filled block-column by block-column on and above the block diagonal
  const T = new Float64Array(U * s * s);
  for (let i = 0; i < maxBlocks; i++) {
    put(Q, i);
    const W = await op.apply(Q, b);
    const before = columnNorms(W, U, D, b);
    // project W against all blocks so far (classical Gram–Schmidt, twice); the coefficients are T's column block
    // i above and on the diagonal: T = QᵀMQ computed, never assumed (so Ritz values stay inside the spectrum)
    const C = await projectOutBasis(W, QB, U, D, s, b, mm); // [U, s, b]
    for (let u = 0; u < U; u++) {
      for (let r = 0; r < (i + 1) * b; r++) {
        for (let c = 0; c < b; c++) T[u * s * s + r * s + (i * b + c)] = C[u * s * b + r * b + c];
      }
    }
    if (i === maxBlocks - 1) break;
    // orthonormalise the remainder into the next block. A direction the operator no longer extends (remainder at
    // rounding level relative to its column of M·Q: the unit's matrix has low rank, e.g. a unit active on few
    // samples) is replaced by a random direction orthogonal to the whole basis, so the basis stays orthonormal.
    const after = columnNorms(W, U, D, b);
    let broken = false;
    for (let u = 0; u < U; u++) {
      for (let c = 0; c < b; c++) {
        if (after[u * b + c] > BREAKDOWN_TOL * before[u * b + c]) continue;
        // scaled like the column it replaces, so CholQR's pivots stay comparable within the block
        const g = gaussian(rands[u]);
        const scale = (before[u * b + c] > 0 ? before[u * b + c] : 1) / Math.sqrt(D);
        for (let r = 0; r < D; r++) W[u * D * b + r * b + c] = scale * g();
        broken = true;
      }
    }
    if (broken) await projectOutBasis(W, QB, U, D, s, b, mm); // the random columns, against the whole basis
    await cholQR2(W, U, D, b, mm, rands, (u) => {
      orthonormaliseUnit(W, u * D * b, D, b, rands[u], { QB, off: u * D * s, s, filled: (i + 1) * b });
    });
    Q = W;
  }

  // Rayleigh–Ritz per unit on T (s×s, symmetrised), then Ritz vectors x = Q y as one batched product
  const exts: ExtremeEig[] = [];
  const k = Math.min(opts.top, s) + Math.min(opts.bottom, s);
  const Y = new Float32Array(U * s * k); // [U, s, k]
  for (let u = 0; u < U; u++) {
    const Tu = new Float64Array(s * s);
    for (let r = 0; r < s; r++) {
      for (let c = 0; c < s; c++) {
        const rb = Math.floor(r / b);
        const cb = Math.floor(c / b);
        // blocks above the diagonal hold the projections; the diagonal block has both halves: average them
        const t = rb < cb ? T[u * s * s + r * s + c] : rb > cb ? T[u * s * s + c * s + r] : 0.5 * (T[u * s * s + r * s + c] + T[u * s * s + c * s + r]);
        Tu[r * s + c] = t;
      }
    }
    const ext = extremeFromFull(symEig(Tu, s, true), opts.top, opts.bottom);
    exts.push(ext);
    [...ext.topVectors, ...ext.bottomVectors].forEach((y, c) => {
      for (let r = 0; r < s; r++) Y[u * s * k + r * k + c] = y[r];
    });
  }
  const X = await mm.gemmBatched(U, QB, Y, D, s, k); // [U, D, k]
  const results: ExtremeEig[] = exts.map((ext, u) => {
    const col = (c: number): Float32Array => {
      const v = new Float32Array(D);
      for (let r = 0; r < D; r++) v[r] = X[u * D * k + r * k + c];
      fixSigns(v, D, 1);
      return v;
    };
    const nt = ext.topVectors.length;
    return {
      top: ext.top,
      topVectors: ext.topVectors.map((_, c) => col(c)),
      bottom: ext.bottom,
      bottomVectors: ext.bottomVectors.map((_, c) => col(nt + c)),
    };
  });
  return results;
}
