// report.html: one self-contained page (inline CSS, script, SVG plots, PNG/JPEG data URIs, JSON data), no
// network. Every string from outside (layer, category and file names, config text, paths) is HTML-escaped here
// or set with textContent by the page script; embedded JSON cannot close its <script> element.
// Tested in test/report/escape.test.ts.
import { readFileSync } from 'node:fs';
import type { Manifest } from '../pipeline/manifest.ts';
import { packageFile } from '../pipeline/package-files.ts';
import type { SummaryRow } from '../science/layer-summary.ts';
import { cellParts, shownGroups, type ShownColumn } from './format.ts';
import { layerLabels } from './layer-label.ts';
import type { Plot } from './plots.ts';
import type { ImageJson, LayerJson } from './units.ts';
import type { V1SectionJson } from './v1.ts';

const CLIENT_JS = readFileSync(packageFile('report/client.js'), 'utf8');
/** The reports' stylesheet (report/style.css, a package file: found from the sources and from the compiled bundle). */
export const STYLE_CSS = readFileSync(packageFile('report/style.css'), 'utf8');

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside <script type="application/json">: every '<' escaped, so '</script>' and '<!--' cannot occur. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Everything the page shows. */
export interface ReportModel {
  title: string;
  outDir: string;
  generatedAt: string;
  /** Stamp of the inputs (lets a later run see the page is current). */
  stamp: string;
  rows: SummaryRow[];
  /** Column descriptions (header tooltips). */
  columnDoc: Record<string, string>;
  plots: Plot[];
  layers: LayerJson[];
  images: ImageJson[];
  /** Notes shown at the top (missing inputs, how the summary was obtained). */
  notes: string[];
  /** A warning no reader may miss (e.g. untrained, seeded weights), shown above everything. */
  banner?: string;
  /** Facts shown in the header: [label, value]. */
  facts: [string, string][];
  resolvedYaml: string;
  versions: [string, string][];
  manifest: Manifest | null;
  /** Settings the page script needs (tolerances, thresholds, image folder). */
  settings: Record<string, unknown>;
  /** The V1 comparison (report/v1.ts), null without v1 checkpoints. */
  v1?: V1SectionJson | null;
}

/** The page's labels of its layers (long names shortened, unique). */
function pageLabels(m: ReportModel): Map<string, string> {
  return layerLabels([...new Set([...m.rows.map((r) => r.layer), ...m.layers.map((L) => L.name), ...(m.v1?.layers ?? []).map((L) => L.name)])]);
}

/** A layer's name as shown: its label, with the full name on hover when the label is shortened. */
function layerText(name: string, labels: Map<string, string>): string {
  const label = labels.get(name) ?? name;
  return label === name ? esc(name) : `<span class="lshort" title="${esc(name)}">${esc(label)}</span>`;
}

function v1Section(m: ReportModel): string {
  if (!m.v1) return '';
  const plot = m.plots.find((p) => p.id === 'plot-v1');
  const sources = [...new Set(m.v1.properties.map((p) => p.source))].map((s) => `<li>${esc(s)}</li>`).join('');
  return `<section id="v1"><h2>How V1-like is each layer?</h2>
<p class="note">Per layer, Brain-Score's V1 grating properties of its responsive units against recorded macaque V1: the V1 score (mean ceiled KS similarity over the scored properties, with its bootstrap interval) and, for the layer chosen below, each property's histogram over the layer's units (points, line) on the V1 histogram (bars), both as fractions of their n. Method: docs/v1-comparison.md.</p>
${m.v1.note ? `<p class="warn">${esc(m.v1.note)}</p>` : ''}
${plot ? `<figure class="plot" id="${esc(plot.id)}"><figcaption><strong>${esc(plot.title)}</strong> ${esc(plot.caption)}</figcaption>${plot.svg}</figure>` : ''}
${m.v1.properties.length ? `<p><label>Layer <select id="v1-layer" aria-label="layer of the V1 histograms"></select></label></p><div id="v1-hists" class="charts"></div><p class="note">V1 data:</p><ul class="v1-sources">${sources}</ul>` : ''}
</section>`;
}

/** One summary cell: the value, then its interval and n in a quieter span. */
function summaryCell(r: SummaryRow, c: ShownColumn): string {
  const p = cellParts(r, c);
  const extra = p.interval + p.n;
  return `<td>${esc(p.value)}${extra ? `<span class="ci">${esc(extra)}</span>` : ''}</td>`;
}

function summaryTables(m: ReportModel): string {
  if (m.rows.length === 0) return '<p class="empty">No layer has results yet (none of tuning, category, awa, awc has finished).</p>';
  const labels = pageLabels(m);
  return shownGroups(m.rows).map((g) => {
    const head = ['<th scope="col">layer</th>', ...g.columns.map((c) => `<th scope="col" title="${esc(m.columnDoc[c.key] ?? '')}">${esc(c.header)}</th>`)].join('');
    const body = m.rows
      .map((r, i) => `<tr><th scope="row"><a href="#layer-${i}">${layerText(r.layer, labels)}</a></th>${g.columns.map((c) => summaryCell(r, c)).join('')}</tr>`)
      .join('\n');
    return `<div class="table-block" id="table-${g.id}"><h3>${esc(g.title)}</h3><p class="note">${esc(g.note)}</p>
<div class="scroll"><table class="summary"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div></div>`;
  }).join('\n');
}

function plotsSection(m: ReportModel): string {
  if (m.plots.length === 0) return '<p class="empty">Nothing to plot yet.</p>';
  return `<div class="plots">${m.plots
    .filter((p) => p.id !== 'plot-v1')
    .map((p) => `<figure class="plot" id="${esc(p.id)}"><figcaption><strong>${esc(p.title)}</strong> ${esc(p.caption)}</figcaption>${p.svg}</figure>`)
    .join('\n')}</div>`;
}

function layerSections(m: ReportModel): string {
  if (m.layers.length === 0) return '<p class="empty">No per-unit results.</p>';
  const labels = pageLabels(m);
  return m.layers
    .map((L, i) => {
      const r = m.rows.find((x) => x.layer === L.name);
      const bits = [`${L.units.length} units`];
      if (L.awaSide) bits.push(`RF ${L.awaSide}×${L.awaSide} px`);
      if (r && Number.isFinite(r.pct_awa_significant)) bits.push(`AWA significant ${r.pct_awa_significant.toFixed(0)}%`);
      if (r && Number.isFinite(r.pct_awc_significant)) bits.push(`AWC significant ${r.pct_awc_significant.toFixed(0)}%`);
      return `<details class="layer" id="layer-${i}" data-layer="${i}"><summary><span class="lname">${layerText(L.name, labels)}</span> <span class="lfacts">${esc(bits.join(' · '))}</span></summary><div class="layer-body"><p class="loading">Building…</p></div></details>`;
    })
    .join('\n');
}

function runSection(m: ReportModel): string {
  const versions = m.versions.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  let stages = '<p class="empty">No manifest.</p>';
  if (m.manifest) {
    const rows = Object.entries(m.manifest.stages).map(([stage, recs]) => {
      const seconds = recs.reduce((a, r) => a + r.seconds, 0);
      const bytes = recs.reduce((a, r) => a + r.bytes, 0);
      const finished = recs.map((r) => r.finishedAt).sort();
      return `<tr><th scope="row">${esc(stage)}</th><td>${recs.length}</td><td>${esc(formatSeconds(seconds))}</td><td>${esc(formatBytes(bytes))}</td><td>${esc((finished[finished.length - 1] ?? '').replace('T', ' ').slice(0, 19))}</td></tr>`;
    });
    stages = `<table class="plain"><thead><tr><th>stage</th><th>shards</th><th>time (sum over shards)</th><th>output</th><th>last finished (UTC)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  }
  return `<div class="run-grid"><div><h3>Run time per stage</h3>${stages}<p class="note">Shards run concurrently, so the sum over shards can exceed the wall-clock time.</p>
<h3>Software</h3><table class="plain"><tbody>${versions}</tbody></table></div>
<div><h3>Resolved configuration</h3><pre class="config">${esc(m.resolvedYaml || '(the resolved experiment file was not found)')}</pre></div></div>`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function formatBytes(b: number): string {
  const u = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (b >= 1000 && i < u.length - 1) (b /= 1000), i++;
  return `${b.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** The whole page. */
export function reportHtml(m: ReportModel): string {
  if (/<\/script/i.test(CLIENT_JS)) throw new Error('report/client.js must not contain a closing script tag');
  // long hex digests (weights sha256) shortened on screen, whole in the tooltip
  const facts = m.facts.map(([k, v]) => `<span title="${esc(v)}"><b>${esc(k)}</b> ${esc(v.replace(/\b([0-9a-f]{12})[0-9a-f]{20,}\b/g, '$1…'))}</span>`).join('');
  const notes = m.notes.length ? `<ul class="notes">${m.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const data = m.layers.map((L, i) => `<script type="application/json" id="layer-data-${i}">${scriptJson(L)}</script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="revcor">
<meta name="revcor-report-stamp" content="${esc(m.stamp)}">
<title>${esc(m.title)}</title>
<style>${STYLE_CSS}</style>
</head>
<body>
<header class="top">
<h1>${esc(m.title)}</h1>
<p class="facts">${facts}</p>
<nav><a href="#summary">Summary</a><a href="#plots">Plots</a>${m.v1 ? '<a href="#v1">V1</a>' : ''}<a href="#atlas">RF atlas</a><a href="#run">Run</a></nav>
</header>
${m.banner ? `<div class="banner" role="alert">${esc(m.banner)}</div>` : ''}
<main>
${notes}
<section id="summary"><h2>Per-layer summary</h2>
<p class="note">Hover a column header for its definition. Orientation match: |Δθ| ≤ ${esc(m.settings['thetaTolerance'])}°; SF match: |log₂(f_pred / f_pref)| ≤ ${esc(m.settings['sfTolerance'])} octave; predictions by the ${esc(m.settings['method'])} method. Also in summary/summary.csv and summary/summary.arrow.</p>
${summaryTables(m)}
</section>
<section id="plots"><h2>Plots by layer</h2>
${plotsSection(m)}
</section>
${v1Section(m)}
<section id="atlas"><h2>RF atlas</h2>
<div class="legend">
<p>Each tile is one unit (channel at the centre of its feature map). Maps, left to right: <b>AWA</b> (activation-weighted average; grey = 0, white = brighter than mean; limits ±max(|AWA|, ${esc(m.settings['zThreshold'])}·null SD), so a map that is not significant looks faint), the two leading <b>AWC eigenvectors</b> e₁, e₂ (own symmetric limits; faded when not significant) and the <b>energy map</b> Σλₖeₖ² of the significant excitatory eigenvectors (black → red → yellow → white).</p>
<p>Marks: <span class="mk pref"></span> θ_pref from gratings, <span class="mk pred"></span> θ_pred of the RF (AWA on the AWA map, AWC on the energy map), drawn as two strokes at the edge of the map on the line along the bars (θ is the wave-vector direction, bars lie at θ + 90°); the “θ marks” box hides them. Badges: <span class="badge a">A</span> AWA significant, <span class="badge c">C2</span> number of significant AWC eigenvalues, <span class="badge r">R</span> reconstructed (θ and f match), <span class="badge k">S</span> category-selective. Click a tile for the unit's card; open a layer to build its grid.</p>
</div>
${layerSections(m)}
</section>
<section id="run"><h2>Run</h2>
${runSection(m)}
</section>
</main>
<div id="card" class="card-backdrop" hidden><div class="card" role="dialog" aria-modal="true" aria-labelledby="card-title"><button type="button" class="close" aria-label="Close">×</button><div class="card-body"></div></div></div>
${data}
<script type="application/json" id="image-data">${scriptJson(m.images)}</script>
<script type="application/json" id="report-settings">${scriptJson(m.settings)}</script>
<script type="application/json" id="v1-data">${scriptJson(m.v1 ?? null)}</script>
<script type="application/json" id="layer-labels">${scriptJson(Object.fromEntries(pageLabels(m)))}</script>
<script>
${CLIENT_JS}
</script>
</body>
</html>
`;
}
