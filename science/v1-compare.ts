// One layer against V1: the ceiled similarity of each property's distribution over the layer's responsive units
// (V1_PROPERTIES) and the layer's V1 score, as a row of V1_LAYER_COLUMNS. Bootstrap streams: property i's model
// resamples use stream 2i, the ceiling of a reference histogram the stream 2j + 1 of the first property j that
// uses it, so every layer sees the same ceilings and the same resampling indices (deterministic given the seed).
// Tested in test/science/v1-compare.test.ts (known answers) and test/stages/v1.test.ts.
import { V1_PROPERTIES, type V1LayerRow } from './v1-catalogue.ts';
import type { FiringRateMap, V1UnitProperties } from './v1-properties.ts';
import type { V1Reference } from './v1-reference.ts';
import { ceiledSimilarity, layerScore, referenceCeiling, type BootstrapOptions, type CeiledSimilarity } from './v1-similarity.ts';

/** Bootstrap settings of the comparison (v1.bootstrap, v1.seed, v1.level). */
export type CompareOptions = BootstrapOptions & { level: number };

/** The ceiling of every compared property (by V1_PROPERTIES name). */
export function referenceCeilings(reference: V1Reference, options: BootstrapOptions): Record<string, number> {
  const byHistogram = new Map<string, number>();
  const out: Record<string, number> = {};
  V1_PROPERTIES.forEach((p, i) => {
    const key = `${p.dataset}.${p.histogram}`;
    if (!byHistogram.has(key)) byHistogram.set(key, referenceCeiling(reference[p.name]!.distribution, options, 2 * i + 1));
    out[p.name] = byHistogram.get(key)!;
  });
  return out;
}

/** The model sample of a property: finite values of the responsive units. */
export function modelSample(units: V1UnitProperties, key: (typeof V1_PROPERTIES)[number]['unit']): Float64Array {
  const v: number[] = [];
  const values = units[key];
  for (let u = 0; u < units.nUnits; u++) if (units.responsive[u] && Number.isFinite(values[u])) v.push(values[u]!);
  return Float64Array.from(v);
}

// Median of an array (NaN when empty).
function median(v: Float64Array): number {
  if (v.length === 0) return NaN;
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A layer's row of V1_LAYER_COLUMNS: counts and the affine map, per property the ceiled similarity with its
 * interval, n and the model median, and the V1 score over the scored properties. Without a reference (skipped)
 * the similarity and score columns are NaN.
 */
export function compareLayer(
  layer: string,
  units: V1UnitProperties,
  map: FiringRateMap,
  comparison: { reference: V1Reference; ceilings: Record<string, number>; options: CompareOptions } | null,
): V1LayerRow {
  let responsive = 0;
  for (let u = 0; u < units.nUnits; u++) responsive += units.responsive[u]!;
  const row: V1LayerRow = { layer, v1_n_units: units.nUnits, v1_n_responsive: responsive, v1_slope: map.slope, v1_offset: map.offset, v1_score: NaN, v1_score_lo: NaN, v1_score_hi: NaN };
  const scored: CeiledSimilarity[] = [];
  V1_PROPERTIES.forEach((p, i) => {
    const sample = modelSample(units, p.unit);
    let sim: CeiledSimilarity | null = null;
    if (comparison) sim = ceiledSimilarity(sample, comparison.reference[p.name]!.distribution, comparison.ceilings[p.name]!, comparison.options, 2 * i);
    row[`v1_${p.name}`] = sim ? sim.score : NaN;
    row[`v1_${p.name}_lo`] = sim ? sim.lo : NaN;
    row[`v1_${p.name}_hi`] = sim ? sim.hi : NaN;
    row[`v1_${p.name}_n`] = sample.length;
    row[`v1_${p.name}_median`] = median(sample);
    if (sim && p.scored) scored.push(sim);
  });
  if (comparison) {
    const s = layerScore(scored, comparison.options.level);
    row.v1_score = s.score;
    row.v1_score_lo = s.lo;
    row.v1_score_hi = s.hi;
  }
  return row;
}
