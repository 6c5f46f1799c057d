// The category stage's output (docs/method.md §3): one row per unit, every column declared once. The category stage
// builds its table from CATEGORY; the summary, the report and the benches read it through readCategory.
// Tested in test/report/units.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, readColumns } from './columns.ts';

/** Columns of a category checkpoint, in table order. */
export const CATEGORY = defineTable('category', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'channel', type: 'int32', unit: '', meaning: 'channel of the unit', key: 'c' },
  { name: 'preferred_category', type: 'utf8', unit: '', meaning: "category with the largest mean response ('' when all category means are equal: a dead or constant unit)", key: 'pc' },
  { name: 'preferred_index', type: 'int32', unit: '', meaning: 'index of preferred_category in revcor.category.categories (−1 when none)' },
  { name: 'csi', type: 'float64', unit: '', meaning: 'class-selectivity index (μ_max − μ_rest)/(μ_max + μ_rest), μ_rest = mean of the other categories', key: 'csi' },
  { name: 'sparseness', type: 'float64', unit: '', meaning: 'sparseness across categories (1 − (Σμ/n)²/(Σμ²/n))/(1 − 1/n)', key: 'sp' },
  { name: 'anova_f', type: 'float64', unit: '', meaning: 'one-way ANOVA F across categories' },
  { name: 'anova_p', type: 'float64', unit: '', meaning: 'p of the ANOVA F' },
  { name: 'q_value', type: 'float64', unit: '', meaning: 'Benjamini–Hochberg q of anova_p over category.fdrFamily', key: 'q' },
  { name: 'selective', type: 'bool', unit: '', meaning: 'category-selective: q_value ≤ category.fdr and csi ≥ category.minCsi (the verdict every consumer reads)', key: 'sel' },
  { name: 'split_half_same_preferred', optional: true, type: 'bool', unit: '', meaning: 'the same preferred category on the two halves of every category’s images' },
  { name: 'split_half_r', optional: true, type: 'float64', unit: '', meaning: 'Pearson r of the two half-profiles of category means' },
  { name: 'split_half_rsb', optional: true, type: 'float64', unit: '', meaning: 'Spearman–Brown 2r/(1 + r) of split_half_r' },
  { name: 'split_half_p', optional: true, type: 'float64', unit: '', meaning: 'label-permutation p of split_half_r' },
  { name: 'reliable', type: 'bool', unit: '', meaning: 'reliable category preference: split_half_same_preferred and split_half_p ≤ category.splitHalf.alpha (the verdict every consumer reads)', optional: true },
  { name: 'category_means', type: 'list<float32>', unit: 'activation', meaning: 'mean response μ_k per category, in the order of revcor.category.categories', key: 'mu' },
  { name: 'top_stimuli', type: 'list<int32>', unit: '', meaning: 'stimulus index of the top-N images, descending response (−1 = fewer images)' },
  { name: 'top_files', type: 'list<utf8>', unit: '', meaning: "files of the top-N images relative to stimuli.images.dir ('' = fewer images)" },
  { name: 'top_responses', type: 'list<float32>', unit: 'activation', meaning: 'responses to the top-N images' },
] as const);

/** A category checkpoint's columns, typed. */
export function readCategory(table: Table, source = 'category checkpoint') {
  return readColumns(CATEGORY, table, source);
}
