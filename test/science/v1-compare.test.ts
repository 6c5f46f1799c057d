// science/v1-compare.ts on hand-made layers: the model sample (finite values of responsive units), the per-layer
// counts and medians, and similarities whose value is known by hand. A model sample holding one value is the same
// in every bootstrap resample, so its ceiled similarity is 1 − KS/KS_max of two fixed histograms divided by the
// given ceiling; which bootstrap stream each property and ceiling uses is the file's documented contract (property i:
// stream 2i; a reference histogram's ceiling: stream 2j + 1 of the first property j using it).
import { describe, expect, it } from 'vitest';
import { V1_PROPERTIES } from '../../science/v1-catalogue.ts';
import { compareLayer, modelSample, referenceCeilings } from '../../science/v1-compare.ts';
import type { V1UnitProperties } from '../../science/v1-properties.ts';
import type { V1Reference } from '../../science/v1-reference.ts';
import { ceiledSimilarity, referenceCeiling, referenceFromCounts } from '../../science/v1-similarity.ts';

const OPTIONS = { resamples: 40, seed: 7, level: 0.9 };
const MAP = { slope: 2.5, offset: -1.25, fitted: 3 };

/** Units whose every property has the values `of(property index)` (one per unit). */
function units(responsive: number[], of: (i: number) => number[]): V1UnitProperties {
  const u: Record<string, unknown> = { nUnits: responsive.length, responsive: Uint8Array.from(responsive) };
  V1_PROPERTIES.forEach((p, i) => (u[p.unit] = Float64Array.from(of(i))));
  for (const k of ['baseline', 'maxDc', 'minDc', 'maxAc', 'prefThetaDeg', 'prefSf']) u[k] = new Float64Array(responsive.length);
  return u as unknown as V1UnitProperties;
}

/** Every property's reference: counts over the bins [0, 1), [1, 2), [2, 3]. */
function reference(counts: (i: number) => number[]): V1Reference {
  return Object.fromEntries(
    V1_PROPERTIES.map((p, i) => [p.name, { dataset: p.dataset, histogram: p.histogram, distribution: referenceFromCounts([0, 1, 2, 3], counts(i)) }]),
  );
}

describe('modelSample', () => {
  it('the finite values of the responsive units, in unit order', () => {
    const u = units([1, 0, 1, 1, 1, 1], () => [0.5, 9, NaN, 2, Infinity, -Infinity]);
    expect([...modelSample(u, 'circularVariance')]).toEqual([0.5, 2]);
    expect(modelSample(units([0, 0], () => [1, 2]), 'peakSf')).toEqual(new Float64Array(0));
  });
});

describe('compareLayer without a reference', () => {
  it('counts, the affine map, each property’s n and median; NaN similarities and score', () => {
    // responsive units 0, 2, 3, 4 (unit 1 is not); property i's values put n and the median to the test
    const values = [
      [3, 100, 1, 2, NaN], // odd n = 3, unsorted: median 2
      [4, 100, 1, 3, 2], // even n = 4: (2 + 3) / 2
      [NaN, 100, NaN, NaN, NaN], // none: NaN
      [10, 100, 9, 100, NaN], // numeric order (as text 100 < 9): 10
      [-1, 100, -3, -2, Infinity], // −2
      [5, 5, 5, 5, 5],
      [0.25, 0, 0.5, 0.75, 1], // (0.5 + 0.75) / 2
      [7, 0, 7, 7, 7],
      [1, 1, 1, 1, 1],
    ];
    const row = compareLayer('conv1', units([1, 0, 1, 1, 1], (i) => values[i]!), MAP, null);
    expect(row).toMatchObject({ layer: 'conv1', v1_n_units: 5, v1_n_responsive: 4, v1_slope: 2.5, v1_offset: -1.25 });
    expect([row.v1_score, row.v1_score_lo, row.v1_score_hi]).toEqual([NaN, NaN, NaN]);
    const n = V1_PROPERTIES.map((p) => row[`v1_${p.name}_n`]);
    const median = V1_PROPERTIES.map((p) => row[`v1_${p.name}_median`]);
    expect(n).toEqual([3, 4, 0, 3, 3, 4, 4, 4, 4]);
    expect(median).toEqual([2, 2.5, NaN, 10, -2, 5, 0.625, 7, 1]);
    for (const p of V1_PROPERTIES) expect([row[`v1_${p.name}`], row[`v1_${p.name}_lo`], row[`v1_${p.name}_hi`]], p.name).toEqual([NaN, NaN, NaN]);
    expect(Object.keys(row)).toHaveLength(8 + 5 * V1_PROPERTIES.length);
  });
});

describe('compareLayer against a reference', () => {
  it('one-valued samples: each property’s similarity / ceiling by hand; the score is the mean over the scored ones', () => {
    // reference counts 1, 2, 1: cumulative Q = ¼, ¾, 1. A sample wholly in bin 1 (value 1.5) has P = 0, 1, 1:
    // KS = ¼, KS_max = max over the extreme histograms = ¾, similarity 1 − ¼/¾ = ⅔; wholly in bin 0 (0.5): KS = ¾,
    // similarity 0. Ceilings 0.8 (given): ⅔ / 0.8 = 5/6. peak_sf and the unscored raw F1/F0 sit in bin 0.
    const peak = V1_PROPERTIES.findIndex((p) => p.name === 'peak_sf');
    const raw = V1_PROPERTIES.findIndex((p) => p.name === 'modulation_ratio_raw');
    const value = (i: number) => (i === peak || i === raw ? 0.5 : 1.5);
    // unit 1 is not responsive (its value would move the sample to bin 2), unit 2's value is not finite
    const layer = units([1, 0, 1, 1], (i) => [value(i), 2.5, NaN, value(i)]);
    const ceilings = Object.fromEntries(V1_PROPERTIES.map((p) => [p.name, 0.8]));
    const row = compareLayer('conv2', layer, MAP, { reference: reference(() => [1, 2, 1]), ceilings, options: OPTIONS });
    for (const [i, p] of V1_PROPERTIES.entries()) {
      const want = i === peak || i === raw ? 0 : 5 / 6;
      for (const col of ['', '_lo', '_hi']) expect(row[`v1_${p.name}${col}`], `v1_${p.name}${col}`).toBeCloseTo(want, 12);
      expect(row[`v1_${p.name}_n`]).toBe(2);
      expect(row[`v1_${p.name}_median`]).toBe(value(i));
    }
    // 8 scored properties, 7 of them 5/6 (with the raw F1/F0's 0 it would be 7·5/6 / 9)
    for (const col of ['v1_score', 'v1_score_lo', 'v1_score_hi']) expect(row[col], col).toBeCloseTo((7 * 5) / 6 / 8, 12);
  });

  it('a property with no model value scores 0, interval [0, 0]', () => {
    const layer = units([1, 1], () => [NaN, NaN]);
    const ceilings = Object.fromEntries(V1_PROPERTIES.map((p) => [p.name, 0.8]));
    const row = compareLayer('conv3', layer, MAP, { reference: reference(() => [1, 2, 1]), ceilings, options: OPTIONS });
    for (const p of V1_PROPERTIES) expect([row[`v1_${p.name}`], row[`v1_${p.name}_lo`], row[`v1_${p.name}_hi`], row[`v1_${p.name}_n`]]).toEqual([0, 0, 0, 0]);
    expect([row.v1_score, row.v1_score_lo, row.v1_score_hi]).toEqual([0, 0, 0]);
  });

  it('property i’s model resamples come from bootstrap stream 2i', () => {
    // spread samples (values in all three bins): the resamples, and so the interval, depend on the stream
    const layer = units([1, 1, 1, 1, 1], () => [0.5, 1.5, 2.5, 1.5, 0.2]);
    const ref = reference((i) => [i + 1, 3, 2]);
    const ceilings = Object.fromEntries(V1_PROPERTIES.map((p, i) => [p.name, 0.5 + i / 20]));
    const row = compareLayer('conv4', layer, MAP, { reference: ref, ceilings, options: OPTIONS });
    const sample = Float64Array.from([0.5, 1.5, 2.5, 1.5, 0.2]);
    for (const [i, p] of V1_PROPERTIES.entries()) {
      const at = (stream: number) => ceiledSimilarity(sample, ref[p.name]!.distribution, ceilings[p.name]!, OPTIONS, stream);
      const mine = at(2 * i);
      expect([row[`v1_${p.name}`], row[`v1_${p.name}_lo`], row[`v1_${p.name}_hi`]], p.name).toEqual([mine.score, mine.lo, mine.hi]);
      const other = at(2 * i + 1);
      expect([other.score, other.lo, other.hi], `${p.name}: the stream matters`).not.toEqual([mine.score, mine.lo, mine.hi]);
    }
  });
});

describe('referenceCeilings', () => {
  it('a one-bin reference’s ceiling is 1; each histogram’s ceiling from stream 2j + 1 of the first property j using it', () => {
    // all mass in bin 1: every bootstrap resample of the data equals the data (KS 0), so the ceiling is exactly 1
    const single = referenceCeilings(reference(() => [0, 4, 0]), OPTIONS);
    expect(Object.keys(single)).toEqual(V1_PROPERTIES.map((p) => p.name));
    for (const p of V1_PROPERTIES) expect(single[p.name], p.name).toBe(1);
    // spread references; modulation_ratio_raw shares Ringach2002.modulation_ratio with modulation_ratio (index 4):
    // its ceiling is modulation_ratio's even where its own distribution (one bin) would give 1
    const mr = V1_PROPERTIES.findIndex((p) => p.name === 'modulation_ratio');
    const raw = V1_PROPERTIES.findIndex((p) => p.name === 'modulation_ratio_raw');
    expect([mr, raw, V1_PROPERTIES[raw]!.histogram]).toEqual([4, 5, V1_PROPERTIES[mr]!.histogram]);
    const ref = reference((i) => (i === raw ? [0, 4, 0] : [i + 1, 3, 2]));
    const c = referenceCeilings(ref, OPTIONS);
    for (const [i, p] of V1_PROPERTIES.entries()) {
      const j = i === raw ? mr : i;
      const want = referenceCeiling(ref[V1_PROPERTIES[j]!.name]!.distribution, OPTIONS, 2 * j + 1);
      expect(c[p.name], p.name).toBe(want);
      expect(want, `${p.name}: the stream matters`).not.toBe(referenceCeiling(ref[V1_PROPERTIES[j]!.name]!.distribution, OPTIONS, 2 * j));
    }
    expect(c['modulation_ratio_raw']).not.toBe(1);
  });
});
