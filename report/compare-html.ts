// compare.html: a grid's summaries on one self-contained page (inline CSS, SVG plots, no script, no network). For each
// summary statistic, one plot per varied key: the statistic against that key's values, one line per layer, each
// point with its 95 % interval (hollow below MIN_N), panels side by side for the values of the other keys (a list of
// points whose keys change together: one plot along the points); then the
// per-statistic tables (layers × points, value [interval] n). Every outside string is HTML-escaped; vega escapes
// what it draws.
// Tested in test/report/compare-browser.test.ts.
import type * as vl from 'vega-lite';
import { MIN_N } from '../science/intervals.ts';
import { SUMMARY_STATISTICS } from '../science/layer-summary.ts';
import type { Comparison, ComparedStatistic } from './compare-data.ts';
import { cellParts, settingsText } from './compare-format.ts';
import { esc, STYLE_CSS } from './html.ts';
import { renderSpec as renderSvg } from './plots.ts';

/** One plotted value: a statistic of a layer at a point, placed by one key's value and the other keys' values. */
export interface ComparePoint {
  x: string;
  panel: string;
  layer: string;
  point: string;
  value: number;
  lo: number;
  hi: number;
  n: number;
  few: boolean;
}

/** A value of a key as the plots label it. */
function valueLabel(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (Array.isArray(v)) return v.map(valueLabel).join('+');
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** Plots along every point of the grid, one after the other (when no key varies on its own). */
export const BY_POINT = 'point';

/**
 * The values of one statistic, placed along `key` (panels: the other keys' values) or, for BY_POINT, along the points
 * in grid order (one panel); finite numbers only.
 */
export function keyedValues(cmp: Comparison, stat: ComparedStatistic, key: string): { values: ComparePoint[]; order: string[]; panels: string[] } {
  const order: string[] = [];
  const panels: string[] = [];
  const values: ComparePoint[] = [];
  for (const p of cmp.points) {
    const x = key === BY_POINT ? p.name : valueLabel(p.settings[key]);
    const others = key === BY_POINT ? [] : Object.entries(p.settings).filter(([k]) => k !== key);
    const panel = others.length ? others.map(([k, v]) => `${k}=${valueLabel(v)}`).join(', ') : 'all points';
    if (!order.includes(x)) order.push(x);
    if (!panels.includes(panel)) panels.push(panel);
    for (const layer of cmp.layers) {
      const c = cmp.cell(p.name, layer, stat.name);
      if (!c || !Number.isFinite(c.value)) continue;
      values.push({ x, panel, layer, point: p.name, value: c.value, lo: Number.isFinite(c.lo) ? c.lo : c.value, hi: Number.isFinite(c.hi) ? c.hi : c.value, n: c.n, few: !(c.n >= MIN_N) });
    }
  }
  return { values, order, panels };
}

/** The Vega-Lite spec of one statistic against one key: lines per layer, interval rules, one panel per other setting. */
export function keySpec(values: ComparePoint[], key: string, order: string[], panels: string[], layers: string[], yTitle: string): vl.TopLevelSpec {
  const x = { field: 'x', type: 'ordinal', sort: order, title: key, axis: { labelAngle: -30 } };
  const color = { field: 'layer', type: 'nominal', sort: layers, title: 'layer', legend: { orient: 'right', labelLimit: 200 } };
  const y = { field: 'value', type: 'quantitative', title: yTitle };
  const layer = [
    { mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
    ...[false, true].map((few) => ({
      transform: [{ filter: few ? 'datum.few' : '!datum.few' }],
      mark: { type: 'point', size: 50, filled: !few, strokeWidth: 1.5 },
      encoding: {
        x,
        y,
        color,
        tooltip: [{ field: 'point' }, { field: 'layer' }, { field: 'value', format: '.2f' }, { field: 'lo', title: '95% lo', format: '.2f' }, { field: 'hi', title: '95% hi', format: '.2f' }, { field: 'n' }],
      },
    })),
  ];
  const inner = { width: Math.max(140, 48 * order.length), height: 180, layer };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', data: { values }, config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } } };
  if (panels.length <= 1) return { ...base, ...inner } as vl.TopLevelSpec;
  return { ...base, facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelLimit: 260 } } }, spec: inner, resolve: { scale: { y: 'shared' } } } as vl.TopLevelSpec;
}

/** One figure: a statistic against a key, rendered to SVG. */
interface Figure {
  stat: ComparedStatistic;
  key: string;
  svg: string;
}

/**
 * The keys a statistic is plotted against: those that take two or more values with the other keys fixed (every key of
 * a rectangular grid); BY_POINT when none does (a list of points whose keys change together).
 */
export function plotKeys(cmp: Comparison): string[] {
  const keys = cmp.grid.keys.filter((key) => {
    const xs = new Map<string, Set<string>>();
    for (const p of cmp.points) {
      const panel = JSON.stringify(Object.entries(p.settings).filter(([k]) => k !== key));
      xs.set(panel, (xs.get(panel) ?? new Set()).add(valueLabel(p.settings[key])));
    }
    return [...xs.values()].some((s) => s.size > 1);
  });
  return keys.length ? keys : [BY_POINT];
}

/** Everything the page needs, rendered (the plots are the slow part: ~150 ms each). */
export async function compareFigures(cmp: Comparison): Promise<Figure[]> {
  const out: Figure[] = [];
  const keys = plotKeys(cmp);
  for (const stat of cmp.statistics) {
    for (const key of keys) {
      const { values, order, panels } = keyedValues(cmp, stat, key);
      if (!values.length) continue;
      const yTitle = stat.name.startsWith('pct_') ? '%' : 'value';
      out.push({ stat, key, svg: await renderSvg(keySpec(values, key, order, panels, cmp.layers, yTitle)) });
    }
  }
  return out;
}

const DOC = new Map(SUMMARY_STATISTICS.map((s) => [s.name, s.doc]));

/** The page. */
export function compareHtml(cmp: Comparison, figures: Figure[], generatedAt = new Date().toISOString()): string {
  const title = `revcor compare — ${cmp.gridDir.split('/').pop() || cmp.gridDir}`;
  const pointRows = cmp.points
    .map((p, i) => `<tr><th scope="row">P${i + 1}</th><td>${p.missing ? esc(p.name) : `<a href="${esc(encodeURIComponent(p.name))}/report.html">${esc(p.name)}</a>`}</td><td class="settings">${esc(settingsText(p.settings))}</td><td>${esc(p.missing ?? (p.fromCheckpoint ? 'done' : 'summary computed from the checkpoints present'))}</td></tr>`)
    .join('\n');
  const stats = [...new Set(figures.map((f) => f.stat))];
  const plots = stats.length
    ? stats
        .map((s) => {
          const figs = figures.filter((f) => f.stat === s).map((f) => `<figure class="plot" data-stat="${esc(s.name)}" data-key="${esc(f.key)}"><figcaption><strong>${esc(s.label)} against ${esc(f.key)}</strong></figcaption>${f.svg}</figure>`);
          return `<section class="stat" id="plot-${esc(s.name)}"><h3>${esc(s.label)} <span class="note">(${esc(s.group)}; ${esc(s.name)})</span></h3><p class="note">${esc(DOC.get(s.name) ?? '')}. Bars: 95% intervals; hollow points rest on fewer than ${MIN_N} units.</p><div class="plots">${figs.join('\n')}</div></section>`;
        })
        .join('\n')
    : '<p class="empty">No point has results yet.</p>';
  const head = `<th scope="col">layer</th>${cmp.points.map((p, i) => `<th scope="col" title="${esc(p.name)}">P${i + 1}</th>`).join('')}`;
  const tables = stats
    .map((s) => {
      const body = cmp.layers
        .map((l) => `<tr><th scope="row">${esc(l)}</th>${cmp.points.map((p) => compareCell(cmp, p.name, l, s)).join('')}</tr>`)
        .join('\n');
      return `<div class="table-block" id="table-${esc(s.name)}"><h3>${esc(s.label)} <span class="note">(${esc(s.group)})</span></h3><div class="scroll"><table class="summary compare"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div></div>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="revcor">
<title>${esc(title)}</title>
<style>${STYLE_CSS}
td.settings { text-align: left; white-space: normal; }
table.points td, table.points th { text-align: left; }
section.stat { margin-bottom: 18px; }
</style>
</head>
<body>
<header class="top">
<h1>${esc(title)}</h1>
<p class="facts"><span><b>grid</b> ${esc(cmp.gridDir)}</span><span><b>from</b> ${esc(cmp.grid.file)}</span><span><b>points</b> ${cmp.points.length}</span><span><b>varied</b> ${esc(cmp.grid.keys.join(', '))}</span><span><b>generated</b> ${esc(generatedAt.replace('T', ' ').slice(0, 19))} UTC</span></p>
<nav><a href="#points">Points</a><a href="#plots">Plots</a><a href="#tables">Tables</a></nav>
</header>
<main>
<section id="points"><h2>Points</h2>
<div class="scroll"><table class="summary points"><thead><tr><th scope="col">#</th><th scope="col">point (its report)</th><th scope="col">settings</th><th scope="col">state</th></tr></thead><tbody>
${pointRows}
</tbody></table></div></section>
<section id="plots"><h2>Each statistic against the varied keys</h2>
<p class="note">One line per layer; panels side by side hold the other keys fixed. The same numbers are in the tables below (and in <code>revcor compare ${esc(cmp.gridDir)} --format csv</code>).</p>
${plots}
</section>
<section id="tables"><h2>Tables</h2>
<p class="note">Each cell: value [95% interval] n (the units it rests on); "n=…" alone below ${MIN_N}; — where the point has no such number. P1… are the points listed above.</p>
${tables}
</section>
</main>
</body>
</html>
`;
}

function compareCell(cmp: Comparison, point: string, layer: string, s: ComparedStatistic): string {
  const p = cellParts(cmp.cell(point, layer, s.name), s);
  return `<td>${esc(p.value)}${p.extra ? `<span class="ci">${esc(p.extra)}</span>` : ''}</td>`;
}
