// Category selectivity (docs/method.md §3): CSI, sparseness, preferred category, top-N, on hand cases and synthetic units.
import { describe, expect, it } from 'vitest';
import { categorySelectivity, categorySelectivityIndex, reliablePreference, sparseness, splitHalfReliability, splitHalves, topStimuli } from '../../science/category.ts';

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
  const c = categorySelectivity(resp, U, labels, K);
  it('a unit tuned to one category has CSI near 1, sparseness near 1, that preferred category and q ≪ 0.01', () => {
    expect(c.preferred[0]).toBe(4);
    expect(c.csi[0]).toBeGreaterThan(0.9);
    expect(c.sparseness[0]).toBeGreaterThan(0.9);
    expect(c.q[0]).toBeLessThan(1e-10);
  });
  it('an untuned unit has CSI near 0 and is not selective; a dead unit is untestable', () => {
    expect(c.csi[1]).toBeLessThan(0.05);
    expect(c.q[1]).toBeGreaterThan(0.01);
    expect(c.csi[2]).toBe(0);
    expect(c.anovaF[2]).toBeNaN();
    expect(c.q[2]).toBeNaN();
    expect(c.sparseness[2]).toBeNaN();
  });
  it('means are [unit × category]; the degrees of freedom are (K − 1, N − K)', () => {
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
  const sh = splitHalfReliability(resp, U, labels, K, { permutations: 199, seed: 1 });
  const reliable = reliablePreference(sh, 0.01);

  it('halves alternate within each category: disjoint, equal sizes', () => {
    const h = splitHalves(Int32Array.from([0, 0, 1, 0, 1, 1, 1]), 2);
    expect([...h]).toEqual([0, 1, 0, 0, 1, 0, 1]);
    const big = splitHalves(labels, K);
    for (let k = 0; k < K; k++) expect(big.slice(k * per, (k + 1) * per).reduce((a, b) => a + b, 0)).toBe(per / 2);
  });

  it('units whose category means differ only by chance fail it (≤ 2% of 200 at α = 0.01), and their p is uniform', () => {
    const chance = [...reliable.slice(0, nChance)].reduce((a, b) => a + b, 0);
    expect(chance / nChance).toBeLessThanOrEqual(0.02);
    const ps = [...sh.p.slice(0, nChance)];
    expect(ps.filter((p) => p <= 0.05).length / nChance).toBeLessThan(0.1); // ≈ 5% under H0
    expect(ps.filter((p) => p > 0.5).length / nChance).toBeGreaterThan(0.4);
  });

  it('truly selective units pass it: same preferred category on both halves, r ≫ 0, permutation p ≤ 0.01', () => {
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
