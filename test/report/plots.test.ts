// The report's per-layer plots (report/plots.ts): every statistic is drawn with its 95 % interval as an error bar,
// points resting on fewer than MIN_N units hollow.
import { describe, expect, it } from 'vitest';
import { layerSummary, type LayerUnits } from '../../science/layer-summary.ts';
import { layerPlots, longForm } from '../../report/plots.ts';

/** A layer of n units, half with a significant AWA, predictions exact. */
function layer(name: string, n: number): LayerUnits {
  const ones = new Array<number>(n).fill(1);
  const theta = Array.from({ length: n }, (_, i) => (i * 15) % 180);
  const f = ones.map((_, i) => 0.05 * (1 + (i % 4)));
  return {
    layer: name,
    units: n,
    rfSize: 3,
    tuning: { responsive: ones, thetaPref: theta, fPref: f, columns: { circular_variance: ones, osi: ones, ori_half_width: ones, sf_bandwidth: ones, f1f0: ones } },
    awa: { responsive: ones, significant: ones.map((_, i) => i % 2), thetaPred: theta, fPred: f },
  };
}

const rows = [layerSummary(layer('big', 40)), layerSummary(layer('small', 6))];

/** The <line> elements of the data rules (error bars) of an SVG, not the axis grid. */
function errorBars(svg: string): number {
  const at = svg.indexOf('class="mark-rule role-mark');
  if (at < 0) return 0;
  const group = svg.slice(at, svg.indexOf('</g>', at));
  return (group.match(/<line/g) ?? []).length;
}

describe('layer plots', () => {
  it('longForm carries each value with its interval and n, and flags n < 10', () => {
    const pts = longForm(rows, [['pct_awa_significant', 'AWA significant']]);
    expect(pts).toHaveLength(2);
    expect(pts[0]).toMatchObject({ layer: 'big', value: 50, n: 40, few: false, lo: rows[0]!.pct_awa_significant_lo, hi: rows[0]!.pct_awa_significant_hi });
    expect(pts[0]!.lo).toBeLessThan(50);
    expect(pts[0]!.hi).toBeGreaterThan(50);
    expect(pts[1]).toMatchObject({ layer: 'small', n: 6, few: true });
    expect(longForm(rows, [['pct_awc_significant', 'AWC']])).toEqual([]); // no AWC in these layers: nothing drawn
  });

  it('the success plot draws one error bar per point; the 6-unit layer is a hollow point', async () => {
    const plots = await layerPlots(rows);
    const success = plots.find((p) => p.id === 'plot-success')!;
    // no awc stage in these layers: no AWC shares, and no "reconstructed" (a verdict only the awc stage decides)
    const points = longForm(rows, [['pct_responsive', ''], ['pct_awa_significant', ''], ['pct_awa_reconstructed', '']]).length;
    expect(points).toBe(4);
    expect(errorBars(success.svg)).toBe(points);
    // points: filled for the 40-unit layer, outline only for the 6-unit one
    const symbols = (layerName: string) =>
      [...success.svg.matchAll(new RegExp(`<path aria-label="layer: ${layerName};[^>]*aria-roledescription="point"[^>]*>`, 'g'))].map((m) => m[0]);
    expect(symbols('big')).toHaveLength(2);
    expect(symbols('small')).toHaveLength(2);
    for (const tag of symbols('big')) expect(tag).toMatch(/ fill="#/);
    for (const tag of symbols('small')) expect(tag).not.toMatch(/ fill="#/);
    expect(success.caption).toMatch(/95% Wilson intervals; hollow points rest on fewer than 10 units/);
    const selectivity = plots.find((p) => p.id === 'plot-selectivity')!;
    expect(errorBars(selectivity.svg)).toBe(longForm(rows, [['median_osi', ''], ['median_circular_variance', ''], ['awa_theta_agreement', '']]).length);
  });

  it('shows long (ONNX tensor) layer names by their short labels on the axis, the full name on hover', async () => {
    const long = ['layer1.layer1.0.relu.Relu', 'layer4.layer4.1.relu_2.Relu'];
    const plots = await layerPlots([layerSummary(layer(long[0]!, 20)), layerSummary(layer(long[1]!, 20))]);
    const svg = plots.find((p) => p.id === 'plot-success')!.svg;
    expect(svg).toContain('><title>layer1.layer1.0.relu.Relu</title>…layer1.0.relu.Relu</text>');
    expect(svg).toContain('><title>layer4.layer4.1.relu_2.Relu</title>…layer4.1.relu_2.Relu</text>');
    expect(svg).not.toMatch(/>layer1\.layer1\.0\.relu\.Relu<\/text>/); // the long name is not drawn
  });
});
