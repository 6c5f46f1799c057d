// Nulls for AWC eigenvalue significance (docs/method.md §4). Two kinds:
// - shuffle: the extreme eigenvalues of the AWC with the activations permuted across stimuli (permutations are
//   shared by all units of a layer, seeded, so a unit's null does not depend on how units are sharded);
// - marchenko-pastur: analytic. Under the null the weighted covariance Σ wₙ yₙyₙᵀ (w = a/Σa, y iid with
//   variance σ_e²) has the generalised Marchenko–Pastur spectrum whose "population" is the unit's own weight
//   distribution: its edges follow from z(m) = −1/m + (1/D) Σₙ τₙ/(1 + τₙ m), τₙ = σ_e² D wₙ (Silverstein–Bai),
//   and the finite-D fluctuation of the extreme eigenvalues from El Karoui's (2007) Tracy–Widom scaling.
//   For equal weights this reduces to the textbook MP law with N_eff = (Σa)²/Σa².

/** The two-sided null range for a unit's AWC eigenvalues (prior already subtracted). */
export interface NullBounds {
  /** An excitatory eigenvalue is significant when above this. */
  upper: number;
  /** A suppressive eigenvalue is significant when below this. */
  lower: number;
}

/** Inverse standard-normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Quantile of the Tracy–Widom β = 1 law (largest eigenvalue of real Wishart/GOE), via Chiani's (2014) shifted
 * gamma approximation TW₁ ≈ Γ(k = 46.446, θ = 0.186054) − 9.84801 and Wilson–Hilferty for the gamma quantile
 * (e.g. 0.95 → 0.979, 0.99 → 2.015; tables: 0.979, 2.023).
 */
export function tracyWidom1Quantile(p: number): number {
  const k = 46.446;
  const theta = 0.186054;
  const z = normalQuantile(p);
  const h = 1 / (9 * k);
  const g = k * theta * Math.pow(1 - h + z * Math.sqrt(h), 3);
  return g - 9.84801;
}

/** Linear-interpolated quantile of a sample (p in [0, 1]). */
export function quantile(values: ArrayLike<number>, p: number): number {
  const v = Array.from(values).sort((x, y) => x - y);
  if (v.length === 0) return NaN;
  const pos = Math.min(Math.max(p, 0), 1) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** Mean and SD of the Tracy–Widom β = 1 law (of Chiani's gamma approximation: kθ − α and √k·θ). */
export const TW1_MEAN = 46.446 * 0.186054 - 9.84801;
export const TW1_SD = Math.sqrt(46.446) * 0.186054;

/**
 * Null range from the shuffles' extreme eigenvalues. With enough shuffles (S·(1 − level) ≥ 2) it is the
 * empirical level-quantile of the maxima and (1 − level)-quantile of the minima. With fewer (the study's 20 cannot
 * resolve a 99% quantile: the largest of 20 is exceeded 1 time in 21), the shuffles fix the location and scale
 * of the extreme-eigenvalue law and its shape is taken as Tracy–Widom (β = 1): upper = mean + sd·(q − μ_TW)/σ_TW,
 * and mirrored for the minima.
 */
export function shuffleBounds(maxima: ArrayLike<number>, minima: ArrayLike<number>, level: number): NullBounds {
  const S = Math.min(maxima.length, minima.length || maxima.length);
  if (S * (1 - level) >= 2) return { upper: quantile(maxima, level), lower: minima.length ? quantile(minima, 1 - level) : -Infinity };
  const q = (tracyWidom1Quantile(level) - TW1_MEAN) / TW1_SD;
  const ms = (v: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < v.length; i++) m += v[i] / v.length;
    let ss = 0;
    for (let i = 0; i < v.length; i++) ss += (v[i] - m) ** 2;
    return { m, sd: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0 };
  };
  const up = ms(maxima);
  const lo = ms(minima);
  return { upper: up.m + q * up.sd, lower: minima.length ? lo.m - q * lo.sd : -Infinity };
}

/** Edge and Tracy–Widom scale of the generalised MP law at one spectral edge (El Karoui 2007). */
interface Edge {
  mu: number;
  scale: number;
}

/**
 * Spectral edges of Σₙ wₙ yₙyₙᵀ (D×D; w ≥ 0, Σw = 1; y iid, per-coordinate variance σ²) and their TW scales.
 * The lower edge is null when the matrix is rank-deficient (fewer active samples than D).
 */
export function weightedMpEdges(w: ArrayLike<number>, sigma2: number, D: number): { upper: Edge; lower: Edge | null } {
  let nAct = 0;
  for (let i = 0; i < w.length; i++) if (w[i] > 0) nAct++;
  if (nAct === 0) return { upper: { mu: 0, scale: 0 }, lower: null };
  const tau = new Float64Array(nAct);
  let tmax = 0;
  for (let i = 0, j = 0; i < w.length; i++) {
    if (!(w[i] > 0)) continue;
    tau[j] = sigma2 * D * w[i];
    tmax = Math.max(tmax, tau[j++]!);
  }
  // z(m) and the defining sums, with c = −m as in El Karoui: S_k(c) = (1/D) Σ (τc/(1 − τc))^k
  const sums = (c: number) => {
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < nAct; i++) {
      const x = (tau[i]! * c) / (1 - tau[i]! * c);
      s1 += x;
      s2 += x * x;
      s3 += x * x * x;
    }
    return { s1: s1 / D, s2: s2 / D, s3: s3 / D };
  };
  // S₂(c) − 1 and its derivative: dx/dc = τ/(1 − τc)², so dS₂/dc = (2/D) Σ x τ/(1 − τc)²
  const s2Minus1 = (c: number): [number, number] => {
    let s2 = 0;
    let d2 = 0;
    for (let i = 0; i < nAct; i++) {
      const y = 1 / (1 - tau[i]! * c);
      const x = tau[i]! * c * y;
      s2 += x * x;
      d2 += x * tau[i]! * y * y;
    }
    return [s2 / D - 1, (2 * d2) / D];
  };
  // upper edge: c ∈ (0, 1/τmax) solves S₂(c) = 1 (S₂ increases from 0 to ∞ on that interval)
  const cu = bracketedRoot(0, 1 / tmax, s2Minus1, true);
  const su = sums(cu);
  const upper: Edge = {
    mu: (1 / cu) * (1 + su.s1),
    scale: Math.pow(D, -2 / 3) * (1 / cu) * Math.cbrt(1 + su.s3),
  };
  if (nAct <= D) return { upper, lower: null };
  // lower edge: c < 0 with S₂(c) = 1; S₂ increases from 0 (c → 0⁻) toward nAct/D > 1 (c → −∞)
  let cl = -1 / tmax;
  while (s2Minus1(cl)[0] < 0) cl *= 2;
  const c0 = bracketedRoot(cl, 0, s2Minus1, false);
  const sl = sums(c0);
  const lower: Edge = {
    mu: (1 / c0) * (1 + sl.s1),
    scale: Math.pow(D, -2 / 3) * Math.abs(1 / c0) * Math.cbrt(Math.abs(1 + sl.s3)),
  };
  return { upper, lower };
}

/**
 * The root of a monotone f (`increasing` or decreasing) in (lo, hi), to the last digit: Newton steps from
 * `fdf` (value and derivative) kept inside the shrinking bracket, a bisection whenever a step would leave it.
 * About 6–10 evaluations where bisection to the same precision takes 64 (each is a pass over the N weights).
 */
export function bracketedRoot(lo: number, hi: number, fdf: (c: number) => [number, number], increasing: boolean): number {
  let c = 0.5 * (lo + hi);
  for (let it = 0; it < 200; it++) {
    const [f, df] = fdf(c);
    if (f === 0) return c;
    if (f > 0 === increasing) hi = c;
    else lo = c;
    let next = c - f / df;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - c) <= 4 * Number.EPSILON * Math.abs(c) || hi - lo <= 4 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi))) return next;
    c = next;
  }
  return c;
}

/**
 * Analytic null range for the eigenvalues of a unit's AWC (prior σ_e²I subtracted): edges of the generalised
 * Marchenko–Pastur law for its own activations, widened by the Tracy–Widom quantile at `level`.
 */
export function marchenkoPasturBounds(a: ArrayLike<number>, sigma2: number, D: number, level: number): NullBounds {
  let S = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > 0) S += a[i];
  if (!(S > 0)) return { upper: Infinity, lower: -Infinity };
  const w = Array.from(a, (x) => (x > 0 ? x / S : 0));
  const { upper, lower } = weightedMpEdges(w, sigma2, D);
  const q = tracyWidom1Quantile(level);
  return {
    upper: upper.mu + q * upper.scale - sigma2,
    // rank-deficient (active samples ≤ D): the smallest eigenvalues are exactly 0 (− σ²), nothing can be tested
    lower: lower ? lower.mu - q * lower.scale - sigma2 : -Infinity,
  };
}

/** Effective sample size (Σa)²/Σa² of a weight vector. */
export function effectiveN(a: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    s2 += a[i] * a[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/** The k-th shared shuffle of a layer: a seeded permutation of 0..N−1 (Fisher–Yates on mulberry32, seeded by (seed·0x9e3779b1 + (k + 1)·0x85ebca6b) mod 2³²). */
export function shufflePermutation(N: number, seed: number, k: number): Uint32Array {
  let s = (seed * 0x9e3779b1 + (k + 1) * 0x85ebca6b) >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = new Uint32Array(N);
  for (let i = 0; i < N; i++) p[i] = i;
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
