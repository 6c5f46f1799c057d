// Category selectivity (docs/method.md §3): CSI, sparseness, preferred category, top-N, on hand cases and synthetic units.
import { describe, expect, it } from 'vitest';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { categorySelectivity, categorySelectivityIndex, reliablePreference, sparseness, splitHalfReliability, splitHalves, topStimuli } from '../../science/category.ts';

/** Pearson r of two 3-category profiles, written out by hand (NaN when either is flat). */
function pearson3(a: number[], b: number[]): number {
  const ma = (a[0]! + a[1]! + a[2]!) / 3;
  const mb = (b[0]! + b[1]! + b[2]!) / 3;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let j = 0; j < 3; j++) (num += (a[j]! - ma) * (b[j]! - mb)), (da += (a[j]! - ma) ** 2), (db += (b[j]! - mb) ** 2);
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

// First in the file: small hand-computed cases of the split-half pieces, so a mutant of them fails in milliseconds
// (Stryker stops a mutant at its first failing test) instead of after the 199-permutation tests below.

describe('split-half reliability by hand (small cases, first: fast)', () => {
  it('splitHalves: the n-th image of a category goes to half n mod 2, whatever the order of the categories', () => {
    expect([...splitHalves(Int32Array.from([2, 0, 2, 2, 0, 1, 2]), 3)]).toEqual([0, 0, 1, 0, 1, 0, 1]);
  });

  // 9 images: category 0 has 4 (half a = its 1st and 3rd, b = its 2nd and 4th), categories 1 and 2 have 2, category 3
  // has 1 (takes no part), category 4 none. Unit u's half-profiles a, b over categories 0–2 are set by hand; the two
  // images of a half of category 0 are its mean ∓ 1 (a) or ± 0.5 (b), so the mean divides by the half's size.
  const labels = Int32Array.from([0, 1, 0, 2, 1, 0, 2, 0, 3]);
  const profiles: [number[], number[]][] = [
    [[3, 0, 0], [2, 2, 0]], // r = 2/√(6 · 8/3) = 0.5; b's maximum is tied: the first (category 0) as in a
    [[0, 1, 2], [2, 1, 0]], // r = −1
    [[0, 0, 4], [0, 2, 1]], // r = 0: (−4/3, −4/3, 8/3)·(−1, 1, 0) = 0
    [[1, 3, 3], [1, 3, 2]], // r = 2/√(24/9 · 2) = √3/2; a's maximum is tied: the first (category 1) as in b
    [[2, 0, 1], [1, 0, 3]], // r = 1/√(2 · 42/9) = 3/√84
    [[7, 7, 7], [7, 7, 7]], // constant: no profile
  ];
  const U = profiles.length; // 6: one pass of the 4-unit unrolled bin sums and 2 units after it
  const hand = () => {
    const resp = new Float32Array(labels.length * U);
    profiles.forEach(([a, b], u) => {
      const at = (s: number, v: number) => (resp[s * U + u] = v);
      at(0, a[0]! - 1), at(5, a[0]! + 1), at(2, b[0]! + 0.5), at(7, b[0]! - 0.5);
      at(1, a[1]!), at(4, b[1]!), at(3, a[2]!), at(6, b[2]!);
      at(8, u === 5 ? 7 : 50 + u); // category 3's only image: no half-profile has it
    });
    return resp;
  };

  it('r, Spearman–Brown 2r/(1 + r) and the same-preferred flag of six hand-made units; categories of ≥ 2 images only', () => {
    const sh = splitHalfReliability(hand(), U, labels, 5, { permutations: 0, seed: 1 });
    expect(sh.categories).toBe(3);
    const r = [0.5, -1, 0, Math.sqrt(3) / 2, 3 / Math.sqrt(84)];
    r.forEach((x, u) => expect(sh.r[u], `unit ${u}`).toBeCloseTo(x, 12));
    expect(sh.r[5]).toBeNaN();
    [2 / 3, -Infinity, 0, Math.sqrt(3) / (1 + Math.sqrt(3) / 2)].forEach((x, u) => expect(sh.rSB[u], `unit ${u}`).toBeCloseTo(x, 12));
    expect(sh.rSB[4]).toBeCloseTo(6 / Math.sqrt(84) / (1 + 3 / Math.sqrt(84)), 12);
    expect(sh.rSB[5]).toBeNaN();
    expect([...sh.samePreferred]).toEqual([1, 0, 0, 1, 0, 0]);
    expect([...sh.p].every(Number.isNaN)).toBe(true); // no permutations: no p
    expect(() => splitHalfReliability(new Float32Array(17), 2, labels, 5, { permutations: 0, seed: 1 })).toThrow(/expected 9×2 responses, got 17/);
  });

  it('r does not move when every response is offset by 2²⁰ (the profiles are centred before they are multiplied)', () => {
    // the offset profiles' means are 2²⁰ + a fraction, rounded: an uncentred factor would add 2·2²⁰·Σ(b − b̄), which
    // is 0 only in exact arithmetic (≈ 1e-4 here); the centred products move r by ~1e-16
    const resp = hand().map((x) => x + 2 ** 20);
    const sh = splitHalfReliability(resp, U, labels, 5, { permutations: 0, seed: 1 });
    [0.5, -1, 0, Math.sqrt(3) / 2, 3 / Math.sqrt(84)].forEach((x, u) => expect(sh.r[u], `unit ${u}`).toBeCloseTo(x, 9));
    expect([...sh.samePreferred]).toEqual([1, 0, 0, 1, 0, 0]);
  });

  it('two categories with ≥ 2 images are too few: r, r_SB and p NaN, same-preferred 0, even with permutations', () => {
    // the same units with category 2's two images split between categories 2 and 4: one image each, as category 3
    const two = splitHalfReliability(hand(), U, Int32Array.from([0, 1, 0, 4, 1, 0, 2, 0, 3]), 5, { permutations: 5, seed: 1 });
    expect(two.categories).toBe(2);
    for (const x of [...two.r, ...two.rSB, ...two.p]) expect(x).toBeNaN();
    expect([...two.samePreferred]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('the floor of a flat half-profile is relative: a spread of 1.2e-9 is a profile around 0 but rounding around 16', () => {
    // 3 categories × 6 images; half a = a category's 1st, 3rd and 5th image. Unit 0's half a is (0, 0, 2⁻²⁸/3), unit
    // 1's (16, 16, 16 + 2⁻²⁸/3) (images 0, 48, 2⁻²⁸); half b is (1, 2, 4) for both. The floor on Σ(a − ā)² is
    // 1e-20·K·(1 + ā²): unit 0's 1.03e-18 is above its 3e-20, unit 1's is below its 7.7e-18, so unit 1 is flat.
    const labels6 = Int32Array.from({ length: 18 }, (_, s) => Math.floor(s / 6));
    const t = 2 ** -28;
    const a0 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, t, 0];
    const a1 = [16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 0, 0, 48, 0, t, 0];
    const b = [0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2, 0, 4, 0, 4, 0, 4];
    const resp = Float32Array.from({ length: 36 }, (_, i) => (i % 2 ? a1 : a0)[i >> 1]! + b[i >> 1]!); // [image × unit]
    const sh = splitHalfReliability(resp, 2, labels6, 3, { permutations: 0, seed: 1 });
    expect(sh.r[0]).toBeCloseTo(5 / Math.sqrt(28), 6); // corr((−1, −1, 2), (1, 2, 4))
    expect(sh.r[1]).toBeNaN();
    expect([...sh.samePreferred]).toEqual([1, 0]);
  });

  it('permutation p = (1 + #{r_perm ≥ r})/(1 + P): labels shuffled by Fisher–Yates on xoroshiro128+(seed), one shuffle after the other', () => {
    // categories of 4, 2, 3 and 1 images (no two of a size: no relabelling of categories reproduces r), 6 units
    const labels10 = Int32Array.from([2, 0, 1, 0, 2, 3, 0, 1, 2, 0]);
    const S = labels10.length;
    const U = 6;
    const rand = rng(99);
    const resp = new Float32Array(S * U);
    for (let s = 0; s < S; s++) for (let u = 0; u < U; u++) resp[s * U + u] = u === 5 ? 2 : (labels10[s] === u % 3 ? 2 : 0) + rand();
    // the documented procedure, written out: half-profiles over the categories of ≥ 2 images, Pearson r
    const cats = [0, 1, 2];
    const pearson = (lab: ArrayLike<number>, u: number): number => {
      const sum = cats.map(() => [0, 0]);
      const n = cats.map(() => [0, 0]);
      const seen = [0, 0, 0, 0];
      for (let s = 0; s < S; s++) {
        const k = lab[s]!;
        const h = seen[k]!++ % 2;
        if (k < 3) (sum[k]![h]! += resp[s * U + u]!), n[k]![h]!++;
      }
      const a = cats.map((k) => sum[k]![0]! / n[k]![0]!);
      const b = cats.map((k) => sum[k]![1]! / n[k]![1]!);
      return pearson3(a, b);
    };
    const P = 39;
    const seed = 7;
    const gen = xoroshiro128plus(seed);
    const perm = [...labels10];
    const beats = new Array<number>(U).fill(0);
    const r0 = Array.from({ length: U }, (_, u) => pearson(labels10, u));
    let beatsAfter: number[] = []; // after one shuffle more than P
    for (let q = 0; q <= P; q++) {
      if (q === P) beatsAfter = [...beats];
      for (let i = S - 1; i > 0; i--) {
        const j = Math.floor(((gen.next() >>> 0) / 2 ** 32) * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      for (let u = 0; u < U; u++) if (pearson(perm, u) >= r0[u]!) (q < P ? beats : beatsAfter)[u]!++;
    }
    expect(beatsAfter).not.toEqual(beats); // shuffle P + 1 beats some unit's r: one shuffle too many would show
    const sh = splitHalfReliability(resp, U, labels10, 5, { permutations: P, seed });
    for (let u = 0; u < 5; u++) {
      expect(sh.r[u], `unit ${u}`).toBeCloseTo(r0[u]!, 12);
      expect(sh.p[u], `unit ${u}`).toBe((1 + beats[u]!) / (1 + P));
    }
    expect(new Set(beats.slice(0, 5)).size).toBeGreaterThan(2); // the units' p differ
    expect(sh.r[5]).toBeNaN();
    expect(sh.p[5]).toBeNaN(); // a constant unit has no p
  });
});

describe('categorySelectivityIndex and sparseness', () => {
  it('CSI = (μ_max − μ_rest)/(μ_max + μ_rest): 0.6 for [4, 1, 1], 1 for one-hot, 0 for flat and for all zeros', () => {
    expect(categorySelectivityIndex([1, 4, 1])).toBeCloseTo(0.6, 12);
    expect(categorySelectivityIndex([0, 0, 3, 0])).toBe(1);
    expect(categorySelectivityIndex([2, 2, 2])).toBe(0);
    expect(categorySelectivityIndex([0, 0, 0])).toBe(0);
  });
  it('sparseness: 1 for one-hot, 0 for flat, 0.5 for [4, 1, 1], NaN for all zeros', () => {
    expect(sparseness([0, 1, 0, 0])).toBeCloseTo(1, 12);
    expect(sparseness([3, 3, 3])).toBeCloseTo(0, 12);
    expect(sparseness([4, 1, 1])).toBeCloseTo(0.5, 12);
    expect(sparseness([0, 0])).toBeNaN();
  });
});

// Deterministic uniform numbers (mulberry32).
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('categorySelectivity on synthetic units (6 categories × 24 images)', () => {
  const K = 6;
  const per = 24;
  const labels = Int32Array.from({ length: K * per }, (_, i) => Math.floor(i / per));
  const U = 4;
  const rand = rng(7);
  const resp = new Float32Array(labels.length * U);
  for (let s = 0; s < labels.length; s++) {
    const k = labels[s]!;
    resp[s * U] = (k === 4 ? 10 : 0.1) + 0.5 * rand(); // tuned to category 4
    resp[s * U + 1] = 5 + rand(); // untuned
    resp[s * U + 2] = 0; // dead
    resp[s * U + 3] = Math.max(0, (k === 1 ? 3 : 2) + rand() - 0.5); // weakly prefers category 1
  }
  // computed inside each test, not while the file is collected: Stryker reliably switches a mutant on only for code
  // that runs inside a test (docs/testing.md, false survivors)
  const selectivity = () => categorySelectivity(resp, U, labels, K);
  it('a unit tuned to one category has CSI near 1, sparseness near 1, that preferred category and q ≪ 0.01', () => {
    const c = selectivity();
    expect(c.preferred[0]).toBe(4);
    expect(c.csi[0]).toBeGreaterThan(0.9);
    expect(c.sparseness[0]).toBeGreaterThan(0.9);
    expect(c.q[0]).toBeLessThan(1e-10);
  });
  it('an untuned unit has CSI near 0 and is not selective; a dead unit is untestable', () => {
    const c = selectivity();
    expect(c.csi[1]).toBeLessThan(0.05);
    expect(c.q[1]).toBeGreaterThan(0.01);
    expect(c.csi[2]).toBe(0);
    expect(c.anovaF[2]).toBeNaN();
    expect(c.q[2]).toBeNaN();
    expect(c.sparseness[2]).toBeNaN();
  });
  it('means are [unit × category]; the degrees of freedom are (K − 1, N − K)', () => {
    const c = selectivity();
    expect(c.dfBetween).toBe(5);
    expect(c.dfWithin).toBe(K * per - K);
    expect(c.means[0 * K + 4]).toBeGreaterThan(10);
    expect(c.means[0 * K + 0]).toBeLessThan(0.7);
    expect(c.preferred[3]).toBe(1);
    expect(c.q[3]).toBeLessThan(0.01);
  });
});

describe('split-half reliability of the category profile (a test a layer without category structure fails)', () => {
  // 11 categories × 24 images (the default experiment's fLoc set), labels in category blocks as the stage reads them
  const K = 11;
  const per = 24;
  const labels = Int32Array.from({ length: K * per }, (_, i) => Math.floor(i / per));
  const S = labels.length;
  const rand = rng(2024);
  const exp = () => -Math.log(rand());
  // 200 units whose category means differ only by chance (iid exponential responses, sparse ReLU-like for half),
  // 50 truly selective units (category 7j mod 11 raised by 3.5 over a graded profile 1 + 0.1k, noise ±1), and a constant unit
  const nChance = 200;
  const nTrue = 50;
  const U = nChance + nTrue + 1;
  const resp = new Float32Array(S * U);
  for (let s = 0; s < S; s++) {
    for (let u = 0; u < nChance; u++) resp[s * U + u] = u % 2 ? exp() : Math.max(0, exp() - 1.5);
    for (let j = 0; j < nTrue; j++) {
      const k = labels[s]!;
      resp[s * U + nChance + j] = Math.max(0, 1 + 0.1 * k + (k === (7 * j) % K ? 3.5 : 0) + (rand() - 0.5) * 2);
    }
    resp[s * U + U - 1] = 3;
  }
  const reliability = () => {
    const sh = splitHalfReliability(resp, U, labels, K, { permutations: 199, seed: 1 });
    return { sh, reliable: reliablePreference(sh, 0.01) };
  };

  it('halves alternate within each category: disjoint, equal sizes', () => {
    const h = splitHalves(Int32Array.from([0, 0, 1, 0, 1, 1, 1]), 2);
    expect([...h]).toEqual([0, 1, 0, 0, 1, 0, 1]);
    const big = splitHalves(labels, K);
    for (let k = 0; k < K; k++) expect(big.slice(k * per, (k + 1) * per).reduce((a, b) => a + b, 0)).toBe(per / 2);
  });

  it('units whose category means differ only by chance fail it (≤ 2% of 200 at α = 0.01), and their p is uniform', () => {
    const { sh, reliable } = reliability();
    const chance = [...reliable.slice(0, nChance)].reduce((a, b) => a + b, 0);
    expect(chance / nChance).toBeLessThanOrEqual(0.02);
    const ps = [...sh.p.slice(0, nChance)];
    expect(ps.filter((p) => p <= 0.05).length / nChance).toBeLessThan(0.1); // ≈ 5% under H0
    expect(ps.filter((p) => p > 0.5).length / nChance).toBeGreaterThan(0.4);
  });

  it('truly selective units pass it: same preferred category on both halves, r ≫ 0, permutation p ≤ 0.01', () => {
    const { sh, reliable } = reliability();
    for (let j = 0; j < nTrue; j++) {
      const u = nChance + j;
      expect(reliable[u], `unit ${u}`).toBe(1);
      expect(sh.samePreferred[u]).toBe(1);
      expect(sh.r[u]).toBeGreaterThan(0.8);
      expect(sh.rSB[u]).toBeCloseTo((2 * sh.r[u]!) / (1 + sh.r[u]!), 12);
      expect(sh.p[u]).toBeLessThanOrEqual(0.01);
    }
  });

  it('a constant unit has no profile (r NaN, p NaN) and is not reliable', () => {
    const { sh, reliable } = reliability();
    expect(sh.r[U - 1]).toBeNaN();
    expect(sh.p[U - 1]).toBeNaN();
    expect(reliable[U - 1]).toBe(0);
    expect(sh.categories).toBe(K);
  });

  it('the permutations are seeded: the same seed gives the same p, another seed a different one', () => {
    const few = resp.slice(0, S * U); // same data
    const a = splitHalfReliability(few, U, labels, K, { permutations: 50, seed: 3 });
    const b = splitHalfReliability(few, U, labels, K, { permutations: 50, seed: 3 });
    const c = splitHalfReliability(few, U, labels, K, { permutations: 50, seed: 4 });
    expect([...a.p]).toEqual([...b.p]);
    expect([...a.p]).not.toEqual([...c.p]);
    expect(splitHalfReliability(few, U, labels, K, { permutations: 0, seed: 3 }).p[0]).toBeNaN();
  });
});

describe('split-half reliability unit by unit', () => {
  it('each unit\'s r, same-preferred flag and permutation p equal those of the unit analysed alone (7 units: every lane of the unrolled bin sums)', () => {
    // 5 categories × 9 images, 7 units with different profiles and noise; the permutations are shared by all units
    const K = 5;
    const S = 45;
    const U = 7;
    const labels = Int32Array.from({ length: S }, (_, i) => i % K);
    let seed = 17;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const resp = new Float32Array(S * U);
    for (let s = 0; s < S; s++) for (let u = 0; u < U; u++) resp[s * U + u] = (u % 3 === 0 ? labels[s]! * (u + 1) : 0) + (1 + u) * rnd();
    const all = splitHalfReliability(resp, U, labels, K, { permutations: 99, seed: 5 });
    for (let u = 0; u < U; u++) {
      const col = Float32Array.from({ length: S }, (_, s) => resp[s * U + u]!);
      const one = splitHalfReliability(col, 1, labels, K, { permutations: 99, seed: 5 });
      expect(all.r[u], `unit ${u}`).toBe(one.r[0]);
      expect(all.p[u], `unit ${u}`).toBe(one.p[0]);
      expect(all.samePreferred[u], `unit ${u}`).toBe(one.samePreferred[0]);
    }
    expect(new Set(Array.from(all.r, (x) => x.toFixed(6))).size).toBe(U); // the units differ
  });
});

describe('topStimuli', () => {
  it('returns the N largest per unit, descending, ties to the lower stimulus index, −1 padding', () => {
    // 5 stimuli × 2 units.
    const resp = Float32Array.from([3, 1, 5, 1, 3, 2, 0, 1, 9, NaN]);
    const t = topStimuli(resp, 2, 3);
    expect([...t.index.subarray(0, 3)]).toEqual([4, 1, 0]);
    expect([...t.value.subarray(0, 3)]).toEqual([9, 5, 3]);
    expect([...t.index.subarray(3, 6)]).toEqual([2, 0, 1]); // 2, then ties 1 (s=0, 1, 3): lower index first
    const t6 = topStimuli(resp, 2, 6);
    expect([...t6.index.subarray(6, 12)]).toEqual([2, 0, 1, 3, -1, -1]); // NaN skipped
  });
});

describe('preferred category of a flat profile', () => {
  it('a dead or a constant unit has none (−1), whatever the category sizes; a real difference of 1e-4 has one', () => {
    const sizes = [7, 10, 13];
    const labels = Int32Array.from(sizes.flatMap((n, k) => Array<number>(n).fill(k)));
    const U = 3;
    const resp = new Float32Array(labels.length * U);
    for (let s = 0; s < labels.length; s++) {
      resp[s * U] = 0; // dead
      resp[s * U + 1] = 0.1; // constant: its float64 sums of a float32 value are exact, so its means are equal
      resp[s * U + 2] = labels[s] === 2 ? 1.0001 : 1;
    }
    const c = categorySelectivity(resp, U, labels, sizes.length);
    expect([...c.preferred]).toEqual([-1, -1, 2]);
  });
});

describe('category edges (found by mutation testing)', () => {
  it('one category: CSI 1 (no rest); two categories: sparseness 1 for [1, 0] and 0.2 for [2, 1]', () => {
    expect(categorySelectivityIndex([3])).toBe(1);
    expect(sparseness([1, 0])).toBeCloseTo(1, 12);
    expect(sparseness([2, 1])).toBeCloseTo(0.2, 12); // (1 − 1.5²/2.5)/(1 − ½)
  });

  it('an empty category takes no part in the indices; the preferred category may be the first; ties go to the first', () => {
    // categories 0, 2, 3 with 2 images each, category 1 empty; unit 0 means [5, –, 1, 1], unit 1 [1, –, 3, 3]
    const labels = Int32Array.from([0, 0, 2, 2, 3, 3]);
    const u0 = [5, 5, 1, 1, 1, 1];
    const u1 = [1, 1, 3, 3, 3, 3];
    const resp = Float32Array.from(u0.flatMap((v, s) => [v, u1[s]!]));
    const c = categorySelectivity(resp, 2, labels, 4);
    expect([...c.counts]).toEqual([2, 0, 2, 2]);
    expect(c.means[1]).toBeNaN();
    expect([...c.preferred]).toEqual([0, 2]);
    expect(c.csi[0]).toBeCloseTo(2 / 3, 12); // (5 − 1)/(5 + 1)
    expect(c.csi[1]).toBeCloseTo(0.2, 12); // (3 − 2)/(3 + 2)
    expect(c.sparseness[0]).toBeCloseTo(16 / 27, 12); // (1 − (7/3)²/(27/3))/(2/3)
    expect(c.sparseness[1]).toBeCloseTo(4 / 19, 12); // (1 − (7/3)²/(19/3))/(2/3)
  });

  it('split halves: categories with exactly 2 images count, one with 1 does not; 3 categories suffice, 2 do not', () => {
    // 3 categories × 2 images (+ a category with one image): half a = first image, half b = second
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2, 3]);
    const units = [
      [2, 2, 2, 1, 0, 0, 9], // a = [2, 2, 0] (tie: first), b = [2, 1, 0]: both prefer category 0
      [2, 2, 1, 2, 0, 0, 9], // a = [2, 1, 0], b = [2, 2, 0] (tie: first)
      [3, 3, 3, 3, 3, 3, 3], // constant: no profile, so no preferred category
    ];
    const resp = Float32Array.from([...labels].flatMap((_, s) => units.map((u) => u[s]!)));
    const sh = splitHalfReliability(resp, 3, labels, 4, { permutations: 0, seed: 1 });
    expect(sh.categories).toBe(3);
    expect(sh.r[0]).toBeCloseTo(Math.sqrt(3) / 2, 12); // a − ā = (2, 2, −4)/3, b − b̄ = (1, 0, −1): 6/3 / √(24/9 · 2)
    expect(sh.r[1]).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect([...sh.samePreferred]).toEqual([1, 1, 0]);
    expect(sh.r[2]).toBeNaN();
    const two = splitHalfReliability(Float32Array.from([1, 2, 3, 4]), 1, Int32Array.from([0, 0, 1, 1]), 2, { permutations: 9, seed: 1 });
    expect(two.categories).toBe(2);
    expect(two.r[0]).toBeNaN();
    expect(two.p[0]).toBeNaN();
    expect(() => splitHalfReliability(new Float32Array(5), 1, labels.subarray(0, 6), 3, { permutations: 0, seed: 1 })).toThrow(/expected 6×1 responses, got 5/);
  });

  it('the permutation p matches the exact permutation test: P(r_perm ≥ r) over all 720 orders of 6 labels', () => {
    // values that are multiples of 3 keep every mean of 3 exact, so tied r are equal to the last bit
    const labels = [0, 0, 1, 1, 2, 2];
    const vals = [0, 3, 9, 6, 15, 12];
    const rOf = (lab: number[]): number => {
      const a = [0, 0, 0];
      const b = [0, 0, 0];
      const seen = [0, 0, 0];
      lab.forEach((k, s) => ((seen[k]!++ === 0 ? a : b)[k] = vals[s]!));
      return pearson3(a, b);
    };
    const orders = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((o) => [x, ...o])));
    const r0 = rOf(labels);
    const all = orders([0, 1, 2, 3, 4, 5]).map((o) => rOf(o.map((i) => labels[i]!)));
    expect(all.length).toBe(720);
    const exact = all.filter((r) => r >= r0).length / 720; // 0.2; strictly greater: 0.133
    expect(exact).toBeCloseTo(0.2, 12);
    const P = 3000;
    const sh = splitHalfReliability(Float32Array.from(vals), 1, Int32Array.from(labels), 3, { permutations: P, seed: 1 });
    expect(sh.r[0]).toBeCloseTo(r0, 12);
    // (1 + #beats)/(1 + P) with #beats ~ Binomial(P, 0.2): SD 0.0073; 0.03 is 4 SD (and 0.067 from the strict count)
    expect(Math.abs(sh.p[0]! - (1 + exact * P) / (1 + P))).toBeLessThan(0.03);
  });

  it('with images of one category only, a responsive unit prefers that category (the argmax of one mean); with none, nothing', () => {
    // categories 0 and 2 empty, category 1 with 3 images; the unit's responses 2, 4, 3 (mean 3)
    const c = categorySelectivity(Float32Array.from([2, 4, 3]), 1, Int32Array.from([1, 1, 1]), 3);
    expect([...c.counts]).toEqual([0, 3, 0]);
    expect(c.means[1]).toBe(3);
    expect([...c.preferred]).toEqual([1]);
    expect(c.csi[0]).toBe(1); // no rest
    // with no image at all no unit prefers anything
    expect([...categorySelectivity(new Float32Array(0), 2, new Int32Array(0), 3).preferred]).toEqual([-1, -1]);
  });

  it('CSI is 0 when μ_max + μ_rest = 0 (means of opposite sign), not ±∞', () => {
    expect(categorySelectivityIndex([1, -1, -1])).toBe(0);
  });

  it('topStimuli: a full list still takes a larger response, and units never write into each other', () => {
    // one unit, N = 2: 1, 2, then 3 beats the full list's last entry
    const one = topStimuli(Float32Array.from([1, 2, 3]), 1, 2);
    expect([...one.index]).toEqual([2, 1]);
    expect([...one.value]).toEqual([3, 2]);
    // 2 stimuli × 2 units, N = 1: unit 0 sees 1 then 2, unit 1 sees 5 then 0
    const two = topStimuli(Float32Array.from([1, 5, 2, 0]), 2, 1);
    expect([...two.index]).toEqual([1, 0]);
    expect([...two.value]).toEqual([2, 5]);
  });

  it('reliablePreference: the same preferred category and p ≤ alpha (p equal to alpha passes)', () => {
    const s = { categories: 3, samePreferred: Uint8Array.from([1, 1, 0, 1]), r: new Float64Array(4), rSB: new Float64Array(4), p: Float64Array.from([0.01, 0.02, 0.001, NaN]) };
    expect([...reliablePreference(s, 0.01)]).toEqual([1, 0, 0, 0]);
  });
});
