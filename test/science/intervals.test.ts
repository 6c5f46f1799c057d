// Intervals of the per-layer statistics (science/intervals.ts): Wilson against its closed forms and the
// published values, the count-based bootstrap against direct computation on expanded resamples, and the
// coverage of the percentile-bootstrap interval of a median in a seeded simulation.
import { describe, expect, it } from 'vitest';
import {
  bootstrapCounts,
  meanEstimate,
  medianEstimate,
  percentileInterval,
  proportionEstimate,
  spearmanEstimate,
  wilsonInterval,
} from '../../science/intervals.ts';
import { spearman } from '../../science/predict.ts';
import { median } from '../../science/layer-summary.ts';
import { lcg } from '../fixtures/synthetic-units.ts';

/** The values drawn by a resample, expanded from its counts. */
function expand<T>(values: readonly T[], counts: Int32Array): T[] {
  return values.flatMap((v, i) => new Array<T>(counts[i]!).fill(v));
}

describe('wilsonInterval', () => {
  it('matches the published 95% Wilson intervals for 0/10, 10/10 and 5/10 (0–0.2775, 0.7225–1, 0.2366–0.7634)', () => {
    // closed forms: 0/n → [0, z²/(n + z²)], n/n → [n/(n + z²), 1]; z = 1.959964
    const z2 = 1.959963984540054 ** 2;
    const zero = wilsonInterval(0, 10);
    expect(zero.lo).toBe(0);
    expect(zero.hi).toBeCloseTo(z2 / (10 + z2), 9);
    expect(zero.hi).toBeCloseTo(0.2775, 4);
    const all = wilsonInterval(10, 10);
    expect(all.lo).toBeCloseTo(10 / (10 + z2), 9);
    expect(all.lo).toBeCloseTo(0.7225, 4);
    expect(all.hi).toBe(1);
    const half = wilsonInterval(5, 10);
    expect(half.lo).toBeCloseTo(0.2366, 4);
    expect(half.hi).toBeCloseTo(0.7634, 4);
    // another tabulated case (Newcombe 1998, Table II: 81/263 → 0.2553–0.3662)
    const n263 = wilsonInterval(81, 263);
    expect(n263.lo).toBeCloseTo(0.2553, 4);
    expect(n263.hi).toBeCloseTo(0.3662, 4);
  });

  it('proportionEstimate: a percentage with its interval and n; n = 0 gives NaN with n 0', () => {
    expect(proportionEstimate(5, 10)).toEqual({ value: 50, lo: expect.closeTo(23.66, 2), hi: expect.closeTo(76.34, 2), n: 10 });
    const none = proportionEstimate(0, 0);
    expect(none.value).toBeNaN();
    expect(none.lo).toBeNaN();
    expect(none.n).toBe(0);
  });
});

describe('bootstrap', () => {
  it('draws n observations per resample, the same for the same seed and different for another', () => {
    const seen: number[][] = [];
    const sums = bootstrapCounts(7, (c) => (seen.push([...c]), c.reduce((a, b) => a + b, 0)), { reps: 50, seed: 3 });
    expect([...sums].every((s) => s === 7)).toBe(true);
    const again: number[][] = [];
    bootstrapCounts(7, (c) => (again.push([...c]), 0), { reps: 50, seed: 3 });
    expect(again).toEqual(seen);
    const other: number[][] = [];
    bootstrapCounts(7, (c) => (other.push([...c]), 0), { reps: 50, seed: 4 });
    expect(other).not.toEqual(seen);
    // every observation is drawn about equally often over many resamples
    const total = new Array(7).fill(0);
    bootstrapCounts(7, (c) => (c.forEach((k, i) => (total[i] += k)), 0), { reps: 4000, seed: 5 });
    for (const t of total) expect(Math.abs(t / 4000 - 1)).toBeLessThan(0.06);
  });

  it('the count-based median and Spearman equal the direct ones on the expanded resample (ties included)', () => {
    const rand = lcg(11);
    const x = Array.from({ length: 23 }, () => Math.floor(rand() * 8)); // many ties
    const y = x.map((v) => v + Math.floor(rand() * 6));
    const sorted = [...x].sort((a, b) => a - b);
    const direct: number[] = [];
    bootstrapCounts(23, (c) => (direct.push(median(expand(sorted, c))), 0), { reps: 200, seed: 9 });
    const m = medianEstimate(x, { reps: 200, seed: 9, level: 0.95 });
    // the percentile interval of the direct medians equals the estimate's
    const ref = percentileInterval(Float64Array.from(direct), 0.95);
    expect(m.lo).toBe(ref.lo);
    expect(m.hi).toBe(ref.hi);
    expect(m.value).toBe(median(x));
    // without ties, odd and even n: the interval from count-based medians equals the one from direct medians
    for (const n of [15, 16]) {
      const v = Array.from({ length: n }, () => rand());
      const vs = [...v].sort((a, b) => a - b);
      const viaDirect: number[] = [];
      bootstrapCounts(n, (c) => (viaDirect.push(median(expand(vs, c))), 0), { reps: 300, seed: 2 });
      const e = medianEstimate(v, { reps: 300, seed: 2, level: 0.95 });
      const r = percentileInterval(Float64Array.from(viaDirect), 0.95);
      expect([e.lo, e.hi]).toEqual([r.lo, r.hi]);
    }
    const sp: number[] = [];
    bootstrapCounts(23, (c) => (sp.push(spearman(expand(x, c), expand(y, c))), 0), { reps: 200, seed: 9 });
    const s = spearmanEstimate(x, y, { reps: 200, seed: 9, level: 0.95 });
    expect(s.value).toBeCloseTo(spearman(x, y), 12);
    const sref = percentileInterval(Float64Array.from(sp), 0.95);
    expect(s.lo).toBeCloseTo(sref.lo, 12);
    expect(s.hi).toBeCloseTo(sref.hi, 12);
    expect(s.n).toBe(23);
  });

  it('the 95% percentile-bootstrap interval of a median covers the true median in 92.5–97.5% of 1,000 seeded samples', () => {
    // Exponential(1) samples of n = 41: true median ln 2.
    const rand = lcg(2024);
    let covered = 0;
    const sims = 1000;
    for (let s = 0; s < sims; s++) {
      const v = Array.from({ length: 41 }, () => -Math.log(rand()));
      const e = medianEstimate(v, { reps: 1000, seed: s + 1, level: 0.95 });
      if (e.lo <= Math.LN2 && Math.LN2 <= e.hi) covered++;
    }
    expect(covered / sims).toBeGreaterThan(0.925);
    expect(covered / sims).toBeLessThan(0.975);
  });

  it('medians, means and correlations carry n; nothing to estimate gives NaN with n 0 (or the pair count)', () => {
    expect(medianEstimate([3, NaN, 1, 2]).n).toBe(3);
    expect(medianEstimate([NaN]).value).toBeNaN();
    expect(medianEstimate([]).n).toBe(0);
    expect(meanEstimate([1, 2, 3, Infinity])).toMatchObject({ value: 2, n: 3 });
    const tooFew = spearmanEstimate([1, 2], [2, 1]);
    expect(tooFew.value).toBeNaN();
    expect(tooFew.n).toBe(2);
    // a perfectly monotone relation: every resample with spread has ρ = 1
    const mono = spearmanEstimate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    expect(mono).toEqual({ value: 1, lo: 1, hi: 1, n: 12 });
  });
});

describe('interval edges (found by mutation testing)', () => {
  it('a Wilson interval of n = 0 is NaN; 0/n starts at 0 and n/n ends at 1 exactly', () => {
    const none = wilsonInterval(0, 0);
    expect(none.lo).toBeNaN();
    expect(none.hi).toBeNaN();
    for (const n of [1, 3, 7, 50, 263]) {
      expect(wilsonInterval(0, n).lo).toBe(0);
      expect(wilsonInterval(n, n).hi).toBe(1);
    }
  });

  it('percentile interval: NaN resamples are left out, and the interval is NaN once more than half are NaN', () => {
    const half = percentileInterval(Float64Array.from([1, NaN, 3, NaN]), 0.5); // quartiles of [1, 3]
    expect(half).toEqual({ lo: 1.5, hi: 2.5 });
    const most = percentileInterval(Float64Array.from([1, NaN, NaN]), 0.5);
    expect(most.lo).toBeNaN();
    expect(most.hi).toBeNaN();
    const empty = percentileInterval(new Float64Array(0), 0.95);
    expect(empty.lo).toBeNaN();
    expect(empty.hi).toBeNaN();
  });

  it('Spearman with exactly 3 pairs has a value; pairs with a non-finite side are left out of n', () => {
    const three = spearmanEstimate([1, 2, 3], [1, 3, 2], { reps: 50, seed: 1, level: 0.95 });
    expect(three.value).toBeCloseTo(0.5, 12); // 1 − 6·2/(3·8)
    expect(three.n).toBe(3);
    const e = spearmanEstimate([1, 2, NaN, 3, 4, 5], [1, 2, 3, Infinity, 5, 4], { reps: 50, seed: 1, level: 0.95 });
    expect(e.n).toBe(4);
    expect(e.value).toBeCloseTo(0.8, 12); // (1,1), (2,2), (4,5), (5,4): Σd² = 2
    // a constant side has no correlation
    expect(spearmanEstimate([1, 1, 1, 1], [1, 2, 3, 4]).value).toBeNaN();
  });

  it('mean and median of an odd and an even sample, with n', () => {
    expect(medianEstimate([5, 1, 3]).value).toBe(3);
    expect(medianEstimate([4, 1, 3, 2]).value).toBe(2.5);
    expect(meanEstimate([1, 2, 6])).toMatchObject({ value: 3, n: 3 });
    const none = meanEstimate([NaN]);
    expect([none.value, none.lo, none.hi, none.n]).toEqual([NaN, NaN, NaN, 0]);
  });
});
