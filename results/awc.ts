// The awc stage's output (docs/method.md §4–5): one row per unit, every column declared once, including the verdicts
// the awc stage decides for AWA and AWC alike — orientation match, SF match, reconstructed — which the summary and the
// report read instead of recomputing them. Built from AWC by the awc stage; read through readAwc.
// Tested in test/report/units.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, readColumns } from './columns.ts';

/** Columns of an awc checkpoint, in table order (the suppressive ones only when awc.bottom > 0). */
export const AWC = defineTable('awc', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'channel', type: 'int32', unit: '', meaning: 'channel of the unit', key: 'c' },
  { name: 'responsive', type: 'bool', unit: '', meaning: 'the activation varies over the noise samples (as the awa stage decides)' },
  { name: 'eig_top', type: 'list<float32>', unit: 'grey level²', meaning: 'the awc.top largest AWC eigenvalues (prior σ_e² subtracted), descending', key: 'ev' },
  { name: 'top_significant', type: 'list<int32>', unit: '', meaning: '1 where eig_top lies above the null range', key: 'es' },
  { name: 'n_sig_top', type: 'int32', unit: '', meaning: 'significant excitatory eigenvalues (the verdict "AWC significant" is n_sig_top > 0)', key: 'ns' },
  { name: 'null_upper', type: 'float64', unit: 'grey level²', meaning: 'upper end of the null range of the largest eigenvalue (awc.level)', key: 'nu' },
  { name: 'null_lower', type: 'float64', unit: 'grey level²', meaning: 'lower end of the null range of the smallest eigenvalue (awc.level)', key: 'nl' },
  { name: 'eigvec_top', type: 'list<float32>', unit: '', meaning: 'eigenvectors of eig_top, unit norm, each over the crop (HWC), concatenated' },
  { name: 'energy', type: 'list<float32>', unit: 'grey level²', meaning: 'energy map Σ λ_k e_k² over the significant excitatory eigenpairs' },
  { name: 'awc_theta_pred', type: 'float64', unit: 'deg', meaning: 'orientation the AWC predicts (significant excitatory eigenvectors; NaN without one)', key: 'ct' },
  { name: 'awc_f_pred', type: 'float64', unit: 'cycles/px', meaning: 'spatial frequency the AWC predicts', key: 'cf' },
  { name: 'awa_significant', type: 'bool', unit: '', meaning: 'the awa stage’s significant, copied for the verdicts' },
  { name: 'awa_theta_pred', type: 'float64', unit: 'deg', meaning: 'the awa stage’s theta_pred, copied for the verdicts' },
  { name: 'awa_f_pred', type: 'float64', unit: 'cycles/px', meaning: 'the awa stage’s f_pred, copied for the verdicts' },
  { name: 'theta_pref', type: 'float64', unit: 'deg', meaning: 'the tuning stage’s theta_pref (NaN without gratings)' },
  { name: 'f_pref', type: 'float64', unit: 'cycles/px', meaning: 'the tuning stage’s sf_pref (NaN without gratings)' },
  { name: 'tuning_responsive', type: 'bool', unit: '', meaning: 'the tuning stage’s responsive' },
  { name: 'awa_theta_match', type: 'bool', unit: '', meaning: 'AWA orientation match: |awa_theta_pred − theta_pref| ≤ prediction.thetaTolerance (mod 180°)', key: 'amt' },
  { name: 'awa_f_match', type: 'bool', unit: '', meaning: 'AWA SF match: |log2(awa_f_pred / f_pref)| ≤ prediction.sfTolerance', key: 'amf' },
  { name: 'awa_reconstructed', type: 'bool', unit: '', meaning: 'reconstructed by the AWA: awa_significant, awa_theta_match and awa_f_match', key: 'ra' },
  { name: 'awc_theta_match', type: 'bool', unit: '', meaning: 'AWC orientation match: |awc_theta_pred − theta_pref| ≤ prediction.thetaTolerance (mod 180°)', key: 'cmt' },
  { name: 'awc_f_match', type: 'bool', unit: '', meaning: 'AWC SF match: |log2(awc_f_pred / f_pref)| ≤ prediction.sfTolerance', key: 'cmf' },
  { name: 'awc_reconstructed', type: 'bool', unit: '', meaning: 'reconstructed by the AWC: n_sig_top > 0, awc_theta_match and awc_f_match', key: 'rc' },
  { name: 'eig_bottom', type: 'list<float32>', unit: 'grey level²', meaning: 'the awc.bottom smallest AWC eigenvalues, ascending', key: 'eb', optional: true },
  { name: 'bottom_significant', type: 'list<int32>', unit: '', meaning: '1 where eig_bottom lies below the null range', key: 'bs', optional: true },
  { name: 'n_sig_bottom', type: 'int32', unit: '', meaning: 'significant suppressive eigenvalues', key: 'nb', optional: true },
  { name: 'eigvec_bottom', type: 'list<float32>', unit: '', meaning: 'eigenvectors of eig_bottom, concatenated', optional: true },
] as const);

/** An awc checkpoint's columns, typed. */
export function readAwc(table: Table, source = 'awc checkpoint') {
  return readColumns(AWC, table, source);
}
