// The recorded V1 distributions the comparison uses, from the parsed reference files (../shared/datasets/
// v1-reference): Ringach, Shapley & Hawken 2002 per neuron (responsive = maxdc > spont + 5 spikes/s, n = 304, as
// Brain-Score), and the digitized De Valois 1982 / Schiller 1976 histograms. Bin edges are the data's own
// (histograms.json). Pure: stages/v1-reference.ts reads and checks the files.
// Tested in test/science/v1-reference.test.ts (hand-made data) and test/stages/v1-reference.test.ts (the real files).
import { V1_PROPERTIES, type V1Dataset } from './v1-catalogue.ts';
import { V1_CONSTANTS } from './v1-properties.ts';
import { referenceFromCounts, referenceFromValues, type ReferenceDistribution } from './v1-similarity.ts';

/** The Ringach 2002 columns used (one value per recorded neuron). */
export interface RingachColumns {
  /** Circular variance. */
  orivar: Float64Array;
  /** Orientation half-bandwidth at 0.707, degrees (180 = untuned). */
  bw: Float64Array;
  /** Orthogonal/preferred ratio. */
  po: Float64Array;
  /** Mean response at the preferred orientation, spikes/s. */
  maxdc: Float64Array;
  /** F1 at the preferred orientation, spikes/s. */
  maxfirst: Float64Array;
  /** Spontaneous rate, spikes/s. */
  spont: Float64Array;
}

/** The Ringach column names the comparison reads. */
export const RINGACH_COLUMNS: readonly (keyof RingachColumns)[] = ['orivar', 'bw', 'po', 'maxdc', 'maxfirst', 'spont'];

/** One histogram of histograms.json. */
export interface Histogram {
  bin_edges: number[];
  counts: number[];
}

/** histograms.json: dataset → property → histogram. */
export type HistogramFile = Record<string, Record<string, Histogram>>;

/** Per-neuron V1 property values of Ringach 2002's responsive neurons (Brain-Score's Ringach2002 assembly). */
export interface RingachProperties {
  /** Neurons in the file, and responsive ones (maxdc > spont + 5 spikes/s). */
  recorded: number;
  responsive: number;
  circularVariance: Float64Array;
  /** Half-bandwidth, degrees; NaN above 90° (not orientation selective). */
  oriBandwidth: Float64Array;
  orthPrefRatio: Float64Array;
  oriSelective: Float64Array;
  /** maxfirst / maxdc. */
  modulationRatio: Float64Array;
  maxDc: Float64Array;
  spont: Float64Array;
}

/** Ringach 2002's responsive neurons and their properties, exactly as Brain-Score packages them. */
export function ringachProperties(c: RingachColumns): RingachProperties {
  const keep: number[] = [];
  for (let i = 0; i < c.maxdc.length; i++) if (c.maxdc[i]! > c.spont[i]! + V1_CONSTANTS.responseThreshold) keep.push(i);
  const pick = (f: (i: number) => number) => Float64Array.from(keep, f);
  return {
    recorded: c.maxdc.length,
    responsive: keep.length,
    circularVariance: pick((i) => c.orivar[i]!),
    oriBandwidth: pick((i) => (c.bw[i]! > 90 ? NaN : c.bw[i]!)),
    orthPrefRatio: pick((i) => c.po[i]!),
    oriSelective: pick((i) => (c.bw[i]! > 90 || Number.isNaN(c.bw[i]!) ? 0 : 1)),
    modulationRatio: pick((i) => c.maxfirst[i]! / c.maxdc[i]!),
    maxDc: pick((i) => c.maxdc[i]!),
    spont: pick((i) => c.spont[i]!),
  };
}

/** One compared property's reference: where it comes from and its distribution. */
export interface V1ReferenceProperty {
  dataset: V1Dataset;
  histogram: string;
  distribution: ReferenceDistribution;
  /** The data values (Ringach: per neuron, NaN kept out) — absent for digitized histograms. */
  values?: Float64Array;
}

/** Every compared property's reference distribution, by V1_PROPERTIES name. */
export type V1Reference = Record<string, V1ReferenceProperty>;

// Ringach values per histogram key of histograms.json's Ringach2002 entry.
function ringachValues(r: RingachProperties, histogram: string): Float64Array {
  switch (histogram) {
    case 'circular_variance':
      return r.circularVariance;
    case 'bandwidth':
      return r.oriBandwidth;
    case 'orthogonal_preferred_ratio':
      return r.orthPrefRatio;
    case 'orientation_selective':
      return r.oriSelective;
    case 'modulation_ratio':
      return r.modulationRatio;
    default:
      throw new Error(`v1 reference: no Ringach 2002 column gives '${histogram}'`);
  }
}

/**
 * The reference of every V1_PROPERTIES entry: Ringach properties from the per-neuron values (clipped and binned
 * with the file's bin edges), the other datasets from their digitized counts. Throws naming the missing
 * dataset/histogram when histograms.json lacks one.
 */
export function buildV1Reference(ringach: RingachProperties, histograms: HistogramFile): V1Reference {
  const out: V1Reference = {};
  for (const p of V1_PROPERTIES) {
    const h = histograms[p.dataset]?.[p.histogram];
    if (!h) throw new Error(`histograms.json has no ${p.dataset}.${p.histogram} (bin_edges and counts)`);
    if (p.dataset === 'Ringach2002') {
      const values = ringachValues(ringach, p.histogram);
      out[p.name] = { dataset: p.dataset, histogram: p.histogram, distribution: referenceFromValues(h.bin_edges, values), values: values.filter(Number.isFinite) };
    } else {
      out[p.name] = { dataset: p.dataset, histogram: p.histogram, distribution: referenceFromCounts(h.bin_edges, h.counts) };
    }
  }
  return out;
}
