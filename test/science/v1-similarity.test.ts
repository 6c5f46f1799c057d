// Brain-Score's ceiled KS similarity (science/v1-similarity.ts): the metric on analytic histograms, the bootstrap,
// and the checks on the real Ringach 2002 data (../shared/datasets/v1-reference, skipped when absent):
// identical samples score ≈ 1, all model mass in an end bin scores 0, the ceiling is < 1 and stable across seeds.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireOrSkip } from '../fixtures/require.ts';
import {
  binCounts,
  binIndex,
  binsOf,
  bootstrapSimilarities,
  ceiledSimilarity,
  ksSimilarity,
  layerScore,
  mean,
  percentileInterval,
  referenceCeiling,
  referenceFromCounts,
  referenceFromValues,
  resampleIndices,
} from '../../science/v1-similarity.ts';
import { philox4x32 } from '../../science/philox.ts';
import { readV1Reference } from '../../stages/v1-reference.ts';

const REFERENCE = path.resolve(import.meta.dirname, '../../../shared/datasets/v1-reference');
const hasReference = existsSync(path.join(REFERENCE, 'ringach2002.csv'));
requireOrSkip('shared', hasReference, `the Ringach 2002 similarity checks need ${REFERENCE}`);

const opts = (seed = 0, resamples = 1000) => ({ resamples, seed, level: 0.95 });

describe('binning with the data’s edges', () => {
  const edges = [0, 1, 2, 4];
  it('clips to the edge range; bins are [e_i, e_i+1), the last one closed (numpy.histogram)', () => {
    expect([-5, 0, 0.99, 1, 3.99, 4, 9].map((v) => binIndex(edges, v))).toEqual([0, 0, 0, 1, 2, 2, 2]);
    expect([...binsOf(edges, [NaN, 1.5, Infinity, 2])]).toEqual([1, 2]);
    expect([...binCounts(Int32Array.of(0, 2, 2, 1, 2), 3)]).toEqual([1, 1, 3]);
  });
  it('a reference from counts expands each bin by its count', () => {
    expect([...referenceFromCounts(edges, [2, 0, 1]).binOf]).toEqual([0, 0, 2]);
  });
});

describe('ksSimilarity = 1 − KS / KS_max', () => {
  it('is 1 for proportional histograms and 0 for the extreme histogram that is farthest from the data', () => {
    const q = [1, 2, 3, 4];
    expect(ksSimilarity([2, 4, 6, 8], q)).toBe(1);
    // Q = 0.1, 0.3, 0.6, 1: all mass first → KS = 0.9; all mass last → KS = 0.6; KS_max = 0.9.
    expect(ksSimilarity([1, 0, 0, 0], q)).toBeCloseTo(0, 15);
    expect(ksSimilarity([0, 0, 0, 5], q)).toBeCloseTo(1 - 0.6 / 0.9, 15);
    expect(ksSimilarity([0, 1, 1, 0], q)).toBeCloseTo(1 - Math.max(0.1, 0.2, 0.4) / 0.9, 15);
    expect(ksSimilarity([0, 0, 0, 0], q)).toBeNaN();
    // Mirror image: Q = 0.4, 0.7, 0.9, 1: the last end is the farthest (KS 0.9), the first scores 1 − 0.6/0.9.
    expect(ksSimilarity([0, 0, 0, 1], [4, 3, 2, 1])).toBeCloseTo(0, 15);
    expect(ksSimilarity([1, 0, 0, 0], [4, 3, 2, 1])).toBeCloseTo(1 - 0.6 / 0.9, 15);
  });
  it('is never below 0: KS_max is the largest KS any histogram can have against the data', () => {
    const q = [3, 0, 5, 1, 1];
    for (let k = 0; k < 200; k++) {
      const p = q.map((_, i) => ((k * 7919 + i * 104729) % 13) * ((k + i) % 3));
      if (p.every((x) => x === 0)) continue;
      expect(ksSimilarity(p, q)).toBeGreaterThanOrEqual(-1e-15);
    }
  });
});

describe('bootstrap', () => {
  it('resample indices are uniform in [0, n), deterministic per (seed, stream, replicate)', () => {
    const a = resampleIndices(7, 70000, 3, 1, 0);
    const counts = binCounts(a, 7);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500); // 5 SD of a binomial(70000, 1/7)
    expect([...resampleIndices(7, 50, 3, 1, 0)]).toEqual([...a.subarray(0, 50)]);
    expect([...resampleIndices(7, 50, 4, 1, 0)]).not.toEqual([...a.subarray(0, 50)]);
    expect([...resampleIndices(7, 50, 3, 2, 0)]).not.toEqual([...a.subarray(0, 50)]);
    expect([...resampleIndices(7, 50, 3, 1, 1)]).not.toEqual([...a.subarray(0, 50)]);
  });
  it('resamples the model to the data’s n: a 2-value model gives binomial(n, ½) histograms', () => {
    const ref = referenceFromCounts([0, 1, 2], [30, 10]); // n = 40
    const sims = bootstrapSimilarities(Int32Array.of(0, 1), ref, { resamples: 2000, seed: 1 }, 0);
    // data CDF (0.75, 1); KS_max = max(1 − 0.75, 0.75) = 0.75; model with k of 40 in bin 0: KS = |k/40 − 0.75|.
    const expected = Array.from({ length: 41 }, (_, k) => 1 - Math.abs(k / 40 - 0.75) / 0.75);
    for (const s of sims) expect(expected.some((e) => Math.abs(e - s) < 1e-12)).toBe(true);
    const mean = sims.reduce((a, b) => a + b, 0) / sims.length;
    // E|k/40 − 0.75| for k ~ Binomial(40, ½): ≈ 0.25 (the model's 0.5 is 0.25 from the data's 0.75)
    expect(mean).toBeCloseTo(1 - 0.25 / 0.75, 1);
  });
  it('percentile interval: numpy linear interpolation', () => {
    expect(percentileInterval([4, 1, 3, 2, 5], 0.5)).toEqual([2, 4]);
    const [lo, hi] = percentileInterval([0, 10], 0.9);
    expect(lo).toBeCloseTo(0.5, 12);
    expect(hi).toBeCloseTo(9.5, 12);
  });
  it('percentile interval: non-finite values left out, none left → NaN, coverage 1 → the extremes, one value → itself', () => {
    expect(percentileInterval([NaN, 3, Infinity, 1, -Infinity, 2], 0.5)).toEqual([1.5, 2.5]);
    expect(percentileInterval([NaN, Infinity], 0.9)).toEqual([NaN, NaN]);
    expect(percentileInterval([], 0.9)).toEqual([NaN, NaN]);
    expect(percentileInterval([3, 1, 2], 1)).toEqual([1, 3]);
    expect(percentileInterval([5], 0.9)).toEqual([5, 5]);
  });
  it('mean of the finite values only; NaN when there is none', () => {
    expect(mean([1, NaN, 3, Infinity, -Infinity, 5])).toBe(3);
    expect(mean([NaN, Infinity])).toBeNaN();
    expect(mean([])).toBeNaN();
  });
  it('layer score of no property: NaN with a NaN interval', () => {
    expect(layerScore([], 0.95)).toEqual({ score: NaN, lo: NaN, hi: NaN });
  });
  it('resample indices are ⌊word·n/2³²⌋, word i mod 4 of Philox4x32-10 at counter (⌊i/4⌋, replicate, stream, 0), key (seed mod 2³², ⌊seed/2³²⌋)', () => {
    const seed = 5 * 2 ** 32 + 3;
    const words = new Uint32Array(4);
    const expected = Array.from({ length: 10 }, (_, i) => {
      philox4x32(Math.floor(i / 4), 4, 2, 0, 3, 5, words);
      return Math.floor((words[i % 4]! * 10) / 2 ** 32);
    });
    expect([...resampleIndices(10, 10, seed, 2, 4)]).toEqual(expected);
    expect([...resampleIndices(10, 10, 3, 2, 4)]).not.toEqual(expected); // the key's high word counts
  });
  it('the ceiling is the mean similarity of the data’s own resamples: 1 for one bin, ½ for two equal bins', () => {
    // one bin: every resample is the data. Two values in two bins (n = 2): Q = (½, 1), KS_max = ½; a resample with k
    // of 2 in bin 0 has KS |k/2 − ½|, similarity 1 − |k − 1|: 1 with probability ½ (k = 1), else 0.
    expect(referenceCeiling(referenceFromCounts([0, 1, 2, 3], [0, 5, 0]), { resamples: 20, seed: 1 }, 0)).toBe(1);
    const two = referenceFromCounts([0, 1, 2], [1, 1]);
    const sims = bootstrapSimilarities(two.binOf, two, { resamples: 4000, seed: 1 }, 0);
    for (const s of sims) expect([0, 1]).toContain(s);
    const c = referenceCeiling(two, { resamples: 4000, seed: 1 }, 0);
    expect(Math.abs(c - 0.5)).toBeLessThan(0.04); // 5 SD of a mean of 4000 Bernoulli(½)
  });
  it('layer score = mean of the properties; interval from the paired resamples', () => {
    const p = (v: number[]) => ({ score: v.reduce((a, b) => a + b, 0) / v.length, lo: 0, hi: 0, n: 1, resamples: Float64Array.from(v) });
    const s = layerScore([p([0, 1, 2, 3, 4]), p([4, 3, 2, 1, 0])], 0.5);
    expect(s).toEqual({ score: 2, lo: 2, hi: 2 }); // paired: every resample's mean is 2
  });
});

describe('ceiled similarity', () => {
  // built inside each test, not while the file is collected (Stryker never activates a mutant there: docs/testing.md)
  const ref = () => referenceFromValues([0, 1, 2, 3, 4], [0.5, 1.5, 1.5, 2.5, 2.5, 2.5, 3.5, 1.2, 2.2, 2.8]);
  it('a reference from values: the edges copied, the bins of the finite values (clipped)', () => {
    const r = referenceFromValues([0, 1, 2], [0.5, NaN, 1.5, 7, -Infinity, -3]);
    expect(r.edges).toEqual(Float64Array.of(0, 1, 2));
    expect(r.binOf).toEqual(Int32Array.of(0, 1, 1, 0));
  });
  it('a model with no finite value scores 0 with interval [0, 0] and n = 0', () => {
    const s = ceiledSimilarity([NaN, NaN], ref(), 0.9, opts(), 0);
    expect([s.score, s.lo, s.hi, s.n]).toEqual([0, 0, 0, 0]);
  });
  it('every resample of a one-bin model is the same histogram: similarity / ceiling, with a zero-width interval', () => {
    // data counts (1, 2, 1): Q = (¼, ¾, 1), KS_max = max(¾, ¾) = ¾; the model's 3 values all in bin 1: P = (0, 1, 1),
    // KS = ¼, similarity 1 − ¼/¾ = ⅔, ceiled by 0.8: ⅚
    const s = ceiledSimilarity([1.2, 1.5, NaN, 1.9], referenceFromCounts([0, 1, 2, 3], [1, 2, 1]), 0.8, opts(2, 50), 0);
    expect(s.n).toBe(3);
    expect(s.score).toBeCloseTo(5 / 6, 12);
    expect(s.lo).toBeCloseTo(5 / 6, 12);
    expect(s.hi).toBeCloseTo(5 / 6, 12);
    for (const x of s.resamples) expect(x).toBeCloseTo(5 / 6, 12);
  });
  it('is deterministic given the seed; another seed moves it by bootstrap noise only', () => {
    const model = [0.2, 1.1, 1.7, 2.3, 2.9, 3.3, 3.9];
    const a = ceiledSimilarity(model, ref(), 0.9, opts(5), 0);
    expect(ceiledSimilarity(model, ref(), 0.9, opts(5), 0)).toEqual(a);
    const b = ceiledSimilarity(model, ref(), 0.9, opts(6), 0);
    expect(b.score).not.toBe(a.score);
    expect(Math.abs(b.score - a.score)).toBeLessThan(0.02);
    expect(a.lo).toBeLessThanOrEqual(a.score);
    expect(a.hi).toBeGreaterThanOrEqual(a.score);
  });
});

describe.skipIf(!hasReference)('on the Ringach 2002 data (../shared/datasets/v1-reference)', () => {
  it('identical samples: the data as the model scores ≈ 1 on every Ringach property', async () => {
    const { reference } = await readV1Reference(REFERENCE);
    const lines: string[] = [];
    for (const name of ['circular_variance', 'ori_bandwidth', 'orth_pref_ratio', 'ori_selective', 'modulation_ratio']) {
      const r = reference[name]!;
      const ceiling = referenceCeiling(r.distribution, opts(), 1);
      const s = ceiledSimilarity(r.values!, r.distribution, ceiling, opts(), 0);
      lines.push(`${name} ${s.score.toFixed(4)} [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}]`);
      expect(Math.abs(s.score - 1), name).toBeLessThan(0.01);
      expect(s.lo).toBeLessThan(1);
      expect(s.hi).toBeGreaterThan(1);
    }
    console.log(`Ringach data against itself (ceiled, 1,000 resamples): ${lines.join('; ')}`);
  });

  it('all model mass in the first or the last bin scores 0 where that end is farthest from the data', async () => {
    const { reference } = await readV1Reference(REFERENCE);
    // Bandwidth: no V1 neuron in the first or last bin, so both ends are as far as possible → 0 and 0.
    const bw = reference['ori_bandwidth']!;
    const cBw = referenceCeiling(bw.distribution, opts(), 1);
    expect(ceiledSimilarity([0.5, 1, 2], bw.distribution, cBw, opts(), 0).score).toBeCloseTo(0, 12);
    expect(ceiledSimilarity([89, 95, 180], bw.distribution, cBw, opts(), 0).score).toBeCloseTo(0, 12);
    // Circular variance: 4 of 304 in the first bin, 12 in the last: the first end is the farthest → 0; the last
    // end scores 1 − (1 − 12/304)/(1 − 4/304) before the ceiling.
    const cv = reference['circular_variance']!;
    const cCv = referenceCeiling(cv.distribution, opts(), 1);
    expect(ceiledSimilarity([0, 0.01, -3], cv.distribution, cCv, opts(), 0).score).toBeCloseTo(0, 12);
    const last = ceiledSimilarity([0.99, 1, 5], cv.distribution, cCv, opts(), 0);
    expect(last.score).toBeCloseTo((1 - (1 - 12 / 304) / (1 - 4 / 304)) / cCv, 12);
    expect(last.hi - last.lo).toBeLessThan(1e-12); // every resample is the same histogram
  });

  it('the ceiling (data against its own bootstrap) is < 1 and stable across seeds', async () => {
    const { reference } = await readV1Reference(REFERENCE);
    const lines: string[] = [];
    for (const name of ['circular_variance', 'ori_bandwidth', 'orth_pref_ratio', 'modulation_ratio', 'peak_sf', 'sf_bandwidth']) {
      const c = [0, 1, 2, 3, 4].map((seed) => referenceCeiling(reference[name]!.distribution, { resamples: 1000, seed }, 1));
      lines.push(`${name} ${c.map((x) => x.toFixed(4)).join(' ')}`);
      for (const x of c) {
        expect(x, name).toBeLessThan(1);
        expect(x, name).toBeGreaterThan(0.85);
      }
      expect(Math.max(...c) - Math.min(...c), name).toBeLessThan(0.005);
    }
    console.log(`ceilings, seeds 0–4 (1,000 resamples each): ${lines.join('; ')}`);
  });
});
