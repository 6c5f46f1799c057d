// How summary values are shown (terminal, Markdown and report): column groups, headers, number formats, NaN as
// '—'. A statistic's cell is "value [lo, hi]" (its 95 % interval), followed by "n=…" when its n differs from the
// group's n column, or just "n=…" when n is below MIN_N (too few to show a number).
// Tested in test/report/v1.test.ts.
import { MIN_N } from '../science/intervals.ts';
import { isStatistic, rowEstimate, SUMMARY_STATISTICS, type SummaryRow } from '../science/layer-summary.ts';

/** One shown column: header, the row field and how to format its value (and its interval, when a statistic). */
export interface ShownColumn {
  header: string;
  key: keyof SummaryRow;
  format: (v: unknown) => string;
  /** Format of the interval ends (default: `format`). */
  ciFormat?: (v: unknown) => string;
  /** The row column holding the n this statistic usually rests on: its own n is printed only when it differs. */
  nKey?: keyof SummaryRow;
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

/** The parts of one cell: the value (or "n=…" when too few), its interval "[lo, hi]" and " n=…" (either may be ''). */
export function cellParts(row: SummaryRow, c: ShownColumn): { value: string; interval: string; n: string } {
  if (!isStatistic(c.key)) return { value: c.format(row[c.key]), interval: '', n: '' };
  const e = rowEstimate(row, c.key);
  if (!Number.isFinite(e.n)) return { value: DASH, interval: '', n: '' }; // the stage that feeds it did not run
  if (e.n < MIN_N) return { value: `n=${e.n}`, interval: '', n: '' };
  if (!Number.isFinite(e.value)) return { value: DASH, interval: '', n: ` n=${e.n}` };
  const ci = c.ciFormat ?? c.format;
  const interval = Number.isFinite(e.lo) && Number.isFinite(e.hi) ? ` [${ci(e.lo)}, ${ci(e.hi)}]` : '';
  return { value: c.format(e.value), interval, n: c.nKey && row[c.nKey] === e.n ? '' : ` n=${e.n}` };
}

/** The text of one cell: a plain value, or a statistic with its interval and (when it differs or is small) its n. */
export function cellText(row: SummaryRow, c: ShownColumn): string {
  const p = cellParts(row, c);
  return p.value + p.interval + p.n;
}

/** A percentage statistic over the units counted in `nKey`. */
const pctOf = (header: string, key: keyof SummaryRow, nKey: keyof SummaryRow): ShownColumn => ({ header, key, format: pct, ciFormat: int, nKey });
/** An index statistic (median, agreement, correlation) over the units counted in `nKey`. */
const indexOf = (header: string, key: keyof SummaryRow, nKey: keyof SummaryRow, format = r2): ShownColumn => ({ header, key, format, nKey });

/** The summary's column groups. */
export const COLUMN_GROUPS: ColumnGroup[] = [
  {
    id: 'rf',
    title: 'RF reconstruction',
    note: `Percent of all units of the layer, [95% interval] (Wilson; medians: bootstrap); n shown where it is not the layer's units, "n=…" alone below ${MIN_N}. AWA significance under the run's null and under each null form.`,
    columns: [
      { header: 'units', key: 'n_units', format: int },
      { header: 'RF px', key: 'rf_size', format: int },
      pctOf('responsive %', 'pct_responsive', 'n_units'),
      indexOf('median N_eff', 'median_n_eff', 'n_units', int),
      pctOf('AWA sig. %', 'pct_awa_significant', 'n_units'),
      pctOf('AWA sig. % finite-N', 'pct_awa_significant_finite_n', 'n_units'),
      pctOf('AWA sig. % population', 'pct_awa_significant_population', 'n_units'),
      pctOf('AWC sig. %', 'pct_awc_significant', 'n_units'),
      pctOf('AWC suppr. %', 'pct_awc_suppressive', 'n_units'),
      pctOf('AWA reconstr. %', 'pct_awa_reconstructed', 'n_units'),
      pctOf('AWC reconstr. %', 'pct_awc_reconstructed', 'n_units'),
    ],
  },
  {
    id: 'prediction',
    title: 'Predicted vs measured tuning',
    note: 'Over the units with a significant RF (AWA; AWC: ≥ 1 significant excitatory eigenvalue) that respond to gratings (n), [95% interval]. θ agreement = mean cos 2(θ_pred − θ_pref): 1 identical, 0 unrelated (bootstrap interval).',
    columns: [
      { header: 'AWA n', key: 'n_awa_compared', format: int },
      pctOf('AWA θ %', 'pct_awa_theta_match', 'n_awa_compared'),
      pctOf('AWA f %', 'pct_awa_f_match', 'n_awa_compared'),
      indexOf('AWA θ agreement', 'awa_theta_agreement', 'n_awa_compared'),
      indexOf('AWA ρ log f', 'awa_logf_spearman', 'n_awa_compared'),
      { header: 'AWC n', key: 'n_awc_compared', format: int },
      pctOf('AWC θ %', 'pct_awc_theta_match', 'n_awc_compared'),
      pctOf('AWC f %', 'pct_awc_f_match', 'n_awc_compared'),
      indexOf('AWC θ agreement', 'awc_theta_agreement', 'n_awc_compared'),
      indexOf('AWC ρ log f', 'awc_logf_spearman', 'n_awc_compared'),
    ],
  },
  {
    id: 'tuning',
    title: 'Grating tuning',
    note: 'Medians over the units responsive to gratings (n), [95% bootstrap interval]; half-width and bandwidth over units whose curves fall to half height (their own n).',
    columns: [
      { header: 'n', key: 'n_responsive', format: int },
      // every statistic declared as a median of a tuning column (science/layer-summary.ts SUMMARY_SPEC `of`)
      ...SUMMARY_STATISTICS.filter((s) => s.of).map((s) => indexOf(s.header ?? s.name, s.name, 'n_responsive', fixed(s.digits ?? 2))),
    ],
  },
  {
    id: 'category',
    title: 'Category selectivity',
    note: 'Selective: one-way ANOVA across categories with FDR control (and the CSI floor, when set). Reliable: the same preferred category on two disjoint halves of each category\'s images and a split-half profile correlation beyond its label-permutation null (p ≤ category.splitHalf.alpha) — a test a layer without category structure fails. [95% interval].',
    columns: [
      { header: 'units', key: 'n_units', format: int },
      pctOf('selective %', 'pct_category_selective', 'n_units'),
      pctOf('reliable %', 'pct_category_reliable', 'n_units'),
      indexOf('CSI', 'median_csi', 'n_units'),
      indexOf('sparseness', 'median_sparseness', 'n_units'),
      { header: 'selective units by preferred category', key: 'selective_preferred_counts', format: countsText },
    ],
  },
];

/** The V1 comparison's columns: the score, then every property's ceiled similarity (SUMMARY_SPEC kind 'similarity'). */
COLUMN_GROUPS.push({
  id: 'v1',
  title: 'V1 similarity',
  note: 'Ceiled KS similarity of each property\'s distribution over the layer\'s V1-responsive units to recorded macaque V1 (1 = as similar as the V1 data to their own bootstrap), [bootstrap interval at v1.level]; V1 score = mean over the scored properties (docs/v1-comparison.md).',
  columns: [
    { header: 'V1 responsive', key: 'v1_score_n' as keyof SummaryRow, format: int },
    ...SUMMARY_STATISTICS.filter((s) => s.kind === 'similarity').map((s): ShownColumn => ({ header: s.name === 'v1_score' ? 'V1 score' : s.name.slice(3), key: s.name, format: r2, nKey: 'v1_score_n' as keyof SummaryRow })),
  ],
});

/** The column groups with something to show for these rows (the V1 group only when a layer has a V1 comparison). */
export function shownGroups(rows: readonly SummaryRow[]): ColumnGroup[] {
  return COLUMN_GROUPS.filter((g) => g.id !== 'v1' || rows.some((r) => Number.isFinite(r.v1_score_n)));
}

/** The summary as plain-text tables, one block per column group (for the terminal). */
export function summaryText(rows: readonly SummaryRow[]): string[] {
  if (rows.length === 0) return ['(no layers: none of tuning, category, awa, awc has output)'];
  const lines: string[] = [];
  for (const g of shownGroups(rows)) {
    const header = ['layer', ...g.columns.map((c) => c.header)];
    const body = rows.map((r) => [r.layer, ...g.columns.map((c) => cellText(r, c))]);
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
  for (const g of shownGroups(rows)) {
    lines.push(`**${g.title}.** ${g.note}`, '');
    lines.push(`| layer | ${g.columns.map((c) => cell(c.header)).join(' | ')} |`);
    lines.push(`|---|${g.columns.map(() => '---:').join('|')}|`);
    for (const r of rows) lines.push(`| ${cell(r.layer)} | ${g.columns.map((c) => cell(cellText(r, c))).join(' | ')} |`);
    lines.push('');
  }
  return lines;
}
