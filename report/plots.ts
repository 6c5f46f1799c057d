// The report's per-layer plots: Vega-Lite specs compiled with vega-lite and rendered to SVG in Node by vega's
// headless View (renderer 'none' + toSVG). No browser, no network; vega escapes every text it draws. Every
// statistic is drawn with its 95 % interval as an error bar; values resting on fewer than MIN_N units are hollow.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { MIN_N } from '../science/intervals.ts';
import { rowEstimate, type StatisticName, type SummaryRow } from '../science/layer-summary.ts';
import { layerLabels } from './layer-label.ts';

/** One titled SVG plot. */
export interface Plot {
  id: string;
  title: string;
  /** What the plot shows, in a sentence. */
  caption: string;
  svg: string;
}

type Measure = [StatisticName, string];

/** One plotted point: a statistic of a layer with its 95 % interval and n. */
export interface PlotPoint {
  layer: string;
  measure: string;
  value: number;
  lo: number;
  hi: number;
  n: number;
  /** Fewer than MIN_N observations: drawn hollow (the table shows only "n=…"). */
  few: boolean;
}

/** Long-form points of the given statistics (values that are not finite are left out). */
export function longForm(rows: readonly SummaryRow[], measures: readonly Measure[]): PlotPoint[] {
  return rows.flatMap((r) =>
    measures.flatMap(([k, label]) => {
      const e = rowEstimate(r, k);
      if (!Number.isFinite(e.value)) return [];
      return [{ layer: r.layer, measure: label, value: e.value, lo: Number.isFinite(e.lo) ? e.lo : e.value, hi: Number.isFinite(e.hi) ? e.hi : e.value, n: e.n, few: !(e.n >= MIN_N) }];
    }),
  );
}

/** The layer axis: layers in table order, long names shown by their labels (layer-label.ts). */
function layerAxis(order: string[], labels: Map<string, string>) {
  const short = Object.fromEntries([...labels].filter(([k, v]) => k !== v));
  const labelExpr = Object.keys(short).length ? `(${JSON.stringify(short)})[datum.value] || datum.value` : undefined;
  return { field: 'layer', type: 'ordinal', sort: order, title: 'layer', axis: { labelAngle: -40, ...(labelExpr ? { labelExpr, labelLimit: 200 } : {}) } };
}

/** A lines-and-points chart of measures by layer (layers in table order), each point with its interval as an error bar. */
function lineSpec(values: PlotPoint[], order: string[], measures: string[], yTitle: string, domain: [number, number], labels: Map<string, string>): vl.TopLevelSpec {
  const x = layerAxis(order, labels);
  const color = { field: 'measure', type: 'nominal', sort: measures, title: null, legend: { orient: 'right', labelLimit: 240 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(260, 46 * order.length),
    height: 200,
    background: 'white',
    data: { values },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 },
        encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { domain } }, y2: { field: 'hi' }, color },
      },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { domain } }, color } },
      ...[false, true].map((few) => ({
        transform: [{ filter: few ? 'datum.few' : '!datum.few' }],
        mark: { type: 'point', size: 50, filled: !few, strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', scale: { domain } },
          color,
          tooltip: [{ field: 'layer' }, { field: 'measure' }, { field: 'value', format: '.2f' }, { field: 'lo', title: '95% lo', format: '.2f' }, { field: 'hi', title: '95% hi', format: '.2f' }, { field: 'n' }],
        },
      })),
    ],
    config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  } as vl.TopLevelSpec;
}

/** A stacked bar chart of selective units by preferred category, per layer. */
function categorySpec(values: object[], order: string[], labels: Map<string, string>): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(260, 46 * order.length),
    height: 200,
    background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: layerAxis(order, labels),
      y: { field: 'value', type: 'quantitative', title: '% of units (selective)', stack: 'zero' },
      color: { field: 'measure', type: 'nominal', title: 'preferred category', scale: { scheme: 'tableau20' }, legend: { orient: 'right', labelLimit: 240 } },
      tooltip: [{ field: 'layer' }, { field: 'measure' }, { field: 'value', format: '.1f' }],
    },
    config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  } as vl.TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string (headless). */
export async function renderSpec(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Escapes text as vega writes it into SVG. */
function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Gives every shortened layer label drawn in an SVG a <title> with the full name (the browser shows it on hover). */
export function titleShortLabels(svg: string, labels: Map<string, string>): string {
  let out = svg;
  for (const [name, label] of labels) {
    if (label === name) continue;
    out = out.split(`>${xmlText(label)}</text>`).join(`><title>${xmlText(name)}</title>${xmlText(label)}</text>`);
  }
  return out;
}

/** The report's plots (only those with data to show). */
export async function layerPlots(rows: readonly SummaryRow[]): Promise<Plot[]> {
  const order = rows.map((r) => r.layer);
  const labels = layerLabels(order);
  const renderSvg = async (spec: vl.TopLevelSpec) => titleShortLabels(await renderSpec(spec), labels);
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
      caption: `Percent of all units of each layer: responsive, with a significant AWA or AWC, and reconstructed (significant RF whose predicted θ and f both match the grating tuning). Bars: 95% Wilson intervals; hollow points rest on fewer than ${MIN_N} units.`,
      svg: await renderSvg(lineSpec(s, order, success.map((m) => m[1]), '% of units', [0, 100], labels)),
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
      caption: `Of the units with a significant RF and a grating response: percent whose RF-predicted orientation / spatial frequency matches the measured preference. Bars: 95% Wilson intervals; hollow points rest on fewer than ${MIN_N} compared units.`,
      svg: await renderSvg(lineSpec(m, order, match.map((x) => x[1]), '% of compared units', [0, 100], labels)),
    });
  }
  const sel: Measure[] = [
    ['median_osi', 'median OSI'],
    ['median_circular_variance', 'median circular variance'],
    ['median_csi', 'median category CSI'],
    ['median_sparseness', 'median sparseness'],
    ['awa_theta_agreement', 'θ agreement (AWA)'],
    ['awc_theta_agreement', 'θ agreement (AWC)'],
  ];
  const q = longForm(rows, sel);
  if (q.length) {
    plots.push({
      id: 'plot-selectivity',
      title: 'Selectivity by layer',
      caption: `Medians of the orientation and category selectivity indices over each layer’s units, and the agreement of predicted with preferred orientation (mean cos 2Δθ: 1 identical, 0 unrelated). Bars: 95% bootstrap intervals; hollow points rest on fewer than ${MIN_N} units.`,
      svg: await renderSvg(lineSpec(q, order, sel.map((x) => x[1]), 'index', [Math.min(0, ...q.map((v) => v.lo)), 1], labels)),
    });
  }
  const tests: Measure[] = [
    ['pct_category_selective', 'selective (ANOVA)'],
    ['pct_category_reliable', 'reliable preference (split halves)'],
  ];
  const c = longForm(rows, tests);
  if (c.length) {
    plots.push({
      id: 'plot-category-tests',
      title: 'Category selectivity: two tests',
      caption: `Percent of each layer’s units called category-selective by the one-way ANOVA (FDR) and with a reliable category preference (same preferred category on disjoint halves of the images, split-half profile correlation beyond its permutation null). Bars: 95% Wilson intervals; hollow points rest on fewer than ${MIN_N} units.`,
      svg: await renderSvg(lineSpec(c, order, tests.map((x) => x[1]), '% of units', [0, 100], labels)),
    });
  }
  const v1 = longForm(rows, [['v1_score', 'V1 score']]);
  if (v1.length) {
    plots.push({
      id: 'plot-v1',
      title: 'V1 score by layer',
      caption: 'Mean ceiled KS similarity of the layer’s V1 property distributions to recorded macaque V1 (1 = as similar as the V1 data to their own bootstrap). Bars: bootstrap intervals (v1.level); hollow points rest on fewer than 10 responsive units.',
      svg: await renderSvg(lineSpec(v1, order, ['V1 score'], 'V1 score', [0, 1], labels)),
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
      svg: await renderSvg(categorySpec(cats, order, labels)),
    });
  }
  return plots;
}
