// Activation-weighted covariance (AWC), docs/method.md §4 and §6: for every unit of a layer
//   AWC = Σ aₙ(sₙ − s̄ − AWA)(sₙ − s̄ − AWA)ᵀ / Σ aₙ − σ_e² I,
// its top eigenpairs (excitatory) and bottom eigenpairs (suppressive), their significance against a null, and
// the energy map Σ λₖ eₖ² over the significant excitatory eigenvectors.
// Two solvers: 'full' forms each unit's D×D matrix as one weighted Gram product and decomposes it densely;
// 'subspace' never forms it: block Lanczos on v ↦ Yᵀ(a ⊙ Yv)/Σa − m(mᵀv), batched across the units of the
// layer, streaming Y = X − s̄ in row chunks (regenerated, or cached when small).
// Tested in test/science/revcor-ground-truth.test.ts.
import { awaLayer, type AwaResult } from './awa.ts';
import { blockKrylovExtremes, extremeFromFull, symEig, type BatchOperator, type ExtremeEig } from './eigen.ts';
import { gemmOperand, type FixedOperand, type MatMul } from './gemm.ts';
import { marchenkoPasturBounds, shuffleBounds, shufflePermutation, type NullBounds } from './nulls.ts';
import { chunks, type SampleSource } from './samples.ts';

/** How AWC is computed (the awc.* config keys). */
export interface AwcOptions {
  /** Excitatory eigenpairs kept. */
  top: number;
  /** Suppressive eigenpairs kept. */
  bottom: number;
  /** shuffle: activations permuted across stimuli (shared permutations); marchenko-pastur: analytic. */
  nullKind: 'shuffle' | 'marchenko-pastur';
  /** Number of shuffles for the shuffle null. */
  shuffles: number;
  /** Coverage of the null range (0.99 → 99th percentile of null maxima, 1st of null minima). */
  level: number;
  /** full: dense D×D per unit; subspace: block Krylov on products. */
  solver: 'full' | 'subspace';
  /** Block size and steps of the Krylov solver. */
  block: number;
  steps: number;
  /** Seed for start blocks and shuffles (shared by a layer's units). */
  seed: number;
  /** Global index of the first unit (seeds per unit do not depend on sharding). */
  unitOffset?: number;
  /** Hold the centred samples in memory when N·D·4 bytes is at most this (default 512 MiB); else regenerate per pass. */
  cacheBytes?: number;
  /**
   * Memory (bytes) for the samples plus the backend's two prepared copies of them (MatMul.fix: Y and Yᵀ, float32):
   * chunks are prepared once for all Krylov passes when 3·N·D·4 ≤ this (default: cacheBytes).
   */
  prepareBytes?: number;
  /** Prepared chunks kept by the caller across calls on the same samples (see OperatorData.shared). */
  prepared?: Map<string, Promise<FixedOperand>>;
  /** Rows per streamed chunk (default: by size). */
  chunk?: number;
  /** Called with progress 0..1. */
  progress?: (f: number) => void;
}

/** AWC of one unit. Eigenvalues are of the AWC (prior subtracted); vectors are unit-norm, D long. */
export interface AwcUnit {
  /** False for a unit that never responded (Σa = 0): everything else is empty / NaN. */
  responsive: boolean;
  top: Float64Array;
  topVectors: Float32Array[];
  bottom: Float64Array;
  bottomVectors: Float32Array[];
  bounds: NullBounds;
  topSignificant: boolean[];
  bottomSignificant: boolean[];
  /** Σ λₖ eₖ² over significant excitatory eigenpairs (zeros when none). */
  energy: Float32Array;
}

/** AWC of a layer's units plus the moments (AWA pass) it was computed from. */
export interface AwcLayerResult {
  units: AwcUnit[];
  moments: AwaResult;
}

/** Weight columns: the U real units, then (for the shuffle null) shuffle s of unit u at column U + s·U + u. */
function weightColumns(A: Float32Array, N: number, U: number, shuffles: number, seed: number): { W: Float32Array; cols: number } {
  const cols = U * (1 + shuffles);
  const W = new Float32Array(N * cols);
  for (let n = 0; n < N; n++) for (let u = 0; u < U; u++) W[n * cols + u] = A[n * U + u];
  for (let s = 0; s < shuffles; s++) {
    const p = shufflePermutation(N, seed, s);
    for (let n = 0; n < N; n++) {
      const src = p[n];
      for (let u = 0; u < U; u++) W[n * cols + U + s * U + u] = A[src * U + u];
    }
  }
  return { W, cols };
}

/**
 * Sample chunks for the products. A source that already holds stimulus − offset (a stored source) is read as
 * is and `delta` = s̄ − offset (small) is corrected for algebraically: Yv = X'v − 1(δᵀv), Yᵀp = X'ᵀp − δ(1ᵀp).
 * Otherwise chunks are centred (Y = X − s̄, delta null), and cached when N·D·4 ≤ cacheBytes.
 */
export function centredChunks(src: SampleSource, mean: Float64Array, chunk: number, cacheBytes: number) {
  const { N, D } = src;
  const ranges = chunks(N, chunk);
  if (src.offset) {
    const delta = Float64Array.from(mean, (m) => m - src.offset!);
    return { ranges, delta, get: (i: number) => src.rows(ranges[i][0], ranges[i][1]) };
  }
  const mean32 = Float32Array.from(mean);
  const centre = (n0: number, n1: number): Float32Array => {
    const X = src.rows(n0, n1);
    const Y = new Float32Array(X.length);
    for (let o = 0; o < X.length; o += D) for (let d = 0; d < D; d++) Y[o + d] = X[o + d] - mean32[d];
    return Y;
  };
  const cache = N * D * 4 <= cacheBytes ? ranges.map(([n0, n1]) => centre(n0, n1)) : null;
  return { ranges, delta: null as Float64Array | null, get: (i: number) => (cache ? cache[i] : centre(ranges[i][0], ranges[i][1])) };
}

/** Weighted means m = Yᵀ w / Σw for every weight column, in one streamed pass (cols × D). */
async function weightedMeans(
  Y: ReturnType<typeof centredChunks>,
  W: Float32Array,
  cols: number,
  sums: Float64Array,
  D: number,
  mm: MatMul,
): Promise<Float64Array> {
  const acc = new Float64Array(cols * D);
  for (let i = 0; i < Y.ranges.length; i++) {
    const [n0, n1] = Y.ranges[i];
    const P = await mm.gemm(W.subarray(n0 * cols, n1 * cols), Y.get(i), cols, n1 - n0, D, { transA: true });
    for (let k = 0; k < P.length; k++) acc[k] += P[k];
  }
  for (let c = 0; c < cols; c++) {
    const s = sums[c];
    for (let d = 0; d < D; d++) acc[c * D + d] = s > 0 ? acc[c * D + d] / s - (Y.delta ? Y.delta[d] : 0) : 0;
  }
  return acc;
}

/** Rows of cache-sized tiles in the relayouts between the Krylov basis ([L, D, b]) and the products' [D, L·b]. */
const TILE = 64;

/** [L, D, b] (each unit's D×b block, as the Krylov solver holds it) → D × (L·b): the units' blocks side by side. */
export function toWide(V: Float32Array, L: number, D: number, b: number): Float32Array {
  const wide = L * b;
  const Vt = new Float32Array(D * wide);
  for (let d0 = 0; d0 < D; d0 += TILE) {
    const d1 = Math.min(D, d0 + TILE);
    for (let l = 0; l < L; l++) {
      for (let d = d0; d < d1; d++) {
        const src = l * D * b + d * b;
        const dst = d * wide + l * b;
        for (let c = 0; c < b; c++) Vt[dst + c] = V[src + c];
      }
    }
  }
  return Vt;
}

/**
 * Weights the rows of P = Y·V (rows × L·b) by each unit's activation, in place: P[r, l·b + c] ·= a[n0 + r, l]. With
 * offset samples (delta = s̄ − offset) the product was X'·V: each entry is first corrected by −δᵀV (dV) and the
 * weighted column sums are added to colSum (for the −δ(1ᵀp) term of Yᵀp).
 */
export function weightRows(P: Float32Array, rows: number, n0: number, W: Float32Array, cols: number, liveCols: readonly number[], b: number, delta: { dV: Float64Array; colSum: Float64Array } | null): void {
  const L = liveCols.length;
  const wide = L * b;
  for (let r = 0; r < rows; r++) {
    const wrow = (n0 + r) * cols;
    for (let l = 0; l < L; l++) {
      const a = W[wrow + liveCols[l]!]!;
      const off = r * wide + l * b;
      if (delta) {
        for (let c = 0; c < b; c++) {
          const v = (P[off + c]! - delta.dV[l * b + c]!) * a;
          P[off + c] = v;
          delta.colSum[l * b + c] += v;
        }
      } else for (let c = 0; c < b; c++) P[off + c] *= a;
    }
  }
}

/** D × (L·b) → [L, D, b], scaled by 1/Σa per unit, minus the rank-one mean term m_l (m_lᵀ V_l): M_l V_l. */
export function fromWide(Z: Float32Array, V: Float32Array, L: number, D: number, b: number, sums: Float64Array, means: Float64Array): Float32Array {
  const wide = L * b;
  const out = new Float32Array(L * D * b);
  const proj = new Float64Array(L * b); // m_lᵀ V_l
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) for (let c = 0; c < b; c++) proj[l * b + c] += means[l * D + d]! * V[l * D * b + d * b + c]!;
  }
  for (let d0 = 0; d0 < D; d0 += TILE) {
    const d1 = Math.min(D, d0 + TILE);
    for (let l = 0; l < L; l++) {
      const inv = 1 / sums[l]!;
      for (let d = d0; d < d1; d++) {
        const m = means[l * D + d]!;
        const dst = l * D * b + d * b;
        const src = d * wide + l * b;
        for (let c = 0; c < b; c++) out[dst + c] = Z[src + c]! * inv - m * proj[l * b + c]!;
      }
    }
  }
  return out;
}

/** What the batched AWC operator reads: the samples, the weight columns, and per live operator its Σa and mean. */
export interface OperatorData {
  Y: ReturnType<typeof centredChunks>;
  /** Weight columns N × cols (row-major). */
  W: Float32Array;
  cols: number;
  /** The weight columns that get an operator (Σa > 0), in operator order. */
  liveCols: readonly number[];
  /** Σa per live operator. */
  sums: Float64Array;
  /** Weighted mean m per live operator (L × D). */
  means: Float64Array;
  D: number;
  /** Prepare each chunk once for the backend (MatMul.fix) and keep it for every pass. */
  prepare?: boolean;
  /**
   * Prepared chunks shared with later calls on the same samples (keyed by row range and D), owned and released by
   * the caller; absent: the operator prepares its own and `dispose` releases them.
   */
  shared?: Map<string, Promise<FixedOperand>>;
}

/**
 * The AWC operators of a layer's live weight columns as one batch: V_l ↦ M_l V_l = Yᵀ(a_l ⊙ Y V_l)/Σa_l − m_l(m_lᵀV_l),
 * all units at once as two wide products per row chunk of the samples (Y·V_all, Yᵀ·P), nothing D×D formed. When the
 * chunks are held in memory and the backend can prepare a fixed operand, each chunk is prepared once (on the first
 * pass) for all passes; `dispose` releases them.
 */
export function krylovOperator(o: OperatorData, mm: MatMul, onApply?: () => void): BatchOperator & { dispose(): Promise<void> } {
  const { Y, W, cols, liveCols, sums, means, D } = o;
  const L = liveCols.length;
  const own: Promise<FixedOperand>[] = [];
  const useFixed = !!o.prepare && mm.fix !== undefined;
  /** Chunk i prepared for the backend: from the shared map when given, else this operator's own. */
  const prepared = (i: number, rows: number): Promise<FixedOperand> => {
    const [n0, n1] = Y.ranges[i]!;
    if (!o.shared) return (own[i] ??= mm.fix!(Y.get(i), rows, D));
    const key = `${mm.name}:${n0}:${n1}:${D}`;
    let p = o.shared.get(key);
    if (!p) {
      p = mm.fix!(Y.get(i), rows, D);
      o.shared.set(key, p);
      p.catch(() => o.shared!.delete(key));
    }
    return p;
  };
  return {
    units: L,
    dim: D,
    async dispose(): Promise<void> {
      for (const p of own.splice(0)) if (p) await (await p.catch(() => undefined))?.dispose();
    },
    async apply(V: Float32Array, b: number): Promise<Float32Array> {
      const wide = L * b;
      const Vt = toWide(V, L, D, b);
      let Z: Float32Array | undefined; // D × (L·b), accumulated over row chunks inside the backend
      // offset samples: Yv = X'v − 1(δᵀv) per row, and Yᵀp = X'ᵀp − δ(1ᵀp) once at the end
      const delta = Y.delta;
      const corr = delta ? { dV: new Float64Array(wide), colSum: new Float64Array(wide) } : null;
      if (delta && corr) for (let d = 0; d < D; d++) if (delta[d] !== 0) for (let j = 0; j < wide; j++) corr.dV[j] += delta[d]! * Vt[d * wide + j]!;
      for (let i = 0; i < Y.ranges.length; i++) {
        const [n0, n1] = Y.ranges[i]!;
        const rows = n1 - n0;
        const f = useFixed ? await prepared(i, rows) : gemmOperand(mm, Y.get(i), rows, D);
        const P = await f.times(Vt, wide);
        weightRows(P, rows, n0, W, cols, liveCols, b, corr);
        Z = await f.transposeTimes(P, wide, Z);
      }
      if (!Z) throw new Error('awc: no samples');
      if (delta && corr) for (let d = 0; d < D; d++) if (delta[d] !== 0) for (let j = 0; j < wide; j++) Z[d * wide + j] -= delta[d]! * corr.colSum[j]!;
      const out = fromWide(Z, V, L, D, b, sums, means);
      onApply?.();
      return out;
    },
  };
}

/**
 * AWC for all U units of a layer (A: N×U activations, row-major). Returns per unit the top/bottom eigenpairs
 * of the AWC, the null bounds, significance flags and the energy map.
 */
export async function awcLayer(
  src: SampleSource,
  A: Float32Array,
  U: number,
  mm: MatMul,
  opts: AwcOptions,
  moments?: AwaResult,
): Promise<AwcLayerResult> {
  const { N, D } = src;
  const mom = moments ?? (await awaLayer(src, A, U, mm, { zThreshold: Infinity }));
  const sigma2 = mom.sigma * mom.sigma;
  const S = opts.nullKind === 'shuffle' ? opts.shuffles : 0;
  const { W, cols } = weightColumns(A, N, U, S, opts.seed);
  const sums = new Float64Array(cols);
  for (let c = 0; c < cols; c++) sums[c] = mom.sum[c % U];
  const live = (c: number) => sums[c] > 0;

  const rowsPerChunk =
    opts.chunk ?? Math.max(64, Math.min(8192, Math.floor(32_000_000 / Math.max(D, cols * Math.max(1, opts.block)))));
  const Y = centredChunks(src, mom.mean, rowsPerChunk, opts.cacheBytes ?? 512 * 2 ** 20);
  const m = await weightedMeans(Y, W, cols, sums, D, mm);
  opts.progress?.(0.05);

  // extreme eigenpairs of M_c = Yᵀ diag(w_c) Y / Σw − m_c m_cᵀ, for every live column
  const ext: (ExtremeEig | null)[] = new Array(cols).fill(null);
  const liveCols = Array.from({ length: cols }, (_, c) => c).filter(live);
  if (opts.solver === 'full') {
    const Yall = new Float32Array(N * D);
    for (let i = 0; i < Y.ranges.length; i++) Yall.set(Y.get(i), Y.ranges[i][0] * D);
    if (Y.delta) for (let o = 0; o < Yall.length; o += D) for (let d = 0; d < D; d++) Yall[o + d] -= Y.delta[d];
    const w = new Float32Array(N);
    for (let k = 0; k < liveCols.length; k++) {
      const c = liveCols[k];
      for (let n = 0; n < N; n++) w[n] = W[n * cols + c];
      const G = await mm.weightedGram(Yall, w, N, D);
      const Mc = new Float64Array(D * D);
      for (let i = 0; i < D; i++) {
        for (let j = 0; j < D; j++) Mc[i * D + j] = G[i * D + j] / sums[c] - m[c * D + i] * m[c * D + j];
      }
      const isUnit = c < U;
      ext[c] = extremeFromFull(symEig(Mc, D, isUnit), opts.top, opts.bottom);
      opts.progress?.(0.05 + (0.95 * (k + 1)) / liveCols.length);
    }
  } else {
    const L = liveCols.length;
    const sc = Float64Array.from(liveCols, (c) => sums[c]);
    const mc = new Float64Array(L * D);
    liveCols.forEach((c, l) => mc.set(m.subarray(c * D, (c + 1) * D), l * D));
    let applied = 0;
    const prepare = 3 * N * D * 4 <= (opts.prepareBytes ?? opts.cacheBytes ?? 512 * 2 ** 20);
    const op = krylovOperator({ Y, W, cols, liveCols, sums: sc, means: mc, D, prepare, shared: opts.prepared }, mm, () => {
      applied++;
      opts.progress?.(0.05 + (0.9 * applied) / (opts.steps + 1));
    });
    let res: (ExtremeEig | null)[] = [];
    try {
      if (L > 0) {
        res = await blockKrylovExtremes(op, mm, {
          block: Math.max(opts.block, opts.top + opts.bottom),
          steps: opts.steps,
          top: opts.top,
          bottom: opts.bottom,
          seed: opts.seed,
          unitIds: liveCols.map((c) => Math.floor(c / U) * 1_000_003 + (opts.unitOffset ?? 0) + (c % U)),
        });
      }
    } finally {
      await op.dispose();
    }
    liveCols.forEach((c, l) => (ext[c] = res[l]));
  }

  const units: AwcUnit[] = [];
  for (let u = 0; u < U; u++) {
    const e = ext[u];
    if (!e) {
      units.push({
        responsive: false,
        top: new Float64Array(0),
        topVectors: [],
        bottom: new Float64Array(0),
        bottomVectors: [],
        bounds: { upper: NaN, lower: NaN },
        topSignificant: [],
        bottomSignificant: [],
        energy: new Float32Array(D),
      });
      continue;
    }
    let bounds: NullBounds;
    if (S > 0) {
      const maxima: number[] = [];
      const minima: number[] = [];
      for (let s = 0; s < S; s++) {
        const es = ext[U + s * U + u];
        if (!es) continue;
        maxima.push(es.top[0] - sigma2);
        minima.push(es.bottom.length ? es.bottom[0] - sigma2 : NaN);
      }
      bounds = shuffleBounds(maxima, minima.filter(Number.isFinite), opts.level);
    } else {
      const a = new Float64Array(N);
      for (let n = 0; n < N; n++) a[n] = A[n * U + u];
      bounds = marchenkoPasturBounds(a, sigma2, D, opts.level);
    }
    const top = e.top.map((v) => v - sigma2);
    const bottom = e.bottom.map((v) => v - sigma2);
    const topSignificant = Array.from(top, (v) => v > bounds.upper);
    const bottomSignificant = Array.from(bottom, (v) => v < bounds.lower);
    const energy = new Float32Array(D);
    top.forEach((lam, k) => {
      if (!topSignificant[k] || !(lam > 0)) return;
      const v = e.topVectors[k];
      for (let d = 0; d < D; d++) energy[d] += lam * v[d] * v[d];
    });
    units.push({ responsive: true, top, topVectors: e.topVectors, bottom, bottomVectors: e.bottomVectors, bounds, topSignificant, bottomSignificant, energy });
  }
  opts.progress?.(1);
  return { units, moments: mom };
}
