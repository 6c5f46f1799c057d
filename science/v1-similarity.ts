// Brain-Score's ceiled Kolmogorov–Smirnov similarity of a model property distribution to a V1 distribution
// (brain-score/vision metrics/distribution_similarity; ../shared/datasets/v1-reference/README.md). Both samples
// are clipped to the data's bin range and histogrammed with the data's bin edges; the model's values are
// bootstrapped (with replacement) to the data's n, each resample scored by 1 − KS / KS_max, KS_max = the largest
// KS any histogram can have against the data's (all mass in the first or the last bin); the ceiling is the same
// metric between the data's own bootstrap and the data. Deterministic given the seed (Philox4x32-10 streams).
import { philox4x32 } from './philox.ts';

/** A reference distribution: the data's bin edges and the bin of every data point (n = binOf.length). */
export interface ReferenceDistribution {
  /** Ascending bin edges (bins = edges.length − 1; the last bin includes its right edge, as numpy's). */
  edges: Float64Array;
  /** Bin index of each finite data value. */
  binOf: Int32Array;
}

/** Bin of a value after clipping to [edges[0], edges[last]]: the i with edges[i] ≤ v < edges[i+1] (last bin closed). */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  const nb = edges.length - 1;
  if (!(value > edges[0]!)) return 0;
  if (value >= edges[nb]!) return nb - 1;
  let lo = 0;
  let hi = nb;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Bins of the finite values (non-finite ones dropped). */
export function binsOf(edges: ArrayLike<number>, values: ArrayLike<number>): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(binIndex(edges, values[i]!));
  return Int32Array.from(out);
}

/** Counts per bin of a list of bin indices. */
export function binCounts(binOf: ArrayLike<number>, bins: number): Float64Array {
  const c = new Float64Array(bins);
  for (let i = 0; i < binOf.length; i++) c[binOf[i]!]!++;
  return c;
}

/** A reference distribution from values (finite ones, clipped) and the data's bin edges. */
export function referenceFromValues(edges: ArrayLike<number>, values: ArrayLike<number>): ReferenceDistribution {
  return { edges: Float64Array.from(edges), binOf: binsOf(edges, values) };
}

/** A reference distribution from a histogram (bin edges and counts), e.g. digitized from a paper. */
export function referenceFromCounts(edges: ArrayLike<number>, counts: ArrayLike<number>): ReferenceDistribution {
  const binOf: number[] = [];
  for (let b = 0; b < counts.length; b++) for (let k = 0; k < counts[b]!; k++) binOf.push(b);
  return { edges: Float64Array.from(edges), binOf: Int32Array.from(binOf) };
}

/**
 * 1 − KS(p, q)/KS_max of two histograms (any scale: each is normalised to sum 1), with q the data's: Brain-Score's
 * ks_similarity. KS_max = max over the two extreme histograms (all mass in the first / last bin) of their KS
 * against q, the largest KS possible against q. NaN when either histogram is empty.
 */
export function ksSimilarity(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const nb = q.length;
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < nb; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  if (!(sp > 0) || !(sq > 0)) return NaN;
  let P = 0;
  let Q = 0;
  let ks = 0;
  let first = 0;
  let last = 0;
  for (let i = 0; i < nb; i++) {
    P += p[i]! / sp;
    Q += q[i]! / sq;
    ks = Math.max(ks, Math.abs(P - Q));
    first = Math.max(first, Math.abs(1 - Q));
    last = Math.max(last, Math.abs((i === nb - 1 ? 1 : 0) - Q));
  }
  const max = Math.max(first, last);
  return max === 0 ? NaN : 1 - ks / max;
}

/** Bootstrap settings: resamples and the seed of the Philox streams. */
export interface BootstrapOptions {
  resamples: number;
  seed: number;
}

/**
 * Uniform indices in [0, n) for bootstrap resample `replicate` of stream `stream`: out[i] from Philox4x32-10 with
 * counter (⌊i/4⌋, replicate, stream, 0) and key (seed mod 2³², ⌊seed/2³²⌋), word i mod 4.
 */
export function resampleIndices(n: number, count: number, seed: number, stream: number, replicate: number, out = new Int32Array(count)): Int32Array {
  const words = new Uint32Array(4);
  const k0 = seed % 2 ** 32;
  const k1 = Math.floor(seed / 2 ** 32);
  for (let i = 0; i < count; i++) {
    if ((i & 3) === 0) philox4x32(i >>> 2, replicate, stream, 0, k0, k1, words);
    out[i] = Math.floor((words[i & 3]! / 2 ** 32) * n);
  }
  return out;
}

/**
 * Similarities of `resamples` bootstrap resamples (size = the data's n) of the sample `binOf` (bin indices) to
 * the reference histogram; stream separates independent bootstraps under one seed. Empty sample: all NaN.
 */
export function bootstrapSimilarities(binOf: Int32Array, ref: ReferenceDistribution, options: BootstrapOptions, stream: number): Float64Array {
  const bins = ref.edges.length - 1;
  const q = binCounts(ref.binOf, bins);
  const out = new Float64Array(options.resamples).fill(NaN);
  if (binOf.length === 0) return out;
  const n = ref.binOf.length;
  const idx = new Int32Array(n);
  const p = new Float64Array(bins);
  for (let s = 0; s < options.resamples; s++) {
    resampleIndices(binOf.length, n, options.seed, stream, s, idx);
    p.fill(0);
    for (let i = 0; i < n; i++) p[binOf[idx[i]!]!]!++;
    out[s] = ksSimilarity(p, q);
  }
  return out;
}

/** The ceiling of a reference distribution: the mean similarity of its own bootstrap resamples to itself. */
export function referenceCeiling(ref: ReferenceDistribution, options: BootstrapOptions, stream: number): number {
  return mean(bootstrapSimilarities(ref.binOf, ref, options, stream));
}

/** A ceiled similarity: centre = mean resample similarity / ceiling, with a percentile bootstrap interval. */
export interface CeiledSimilarity {
  /** Mean over resamples of similarity / ceiling (0 when the model has no value to compare). */
  score: number;
  lo: number;
  hi: number;
  /** Model values compared (finite, responsive units). */
  n: number;
  /** Per-resample ceiled similarities (for a layer score over properties). */
  resamples: Float64Array;
}

/**
 * The ceiled similarity of model values to a reference distribution with its `level` percentile interval. A model
 * without a finite value scores 0 (as Brain-Score scores a property it cannot compute), interval [0, 0].
 */
export function ceiledSimilarity(
  values: ArrayLike<number>,
  ref: ReferenceDistribution,
  ceiling: number,
  options: BootstrapOptions & { level: number },
  stream: number,
): CeiledSimilarity {
  const binOf = binsOf(ref.edges, values);
  const sims = bootstrapSimilarities(binOf, ref, options, stream);
  const resamples = binOf.length === 0 ? new Float64Array(options.resamples) : sims.map((s) => s / ceiling);
  const [lo, hi] = percentileInterval(resamples, options.level);
  return { score: mean(resamples), lo, hi, n: binOf.length, resamples };
}

/** A layer's V1 score: the mean over properties of their ceiled similarities, interval from the paired resamples. */
export function layerScore(properties: readonly CeiledSimilarity[], level: number): { score: number; lo: number; hi: number } {
  if (properties.length === 0) return { score: NaN, lo: NaN, hi: NaN };
  const R = properties[0]!.resamples.length;
  const avg = new Float64Array(R);
  for (const p of properties) for (let s = 0; s < R; s++) avg[s] += p.resamples[s]! / properties.length;
  const [lo, hi] = percentileInterval(avg, level);
  return { score: properties.reduce((a, p) => a + p.score, 0) / properties.length, lo, hi };
}

/** Mean of the finite values (NaN when none). */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      s += values[i]!;
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/** Two-sided percentile interval of the finite values at coverage `level` (linear interpolation, numpy's default). */
export function percentileInterval(values: ArrayLike<number>, level: number): [number, number] {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]!);
  if (v.length === 0) return [NaN, NaN];
  v.sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (v.length - 1);
    const i = Math.floor(pos);
    return i + 1 < v.length ? v[i]! + (v[i + 1]! - v[i]!) * (pos - i) : v[i]!;
  };
  return [at((1 - level) / 2), at((1 + level) / 2)];
}
