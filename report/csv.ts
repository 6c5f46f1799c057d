// summary.csv: the per-layer summary as RFC 4180 CSV (header row, NaN as an empty cell, full-precision numbers).
// Tested in test/report/escape.test.ts.
import { SUMMARY_COLUMNS, type SummaryRow } from '../science/layer-summary.ts';

/** One CSV field: quoted when it holds a comma, quote or line break (quotes doubled). */
export function csvField(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The summary rows as CSV text (CRLF line ends, as RFC 4180 says). */
export function summaryCsv(rows: readonly SummaryRow[]): string {
  const lines = [SUMMARY_COLUMNS.join(',')];
  for (const r of rows) lines.push(SUMMARY_COLUMNS.map((c) => csvField(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
