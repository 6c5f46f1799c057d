// Category selectivity of units to natural images (SPEC §3), vectorised over units: category means,
// preferred category, CSI, sparseness, one-way ANOVA with Benjamini–Hochberg q-values, top-N images.
// Responses are row-major Float32Array matrices [stimulus × unit]; labels give each stimulus's category.
import { benjaminiHochberg, groupMeans, oneWayAnova } from './stats.ts';

/** Per-unit category-selectivity results, one typed array per quantity. */
export interface CategorySelectivity {
  nUnits: number;
  nCategories: number;
  /** μ_k per unit [unit × category]. */
  means: Float64Array;
  /** Stimuli per category. */
  counts: Int32Array;
  /** argmax_k μ_k (first among ties; −1 when every μ_k is NaN). */
  preferred: Int32Array;
  /** (μ_max − μ_rest)/(μ_max + μ_rest), μ_rest = mean of the other μ_k; 0 when all μ_k are 0. */
  csi: Float64Array;
  /** (1 − (Σμ/n)²/(Σμ²/n)) / (1 − 1/n) over the n categories; NaN when all μ_k are 0. */
  sparseness: Float64Array;
  anovaF: Float64Array;
  anovaP: Float64Array;
  dfBetween: number;
  dfWithin: number;
  /** Benjamini–Hochberg q-values across the units passed in (NaN for untestable units). */
  q: Float64Array;
}

/** CSI of one unit's category means (SPEC §3); 0 when all means are 0. */
export function categorySelectivityIndex(mu: ArrayLike<number>): number {
  const n = mu.length;
  let best = 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += mu[k]!;
    if (mu[k]! > mu[best]!) best = k;
  }
  const max = mu[best]!;
  const rest = n > 1 ? (total - max) / (n - 1) : 0;
  return max + rest === 0 ? 0 : (max - rest) / (max + rest);
}

/** Sparseness S = (1 − (Σμ/n)²/(Σμ²/n)) / (1 − 1/n) of one unit's category means (NaN when all 0). */
export function sparseness(mu: ArrayLike<number>): number {
  const n = mu.length;
  let s = 0;
  let s2 = 0;
  for (let k = 0; k < n; k++) {
    s += mu[k]!;
    s2 += mu[k]! * mu[k]!;
  }
  if (s2 === 0 || n < 2) return NaN;
  return (1 - (s / n) ** 2 / (s2 / n)) / (1 - 1 / n);
}

/** Category means, preferred category, CSI, sparseness, ANOVA and BH q-values for every unit. */
export function categorySelectivity(
  responses: Float32Array,
  nUnits: number,
  labels: Int32Array,
  nCategories: number,
): CategorySelectivity {
  const groups = groupMeans(responses, nUnits, labels, nCategories);
  const anova = oneWayAnova(responses, nUnits, labels, nCategories, groups);
  const { means, counts } = groups;
  const preferred = new Int32Array(nUnits).fill(-1);
  const csi = new Float64Array(nUnits);
  const sp = new Float64Array(nUnits);
  // Only categories with stimuli take part in the indices.
  const present: number[] = [];
  for (let k = 0; k < nCategories; k++) if (counts[k]! > 0) present.push(k);
  const mu = new Float64Array(present.length);
  for (let u = 0; u < nUnits; u++) {
    let pref = -1;
    for (let j = 0; j < present.length; j++) {
      const k = present[j]!;
      mu[j] = means[u * nCategories + k]!;
      if (pref < 0 || mu[j]! > means[u * nCategories + pref]!) pref = k;
    }
    preferred[u] = pref;
    csi[u] = categorySelectivityIndex(mu);
    sp[u] = sparseness(mu);
  }
  return {
    nUnits,
    nCategories,
    means,
    counts,
    preferred,
    csi,
    sparseness: sp,
    anovaF: anova.F,
    anovaP: anova.p,
    dfBetween: anova.dfBetween,
    dfWithin: anova.dfWithin,
    q: benjaminiHochberg(anova.p),
  };
}

/**
 * The N stimuli with the largest responses per unit [unit × N] (row indices into responses, −1 padding
 * when there are fewer than N stimuli), descending; ties go to the lower stimulus index.
 */
export function topStimuli(responses: Float32Array, nUnits: number, n: number): { index: Int32Array; value: Float32Array } {
  const nStim = nUnits === 0 ? 0 : responses.length / nUnits;
  const index = new Int32Array(nUnits * n).fill(-1);
  const value = new Float32Array(nUnits * n).fill(NaN);
  const fill = new Int32Array(nUnits); // entries held per unit
  for (let s = 0; s < nStim; s++) {
    const row = s * nUnits;
    for (let u = 0; u < nUnits; u++) {
      const r = responses[row + u]!;
      if (Number.isNaN(r)) continue;
      const base = u * n;
      let m = fill[u]!;
      // Skip quickly when the list is full and r does not beat its last entry (strictly: ties keep earlier).
      if (m === n && !(r > value[base + n - 1]!)) continue;
      if (m < n) fill[u] = ++m;
      let j = m - 1;
      while (j > 0 && r > value[base + j - 1]!) {
        value[base + j] = value[base + j - 1]!;
        index[base + j] = index[base + j - 1]!;
        j--;
      }
      value[base + j] = r;
      index[base + j] = s;
    }
  }
  return { index, value };
}
