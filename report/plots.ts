// The report's per-layer plots: Vega-Lite specs compiled with vega-lite and rendered to SVG in Node by vega's
// headless View (renderer 'none' + toSVG). No browser, no network; vega escapes every text it draws.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { SummaryRow } from '../science/layer-summary.ts';

/** One titled SVG plot. */
export interface Plot {
  id: string;
  title: string;
  /** What the plot shows, in a sentence. */
  caption: string;
  svg: string;
}

type Measure = [keyof SummaryRow, string];

/** Long-form rows {layer, measure, value} of the given measures, dropping non-finite values. */
function longForm(rows: readonly SummaryRow[], measures: readonly Measure[], scale = 1): { layer: string; measure: string; value: number }[] {
  return rows.flatMap((r) => measures.filter(([k]) => Number.isFinite(r[k] as number)).map(([k, label]) => ({ layer: r.layer, measure: label, value: (r[k] as number) * scale })));
}

/** A lines-and-points chart of measures by layer (layers in table order). */
function lineSpec(values: object[], order: string[], measures: string[], yTitle: string, domain: [number, number]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(260, 46 * order.length),
    height: 200,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'layer', type: 'ordinal', sort: order, title: 'layer', axis: { labelAngle: -40 } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { domain } },
      color: { field: 'measure', type: 'nominal', sort: measures, title: null, legend: { orient: 'right', labelLimit: 240 } },
      tooltip: [{ field: 'layer' }, { field: 'measure' }, { field: 'value', format: '.1f' }],
    },
    config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  } as vl.TopLevelSpec;
}

/** A stacked bar chart of selective units by preferred category, per layer. */
function categorySpec(values: object[], order: string[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(260, 46 * order.length),
    height: 200,
    background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'layer', type: 'ordinal', sort: order, title: 'layer', axis: { labelAngle: -40 } },
      y: { field: 'value', type: 'quantitative', title: '% of units (selective)', stack: 'zero' },
      color: { field: 'measure', type: 'nominal', title: 'preferred category', scale: { scheme: 'tableau20' }, legend: { orient: 'right', labelLimit: 240 } },
      tooltip: [{ field: 'layer' }, { field: 'measure' }, { field: 'value', format: '.1f' }],
    },
    config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  } as vl.TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string (headless). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The report's plots (only those with data to show). */
export async function layerPlots(rows: readonly SummaryRow[]): Promise<Plot[]> {
  const order = rows.map((r) => r.layer);
  const plots: Plot[] = [];
  const success: Measure[] = [
    ['pct_responsive', 'responsive to gratings'],
    ['pct_awa_significant', 'AWA significant'],
    ['pct_awc_significant', 'AWC significant'],
    ['pct_awc_suppressive', 'AWC suppressive λ'],
    ['pct_awa_reconstructed', 'reconstructed by AWA'],
    ['pct_awc_reconstructed', 'reconstructed by AWC'],
  ];
  const s = longForm(rows, success);
  if (s.length) {
    plots.push({
      id: 'plot-success',
      title: 'RF reconstruction by layer',
      caption: 'Percent of all units of each layer: responsive, with a significant AWA or AWC, and reconstructed (significant RF whose predicted θ and f both match the grating tuning).',
      svg: await renderSvg(lineSpec(s, order, success.map((m) => m[1]), '% of units', [0, 100])),
    });
  }
  const match: Measure[] = [
    ['pct_awa_theta_match', 'AWA θ match'],
    ['pct_awa_f_match', 'AWA f match'],
    ['pct_awc_theta_match', 'AWC θ match'],
    ['pct_awc_f_match', 'AWC f match'],
  ];
  const m = longForm(rows, match);
  if (m.length) {
    plots.push({
      id: 'plot-match',
      title: 'Predicted vs measured tuning',
      caption: 'Of the units with a significant RF and a grating response: percent whose RF-predicted orientation / spatial frequency matches the measured preference.',
      svg: await renderSvg(lineSpec(m, order, match.map((x) => x[1]), '% of compared units', [0, 100])),
    });
  }
  const sel: Measure[] = [
    ['median_osi', 'median OSI'],
    ['median_circular_variance', 'median circular variance'],
    ['median_csi', 'median category CSI'],
    ['median_sparseness', 'median sparseness'],
    ['awa_theta_circ_corr', 'circ. corr. θ (AWA)'],
    ['awc_theta_circ_corr', 'circ. corr. θ (AWC)'],
  ];
  const q = longForm(rows, sel);
  if (q.length) {
    plots.push({
      id: 'plot-selectivity',
      title: 'Selectivity by layer',
      caption: 'Medians of the orientation and category selectivity indices over each layer’s units, and the circular correlation of predicted vs preferred orientation.',
      svg: await renderSvg(lineSpec(q, order, sel.map((x) => x[1]), 'index', [Math.min(0, ...q.map((v) => v.value)), 1])),
    });
  }
  const cats = rows.flatMap((r) => {
    if (!r.selective_preferred_counts) return [];
    const counts = JSON.parse(r.selective_preferred_counts) as Record<string, number>;
    return Object.entries(counts).map(([measure, n]) => ({ layer: r.layer, measure, value: (100 * n) / r.n_units }));
  });
  if (cats.length > 0) {
    plots.push({
      id: 'plot-category',
      title: 'Category-selective units by layer',
      caption: 'Percent of each layer’s units that are category-selective, split by their preferred category.',
      svg: await renderSvg(categorySpec(cats, order)),
    });
  }
  return plots;
}
