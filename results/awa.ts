// The awa stage's output (docs/method.md §4–5): one row per unit, every column declared once. The awa stage builds its
// table from AWA; the awc stage, the summary and the report read it through readAwa.
// Tested in test/report/units.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, readColumns } from './columns.ts';

/** Columns of an awa checkpoint, in table order. */
export const AWA = defineTable('awa', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'channel', type: 'int32', unit: '', meaning: 'channel of the unit', key: 'c' },
  { name: 'responsive', type: 'bool', unit: '', meaning: 'the activation varies over the noise samples, max a > min a (the verdict every consumer reads)' },
  { name: 'n_active', type: 'int32', unit: 'samples', meaning: 'noise samples with a > 0', key: 'na' },
  { name: 'sum_a', type: 'float64', unit: 'activation', meaning: 'Σ a over the noise samples' },
  { name: 'n_eff', type: 'float64', unit: 'samples', meaning: 'effective number of samples (Σa)²/Σa²', optional: true },
  { name: 'null_sd', type: 'float64', unit: 'grey level', meaning: 'per-pixel null SD of the AWA under awa.nullModel' },
  { name: 'z_max', type: 'float64', unit: '', meaning: 'max |AWA / null_sd| over the crop', key: 'z' },
  { name: 'significant', type: 'bool', unit: '', meaning: 'significant AWA: z_max ≥ awa.zThreshold under awa.nullModel (the verdict every consumer reads)', key: 'as' },
  { name: 'z_max_finite_n', type: 'float64', unit: '', meaning: 'z_max under the finite-N null σ_e√(Σw² − 1/N)', optional: true },
  { name: 'z_max_population', type: 'float64', unit: '', meaning: 'z_max under the population null σ_e√Σw²', optional: true },
  { name: 'significant_finite_n', type: 'bool', unit: '', meaning: 'z_max_finite_n ≥ awa.zThreshold', optional: true },
  { name: 'significant_population', type: 'bool', unit: '', meaning: 'z_max_population ≥ awa.zThreshold', optional: true },
  { name: 'awa', type: 'list<float32>', unit: 'grey level', meaning: 'the AWA map Σa(s − s̄)/Σa over the RF crop, row-major, channels interleaved (HWC)' },
  { name: 'theta_pred', type: 'float64', unit: 'deg', meaning: 'orientation the AWA predicts (prediction.method), wave-vector direction', key: 'at' },
  { name: 'f_pred', type: 'float64', unit: 'cycles/px', meaning: 'spatial frequency the AWA predicts (prediction.method)', key: 'af' },
] as const);

/** An awa checkpoint's columns, typed. */
export function readAwa(table: Table, source = 'awa checkpoint') {
  return readColumns(AWA, table, source);
}
