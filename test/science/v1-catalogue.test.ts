// science/v1-catalogue.ts: the declared V1 comparison written out. Each compared property against the dataset and
// histogram Brain-Score compares it with (../shared/datasets/v1-reference/README.md: Ringach 2002's orientation
// and modulation properties, De Valois 1982b's peak SF, Schiller 1976c's SF bandwidth), which of them are scored,
// and the exact per-unit and per-layer column lists and their meanings. The catalogue is made of module constants:
// Stryker cannot switch its mutants on (docs/testing.md), so this file's mutants were planted by hand.
import { describe, expect, it } from 'vitest';
import { V1_LAYER_COLUMNS, V1_PROPERTIES, V1_UNIT_COLUMNS } from '../../science/v1-catalogue.ts';

/** snake_case → camelCase: every column's per-unit array is named after it. */
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe('V1_PROPERTIES', () => {
  it('each property against its dataset and histogram, in column order; all scored but the raw F1/F0', () => {
    expect(V1_PROPERTIES.map((p) => [p.name, p.dataset, p.histogram, p.scored])).toEqual([
      ['circular_variance', 'Ringach2002', 'circular_variance', true],
      ['ori_bandwidth', 'Ringach2002', 'bandwidth', true],
      ['orth_pref_ratio', 'Ringach2002', 'orthogonal_preferred_ratio', true],
      ['ori_selective', 'Ringach2002', 'orientation_selective', true],
      ['modulation_ratio', 'Ringach2002', 'modulation_ratio', true],
      ['modulation_ratio_raw', 'Ringach2002', 'modulation_ratio', false],
      ['peak_sf', 'DeValois1982b', 'peak_spatial_frequency', true],
      ['sf_bandwidth', 'Schiller1976c', 'spatial_frequency_bandwidth', true],
      ['sf_selective', 'Schiller1976c', 'spatial_frequency_selective', true],
    ]);
  });

  it('each compares the per-unit array of its own name, and says what it is', () => {
    for (const p of V1_PROPERTIES) expect(p.unit, p.name).toBe(camel(p.name));
    expect(V1_PROPERTIES.map((p) => p.meaning)).toEqual([
      'circular variance 1 − |Σ R e^{2iθ}|/Σ|R| of the orientation curve at the preferred SF',
      'orientation half-width at 0.707 of the peak, degrees, orientation-selective units only',
      'orthogonal/preferred response ratio of the orientation curve',
      'orientation selective (1) when the half-width is defined and ≤ 90°, else 0',
      'F1/F0 at the preferred grating of the responses mapped to spikes/s',
      'F1/F0 at the preferred grating of the raw activations (not scored: no baseline)',
      'peak spatial frequency, cycles/degree (v1.pixelsPerDegree)',
      "Schiller's SF bandwidth 100·f_low/f_high at 0.707 of the peak, SF-selective units only",
      'SF selective (1) when the SF curve falls to 0.707 of its peak on both sides within the set, else 0',
    ]);
  });
});

describe('V1_UNIT_COLUMNS', () => {
  it('the v1 table’s per-unit columns in order, each from the array of its own name, each with its meaning', () => {
    expect(V1_UNIT_COLUMNS.map((c) => c.name)).toEqual([
      'baseline', 'max_dc', 'min_dc', 'max_ac', 'modulation_ratio', 'modulation_ratio_raw', 'circular_variance', 'ori_bandwidth',
      'orth_pref_ratio', 'ori_selective', 'peak_sf', 'sf_bandwidth', 'sf_selective', 'pref_theta_deg', 'pref_sf',
    ]);
    for (const c of V1_UNIT_COLUMNS) expect(c.unit, c.name).toBe(camel(c.name));
    expect(Object.fromEntries(V1_UNIT_COLUMNS.map((c) => [c.name, c.meaning]))).toEqual({
      baseline: 'mapped response to the blank (uniform mid-grey), spikes/s',
      max_dc: 'mapped mean-over-phase response at the preferred grating, spikes/s',
      min_dc: 'minimum of the mapped orientation curve at the preferred SF, spikes/s',
      max_ac: 'mapped F1 amplitude at the preferred grating, spikes/s',
      modulation_ratio: 'F1/F0 of the mapped responses at the preferred grating',
      modulation_ratio_raw: 'F1/F0 of the raw activations at the preferred grating',
      circular_variance: '1 − |Σ R e^{2iθ}|/Σ|R| of the mapped orientation curve at the preferred SF',
      ori_bandwidth: 'orientation half-width at 0.707 of the peak, degrees (NaN: > 90° or open, not selective)',
      orth_pref_ratio: 'R(θ_pref + 90°)/R(θ_pref) of the mapped orientation curve',
      ori_selective: '1 when ori_bandwidth is defined, else 0',
      peak_sf: 'peak spatial frequency of the fitted SF curve, cycles/degree',
      sf_bandwidth: '100·f_low/f_high at 0.707 of the fitted SF peak (NaN: open on a side)',
      sf_selective: '1 when sf_bandwidth is defined, else 0',
      pref_theta_deg: 'θ of the preferred grating, degrees (wave-vector direction)',
      pref_sf: 'f of the preferred grating, cycles/degree',
    });
  });
});

describe('V1_LAYER_COLUMNS', () => {
  it('layer, counts, the affine map and the score with its interval, then five columns per property', () => {
    const fixed: [string, string][] = [
      ['layer', 'analysed layer'],
      ['v1_n_units', 'units (channels) analysed'],
      ['v1_n_responsive', 'responsive units: mapped max mean response > mapped blank response + 5 spikes/s'],
      ['v1_slope', 'affine map activation → spikes/s: slope (median max → 33.8, median blank → 0.82)'],
      ['v1_offset', 'affine map activation → spikes/s: offset, spikes/s'],
      ['v1_score', 'V1 score: mean ceiled similarity over the scored properties (1 = as similar as V1 data to themselves)'],
      ['v1_score_lo', 'V1 score: lower end of the bootstrap interval (v1.level)'],
      ['v1_score_hi', 'V1 score: upper end of the bootstrap interval (v1.level)'],
    ];
    const got = V1_LAYER_COLUMNS.map((c) => [c.name, c.meaning]);
    expect(got.slice(0, 8)).toEqual(fixed);
    expect(got).toHaveLength(8 + 5 * 9);
    // the five of peak_sf, written out
    expect(got.slice(8 + 5 * 6, 8 + 5 * 7)).toEqual([
      ['v1_peak_sf', 'ceiled KS similarity to DeValois1982b of: peak spatial frequency, cycles/degree (v1.pixelsPerDegree)'],
      ['v1_peak_sf_lo', 'v1_peak_sf: lower end of the bootstrap interval'],
      ['v1_peak_sf_hi', 'v1_peak_sf: upper end of the bootstrap interval'],
      ['v1_peak_sf_n', 'v1_peak_sf: responsive units with a finite value (the model sample)'],
      ['v1_peak_sf_median', 'v1_peak_sf: median of the model sample'],
    ]);
    expect(got.slice(8).filter((_, i) => i % 5 === 0).map((c) => c[0])).toEqual(V1_PROPERTIES.map((p) => `v1_${p.name}`));
  });
});
