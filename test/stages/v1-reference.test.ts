// The V1 reference reader (stages/v1-reference.ts → science/v1-reference.ts): the Ringach 2002 medians and the
// Brain-Score histograms reproduced from the CSV by the code path the comparison uses, and the user errors.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireOrSkip } from '../fixtures/require.ts';
import { InputError } from '../../pipeline/errors.ts';
import { binCounts } from '../../science/v1-similarity.ts';
import { parseHistograms, parseRingachCsv, readV1Reference, referenceFiles } from '../../stages/v1-reference.ts';

const REFERENCE = path.resolve(import.meta.dirname, '../../../shared/datasets/v1-reference');
const hasReference = existsSync(path.join(REFERENCE, 'ringach2002.csv'));
requireOrSkip('shared', hasReference, `the Ringach 2002 medians need ${REFERENCE}`);

const median = (v: Float64Array) => {
  const s = Float64Array.from(v).sort();
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe.skipIf(!hasReference)('Ringach 2002 (../shared/datasets/v1-reference)', () => {
  it('reproduces the published medians: CV 0.60, bandwidth 23° over selective cells, F1/F0 0.57 (n = 304 of 308)', async () => {
    const { ringach, reference } = await readV1Reference(REFERENCE);
    expect([ringach.recorded, ringach.responsive]).toEqual([308, 304]);
    expect(median(reference['circular_variance']!.values!)).toBeCloseTo(0.6, 2);
    const bw = reference['ori_bandwidth']!.values!;
    expect(bw.length).toBe(298); // 6 responsive neurons are untuned (bandwidth > 90°)
    expect(median(bw)).toBe(23);
    expect(median(reference['modulation_ratio']!.values!)).toBeCloseTo(0.57, 2);
    // and the affine map's targets are Ringach's medians: maximum 33.8, spontaneous 0.82 spikes/s
    expect(median(ringach.maxDc)).toBeCloseTo(33.8, 1);
    expect(median(ringach.spont)).toBeCloseTo(0.82, 2);
    console.log(
      `Ringach 2002 medians from the CSV: CV ${median(reference['circular_variance']!.values!).toFixed(4)}, ` +
        `bandwidth ${median(bw)}° (n = ${bw.length}), F1/F0 ${median(reference['modulation_ratio']!.values!).toFixed(4)}, n = ${ringach.responsive}`,
    );
  });

  it('bins the CSV into exactly the histograms.json counts, on Brain-Score’s bin edges', async () => {
    const { reference, histograms } = await readV1Reference(REFERENCE);
    const edges: Record<string, number[]> = {
      circular_variance: linspace(0, 1, 14),
      ori_bandwidth: linspace(0, 90, 18),
      orth_pref_ratio: linspace(0, 1, 14),
      ori_selective: linspace(0, 1, 3),
      modulation_ratio: linspace(0, 2, 11),
      peak_sf: [0.35, 0.5, 0.7, 1, 1.4, 2, 2.8, 4, 5.6, 8, 11.2, 16, 22.4],
    };
    for (const [name, want] of Object.entries(edges)) {
      const r = reference[name]!;
      expect(r.distribution.edges.length, name).toBe(want.length);
      r.distribution.edges.forEach((e, i) => expect(e, name).toBeCloseTo(want[i]!, 12));
      const h = histograms[r.dataset]![r.histogram]!;
      expect([...binCounts(r.distribution.binOf, want.length - 1)], name).toEqual(h.counts);
    }
    expect(reference['sf_bandwidth']!.distribution.binOf.length).toBe(73);
    expect(reference['sf_selective']!.distribution.binOf.length).toBe(87);
  });
});

describe('reference errors name v1.reference and the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'revcor-v1ref-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const csv = 'po,maxdc,maxfirst,spont,bw,orivar,extra\n0.2,19.25,1.6,2.5,34,0.7,x\n0.1,21.5,2.4,1.7,180,0.45,y\n';
  const errorOf = async (f: () => unknown): Promise<InputError> => {
    try {
      await f();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    }
    throw new Error('expected an InputError');
  };

  it('a missing folder or file', async () => {
    const missing = path.join(dir, 'nope');
    expect((await referenceFiles(missing)).missing).toBe(`${path.join(missing, 'ringach2002.csv')} not found`);
    const e = await errorOf(() => readV1Reference(missing));
    expect(e.message).toMatch(/^v1\.reference: .*nope\/ringach2002\.csv not found\. Expected a folder holding ringach2002\.csv and histograms\.json/);
    await mkdir(path.join(dir, 'half'));
    await writeFile(path.join(dir, 'half', 'ringach2002.csv'), csv);
    expect((await errorOf(() => readV1Reference(path.join(dir, 'half')))).message).toContain('half/histograms.json not found');
  });

  it('CSV: parses numbers (NaN for empty), names file:line and column of a bad value, lists missing columns', () => {
    const c = parseRingachCsv(csv, 'r.csv');
    expect([...c.maxdc]).toEqual([19.25, 21.5]);
    expect([...c.bw]).toEqual([34, 180]);
    expect(parseRingachCsv('po,maxdc,maxfirst,spont,bw,orivar\n,1,1,1,1,1\n', 'r.csv').po[0]).toBeNaN();
    expect(() => parseRingachCsv('po,maxdc,maxfirst,spont,bw,orivar\n0.1,1,1,1,1,1\n0.2,abc,1,1,1,1\n', 'r.csv')).toThrow(
      'v1.reference: r.csv:3: column maxdc: Expected a number, got "abc".',
    );
    expect(() => parseRingachCsv('po,maxdc,bw\n1,2,3\n', 'r.csv')).toThrow(/r\.csv: Expected the columns orivar, bw, po, maxdc, maxfirst, spont and at least one row, got no column orivar, maxfirst, spont/);
    expect(() => parseRingachCsv('po,maxdc,maxfirst,spont,bw,orivar\n1,2\n', 'r.csv')).toThrow(/^v1\.reference: r\.csv:2: malformed CSV/);
  });

  it('histograms.json: names the dataset.histogram path and what was expected', async () => {
    const good = hasReference ? JSON.parse(await readFile(path.join(REFERENCE, 'histograms.json'), 'utf8')) : null;
    expect(() => parseHistograms('{', 'h.json')).toThrow(/^v1\.reference: h\.json: malformed JSON/);
    expect(() => parseHistograms('{}', 'h.json')).toThrow('v1.reference: h.json: Expected a histogram Ringach2002.circular_variance {bin_edges, counts}, got none.');
    if (!good) return;
    const bad = structuredClone(good);
    bad.Schiller1976c.spatial_frequency_bandwidth.counts.pop();
    expect(() => parseHistograms(JSON.stringify(bad), 'h.json')).toThrow('v1.reference: h.json: Schiller1976c.spatial_frequency_bandwidth: Expected one count per bin (bin_edges.length − 1).');
    const neg = structuredClone(good);
    neg.DeValois1982b.peak_spatial_frequency.counts[2] = -1;
    expect(() => parseHistograms(JSON.stringify(neg), 'h.json')).toThrow(/h\.json: DeValois1982b\.peak_spatial_frequency\.counts\.2: Expected/);
  });
});
