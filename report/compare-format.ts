// `revcor compare` in the terminal and in files: per statistic, layers down and the grid's points across, every cell
// "value [lo, hi] n=…" (its 95 % interval and the n it rests on; "n=…" alone below MIN_N); or long-form CSV / JSON
// rows (point, its settings, layer, statistic, value, lo, hi, n) for analysis elsewhere.
import { MIN_N } from '../science/intervals.ts';
import type { Cell, Comparison, ComparedStatistic } from './compare-data.ts';
import { csvField } from './csv.ts';

const DASH = '—';

/** One cell's parts: the value (or "n=…" below MIN_N, '—' without a number) and its " [lo, hi] n=…". */
export function cellParts(c: Cell | undefined, s: ComparedStatistic): { value: string; extra: string } {
  if (!c || !Number.isFinite(c.n)) return { value: DASH, extra: '' };
  if (c.n < MIN_N) return { value: `n=${c.n}`, extra: '' };
  if (!Number.isFinite(c.value)) return { value: DASH, extra: ` n=${c.n}` };
  const ci = s.column.ciFormat ?? s.column.format;
  const interval = Number.isFinite(c.lo) && Number.isFinite(c.hi) ? ` [${ci(c.lo)}, ${ci(c.hi)}]` : '';
  return { value: s.column.format(c.value), extra: `${interval} n=${c.n}` };
}

/** One cell as text: value [lo, hi] n=…; "n=…" below MIN_N; '—' when there is no number. */
export function cellText(c: Cell | undefined, s: ComparedStatistic): string {
  const p = cellParts(c, s);
  return p.value + p.extra;
}

/** A point's settings as "k=v, k=v" (lists joined by +). */
export function settingsText(settings: Record<string, unknown>): string {
  const v = (x: unknown): string => (Array.isArray(x) ? x.map(v).join('+') : typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x));
  return Object.entries(settings).map(([k, x]) => `${k}=${v(x)}`).join(', ') || '(the base experiment)';
}

/** Statistics that have at least one number in the comparison. */
function shown(cmp: Comparison): ComparedStatistic[] {
  return cmp.statistics.filter((s) => cmp.points.some((p) => cmp.layers.some((l) => Number.isFinite(cmp.cell(p.name, l, s.name)?.n ?? NaN))));
}

/** Plain-text tables: a legend of the points (P1…), then one table per statistic. */
export function compareText(cmp: Comparison): string[] {
  const lines = [`Grid ${cmp.gridDir}: ${cmp.points.length} points, ${cmp.layers.length} layers`];
  cmp.points.forEach((p, i) => lines.push(`  P${i + 1}  ${p.name}${p.missing ? `  (${p.missing})` : ''}`));
  lines.push('');
  if (!cmp.layers.length) return [...lines, '(no point has results yet)'];
  for (const s of shown(cmp)) {
    const header = ['layer', ...cmp.points.map((_, i) => `P${i + 1}`)];
    const body = cmp.layers.map((l) => [l, ...cmp.points.map((p) => cellText(cmp.cell(p.name, l, s.name), s))]);
    const widths = header.map((h, j) => Math.max([...h].length, ...body.map((b) => [...b[j]!].length)));
    const pad = (x: string, j: number) => (j === 0 ? x + ' '.repeat(widths[j]! - [...x].length) : ' '.repeat(widths[j]! - [...x].length) + x);
    lines.push(`${s.label} (${s.group}) — ${s.name}`);
    lines.push('  ' + header.map(pad).join('  ').trimEnd());
    for (const b of body) lines.push('  ' + b.map(pad).join('  ').trimEnd());
    lines.push('');
  }
  return lines;
}

/** Markdown tables, one per statistic, the points' names as column headers. */
export function compareMarkdown(cmp: Comparison): string[] {
  const esc = (x: string) => x.replace(/\|/g, '\\|');
  const lines: string[] = [];
  for (const s of shown(cmp)) {
    lines.push(`**${esc(s.label)}** (${esc(s.group)}; \`${s.name}\`): value [95% interval] n=…`, '');
    lines.push(`| layer | ${cmp.points.map((p) => esc(p.name)).join(' | ')} |`);
    lines.push(`|---|${cmp.points.map(() => '---:').join('|')}|`);
    for (const l of cmp.layers) lines.push(`| ${esc(l)} | ${cmp.points.map((p) => esc(cellText(cmp.cell(p.name, l, s.name), s))).join(' | ')} |`);
    lines.push('');
  }
  return lines.length ? lines : ['_No point has results yet._'];
}

/** Long-form rows: one per point, layer and statistic with a number (settings under their key paths). */
export function compareRows(cmp: Comparison): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of cmp.points) {
    for (const l of cmp.layers) {
      for (const s of cmp.statistics) {
        const c = cmp.cell(p.name, l, s.name);
        if (!c || !Number.isFinite(c.n)) continue;
        out.push({ point: p.name, ...Object.fromEntries(cmp.grid.keys.map((k) => [k, p.settings[k] ?? null])), layer: l, statistic: s.name, value: c.value, lo: c.lo, hi: c.hi, n: c.n });
      }
    }
  }
  return out;
}

/** The long-form rows as RFC 4180 CSV (NaN as an empty cell; list settings as JSON). */
export function compareCsv(cmp: Comparison): string {
  const cols = ['point', ...cmp.grid.keys, 'layer', 'statistic', 'value', 'lo', 'hi', 'n'];
  const lines = [cols.map(csvField).join(',')];
  for (const r of compareRows(cmp)) lines.push(cols.map((c) => csvField(typeof r[c] === 'object' && r[c] !== null ? JSON.stringify(r[c]) : r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The long-form rows as JSON (NaN as null), with the points and their settings. */
export function compareJson(cmp: Comparison): string {
  const num = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
  return JSON.stringify({
    gridDir: cmp.gridDir,
    keys: cmp.grid.keys,
    points: cmp.points.map((p) => ({ name: p.name, settings: p.settings, outDir: p.outDir, missing: p.missing ?? null })),
    rows: compareRows(cmp).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, num(v)]))),
  });
}
