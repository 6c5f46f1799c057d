// science/v1-reference.ts on hand-made data with known answers: which Ringach 2002 neurons are responsive (maxdc >
// spont + 5 spikes/s, strictly), the property values Brain-Score derives from its columns, and the reference
// distribution of every compared property (Ringach's values binned, the digitized histograms expanded from their
// counts). The real files are read in test/stages/v1-reference.test.ts.
import { describe, expect, it } from 'vitest';
import { V1_PROPERTIES } from '../../science/v1-catalogue.ts';
import { buildV1Reference, RINGACH_COLUMNS, ringachProperties, type HistogramFile, type RingachColumns } from '../../science/v1-reference.ts';

const f64 = (v: number[]) => Float64Array.from(v);

/** Six neurons: responsive are 0 (10 > 4.9 + 5), 2, 3, 4, 5; neuron 1 sits exactly at spont + 5 (10 = 5 + 5). */
function columns(): RingachColumns {
  return {
    orivar: f64([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    bw: f64([34, 20, 90, 91, NaN, 180]),
    po: f64([0.05, 0.15, 0.25, 0.35, 0.45, 0.55]),
    maxdc: f64([10, 10, 20, 8, 30, 40]),
    maxfirst: f64([5, 1, 30, 2, 0, 10]),
    spont: f64([4.9, 5, 1, 0, 2, 3]),
  };
}

describe('ringachProperties', () => {
  it('keeps the neurons with maxdc > spont + 5 (not at equality) and derives each property from its column', () => {
    const r = ringachProperties(columns());
    expect([r.recorded, r.responsive]).toEqual([6, 5]);
    expect([...r.circularVariance]).toEqual([0.1, 0.3, 0.4, 0.5, 0.6]);
    // half-bandwidth above 90° (and a missing one) is not orientation selective: NaN bandwidth, selective 0;
    // exactly 90° still is
    expect([...r.oriBandwidth]).toEqual([34, 90, NaN, NaN, NaN]);
    expect([...r.oriSelective]).toEqual([1, 1, 0, 0, 0]);
    expect([...r.orthPrefRatio]).toEqual([0.05, 0.25, 0.35, 0.45, 0.55]);
    expect([...r.modulationRatio]).toEqual([0.5, 1.5, 0.25, 0, 0.25]); // maxfirst / maxdc
    expect([...r.maxDc]).toEqual([10, 20, 8, 30, 40]);
    expect([...r.spont]).toEqual([4.9, 1, 0, 2, 3]);
  });

  it('no neuron: empty properties', () => {
    const empty = Object.fromEntries(RINGACH_COLUMNS.map((c) => [c, new Float64Array(0)])) as unknown as RingachColumns;
    const r = ringachProperties(empty);
    expect([r.recorded, r.responsive, r.circularVariance.length, r.modulationRatio.length]).toEqual([0, 0, 0, 0]);
  });

  it('RINGACH_COLUMNS names the six columns the comparison reads', () => {
    expect(RINGACH_COLUMNS).toEqual(['orivar', 'bw', 'po', 'maxdc', 'maxfirst', 'spont']);
  });
});

/** Every histogram V1_PROPERTIES names, on edges chosen for the hand-made neurons above. */
function histograms(): HistogramFile {
  return {
    Ringach2002: {
      circular_variance: { bin_edges: [0, 0.25, 0.5, 1], counts: [0, 0, 0] },
      bandwidth: { bin_edges: [0, 45, 90], counts: [0, 0] },
      orthogonal_preferred_ratio: { bin_edges: [0, 0.2, 0.4, 1], counts: [0, 0, 0] },
      orientation_selective: { bin_edges: [0, 0.5, 1], counts: [0, 0] },
      modulation_ratio: { bin_edges: [0, 1, 2], counts: [0, 0] },
    },
    DeValois1982b: { peak_spatial_frequency: { bin_edges: [0.5, 1, 2, 4], counts: [2, 0, 1] } },
    Schiller1976c: {
      spatial_frequency_bandwidth: { bin_edges: [0, 50, 100], counts: [1, 3] },
      spatial_frequency_selective: { bin_edges: [0, 0.5, 1], counts: [0, 2] },
    },
  };
}

describe('buildV1Reference', () => {
  it('Ringach properties: their finite values binned with the file’s edges (clipped); digitized ones from their counts', () => {
    const ref = buildV1Reference(ringachProperties(columns()), histograms());
    expect(Object.keys(ref)).toEqual(V1_PROPERTIES.map((p) => p.name));
    const bins = (name: string) => [...ref[name]!.distribution.binOf];
    const edges = (name: string) => [...ref[name]!.distribution.edges];
    // responsive neurons' values: CV 0.1 0.3 0.4 0.5 0.6 | bw 34 90 (3 NaN left out) | po 0.05 0.25 0.35 0.45 0.55
    // | selective 1 1 0 0 0 | F1/F0 0.5 1.5 0.25 0 0.25
    expect(bins('circular_variance')).toEqual([0, 1, 1, 2, 2]);
    expect(bins('ori_bandwidth')).toEqual([0, 1]); // 90 is the last edge: the last bin is closed
    expect(bins('orth_pref_ratio')).toEqual([0, 1, 1, 2, 2]);
    expect(bins('ori_selective')).toEqual([1, 1, 0, 0, 0]);
    expect(bins('modulation_ratio')).toEqual([0, 1, 0, 0, 0]);
    expect(bins('modulation_ratio_raw')).toEqual([0, 1, 0, 0, 0]); // compared with the same data
    expect(bins('peak_sf')).toEqual([0, 0, 2]);
    expect(bins('sf_bandwidth')).toEqual([0, 1, 1, 1]);
    expect(bins('sf_selective')).toEqual([1, 1]);
    expect(edges('circular_variance')).toEqual([0, 0.25, 0.5, 1]);
    expect(edges('peak_sf')).toEqual([0.5, 1, 2, 4]);
    expect(edges('sf_bandwidth')).toEqual([0, 50, 100]);
    // where each comes from, and Ringach's values (finite ones) kept beside the distribution
    for (const p of V1_PROPERTIES) expect([ref[p.name]!.dataset, ref[p.name]!.histogram], p.name).toEqual([p.dataset, p.histogram]);
    expect([...ref['ori_bandwidth']!.values!]).toEqual([34, 90]);
    expect([...ref['circular_variance']!.values!]).toEqual([0.1, 0.3, 0.4, 0.5, 0.6]);
    expect([...ref['orth_pref_ratio']!.values!]).toEqual([0.05, 0.25, 0.35, 0.45, 0.55]);
    expect([...ref['ori_selective']!.values!]).toEqual([1, 1, 0, 0, 0]);
    expect([...ref['modulation_ratio']!.values!]).toEqual([0.5, 1.5, 0.25, 0, 0.25]);
    for (const name of ['peak_sf', 'sf_bandwidth', 'sf_selective']) expect(ref[name]!.values, name).toBeUndefined();
  });

  it('a missing histogram or dataset is named', () => {
    const r = ringachProperties(columns());
    const noHist = histograms();
    delete noHist['Schiller1976c']!['spatial_frequency_selective'];
    expect(() => buildV1Reference(r, noHist)).toThrow('histograms.json has no Schiller1976c.spatial_frequency_selective (bin_edges and counts)');
    const noSet = histograms();
    delete noSet['DeValois1982b'];
    expect(() => buildV1Reference(r, noSet)).toThrow('histograms.json has no DeValois1982b.peak_spatial_frequency (bin_edges and counts)');
  });
});
