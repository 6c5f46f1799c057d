// Statistics for category selectivity (docs/method.md §3): group means, one-way ANOVA and Benjamini–Hochberg FDR,
// vectorised over units. Responses are row-major Float32Array matrices [stimulus × unit].
import betainc from '@stdlib/math-base-special-betainc';

/** Per-group means [unit × group] and group sizes from [stimulus × unit] responses and per-stimulus labels. */
export function groupMeans(
  responses: Float32Array,
  nUnits: number,
  labels: Int32Array,
  nGroups: number,
): { means: Float64Array; counts: Int32Array } {
  const nStim = labels.length;
  if (responses.length !== nStim * nUnits) {
    throw new Error(`groupMeans: expected ${nStim}×${nUnits} responses, got ${responses.length}`);
  }
  const sums = new Float64Array(nGroups * nUnits); // [group × unit] while accumulating
  const counts = new Int32Array(nGroups);
  for (let s = 0; s < nStim; s++) {
    const g = labels[s]!;
    if (g < 0 || g >= nGroups) throw new Error(`groupMeans: label ${g} of stimulus ${s} outside 0..${nGroups - 1}`);
    counts[g]!++;
    const base = g * nUnits;
    const row = s * nUnits;
    for (let u = 0; u < nUnits; u++) sums[base + u] += responses[row + u]!;
  }
  const means = new Float64Array(nUnits * nGroups);
  for (let g = 0; g < nGroups; g++) {
    const inv = counts[g]! > 0 ? 1 / counts[g]! : NaN;
    for (let u = 0; u < nUnits; u++) means[u * nGroups + g] = sums[g * nUnits + u]! * inv;
  }
  return { means, counts };
}

/** Upper tail P(F > f) of the F distribution with (d1, d2) degrees of freedom, accurate for tiny p. */
export function fUpperTail(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f) || !(d1 > 0) || !(d2 > 0)) return NaN;
  if (f <= 0) return 1;
  if (f === Infinity) return 0;
  // P(F > f) = I_x(d2/2, d1/2) with x = d2 / (d2 + d1 f): no 1 − CDF cancellation.
  return betainc(d2 / (d2 + d1 * f), d2 / 2, d1 / 2, true, false);
}

/** One-way ANOVA per unit across groups: F, p, degrees of freedom (two-pass, float64). */
export interface AnovaResult {
  F: Float64Array;
  p: Float64Array;
  dfBetween: number;
  dfWithin: number;
}

/**
 * One-way ANOVA of [stimulus × unit] responses across the label groups, for every unit at once.
 * F = (SS_between/(k−1)) / (SS_within/(N−k)); F is NaN (and p NaN) for a unit constant over all stimuli,
 * +∞ (p = 0) when every group is constant but the groups differ. Empty groups do not count towards k.
 */
export function oneWayAnova(
  responses: Float32Array,
  nUnits: number,
  labels: Int32Array,
  nGroups: number,
  groups: { means: Float64Array; counts: Int32Array } = groupMeans(responses, nUnits, labels, nGroups),
): AnovaResult {
  const { means, counts } = groups;
  const nStim = labels.length;
  let k = 0;
  for (let g = 0; g < nGroups; g++) if (counts[g]! > 0) k++;
  const dfBetween = k - 1;
  const dfWithin = nStim - k;
  const ssWithin = new Float64Array(nUnits);
  const lo = new Float32Array(nUnits).fill(Infinity);
  const hi = new Float32Array(nUnits).fill(-Infinity);
  for (let s = 0; s < nStim; s++) {
    const g = labels[s]!;
    const row = s * nUnits;
    for (let u = 0; u < nUnits; u++) {
      const r = responses[row + u]!;
      const d = r - means[u * nGroups + g]!;
      ssWithin[u] += d * d;
      if (r < lo[u]!) lo[u] = r;
      if (r > hi[u]!) hi[u] = r;
    }
  }
  const F = new Float64Array(nUnits);
  const p = new Float64Array(nUnits);
  for (let u = 0; u < nUnits; u++) {
    let grand = 0;
    for (let g = 0; g < nGroups; g++) if (counts[g]! > 0) grand += counts[g]! * means[u * nGroups + g]!;
    grand /= nStim;
    let ssBetween = 0;
    for (let g = 0; g < nGroups; g++) {
      if (counts[g]! === 0) continue;
      const d = means[u * nGroups + g]! - grand;
      ssBetween += counts[g]! * d * d;
    }
    if (dfBetween < 1 || dfWithin < 1 || lo[u] === hi[u]) {
      // Untestable: too few groups/stimuli, or a unit constant over every stimulus (rounding aside).
      F[u] = NaN;
    } else if (ssWithin[u] === 0) {
      F[u] = ssBetween === 0 ? NaN : Infinity;
    } else {
      F[u] = ssBetween / dfBetween / (ssWithin[u]! / dfWithin);
    }
    p[u] = fUpperTail(F[u]!, dfBetween, dfWithin);
  }
  return { F, p, dfBetween, dfWithin };
}

/**
 * Benjamini–Hochberg q-values: q_(i) = min_{j ≥ i} m·p_(j)/j, capped at 1. NaN p-values (untestable units,
 * e.g. constant responses) are not hypotheses: they get q = NaN and do not count in m.
 */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const q = new Float64Array(p.length).fill(NaN);
  const order: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) order.push(i);
  order.sort((a, b) => p[a]! - p[b]! || a - b);
  const m = order.length;
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r]!;
    running = Math.min(running, (m * p[i]!) / (r + 1));
    q[i] = running;
  }
  return q;
}
