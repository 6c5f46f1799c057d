// One-way ANOVA, F tail and Benjamini–Hochberg against hand-computed and closed-form answers.
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, fUpperTail, groupMeans, oneWayAnova } from '../../science/stats.ts';

// Builds a [stimulus × 1] response matrix and labels from groups of values.
function oneUnit(groups: number[][]): { resp: Float32Array; labels: Int32Array } {
  const values = groups.flat();
  const labels = Int32Array.from(groups.flatMap((g, k) => g.map(() => k)));
  return { resp: Float32Array.from(values), labels };
}

describe('fUpperTail', () => {
  it('matches the closed forms for d1 = 2: (1 + 2x/d2)^(−d2/2), and d2 = 2: 1 − (d1x/(d1x + 2))^(d1/2)', () => {
    for (const [x, d2] of [[0.5, 3], [27, 6], [4.2, 17], [1, 1]] as const) {
      expect(fUpperTail(x, 2, d2)).toBeCloseTo((1 + (2 * x) / d2) ** (-d2 / 2), 12);
    }
    for (const [x, d1] of [[0.3, 1], [3, 4], [10, 9]] as const) {
      expect(fUpperTail(x, d1, 2)).toBeCloseTo(1 - ((d1 * x) / (d1 * x + 2)) ** (d1 / 2), 12);
    }
  });
  it('keeps tiny p-values (no 1 − CDF cancellation): F(2, 1000) = 200 gives 1.4^−500', () => {
    const p = fUpperTail(200, 2, 1000);
    expect(Math.abs(Math.log(p) - -500 * Math.log(1.4))).toBeLessThan(1e-9);
  });
  it('edge cases: F ≤ 0 → 1, F = ∞ → 0, NaN → NaN', () => {
    expect(fUpperTail(0, 3, 10)).toBe(1);
    expect(fUpperTail(Infinity, 3, 10)).toBe(0);
    expect(fUpperTail(NaN, 3, 10)).toBeNaN();
  });
});

describe('oneWayAnova', () => {
  it('textbook case {1,2,3}, {4,5,6}, {7,8,9}: F = 27, p = 0.001', () => {
    const { resp, labels } = oneUnit([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const a = oneWayAnova(resp, 1, labels, 3);
    expect(a.dfBetween).toBe(2);
    expect(a.dfWithin).toBe(6);
    expect(a.F[0]).toBeCloseTo(27, 10);
    expect(a.p[0]).toBeCloseTo(0.001, 12);
  });
  it('unequal groups {2,3,7}, {4,6}, {8,9,10,13}: SSB = 638/9, SSW = 30, F = 319/45', () => {
    const { resp, labels } = oneUnit([[2, 3, 7], [4, 6], [8, 9, 10, 13]]);
    const a = oneWayAnova(resp, 1, labels, 3);
    expect(a.F[0]).toBeCloseTo(319 / 45, 10);
    expect(a.p[0]).toBeCloseTo((454 / 135) ** -3, 12);
  });
  it('vectorised over units: each column is its own ANOVA; constant units are untestable (NaN)', () => {
    const g1 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]].flat();
    const g2 = [[2, 3, 7], [4, 6, 5], [8, 9, 10]].flat();
    const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const resp = new Float32Array(9 * 4);
    for (let s = 0; s < 9; s++) {
      resp[s * 4] = g1[s]!;
      resp[s * 4 + 1] = 0; // dead unit
      resp[s * 4 + 2] = g2[s]!;
      resp[s * 4 + 3] = labels[s]!; // groups constant but different: F = ∞
    }
    const a = oneWayAnova(resp, 4, labels, 3);
    expect(a.F[0]).toBeCloseTo(27, 10);
    expect(a.F[1]).toBeNaN();
    expect(a.p[1]).toBeNaN();
    const single = oneWayAnova(Float32Array.from(g2), 1, labels, 3);
    expect(a.F[2]).toBeCloseTo(single.F[0]!, 12);
    expect(a.F[3]).toBe(Infinity);
    expect(a.p[3]).toBe(0);
  });
  it('group means are laid out [unit × group] and empty groups do not count in the degrees of freedom', () => {
    const { resp, labels } = oneUnit([[1, 2, 3], [], [7, 8, 9]]);
    const g = groupMeans(resp, 1, labels, 3);
    expect([...g.counts]).toEqual([3, 0, 3]);
    expect(g.means[0]).toBe(2);
    expect(g.means[1]).toBeNaN();
    const a = oneWayAnova(resp, 1, labels, 3);
    expect(a.dfBetween).toBe(1);
    expect(a.dfWithin).toBe(4);
    expect(a.F[0]).toBeCloseTo(54 / (4 / 4), 10); // SSB = 6·9 = 54, SSW = 4
  });
});

describe('benjaminiHochberg', () => {
  // Benjamini & Hochberg (1995), §4: 15 p-values; at FDR 0.05 the four smallest are rejected.
  const p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
  const q = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0638571, 0.0638571, 0.0645, 0.0765, 0.486, 0.581182, 0.714875, 0.753231, 0.813214, 1];
  it('q-values of the textbook example, in any input order', () => {
    const order = [7, 3, 14, 0, 11, 5, 9, 1, 13, 2, 8, 12, 4, 10, 6];
    const got = benjaminiHochberg(order.map((i) => p[i]!));
    order.forEach((i, j) => expect(got[j]).toBeCloseTo(q[i]!, 6));
    expect(got.filter((x) => x <= 0.05).length).toBe(4);
  });
  it('NaN p-values get NaN q and are not counted in m', () => {
    const got = benjaminiHochberg([0.01, NaN, 0.04]);
    expect(got[0]).toBeCloseTo(0.02, 12);
    expect(got[1]).toBeNaN();
    expect(got[2]).toBeCloseTo(0.04, 12);
  });
});

describe('statistics edges (found by mutation testing)', () => {
  it('groupMeans names a label outside 0..k−1 and a response matrix of the wrong size', () => {
    expect(() => groupMeans(Float32Array.from([1, 2]), 1, Int32Array.from([0, 3]), 3)).toThrow(/label 3 of stimulus 1 outside 0\.\.2/);
    expect(() => groupMeans(Float32Array.from([1, 2]), 1, Int32Array.from([-1, 0]), 3)).toThrow(/label -1 of stimulus 0 outside 0\.\.2/);
    expect(() => groupMeans(Float32Array.from([1, 2, 3]), 2, Int32Array.from([0, 1]), 3)).toThrow(/expected 2×2 responses, got 3/);
  });
  it('fUpperTail: no degrees of freedom → NaN; a negative F → 1', () => {
    expect(fUpperTail(2, 0, 10)).toBeNaN();
    expect(fUpperTail(2, 3, 0)).toBeNaN();
    expect(fUpperTail(-1, 3, 10)).toBe(1);
  });
  it('one stimulus per group leaves no within-group degrees of freedom: F and p NaN', () => {
    const a = oneWayAnova(Float32Array.from([1, 5, 9]), 1, Int32Array.from([0, 1, 2]), 3);
    expect(a.dfWithin).toBe(0);
    expect(a.F[0]).toBeNaN();
    expect(a.p[0]).toBeNaN();
  });
  it('a unit constant except for one stimulus is testable (the minimum and maximum are tracked over all stimuli)', () => {
    // {0, 0}, {0, 0}, {0, 6}: grand mean 1, SSB = 2·(1 + 1 + 4) = 12, SSW = 18; F = (12/2)/(18/3) = 1
    const a = oneWayAnova(Float32Array.from([0, 0, 0, 0, 0, 6]), 1, Int32Array.from([0, 0, 1, 1, 2, 2]), 3);
    expect(a.F[0]).toBeCloseTo(1, 12);
    const b = oneWayAnova(Float32Array.from([6, 0, 0, 0, 0, 0]), 1, Int32Array.from([0, 0, 1, 1, 2, 2]), 3);
    expect(b.F[0]).toBeCloseTo(1, 12);
  });
});

describe('statistics edges found by the Stryker run of 2026-12-07', () => {
  it('groupMeans counts no stimulus past the last: the counts are exactly one Int32Array entry per group', () => {
    // a loop running one stimulus too far reads label `undefined`, which passes the range check, and counts it
    // under the key "undefined" of the typed array
    const { resp, labels } = oneUnit([[1, 2, 3], [], [7, 8, 9]]);
    const g = groupMeans(resp, 1, labels, 3);
    expect(g.counts).toEqual(Int32Array.from([3, 0, 3]));
  });
  it('fUpperTail: P(F > 0) = 1 and P(F > ∞) = 0 without betainc, even where its x = d2/(d2 + d1·f) is NaN (∞ dof)', () => {
    // finite degrees of freedom cannot tell: betainc gives exactly 1 at x = 1 and 0 at x = 0
    // (a finite F > 0 with an infinite degree of freedom gives NaN: unsupported, the ANOVA's are finite)
    expect(fUpperTail(0, Infinity, 10)).toBe(1); // d1·f = ∞·0
    expect(fUpperTail(0, 3, Infinity)).toBe(1); // ∞/∞
    expect(fUpperTail(Infinity, 3, Infinity)).toBe(0); // ∞/∞
    expect(fUpperTail(Infinity, Infinity, Infinity)).toBe(0);
  });
  it('exactly one within-group degree of freedom is testable: {1, 3}, {5} gives F = 3, p = 1 − (2/π)·atan √3 = 1/3', () => {
    // F(1, 1): P(F ≤ f) = (2/π)·atan √f; means 2 and 5, grand 3, SSB = 2·1 + 1·4 = 6, SSW = 2
    const { resp, labels } = oneUnit([[1, 3], [5]]);
    const a = oneWayAnova(resp, 1, labels, 2);
    expect(a.dfBetween).toBe(1);
    expect(a.dfWithin).toBe(1);
    expect(a.F[0]).toBeCloseTo(3, 12);
    expect(a.p[0]).toBeCloseTo(1 / 3, 12);
  });
  it('a unit constant over all stimuli is NaN although its float64 group means round away from its value', () => {
    // 0.1f summed 49 times and multiplied by 1/49 is not 0.1f: SS_within > 0 by rounding, SS_between = 0, so only
    // the minimum = maximum test keeps F from being 0 (p = 1)
    const v = Math.fround(0.1);
    const { resp, labels } = oneUnit([0, 1, 2].map(() => new Array<number>(49).fill(v)));
    const g = groupMeans(resp, 1, labels, 3);
    expect(g.means[0]).not.toBe(v); // the premise: rounding
    const a = oneWayAnova(resp, 1, labels, 3);
    expect(a.F[0]).toBeNaN();
    expect(a.p[0]).toBeNaN();
  });
  it('a single non-empty group leaves no between-group degree of freedom: F and p NaN, not ∞', () => {
    // {1, 1.6, 1.6}: the grand mean n·m/n differs from the group mean m in the last bit, so SSB > 0 and SSB/0 = ∞
    const { resp, labels } = oneUnit([[], [1, 1.6, 1.6], []]);
    const a = oneWayAnova(resp, 1, labels, 3);
    expect(a.dfBetween).toBe(0);
    expect(a.dfWithin).toBe(2);
    expect(a.F[0]).toBeNaN();
    expect(a.p[0]).toBeNaN();
  });
  it('Benjamini–Hochberg: tied p-values get the same q whatever their index order (step-up over the tie)', () => {
    // m = 5, sorted 0.01, 0.02, 0.02, 0.02, 0.5: q = min(5·0.01/1, q₂) etc.: 0.02·5/4 = 0.025 for the tie
    const p = [0.02, 0.5, 0.02, 0.01, 0.02];
    const got = benjaminiHochberg(p);
    expect(got[0]).toBeCloseTo(0.025, 12);
    expect(got[2]).toBe(got[0]);
    expect(got[4]).toBe(got[0]);
    expect(got[3]).toBeCloseTo(0.025, 12); // min(0.05, 0.025): the step-up carries the tie's q down
    expect(got[1]).toBeCloseTo(0.5, 12);
    const reversed = benjaminiHochberg([...p].reverse());
    expect([...reversed].reverse()).toEqual([...got]);
  });
});
