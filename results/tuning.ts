// The tuning stage's output (docs/method.md §2): one row per unit, every column declared once; a column with a
// `source` is filled from that field of science/tuning.ts's TuningIndices. The tuning stage builds its table from
// TUNING; the summary, the report and the benches read it through readTuning. Tested in test/stages/tuning.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, readColumns } from './columns.ts';

/** Columns of a tuning checkpoint, in table order. */
export const TUNING = defineTable('tuning', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'channel', type: 'int32', unit: '', meaning: 'channel of the unit (the centre unit of this feature map)', key: 'c' },
  { name: 'responsive', source: 'responsive', type: 'bool', unit: '', meaning: 'responsive to gratings: max R − min R over the (θ, f) grid > tuning.epsilon (the verdict every consumer reads)', key: 'r' },
  { name: 'max_response', source: 'maxResponse', type: 'float32', unit: 'activation', meaning: 'max over (θ, f) of R(θ, f)', key: 'mr' },
  { name: 'sf_pref', source: 'sfPref', type: 'float64', unit: 'cycles/px', meaning: 'preferred spatial frequency f_pref = argmax_f max_θ R (NaN when not responsive)', key: 'fp' },
  { name: 'sf_pref_index', source: 'sfPrefIndex', type: 'int32', unit: '', meaning: 'index of f_pref in the grid revcor.tuning.sf_cpp (−1 when not responsive)' },
  { name: 'theta_pref', source: 'thetaPref', type: 'float64', unit: 'deg', meaning: 'preferred orientation θ_pref = argmax_θ R(θ, f_pref), wave-vector direction (NaN when not responsive)', key: 'tp' },
  { name: 'theta_pref_index', source: 'thetaPrefIndex', type: 'int32', unit: '', meaning: 'index of θ_pref in the grid revcor.tuning.theta_deg (−1 when not responsive)' },
  { name: 'theta_vector', source: 'thetaVector', type: 'float64', unit: 'deg', meaning: 'vector-average orientation ½·arg Σ R e^{2iθ} at f_pref' },
  { name: 'circular_variance', source: 'circularVariance', type: 'float64', unit: '', meaning: 'circular variance 1 − |Σ R e^{2iθ}| / Σ R at f_pref', key: 'cv' },
  { name: 'osi', source: 'osi', type: 'float64', unit: '', meaning: 'orientation selectivity index (R_pref − R_orth)/(R_pref + R_orth) at f_pref', key: 'osi' },
  { name: 'ori_half_width', source: 'oriHalfWidth', type: 'float64', unit: 'deg', meaning: 'orientation half-width at half height (NaN when the curve never falls to half)', key: 'hw' },
  { name: 'ori_bandwidth', source: 'oriBandwidth', type: 'float64', unit: 'deg', meaning: 'orientation bandwidth: half-width at 1/√2 of the peak of the orientation curve at f_pref (NaN when it never falls that far)', key: 'ob' },
  { name: 'ori_width_open', source: 'oriWidthOpen', type: 'bool', unit: '', meaning: 'the orientation curve never falls to half height (ori_half_width NaN)' },
  { name: 'sf_low', source: 'sfLow', type: 'float64', unit: 'cycles/px', meaning: 'low-side half-height crossing of the SF curve at θ_pref (NaN when open)' },
  { name: 'sf_high', source: 'sfHigh', type: 'float64', unit: 'cycles/px', meaning: 'high-side half-height crossing of the SF curve at θ_pref (NaN when open)' },
  { name: 'sf_bandwidth', source: 'sfBandwidth', type: 'float64', unit: 'octaves', meaning: 'SF bandwidth log2(sf_high / sf_low) at half height (NaN when either side is open)', key: 'bw' },
  { name: 'sf_low_open', source: 'sfLowOpen', type: 'bool', unit: '', meaning: 'the SF curve does not fall to half height below f_pref within the grid' },
  { name: 'sf_high_open', source: 'sfHighOpen', type: 'bool', unit: '', meaning: 'the SF curve does not fall to half height above f_pref within the grid' },
  { name: 'f1f0', source: 'f1f0Pref', type: 'float64', unit: '', meaning: 'F1/F0 = 2|Σφ R e^{iφ}| / Σφ R at (θ_pref, f_pref)', key: 'f10' },
  { name: 'max_phase_response', source: 'maxPhasePref', type: 'float64', unit: 'activation', meaning: 'max over phase of the response at (θ_pref, f_pref)' },
  { name: 'ori_curve', type: 'list<float32>', unit: 'activation', meaning: 'R at f_pref over revcor.tuning.theta_deg', key: 'ori' },
  { name: 'sf_curve', type: 'list<float32>', unit: 'activation', meaning: 'R at θ_pref over revcor.tuning.sf_cpp', key: 'sfc' },
  { name: 'response_grid', type: 'list<float32>', unit: 'activation', meaning: 'R(θ, f), θ-major: index = iθ·len(sf_cpp) + iF' },
] as const);

/** A tuning checkpoint's columns, typed. */
export function readTuning(table: Table, source = 'tuning checkpoint') {
  return readColumns(TUNING, table, source);
}
