// `revcor compare` output on a hand-made comparison (report/compare-format.ts, report/compare-html.ts): every cell with
// its interval and n, "n=…" alone below MIN_N, '—' without a number; Markdown and CSV escaping; long-form rows with the
// points' settings; and the plots' data: each statistic placed along one key, panels for the other keys' values.
import { describe, expect, it } from 'vitest';
import { comparedStatistics, type Cell, type Comparison } from '../../report/compare-data.ts';
import { cellText, compareCsv, compareJson, compareMarkdown, compareText } from '../../report/compare-format.ts';
import { BY_POINT, compareHtml, keyedValues, keySpec, plotKeys } from '../../report/compare-html.ts';
import type { StatisticName } from '../../science/layer-summary.ts';

const stats = comparedStatistics().filter((s) => s.name === 'pct_awc_significant' || s.name === 'median_osi');
const cells: Record<string, Cell> = {
  'p|1,q=2/L1/pct_awc_significant': { value: 12.5, lo: 8.04, hi: 18.9, n: 64 },
  'p|1,q=2/L2/pct_awc_significant': { value: 50, lo: 20, hi: 80, n: 4 },
  'p|1,q=2/L1/median_osi': { value: NaN, lo: NaN, hi: NaN, n: 12 },
  'p=3/L1/pct_awc_significant': { value: 25, lo: 20.5, hi: 30.1, n: 64 },
};
const cmp: Comparison = {
  gridDir: '/runs/g',
  grid: { format: 'revcor-grid/1', file: '/s.yaml', keys: ['awc.crop', 'model.layers'], points: [], cache: null, createdAt: '', updatedAt: '' },
  points: [
    { name: 'p|1,q=2', settings: { 'awc.crop': 'effective', 'model.layers': ['a', 'b'] }, outDir: '/runs/g/p1', fromCheckpoint: true },
    { name: 'p=3', settings: { 'awc.crop': 'theoretical', 'model.layers': ['a', 'b'] }, outDir: '/runs/g/p3', fromCheckpoint: true },
    { name: 'p=4', settings: { 'awc.crop': '<b>bold</b>', 'model.layers': ['c'] }, outDir: '/runs/g/p4', missing: 'not run yet', fromCheckpoint: false },
  ],
  layers: ['L1', 'L2'],
  statistics: stats,
  cell: (p, l, s: StatisticName) => cells[`${p}/${l}/${s}`],
};
const awc = stats.find((s) => s.name === 'pct_awc_significant')!;

describe('compare tables', () => {
  it('a cell is value [lo, hi] n=…; n below MIN_N alone; no number is —', () => {
    expect(cellText(cells['p|1,q=2/L1/pct_awc_significant'], awc)).toBe('12.5 [8, 19] n=64');
    expect(cellText(cells['p|1,q=2/L2/pct_awc_significant'], awc)).toBe('n=4');
    expect(cellText(cells['p|1,q=2/L1/median_osi'], stats.find((s) => s.name === 'median_osi')!)).toBe('— n=12');
    expect(cellText(undefined, awc)).toBe('—');
  });

  it('text: a legend of the points, then per statistic layers down and points across', () => {
    const t = compareText(cmp);
    expect(t.slice(0, 4)).toEqual(['Grid /runs/g: 3 points, 2 layers', '  P1  p|1,q=2', '  P2  p=3', '  P3  p=4  (not run yet)']);
    const i = t.indexOf('AWC sig. % (RF reconstruction) — pct_awc_significant');
    expect(t.slice(i + 1, i + 4)).toEqual(['  layer                 P1                  P2  P3', '  L1     12.5 [8, 19] n=64  25.0 [21, 30] n=64   —', '  L2                   n=4                   —   —']);
  });

  it('markdown escapes | in names; CSV is long-form with settings (lists as JSON) and empty cells for NaN; JSON uses null', () => {
    const md = compareMarkdown(cmp);
    expect(md).toContain('| layer | p\\|1,q=2 | p=3 | p=4 |');
    expect(md).toContain('| L1 | 12.5 [8, 19] n=64 | 25.0 [21, 30] n=64 | — |');
    const csv = compareCsv(cmp).split('\r\n');
    expect(csv[0]).toBe('point,awc.crop,model.layers,layer,statistic,value,lo,hi,n');
    expect(csv).toContain('"p|1,q=2",effective,"[""a"",""b""]",L1,pct_awc_significant,12.5,8.04,18.9,64');
    expect(csv).toContain('"p|1,q=2",effective,"[""a"",""b""]",L1,median_osi,,,,12');
    expect(csv).toHaveLength(1 + 4 + 1); // four cells with an n, and the final CRLF
    const json = JSON.parse(compareJson(cmp));
    expect(json.rows.find((r: any) => r.statistic === 'median_osi')).toMatchObject({ value: null, lo: null, n: 12, 'model.layers': ['a', 'b'] });
    expect(json.points[2]).toMatchObject({ name: 'p=4', missing: 'not run yet' });
  });
});

describe('compare plots', () => {
  it('places a statistic along one key, with one panel per value of the other keys; a single panel needs no facet', () => {
    const { values, order, panels } = keyedValues(cmp, awc, 'awc.crop');
    expect(order).toEqual(['effective', 'theoretical', '<b>bold</b>']);
    expect(panels).toEqual(['model.layers=a+b', 'model.layers=c']);
    expect(values.map((v) => [v.x, v.layer, v.value, v.few])).toEqual([['effective', 'L1', 12.5, false], ['effective', 'L2', 50, true], ['theoretical', 'L1', 25, false]]);
    const spec = keySpec(values, 'awc.crop', order, panels, cmp.layers, '%') as Record<string, any>;
    expect(spec.facet.column.sort).toEqual(panels);
    expect(spec.spec.layer).toHaveLength(4); // interval rules, lines, filled and hollow points
    const single = keySpec(values, 'awc.crop', order, ['all points'], cmp.layers, '%') as Record<string, any>;
    expect(single.facet).toBeUndefined();
    expect(single.layer).toHaveLength(4);
  });

  it('plots against the keys that vary with the others fixed; a list of points whose keys change together, along the points', () => {
    expect(plotKeys(cmp)).toEqual(['awc.crop']); // model.layers never changes while awc.crop stays
    const together: Comparison = { ...cmp, points: cmp.points.filter((p) => p.name !== 'p=3') };
    expect(plotKeys(together)).toEqual([BY_POINT]);
    const { order, panels } = keyedValues(together, awc, BY_POINT);
    expect(order).toEqual(['p|1,q=2', 'p=4']);
    expect(panels).toEqual(['all points']);
  });

  it('the page escapes every outside string and links the points that ran to their reports', () => {
    const html = compareHtml(cmp, [{ stat: awc, key: 'awc.crop', svg: '<svg></svg>' }], '2020-01-01T00:00:00Z');
    expect(html).toContain('awc.crop=&lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('<a href="p%7C1%2Cq%3D2/report.html">p|1,q=2</a>');
    expect(html).toContain('<td>12.5<span class="ci"> [8, 19] n=64</span></td>');
    expect(html).toMatch(/<th scope="row">P3<\/th><td>p=4<\/td>/);
  });
});
