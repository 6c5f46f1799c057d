// Activation-weighted average (AWA) of white-noise stimuli, docs/method.md §4: all units of a layer in one pass over the
// samples, the units' weighted sums being one matrix product Aᵀ X per chunk of rows (docs/method.md §6).
import type { MatMul } from './gemm.ts';
import { chunks, rowBuffer, type SampleSource } from './samples.ts';

/** Per-pixel sample statistics of the stimuli used (unweighted). */
export interface StimulusMoments {
  N: number;
  D: number;
  /** Empirical mean s̄ of every value over the N samples (float64). */
  mean: Float64Array;
  /** Empirical SD of the noise pooled over values and samples, after clipping (σ_e). */
  sigma: number;
}

/** Per-unit weight sums every reverse-correlation statistic needs. */
export interface WeightSums {
  /** Σ aₙ per unit. */
  sum: Float64Array;
  /** Σ aₙ² per unit. */
  sumSq: Float64Array;
  /** Number of samples with aₙ ≠ 0 per unit. */
  active: Int32Array;
}

/** AWA of a layer's units. Maps are U×D row-major. */
export interface AwaResult extends StimulusMoments, WeightSums {
  U: number;
  /** AWA maps Σ aₙ(sₙ − s̄)/Σ aₙ (0 for silent units). */
  awa: Float32Array;
  /** z-maps AWA / null SD. */
  z: Float32Array;
  /** Null SD of every pixel of each unit's AWA. */
  nullSd: Float64Array;
  /** max |z| per unit (0 for silent units). */
  zMax: Float64Array;
  /** max |z| ≥ threshold. */
  significant: Uint8Array;
  /** 1 when the unit's activation varies over the samples (a unit that never varies keeps AWA, z and z_max 0). */
  responsive: Uint8Array;
}

/** Value subtracted from samples before products so that float32 sums do not cancel (the noise mid-grey). */
export const SAMPLE_OFFSET = 127.5;

/** Effective sample size (Σa)²/Σa² per unit, from its weight sums (0 for a unit that never responded). */
export function effectiveSampleSizes(w: Pick<WeightSums, 'sum' | 'sumSq'>): Float64Array {
  return Float64Array.from(w.sum, (s, u) => (w.sumSq[u]! > 0 ? (s * s) / w.sumSq[u]! : 0));
}

/** Σa, Σa², #active per unit for activations A (N×U row-major). */
export function weightSums(A: Float32Array, N: number, U: number): WeightSums {
  const sum = new Float64Array(U);
  const sumSq = new Float64Array(U);
  const active = new Int32Array(U);
  for (let n = 0; n < N; n++) {
    for (let u = 0; u < U; u++) {
      const a = A[n * U + u];
      if (a !== 0) {
        sum[u] += a;
        sumSq[u] += a * a;
        active[u]++;
      }
    }
  }
  return { sum, sumSq, active };
}

/** The AWA null forms of docs/method.md §4 (config awa.nullModel). */
export type AwaNullModel = 'finite-n' | 'population';

/**
 * Null SD of an AWA pixel. finite-n: with wₙ = aₙ/Σa and sₙ − s̄ having variance σ_e², Var(Σ wₙ(sₙ − s̄)) =
 * σ_e²(Σw² − 1/N) exactly (the −1/N is the empirical mean's share); population: σ_e·√Σw² = σ·√Σa²/Σa, docs/method.md §4's
 * N → ∞ form, the SD around the true mean, which overstates the SD of an AWA that subtracts s̄ (by up to
 * √(1 + 1/CV²) for a tonic unit whose activations vary by CV around their mean).
 */
export function awaNullSd(sigma: number, sum: number, sumSq: number, N: number, model: AwaNullModel = 'finite-n'): number {
  if (!(sum > 0)) return 0;
  const w2 = sumSq / (sum * sum) - (model === 'finite-n' ? 1 / N : 0);
  return sigma * Math.sqrt(Math.max(w2, 0));
}

/** Floats per streamed chunk of samples (64 Mi = 256 MB): big enough that one product per chunk runs at GEMM speed. */
export const CHUNK_FLOATS = 64 * 2 ** 20;

/** Rows per chunk for samples of D values (at least 64, at most N). */
export function chunkRows(N: number, D: number, floats = CHUNK_FLOATS): number {
  return Math.max(1, Math.min(N, Math.max(64, Math.floor(floats / Math.max(1, D)))));
}

/** Σ v² over a float32 array in float64 (four accumulators: no dependency chain on one sum). */
export function sumOfSquares(X: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n4 = X.length - (X.length % 4);
  for (let i = 0; i < n4; i += 4) {
    const a = X[i]!;
    const b = X[i + 1]!;
    const c = X[i + 2]!;
    const d = X[i + 3]!;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (let i = n4; i < X.length; i++) s0 += X[i]! * X[i]!;
  return s0 + s1 + s2 + s3;
}

/** Activations N×U with a column of ones appended (N×(U+1)): one product then gives every unit's Σ aₙxₙ and Σ xₙ. */
export function withOnesColumn(A: Float32Array, N: number, U: number): Float32Array {
  const out = new Float32Array(N * (U + 1));
  for (let n = 0; n < N; n++) {
    out.set(A.subarray(n * U, (n + 1) * U), n * (U + 1));
    out[n * (U + 1) + U] = 1;
  }
  return out;
}

/**
 * AWA, z-maps and significance for all U units of a layer (A: N×U activations, row-major). Rows are read in
 * large chunks; per chunk one product [A 1]ᵀ(X − 127.5) gives the weighted sums of every unit and the samples'
 * column sums, accumulated across chunks in float64. `opts.buffer` (at least min(N, chunk)·D floats) lends the
 * chunk memory, e.g. kept by the caller for the next layer.
 */
export async function awaLayer(
  src: SampleSource,
  A: Float32Array,
  U: number,
  mm: MatMul,
  opts: { zThreshold: number; nullModel?: AwaNullModel; chunk?: number; buffer?: Float32Array },
): Promise<AwaResult> {
  const { N, D } = src;
  if (A.length !== N * U) throw new Error(`awaLayer: activations have ${A.length} values, expected ${N}×${U}`);
  const chunk = opts.chunk ?? chunkRows(N, D);
  const A1 = withOnesColumn(A, N, U);
  const num = new Float64Array((U + 1) * D); // rows 0..U−1: Σ aₙ(xₙ − 127.5); row U: Σ (xₙ − 127.5)
  let sq = 0;
  const shift = SAMPLE_OFFSET - (src.offset ?? 0);
  // one buffer for every chunk a generating source writes (whole, before it is read): the caller's when given
  const buffer = opts.buffer ? rowBuffer(Math.min(N, chunk), D, opts.buffer) : new Float32Array(Math.min(N, chunk) * D);
  for (const [n0, n1] of chunks(N, chunk)) {
    let X = src.rows(n0, n1, buffer);
    if (shift !== 0) X = X.map((v) => v - shift); // a copy: rows may be a view of stored samples
    sq += sumOfSquares(X);
    const P = await mm.gemm(A1.subarray(n0 * (U + 1), n1 * (U + 1)), X, U + 1, n1 - n0, D, { transA: true });
    for (let i = 0; i < P.length; i++) num[i] += P[i]!;
  }
  const sx = num.subarray(U * D);
  const mean = new Float64Array(D);
  let ss = sq;
  for (let d = 0; d < D; d++) {
    const m = sx[d]! / N;
    mean[d] = m + SAMPLE_OFFSET;
    ss -= N * m * m;
  }
  const sigma = Math.sqrt(ss / (N * D));
  const ws = weightSums(A, N, U);
  const awa = new Float32Array(U * D);
  const z = new Float32Array(U * D);
  const nullSd = new Float64Array(U);
  const zMax = new Float64Array(U);
  const significant = new Uint8Array(U);
  // a unit whose activation never varies weights every sample alike: its AWA is 0 exactly (in float arithmetic a
  // ratio of rounding errors, and its finite-n null SD too), so it keeps AWA, z and z_max 0
  const responsive = variesOverSamples(A, N, U);
  for (let u = 0; u < U; u++) {
    const S = ws.sum[u];
    if (!(S > 0) || !responsive[u]) continue;
    const sd = awaNullSd(sigma, S, ws.sumSq[u], N, opts.nullModel);
    nullSd[u] = sd;
    let zm = 0;
    for (let d = 0; d < D; d++) {
      const v = (num[u * D + d] - S * (mean[d] - SAMPLE_OFFSET)) / S;
      awa[u * D + d] = v;
      const zz = sd > 0 ? v / sd : 0;
      z[u * D + d] = zz;
      zm = Math.max(zm, Math.abs(zz));
    }
    zMax[u] = zm;
    significant[u] = zm >= opts.zThreshold ? 1 : 0;
  }
  return { N, D, U, mean, sigma, ...ws, awa, z, nullSd, zMax, significant, responsive };
}

/** Per unit: 1 when its activation varies over the N samples (max a > min a; A is N×U row-major), else 0. */
export function variesOverSamples(A: Float32Array, N: number, U: number): Uint8Array {
  const lo = new Float32Array(U).fill(Infinity);
  const hi = new Float32Array(U).fill(-Infinity);
  for (let n = 0; n < N; n++) {
    for (let u = 0; u < U; u++) {
      const a = A[n * U + u]!;
      if (a < lo[u]!) lo[u] = a;
      if (a > hi[u]!) hi[u] = a;
    }
  }
  return Uint8Array.from(lo, (l, u) => (hi[u]! > l ? 1 : 0));
}

/** max|z| of a unit under another null SD: z scales as 1/SD (0 when the other SD is 0, as awaLayer's z is). */
export function zMaxUnderNull(zMax: number, sdUsed: number, sdOther: number): number {
  return sdOther > 0 ? (zMax * sdUsed) / sdOther : 0;
}
