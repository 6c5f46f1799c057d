// Confidence intervals for the per-layer statistics (docs/method.md §5: every percentage, median and correlation is
// reported with its n and a 95 % interval): Wilson score intervals for proportions, and a seeded percentile
// bootstrap for medians, means and correlations. The bootstrap draws resample *counts* (how often each
// observation is drawn), so a median or a Spearman correlation of a resample costs O(n) after one sort of the
// data, and the draws come from a seeded xoroshiro128+ (pure-rand): the same data and seed give the same interval.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { normalQuantile, quantile } from './nulls.ts';

/** A statistic with its confidence interval and the number of observations it rests on (NaN when not computed). */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  n: number;
}

/** The estimate of a statistic whose inputs are missing (its stage did not run). */
export const MISSING: Readonly<Estimate> = Object.freeze({ value: NaN, lo: NaN, hi: NaN, n: NaN });

/** Below this many observations a statistic is shown as too few ("n=3"), not as a number (docs/method.md §5). */
export const MIN_N = 10;

/** Settings of the percentile bootstrap. */
export interface BootstrapOptions {
  /** Resamples drawn. */
  reps: number;
  /** Seed of the Philox stream the resamples are drawn from. */
  seed: number;
  /** Two-sided coverage of the interval (0.95). */
  level: number;
}

/** The defaults the summary uses (summary.bootstrapReps / summary.seed in the config). */
export const DEFAULT_BOOTSTRAP: Readonly<BootstrapOptions> = Object.freeze({ reps: 2000, seed: 1, level: 0.95 });

/** Wilson score interval of a proportion k/n as fractions in [0, 1] (NaN for n = 0). */
export function wilsonInterval(k: number, n: number, level = 0.95): { lo: number; hi: number } {
  if (!(n > 0)) return { lo: NaN, hi: NaN };
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = k / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // clamp the rounding at the ends (k = 0 gives lo = 0 exactly in exact arithmetic)
  return { lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}

/** A proportion k/n as a percentage (0–100) with its Wilson interval and n. */
export function proportionEstimate(k: number, n: number, level = 0.95): Estimate {
  if (!(n > 0)) return { value: NaN, lo: NaN, hi: NaN, n: Number.isFinite(n) ? n : NaN };
  const w = wilsonInterval(k, n, level);
  return { value: (100 * k) / n, lo: 100 * w.lo, hi: 100 * w.hi, n };
}

/**
 * Resample counts of a bootstrap: calls `stat(counts)` for `reps` resamples of n observations drawn with
 * replacement, counts[i] = how often observation i was drawn (Σ counts = n), and returns the statistics.
 * The draws come from one xoroshiro128+ stream seeded with `seed` (pure-rand): index ⌊u·n⌋ of its 32-bit output u
 * (bias below n/2³², nothing for the n of a layer).
 */
export function bootstrapCounts(n: number, stat: (counts: Int32Array) => number, opts: Pick<BootstrapOptions, 'reps' | 'seed'>): Float64Array {
  const out = new Float64Array(opts.reps);
  const counts = new Int32Array(n);
  const rng = xoroshiro128plus(opts.seed);
  for (let r = 0; r < opts.reps; r++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor(((rng.next() >>> 0) / 4294967296) * n)]!++;
    out[r] = stat(counts);
  }
  return out;
}

/**
 * Percentile bootstrap interval of a statistic: the (1 − level)/2 and (1 + level)/2 quantiles of its resampled
 * values. Resamples where the statistic is undefined (NaN, e.g. a correlation of tied ranks) are left out;
 * when more than half are, the interval is NaN.
 */
export function percentileInterval(values: Float64Array, level: number): { lo: number; hi: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0 || finite.length < values.length / 2) return { lo: NaN, hi: NaN };
  const a = (1 - level) / 2;
  return { lo: quantile(finite, a), hi: quantile(finite, 1 - a) };
}

/** Finite values of an array, ascending. */
function sortedFinite(values: ArrayLike<number>): Float64Array {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]!);
  return Float64Array.from(v).sort();
}

/** Median of a resample of ascending `sorted` given its counts (mean of the two middle values for even n). */
function countsMedian(sorted: Float64Array, counts: Int32Array): number {
  const n = sorted.length;
  const k1 = (n - 1) >> 1; // 0-based ranks of the middle pair
  const k2 = n >> 1;
  let seen = 0;
  let a = NaN;
  for (let i = 0; i < n; i++) {
    seen += counts[i]!;
    if (Number.isNaN(a) && seen > k1) a = sorted[i]!;
    if (seen > k2) return (a + sorted[i]!) / 2;
  }
  return a;
}

/** Median of the finite values with its percentile-bootstrap interval and n (NaN estimate for no values). */
export function medianEstimate(values: ArrayLike<number>, opts: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  const s = sortedFinite(values);
  const n = s.length;
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN, n: 0 };
  const value = n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const boot = bootstrapCounts(n, (c) => countsMedian(s, c), opts);
  return { value, ...percentileInterval(boot, opts.level), n };
}

/** Mean of the finite values with its percentile-bootstrap interval and n. */
export function meanEstimate(values: ArrayLike<number>, opts: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  const s = sortedFinite(values);
  const n = s.length;
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN, n: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  const boot = bootstrapCounts(
    n,
    (c) => {
      let t = 0;
      for (let i = 0; i < n; i++) t += c[i]! * s[i]!;
      return t / n;
    },
    opts,
  );
  return { value: sum / n, ...percentileInterval(boot, opts.level), n };
}

/** Groups of tied values: `order` sorts the values, `start[g]..start[g+1]` is group g (positions in `order`). */
interface TieGroups {
  order: Int32Array;
  start: Int32Array;
}

function tieGroups(v: Float64Array): TieGroups {
  const order = Int32Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a]! - v[b]! || a - b);
  const start: number[] = [];
  for (let j = 0; j < order.length; j++) if (j === 0 || v[order[j]!] !== v[order[j - 1]!]) start.push(j);
  start.push(order.length);
  return { order, start: Int32Array.from(start) };
}

/** Average ranks (ties share their mean rank, 1-based) of a resample given by counts, written per observation. */
function countRanks(g: TieGroups, counts: Int32Array, out: Float64Array): void {
  let before = 0;
  for (let k = 0; k + 1 < g.start.length; k++) {
    let c = 0;
    for (let j = g.start[k]!; j < g.start[k + 1]!; j++) c += counts[g.order[j]!]!;
    const rank = before + (c + 1) / 2;
    for (let j = g.start[k]!; j < g.start[k + 1]!; j++) out[g.order[j]!] = rank;
    before += c;
  }
}

/** Spearman correlation of a resample given by counts (NaN when either side has no spread). */
function countsSpearman(gx: TieGroups, gy: TieGroups, counts: Int32Array, rx: Float64Array, ry: Float64Array): number {
  countRanks(gx, counts, rx);
  countRanks(gy, counts, ry);
  const n = counts.length;
  const m = (n + 1) / 2;
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const a = rx[i]! - m;
    const b = ry[i]! - m;
    num += c * a * b;
    dx += c * a * a;
    dy += c * b * b;
  }
  return dx > 0 && dy > 0 ? num / Math.sqrt(dx * dy) : NaN;
}

/**
 * Spearman rank correlation over the pairs where both values are finite, with its percentile-bootstrap interval
 * (pairs resampled) and n = pairs. Value NaN for fewer than 3 pairs or no spread (science/predict.ts spearman).
 */
export function spearmanEstimate(x: ArrayLike<number>, y: ArrayLike<number>, opts: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      a.push(x[i]!);
      b.push(y[i]!);
    }
  }
  const n = a.length;
  if (n < 3) return { value: NaN, lo: NaN, hi: NaN, n };
  const gx = tieGroups(Float64Array.from(a));
  const gy = tieGroups(Float64Array.from(b));
  const rx = new Float64Array(n);
  const ry = new Float64Array(n);
  const value = countsSpearman(gx, gy, new Int32Array(n).fill(1), rx, ry);
  if (!Number.isFinite(value)) return { value: NaN, lo: NaN, hi: NaN, n };
  const boot = bootstrapCounts(n, (c) => countsSpearman(gx, gy, c, rx, ry), opts);
  return { value, ...percentileInterval(boot, opts.level), n };
}
