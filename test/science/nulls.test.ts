// AWC nulls: the analytic (generalised Marchenko–Pastur + Tracy–Widom) null against real shuffles, and the
// false-positive rate of both nulls on units that ignore their input (docs/method.md §7).
import { afterAll, describe, expect, it } from 'vitest';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import { mulberry32 } from '../../science/eigen.ts';
import { awaLayer } from '../../science/awa.ts';
import { awcLayer, type AwcOptions } from '../../science/awc.ts';
import { bracketedRoot, effectiveN, marchenkoPasturBounds, normalQuantile, quantile, shuffleBounds, shufflePermutation, tracyWidom1Quantile, TW1_MEAN, TW1_SD, weightedMpEdges } from '../../science/nulls.ts';
import { arraySource } from '../../science/samples.ts';
import { lcg, noiseMatrix } from '../fixtures/synthetic-units.ts';

const gauss = (rnd: () => number) => () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
/** Activation laws of units that ignore their input: from nearly uniform to very heavy-tailed and sparse. */
const laws: Record<string, (rnd: () => number) => () => number> = {
  uniform: (rnd) => () => 1 + rnd(),
  exp50: (rnd) => () => (rnd() < 0.5 ? 0 : -Math.log(rnd())),
  relu3: (rnd) => {
    const g = gauss(rnd);
    return () => Math.max(0, g()) ** 3;
  },
  sparse10: (rnd) => () => (rnd() < 0.9 ? 0 : -Math.log(rnd())),
};

describe('analytic pieces', () => {
  it('normal and Tracy–Widom quantiles match tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
    expect(tracyWidom1Quantile(0.95)).toBeCloseTo(0.9793, 1);
    expect(tracyWidom1Quantile(0.99)).toBeCloseTo(2.0234, 1);
  });

  it('equal weights give the textbook Marchenko–Pastur edges σ²(1 ± √(D/N))²', () => {
    const N = 4000;
    const D = 400;
    const e = weightedMpEdges(new Float64Array(N).fill(1 / N), 2, D);
    const y = D / N;
    expect(e.upper.mu).toBeCloseTo(2 * (1 + Math.sqrt(y)) ** 2, 9);
    expect(e.lower!.mu).toBeCloseTo(2 * (1 - Math.sqrt(y)) ** 2, 9);
    // Johnstone's TW scale for the largest eigenvalue of a white Wishart: σ²(√N + √D)(1/√N + 1/√D)^{1/3}/N
    expect(e.upper.scale).toBeCloseTo((2 * (Math.sqrt(N) + Math.sqrt(D)) * Math.cbrt(1 / Math.sqrt(N) + 1 / Math.sqrt(D))) / N, 9);
    expect(effectiveN(new Float64Array(N).fill(3))).toBeCloseTo(N, 9);
  });

  it('bracketedRoot: the root of a monotone function to the last digits in a handful of evaluations', () => {
    for (const [target, increasing] of [[2, true], [0.001, true], [50, false]] as const) {
      let calls = 0;
      // f(c) = ±(c³ − target) on (0, 10): root ∛target
      const sign = increasing ? 1 : -1;
      const root = bracketedRoot(0, 10, (c) => (calls++, [sign * (c ** 3 - target), sign * 3 * c * c]), increasing);
      expect(Math.abs(root - Math.cbrt(target)) / Math.cbrt(target)).toBeLessThan(4e-16);
      // Newton's quadratic convergence: bisection to the same precision needs ~55 evaluations
      expect(calls).toBeLessThan(25);
    }
    // a derivative that lies (here: 100× too small) only costs evaluations; the bracket still gives the root
    const root = bracketedRoot(-3, 1, (c) => [c + 1, 0.01], true);
    expect(root).toBeCloseTo(-1, 14);
  });

  it('unequal weights: the edges solve S₂(c) = 1 as a 64-step bisection (a plain oracle) does, to 1e-11', () => {
    // the oracle: El Karoui's defining sums and a bisection, written out directly
    const oracle = (w: Float64Array, s2: number, D: number) => {
      const tau = Array.from(w, (x) => s2 * D * x);
      const S = (c: number, k: number) => tau.reduce((acc, t) => acc + ((t * c) / (1 - t * c)) ** k, 0) / D;
      const bisect = (lo: number, hi: number, f: (c: number) => number) => {
        for (let i = 0; i < 64; i++) {
          const mid = (lo + hi) / 2;
          if (f(mid) > 0) hi = mid;
          else lo = mid;
        }
        return (lo + hi) / 2;
      };
      const tmax = Math.max(...tau);
      const cu = bisect(0, 1 / tmax, (c) => S(c, 2) - 1);
      let cl = -1 / tmax;
      while (S(cl, 2) < 1) cl *= 2;
      const c0 = bisect(cl, 0, (c) => 1 - S(c, 2));
      return { upper: (1 + S(cu, 1)) / cu, upperScale: Math.pow(D, -2 / 3) * Math.cbrt(1 + S(cu, 3)) / cu, lower: (1 + S(c0, 1)) / c0 };
    };
    const rnd = lcg(11);
    for (const [N, D] of [[3000, 40], [3000, 500], [800, 700]] as const) {
      const a = Float64Array.from({ length: N }, () => Math.exp(4 * rnd()) * (rnd() < 0.8 ? 1 : 0));
      const sum = a.reduce((x, y) => x + y, 0);
      const w = a.map((x) => x / sum);
      const want = oracle(w, 3.5, D);
      const got = weightedMpEdges(w, 3.5, D);
      expect(Math.abs(got.upper.mu - want.upper) / want.upper).toBeLessThan(1e-11);
      expect(Math.abs(got.upper.scale - want.upperScale) / want.upperScale).toBeLessThan(1e-11);
      const active = a.filter((x) => x > 0).length;
      if (active > D) expect(Math.abs(got.lower!.mu - want.lower) / want.lower).toBeLessThan(1e-11);
      else expect(got.lower).toBeNull();
    }
  });

  it('the analytic bounds lie the Tracy–Widom quantile beyond each edge, in units of the edge scale', () => {
    // equal weights: edges σ²(1 ± √(D/N))², Johnstone's scale; the 99 % bound is TW₁(0.99) ≈ 2.02 scales outside the
    // edge (a bound at the edge itself would flag about 80 % of null units: the TW₁ law has mean −1.21)
    const N = 4000;
    const D = 400;
    const s2 = 2;
    const a = new Float64Array(N).fill(0.7);
    const e = weightedMpEdges(new Float64Array(N).fill(1 / N), s2, D);
    const q = tracyWidom1Quantile(0.99);
    expect(q).toBeGreaterThan(2);
    for (const level of [0.9, 0.99]) {
      const b = marchenkoPasturBounds(a, s2, D, level);
      expect((b.upper + s2 - e.upper.mu) / e.upper.scale).toBeCloseTo(tracyWidom1Quantile(level), 9);
      expect((e.lower!.mu - (b.lower + s2)) / e.lower!.scale).toBeCloseTo(tracyWidom1Quantile(level), 9);
    }
    const b = marchenkoPasturBounds(a, s2, D, 0.99);
    expect(b.upper).toBeCloseTo(s2 * (1 + Math.sqrt(D / N)) ** 2 - s2 + q * e.upper.scale, 9);
    expect(b.lower).toBeCloseTo(s2 * (1 - Math.sqrt(D / N)) ** 2 - s2 - q * e.lower!.scale, 9);
    // samples with a = 0 carry no weight: the same unit with 1,000 silent samples added has the same bounds
    const padded = new Float64Array(N + 1000);
    padded.set(a, 1000);
    expect(marchenkoPasturBounds(padded, s2, D, 0.99).upper).toBeCloseTo(b.upper, 9);
    expect(marchenkoPasturBounds(new Float64Array(N), s2, D, 0.99)).toEqual({ upper: Infinity, lower: -Infinity });
  });

  it('shuffle bounds: empirical quantiles with enough shuffles, else mean + sd·(TW quantile − TW mean)/TW sd', () => {
    // 20 shuffles cannot resolve a 99 % quantile: location and scale from them, Tracy–Widom shape
    const maxima = Array.from({ length: 20 }, (_, i) => 10 + (i % 5)); // mean 12, sample SD √(40/19)
    const minima = maxima.map((x) => -x);
    const sd = Math.sqrt((4 * (4 + 1 + 0 + 1 + 4)) / 19);
    const z = (tracyWidom1Quantile(0.99) - TW1_MEAN) / TW1_SD;
    expect(z).toBeGreaterThan(2.5);
    const few = shuffleBounds(maxima, minima, 0.99);
    expect(few.upper).toBeCloseTo(12 + z * sd, 9);
    expect(few.lower).toBeCloseTo(-12 - z * sd, 9);
    expect(shuffleBounds(maxima, [], 0.99).lower).toBe(-Infinity);
    // 300 shuffles at 99 %: S·(1 − level) = 3 ≥ 2, the empirical quantiles
    const many = Array.from({ length: 300 }, (_, i) => (i * 7919) % 300);
    const enough = shuffleBounds(many, many.map((x) => -x), 0.99);
    expect(enough.upper).toBeCloseTo(quantile(many, 0.99), 12);
    expect(enough.upper).toBeCloseTo(296.01, 9);
    expect(enough.lower).toBeCloseTo(-296.01, 9);
    // exactly at the boundary S·(1 − level) = 2: still empirical
    const two = Array.from({ length: 200 }, (_, i) => i);
    expect(shuffleBounds(two, two, 0.99).upper).toBeCloseTo(quantile(two, 0.99), 12);
  });

  it('a rank-deficient unit (fewer active samples than D) cannot have significant suppressive eigenvalues', () => {
    const a = new Float64Array(1000);
    for (let i = 0; i < 50; i++) a[i] = 1;
    expect(marchenkoPasturBounds(a, 1, 100, 0.99).lower).toBe(-Infinity);
  });
});

describe('analytic pieces: tables, closed forms and edge cases', () => {
  it('normalQuantile: Φ⁻¹ to Acklam’s 1.2e-9 (relative) from 1e-10 to 1 − 1e-10, every branch; p outside (0, 1) refused', () => {
    // Φ⁻¹(p) to 16 digits (Wichura's AS 241, Python's statistics.NormalDist), p as the float it is: 1 − 1e-10 is not
    // exactly 1 − 1e-10 in binary, hence not −Φ⁻¹(1e-10)
    const table: [number, number][] = [
      [1e-10, -6.361340902404056], [0.001, -3.090232306167813], [0.01, -2.3263478740408408], [0.02, -2.0537489106318225],
      [0.025, -1.9599639845400538], [0.1, -1.2815515655446008], [0.3, -0.5244005127080407], [0.5, 0],
      [0.7, 0.5244005127080407], [0.9, 1.2815515655446008], [0.975, 1.9599639845400536], [0.98, 2.053748910631822],
      [0.99, 2.3263478740408408], [0.999, 3.090232306167813], [1 - 1e-10, 6.361340889697421],
    ];
    for (const [p, want] of table) {
      expect(Math.abs(normalQuantile(p) - want), `p = ${p}`).toBeLessThanOrEqual(1.2e-9 * Math.abs(want) + 1e-15);
    }
    for (const p of [0, 1, -0.1, 1.5, NaN]) expect(() => normalQuantile(p)).toThrow(`normalQuantile: p must be in (0, 1), got ${p}`);
  });

  it('tracyWidom1Quantile: the quantiles of Chiani’s gamma Γ(46.446, 0.186054) − 9.84801 to 2e-3, of TW₁ to 0.015; its mean and SD', () => {
    // the gamma's quantiles (scipy.stats.gamma.ppf); Wilson–Hilferty is within 2e-3 of them from 5 % to 99 %
    const gammaQ: [number, number][] = [
      [0.05, -3.181192459073034], [0.1, -2.786503299455167], [0.5, -1.2684841657005332], [0.9, 0.45305296835054243],
      [0.95, 0.9794009615401222], [0.975, 1.4499261459744552], [0.99, 2.0135336198704756],
    ];
    for (const [p, want] of gammaQ) expect(Math.abs(tracyWidom1Quantile(p) - want), `p = ${p}`).toBeLessThan(2e-3);
    // TW₁'s own quantiles (Tracy & Widom 1996, tabulated by Bejan 2005): Chiani's approximation is within 0.015
    for (const [p, want] of [[0.9, 0.4501], [0.95, 0.9793], [0.975, 1.4538], [0.99, 2.0234]]) {
      expect(Math.abs(tracyWidom1Quantile(p) - want), `p = ${p}`).toBeLessThan(0.015);
    }
    // TW₁ has mean −1.2065335745820 and variance 1.6077810345810; the gamma's kθ − 9.84801 and √k·θ match to 1e-4
    expect(Math.abs(TW1_MEAN - -1.206533574582)).toBeLessThan(1e-4);
    expect(Math.abs(TW1_SD - Math.sqrt(1.607781034581))).toBeLessThan(1e-4);
  });

  it('quantile: sorts, interpolates linearly between order statistics, clamps p to [0, 1]; NaN for no values', () => {
    const v = [40, 10, 30, 20];
    // sorted 10 20 30 40 at positions 0..3: p = 0.25 → position 0.75, p = 0.9 → 2.7
    expect(quantile(v, 0.25)).toBeCloseTo(17.5, 12);
    expect(quantile(v, 0.9)).toBeCloseTo(37, 12);
    expect(quantile(v, 0)).toBe(10);
    expect(quantile(v, 1)).toBe(40);
    expect(quantile(v, -0.5)).toBe(10);
    expect(quantile(v, 1.5)).toBe(40);
    expect(quantile(Float64Array.of(7), 0.3)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
    expect(v).toEqual([40, 10, 30, 20]);
  });

  it('shuffleBounds: the count is that of the shorter list, the switch at exactly S·(1 − level) = 2, one shuffle has no spread', () => {
    // level 0.75 and 8 shuffles: S·(1 − level) = 2 exactly (0.25 is exact in binary): empirical quantiles
    const eight = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = shuffleBounds(eight, eight.map((x) => -x), 0.75);
    expect(b.upper).toBeCloseTo(6.25, 12); // position 0.75·7 = 5.25
    expect(b.lower).toBeCloseTo(-6.25, 12);
    // 7 shuffles (1.75 < 2): mean + sd·(TW₁ quantile − TW₁ mean)/TW₁ sd
    const seven = eight.slice(0, 7);
    const z = (tracyWidom1Quantile(0.75) - TW1_MEAN) / TW1_SD;
    const sd7 = Math.sqrt(28 / 6); // mean 4, Σ(x − 4)² = 28
    expect(shuffleBounds(seven, seven.map((x) => -x), 0.75).upper).toBeCloseTo(4 + z * sd7, 12);
    // 300 maxima but 20 minima: 20 shuffles decide (too few for 99 %), for both bounds
    const many = Array.from({ length: 300 }, (_, i) => (i * 7919) % 300);
    const twenty = Array.from({ length: 20 }, (_, i) => -10 - (i % 5));
    const z99 = (tracyWidom1Quantile(0.99) - TW1_MEAN) / TW1_SD;
    const mixed = shuffleBounds(many, twenty, 0.99);
    // the maxima are 0..299 in some order: mean 149.5, Σ(x − mean)² = 300·(300² − 1)/12
    expect(mixed.upper).toBeCloseTo(149.5 + z99 * Math.sqrt((300 * (300 ** 2 - 1)) / 12 / 299), 9);
    expect(mixed.lower).toBeCloseTo(-12 - z99 * Math.sqrt(40 / 19), 9);
    // no minima: the maxima's own count (300 ≥ 200): empirical
    expect(shuffleBounds(many, [], 0.99)).toEqual({ upper: quantile(many, 0.99), lower: -Infinity });
    // a single shuffle: its extremes, no spread to widen them by
    expect(shuffleBounds([5], [-3], 0.99)).toEqual({ upper: 5, lower: -3 });
  });

  it('weightedMpEdges, equal weights: the lower edge’s scale is σ²(√N − √D)(1/√D − 1/√N)^{1/3}/N (Ma 2012); no lower edge for N ≤ D', () => {
    for (const [N, D, s2] of [[4000, 400, 2], [10, 3, 1.5], [1000, 999, 1]]) {
      const e = weightedMpEdges(new Float64Array(N).fill(1 / N), s2, D);
      const rn = Math.sqrt(N);
      const rd = Math.sqrt(D);
      expect(Math.abs(e.lower!.mu / (s2 * (1 - rd / rn) ** 2) - 1), `${N}×${D} lower edge`).toBeLessThan(1e-9);
      expect(Math.abs(e.lower!.scale / ((s2 * (rn - rd) * Math.cbrt(1 / rd - 1 / rn)) / N) - 1), `${N}×${D} lower scale`).toBeLessThan(1e-9);
      expect(Math.abs(e.upper.mu / (s2 * (1 + rd / rn) ** 2) - 1), `${N}×${D} upper edge`).toBeLessThan(1e-9);
    }
    // N = D: full rank, but the lower edge σ²(1 − 1)² = 0 has no TW law: none, as for N < D
    expect(weightedMpEdges(new Float64Array(50).fill(1 / 50), 1, 50).lower).toBeNull();
    expect(weightedMpEdges(new Float64Array(50).fill(1 / 50), 1, 60).lower).toBeNull();
    // zero weights are not samples: 50 active among 80 in D = 50 is rank-deficient too
    const w = new Float64Array(80);
    w.fill(1 / 50, 0, 50);
    expect(weightedMpEdges(w, 1, 50).lower).toBeNull();
    expect(weightedMpEdges(w, 1, 50).upper.mu).toBeCloseTo(4, 12); // (1 + √1)²
    // no weight at all: a point mass at 0
    expect(weightedMpEdges(new Float64Array(5), 1, 3)).toEqual({ upper: { mu: 0, scale: 0 }, lower: null });
  });

  it('marchenkoPasturBounds: samples with a ≤ 0 carry no weight (a pre-ReLU unit equals its rectified self)', () => {
    const rnd = lcg(3);
    const a = Float64Array.from({ length: 2000 }, () => rnd() - 0.3);
    const relu = a.map((x) => Math.max(0, x));
    const got = marchenkoPasturBounds(a, 1.7, 300, 0.99);
    const want = marchenkoPasturBounds(relu, 1.7, 300, 0.99);
    expect(got.upper).toBeCloseTo(want.upper, 12);
    expect(got.lower).toBeCloseTo(want.lower, 12);
    expect(Number.isFinite(want.lower)).toBe(true);
    expect(marchenkoPasturBounds([-1, -2, 0], 1, 2, 0.99)).toEqual({ upper: Infinity, lower: -Infinity });
  });

  it('bracketedRoot: a root at the bracket’s midpoint is returned exactly, after one evaluation', () => {
    let calls = 0;
    expect(bracketedRoot(-3, 1, (c) => (calls++, [c + 1, 1]), true)).toBe(-1);
    expect(calls).toBe(1);
  });

  it('bracketedRoot evaluates f only inside the bracket (S₂ has a pole at 1/τmax), even when the derivative lies', () => {
    for (const [lo, hi, fdf] of [
      [2, 6, (c: number): [number, number] => [c ** 3 - 27, 3 * c * c]], // root 3, first guess 4
      [-3, 1, (c: number): [number, number] => [c + 2, 0.01]], // root −2; Newton's first step lands at −101
      [-3, 1, (c: number): [number, number] => [c - 0.5, 0.01]], // root 0.5; the first step lands at 149
    ] as const) {
      const at: number[] = [];
      const root = bracketedRoot(lo, hi, (c) => (at.push(c), fdf(c)), true);
      expect(fdf(root)[0]).toBeCloseTo(0, 13);
      expect(at[0]).toBe((lo + hi) / 2);
      for (const c of at) {
        expect(c).toBeGreaterThan(lo);
        expect(c).toBeLessThan(hi);
      }
    }
  });

  it('weightedMpEdges is homogeneous in σ²: edges and scales ∝ σ² from 1e-12 to 1e12 (no absolute tolerance inside)', () => {
    const rnd = lcg(17);
    const a = Float64Array.from({ length: 1500 }, () => Math.exp(3 * rnd()) * (rnd() < 0.7 ? 1 : 0));
    const sum = a.reduce((x, y) => x + y, 0);
    const w = a.map((x) => x / sum);
    const ref = weightedMpEdges(w, 1, 200);
    for (const s2 of [1e-12, 1e-6, 1e6, 1e12]) {
      const e = weightedMpEdges(w, s2, 200);
      expect(Math.abs(e.upper.mu / s2 / ref.upper.mu - 1), `σ² = ${s2} upper`).toBeLessThan(1e-12);
      expect(Math.abs(e.upper.scale / s2 / ref.upper.scale - 1), `σ² = ${s2} upper scale`).toBeLessThan(1e-12);
      expect(Math.abs(e.lower!.mu / s2 / ref.lower!.mu - 1), `σ² = ${s2} lower`).toBeLessThan(1e-12);
      expect(Math.abs(e.lower!.scale / s2 / ref.lower!.scale - 1), `σ² = ${s2} lower scale`).toBeLessThan(1e-12);
    }
  });

  it('effectiveN: (Σa)²/Σa², 0 for no weight', () => {
    expect(effectiveN([3, 1])).toBeCloseTo(1.6, 12);
    expect(effectiveN([1, 1, 0, 0])).toBeCloseTo(2, 12);
    expect(effectiveN([2, 2, 2])).toBeCloseTo(3, 12);
    expect(effectiveN([0, 0])).toBe(0);
    expect(effectiveN([])).toBe(0);
  });

  it('shufflePermutation: Fisher–Yates on mulberry32 seeded by (seed·0x9e3779b1 + (k + 1)·0x85ebca6b) mod 2³²', () => {
    // the textbook shuffle (for i = N − 1 … 1 swap i with ⌊u·(i + 1)⌋) on science/eigen.ts's mulberry32, whose
    // outputs test/science/eigen.test.ts checks against the reference implementation; the seed mixed exactly (BigInt)
    const fisherYates = (N: number, seed: number, k: number) => {
      const s = (BigInt(seed) * 0x9e3779b1n + BigInt(k + 1) * 0x85ebca6bn) % 2n ** 32n;
      const u = mulberry32(Number(s));
      const p = Array.from({ length: N }, (_, i) => i);
      for (let i = N - 1; i > 0; i--) {
        const j = Math.floor(u() * (i + 1));
        [p[i], p[j]] = [p[j], p[i]];
      }
      return p;
    };
    for (const [N, seed, k] of [[10, 0, 0], [10, 0, 1], [37, 7, 3], [1000, 12345, 19], [2, 1, 0]]) {
      expect(Array.from(shufflePermutation(N, seed, k)), `N ${N} seed ${seed} k ${k}`).toEqual(fisherYates(N, seed, k));
    }
    expect(Array.from(shufflePermutation(1, 3, 0))).toEqual([0]);
    expect(shufflePermutation(0, 3, 0).length).toBe(0);
  });

  it('shufflePermutation is uniform: the 24 orders of 4 items over 4,800 shuffles (χ², 23 df, below its 99.9 % point 49.73)', () => {
    const counts = new Map<string, number>();
    const S = 4800;
    for (let k = 0; k < S; k++) {
      const key = Array.from(shufflePermutation(4, 5, k)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const e = S / 24;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - e) ** 2 / e;
    expect(chi2).toBeLessThan(49.73);
    // and another seed gives other shuffles
    expect(Array.from(shufflePermutation(50, 6, 0))).not.toEqual(Array.from(shufflePermutation(50, 5, 0)));
  });
});

describe('AWC nulls', () => {
  const mm = new OrtMatMul({ threads: 1 });
  afterAll(() => mm.dispose());
  const base: AwcOptions = { top: 1, bottom: 1, nullKind: 'shuffle', shuffles: 300, level: 0.99, solver: 'full', block: 8, steps: 10, seed: 2 };

  it('the Marchenko–Pastur null agrees with 300 real shuffles (never anti-conservative by > 3%, at most 12% conservative)', async () => {
    const r = 8;
    const N = 3000;
    const X = noiseMatrix({ seed: 5, sigma: 48, color: 'grey', check: 1 }, N, 10, 10, r);
    const src = arraySource(X, N, r * r);
    for (const [name, law] of Object.entries(laws)) {
      const gen = law(lcg(name.length * 97));
      const A = Float32Array.from({ length: N }, gen);
      const sh = await awcLayer(src, A, 1, mm, base);
      const s2 = sh.moments.sigma ** 2;
      const mp = marchenkoPasturBounds(A, s2, r * r, 0.99);
      const relUpper = (mp.upper + s2) / (sh.units[0].bounds.upper + s2) - 1;
      const relLower = (sh.units[0].bounds.lower + s2) / (mp.lower + s2) - 1;
      expect(relUpper, `${name} upper`).toBeGreaterThan(-0.03);
      expect(relUpper, `${name} upper`).toBeLessThan(0.12);
      expect(relLower, `${name} lower`).toBeGreaterThan(-0.03);
      expect(relLower, `${name} lower`).toBeLessThan(0.12);
    }
  });

  it('units that ignore their input: nothing significant beyond the nominal rate (AWA z ≥ 5, AWC both nulls)', async () => {
    const r = 8;
    const N = 3000;
    const X = noiseMatrix({ seed: 9, sigma: 48, color: 'grey', check: 1 }, N, 0, 0, r);
    const src = arraySource(X, N, r * r);
    const U = 240;
    const A = new Float32Array(N * U);
    const lawList = Object.values(laws);
    for (let u = 0; u < U; u++) {
      const gen = lawList[u % lawList.length](lcg(1000 + u));
      for (let n = 0; n < N; n++) A[n * U + u] = gen();
    }
    const awa = await awaLayer(src, A, U, mm, { zThreshold: 5 });
    expect(Array.from(awa.significant).filter(Boolean).length).toBe(0);
    // z-maps are standard normal under the null
    const zs = Array.from(awa.z);
    const sd = Math.sqrt(zs.reduce((s, z) => s + z * z, 0) / zs.length);
    expect(sd).toBeGreaterThan(0.95);
    expect(sd).toBeLessThan(1.05);

    const nominal = 2 * (1 - 0.99); // two-sided: excitatory or suppressive
    const anySig = (res: Awaited<ReturnType<typeof awcLayer>>) =>
      res.units.filter((u) => u.topSignificant.some(Boolean) || u.bottomSignificant.some(Boolean)).length / res.units.length;
    const mp = await awcLayer(src, A, U, mm, { ...base, nullKind: 'marchenko-pastur' }, awa);
    const seMp = Math.sqrt((nominal * (1 - nominal)) / U);
    expect(anySig(mp)).toBeLessThanOrEqual(nominal + 2 * seMp);
    // the shuffle null with the study's 20 shuffles (Tracy–Widom-shaped tail), on a subset of units
    const Us = 80;
    const As = new Float32Array(N * Us);
    for (let n = 0; n < N; n++) for (let u = 0; u < Us; u++) As[n * Us + u] = A[n * U + u];
    const sh = await awcLayer(src, As, Us, mm, { ...base, shuffles: 20 });
    const seSh = Math.sqrt((nominal * (1 - nominal)) / Us);
    expect(anySig(sh)).toBeLessThanOrEqual(nominal + 2 * seSh);
  });

  it('quantile interpolates', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
  });
});
