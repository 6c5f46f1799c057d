// The one place that declares the V1 comparison's properties and per-layer columns: which per-unit property is
// compared with which recorded V1 distribution (dataset and histogram of ../shared/datasets/v1-reference/
// histograms.json), which ones count towards a layer's V1 score, and every per-layer column name with its meaning.
// Tested in test/science/v1-catalogue.test.ts (the declared lists) and test/report/v1.test.ts.
import type { V1UnitProperties } from './v1-properties.ts';

/** The reference datasets (keys of histograms.json). */
export type V1Dataset = 'Ringach2002' | 'DeValois1982b' | 'Schiller1976c';

/** Numeric per-unit properties (the typed arrays of V1UnitProperties). */
export type V1UnitKey = Exclude<keyof V1UnitProperties, 'nUnits' | 'responsive'>;

/** One compared property. */
export interface V1PropertySpec {
  /** Name; the layer columns are v1_<name>, v1_<name>_lo, … */
  name: string;
  /** One line: what the unit value is. */
  meaning: string;
  /** Per-unit values compared (responsive units only). */
  unit: V1UnitKey;
  dataset: V1Dataset;
  /** Histogram key in histograms.json[dataset]: its bin edges (and its counts for digitized data). */
  histogram: string;
  /** Counts towards the layer's V1 score (the raw F1/F0 is reported beside the mapped one, not scored). */
  scored: boolean;
}

/** The compared properties, in column order. */
export const V1_PROPERTIES = [
  { name: 'circular_variance', meaning: 'circular variance 1 − |Σ R e^{2iθ}|/Σ|R| of the orientation curve at the preferred SF', unit: 'circularVariance', dataset: 'Ringach2002', histogram: 'circular_variance', scored: true },
  { name: 'ori_bandwidth', meaning: 'orientation half-width at 0.707 of the peak, degrees, orientation-selective units only', unit: 'oriBandwidth', dataset: 'Ringach2002', histogram: 'bandwidth', scored: true },
  { name: 'orth_pref_ratio', meaning: 'orthogonal/preferred response ratio of the orientation curve', unit: 'orthPrefRatio', dataset: 'Ringach2002', histogram: 'orthogonal_preferred_ratio', scored: true },
  { name: 'ori_selective', meaning: 'orientation selective (1) when the half-width is defined and ≤ 90°, else 0', unit: 'oriSelective', dataset: 'Ringach2002', histogram: 'orientation_selective', scored: true },
  { name: 'modulation_ratio', meaning: 'F1/F0 at the preferred grating of the responses mapped to spikes/s', unit: 'modulationRatio', dataset: 'Ringach2002', histogram: 'modulation_ratio', scored: true },
  { name: 'modulation_ratio_raw', meaning: 'F1/F0 at the preferred grating of the raw activations (not scored: no baseline)', unit: 'modulationRatioRaw', dataset: 'Ringach2002', histogram: 'modulation_ratio', scored: false },
  { name: 'peak_sf', meaning: 'peak spatial frequency, cycles/degree (v1.pixelsPerDegree)', unit: 'peakSf', dataset: 'DeValois1982b', histogram: 'peak_spatial_frequency', scored: true },
  { name: 'sf_bandwidth', meaning: "Schiller's SF bandwidth 100·f_low/f_high at 0.707 of the peak, SF-selective units only", unit: 'sfBandwidth', dataset: 'Schiller1976c', histogram: 'spatial_frequency_bandwidth', scored: true },
  { name: 'sf_selective', meaning: 'SF selective (1) when the SF curve falls to 0.707 of its peak on both sides within the set, else 0', unit: 'sfSelective', dataset: 'Schiller1976c', histogram: 'spatial_frequency_selective', scored: true },
] as const satisfies readonly V1PropertySpec[];

/** Names of the compared properties. */
export type V1PropertyName = (typeof V1_PROPERTIES)[number]['name'];

/** The per-unit columns of the v1 stage's table (after layer, channel, responsive), in order. */
export const V1_UNIT_COLUMNS: readonly { name: string; unit: V1UnitKey; meaning: string }[] = [
  { name: 'baseline', unit: 'baseline', meaning: 'mapped response to the blank (uniform mid-grey), spikes/s' },
  { name: 'max_dc', unit: 'maxDc', meaning: 'mapped mean-over-phase response at the preferred grating, spikes/s' },
  { name: 'min_dc', unit: 'minDc', meaning: 'minimum of the mapped orientation curve at the preferred SF, spikes/s' },
  { name: 'max_ac', unit: 'maxAc', meaning: 'mapped F1 amplitude at the preferred grating, spikes/s' },
  { name: 'modulation_ratio', unit: 'modulationRatio', meaning: 'F1/F0 of the mapped responses at the preferred grating' },
  { name: 'modulation_ratio_raw', unit: 'modulationRatioRaw', meaning: 'F1/F0 of the raw activations at the preferred grating' },
  { name: 'circular_variance', unit: 'circularVariance', meaning: '1 − |Σ R e^{2iθ}|/Σ|R| of the mapped orientation curve at the preferred SF' },
  { name: 'ori_bandwidth', unit: 'oriBandwidth', meaning: 'orientation half-width at 0.707 of the peak, degrees (NaN: > 90° or open, not selective)' },
  { name: 'orth_pref_ratio', unit: 'orthPrefRatio', meaning: 'R(θ_pref + 90°)/R(θ_pref) of the mapped orientation curve' },
  { name: 'ori_selective', unit: 'oriSelective', meaning: '1 when ori_bandwidth is defined, else 0' },
  { name: 'peak_sf', unit: 'peakSf', meaning: 'peak spatial frequency of the fitted SF curve, cycles/degree' },
  { name: 'sf_bandwidth', unit: 'sfBandwidth', meaning: '100·f_low/f_high at 0.707 of the fitted SF peak (NaN: open on a side)' },
  { name: 'sf_selective', unit: 'sfSelective', meaning: '1 when sf_bandwidth is defined, else 0' },
  { name: 'pref_theta_deg', unit: 'prefThetaDeg', meaning: 'θ of the preferred grating, degrees (wave-vector direction)' },
  { name: 'pref_sf', unit: 'prefSf', meaning: 'f of the preferred grating, cycles/degree' },
];

/** A per-layer column: name and one-line meaning. */
export interface V1Column {
  name: string;
  meaning: string;
}

/** Every per-layer column of the V1 comparison, in order (what `revcor.v1.layers` rows hold). */
export const V1_LAYER_COLUMNS: readonly V1Column[] = [
  { name: 'layer', meaning: 'analysed layer' },
  { name: 'v1_n_units', meaning: 'units (channels) analysed' },
  { name: 'v1_n_responsive', meaning: 'responsive units: mapped max mean response > mapped blank response + 5 spikes/s' },
  { name: 'v1_slope', meaning: 'affine map activation → spikes/s: slope (median max → 33.8, median blank → 0.82)' },
  { name: 'v1_offset', meaning: 'affine map activation → spikes/s: offset, spikes/s' },
  { name: 'v1_score', meaning: 'V1 score: mean ceiled similarity over the scored properties (1 = as similar as V1 data to themselves)' },
  { name: 'v1_score_lo', meaning: 'V1 score: lower end of the bootstrap interval (v1.level)' },
  { name: 'v1_score_hi', meaning: 'V1 score: upper end of the bootstrap interval (v1.level)' },
  ...V1_PROPERTIES.flatMap((p) => [
    { name: `v1_${p.name}`, meaning: `ceiled KS similarity to ${p.dataset} of: ${p.meaning}` },
    { name: `v1_${p.name}_lo`, meaning: `v1_${p.name}: lower end of the bootstrap interval` },
    { name: `v1_${p.name}_hi`, meaning: `v1_${p.name}: upper end of the bootstrap interval` },
    { name: `v1_${p.name}_n`, meaning: `v1_${p.name}: responsive units with a finite value (the model sample)` },
    { name: `v1_${p.name}_median`, meaning: `v1_${p.name}: median of the model sample` },
  ]),
];

/** One layer's row: every V1_LAYER_COLUMNS name (layer a string, the rest numbers; NaN when skipped). */
export type V1LayerRow = { layer: string } & Record<string, number | string>;
