// How summary values are shown (terminal and report): column groups, headers, number formats, NaN as '—'.
import type { SummaryRow } from '../science/layer-summary.ts';

/** One shown column: header, the row field and how to format it. */
export interface ShownColumn {
  header: string;
  key: keyof SummaryRow;
  format: (v: unknown) => string;
}

/** A titled group of columns (one table in the report, one block in the terminal). */
export interface ColumnGroup {
  id: string;
  title: string;
  note: string;
  columns: ShownColumn[];
}

const DASH = '—';

/** A number to `digits` decimals, '—' when not finite. */
export function fixed(digits: number): (v: unknown) => string {
  return (v) => (typeof v === 'number' && Number.isFinite(v) ? (Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v).toFixed(digits) : DASH);
}

/** A JSON {category: count} cell as "faces 12, cars 3" (largest first), '—' when empty. */
export function countsText(v: unknown): string {
  if (typeof v !== 'string' || !v) return DASH;
  const entries = Object.entries(JSON.parse(v) as Record<string, number>).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

const pct = fixed(1);
const int = fixed(0);
const r2 = fixed(2);

/** The summary's column groups. */
export const COLUMN_GROUPS: ColumnGroup[] = [
  {
    id: 'rf',
    title: 'RF reconstruction',
    note: 'Percent of all units of the layer.',
    columns: [
      { header: 'units', key: 'n_units', format: int },
      { header: 'RF px', key: 'rf_size', format: int },
      { header: 'responsive %', key: 'pct_responsive', format: pct },
      { header: 'median N_eff', key: 'median_n_eff', format: int },
      { header: 'AWA sig. %', key: 'pct_awa_significant', format: pct },
      { header: 'AWC sig. %', key: 'pct_awc_significant', format: pct },
      { header: 'AWC suppr. %', key: 'pct_awc_suppressive', format: pct },
      { header: 'AWA reconstr. %', key: 'pct_awa_reconstructed', format: pct },
      { header: 'AWC reconstr. %', key: 'pct_awc_reconstructed', format: pct },
    ],
  },
  {
    id: 'prediction',
    title: 'Predicted vs measured tuning',
    note: 'Over the units with a significant RF (AWA; AWC: ≥ 1 significant excitatory eigenvalue) that respond to gratings (n).',
    columns: [
      { header: 'AWA n', key: 'n_awa_compared', format: int },
      { header: 'AWA θ %', key: 'pct_awa_theta_match', format: pct },
      { header: 'AWA f %', key: 'pct_awa_f_match', format: pct },
      { header: 'AWA circ. r θ', key: 'awa_theta_circ_corr', format: r2 },
      { header: 'AWA ρ log f', key: 'awa_logf_spearman', format: r2 },
      { header: 'AWC n', key: 'n_awc_compared', format: int },
      { header: 'AWC θ %', key: 'pct_awc_theta_match', format: pct },
      { header: 'AWC f %', key: 'pct_awc_f_match', format: pct },
      { header: 'AWC circ. r θ', key: 'awc_theta_circ_corr', format: r2 },
      { header: 'AWC ρ log f', key: 'awc_logf_spearman', format: r2 },
    ],
  },
  {
    id: 'tuning',
    title: 'Grating tuning',
    note: 'Medians over the units responsive to gratings (n); half-width and bandwidth over units whose curves fall to half height.',
    columns: [
      { header: 'n', key: 'n_responsive', format: int },
      { header: 'circ. var.', key: 'median_circular_variance', format: r2 },
      { header: 'OSI', key: 'median_osi', format: r2 },
      { header: 'half-width °', key: 'median_ori_half_width', format: fixed(1) },
      { header: 'SF bw oct', key: 'median_sf_bandwidth', format: r2 },
      { header: 'F1/F0', key: 'median_f1f0', format: r2 },
    ],
  },
  {
    id: 'category',
    title: 'Category selectivity',
    note: 'Selective: one-way ANOVA across categories with FDR control (and the CSI floor, when set).',
    columns: [
      { header: 'selective %', key: 'pct_category_selective', format: pct },
      { header: 'CSI', key: 'median_csi', format: r2 },
      { header: 'sparseness', key: 'median_sparseness', format: r2 },
      { header: 'selective units by preferred category', key: 'selective_preferred_counts', format: countsText },
    ],
  },
];

/** The summary as plain-text tables, one block per column group (for the terminal). */
export function summaryText(rows: readonly SummaryRow[]): string[] {
  if (rows.length === 0) return ['(no layers: none of tuning, category, awa, awc has output)'];
  const lines: string[] = [];
  for (const g of COLUMN_GROUPS) {
    const header = ['layer', ...g.columns.map((c) => c.header)];
    const body = rows.map((r) => [r.layer, ...g.columns.map((c) => c.format(r[c.key]))]);
    const widths = header.map((h, j) => Math.max([...h].length, ...body.map((b) => [...b[j]!].length)));
    const pad = (s: string, j: number) => (j === 0 || j === header.length - 1 && g.id === 'category' ? s + ' '.repeat(widths[j]! - [...s].length) : ' '.repeat(widths[j]! - [...s].length) + s);
    lines.push(`${g.title} — ${g.note}`);
    lines.push('  ' + header.map(pad).join('  ').trimEnd());
    for (const b of body) lines.push('  ' + b.map(pad).join('  ').trimEnd());
    lines.push('');
  }
  return lines;
}

/** The summary as Markdown tables, one per column group (for docs and issue notes). */
export function summaryMarkdown(rows: readonly SummaryRow[]): string[] {
  if (rows.length === 0) return ['_No layers: none of tuning, category, awa, awc has output._'];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines: string[] = [];
  for (const g of COLUMN_GROUPS) {
    lines.push(`**${g.title}.** ${g.note}`, '');
    lines.push(`| layer | ${g.columns.map((c) => cell(c.header)).join(' | ')} |`);
    lines.push(`|---|${g.columns.map(() => '---:').join('|')}|`);
    for (const r of rows) lines.push(`| ${cell(r.layer)} | ${g.columns.map((c) => cell(c.format(r[c.key]))).join(' | ')} |`);
    lines.push('');
  }
  return lines;
}
