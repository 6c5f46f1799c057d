// The category stage on in-memory activations shards: columns, preferred category, top-N files, FDR family; its table
// checked by value against science/ on known units.
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { categoryStage, createCategoryStage } from '../../stages/category.ts';
import { fakeContext, splitShards } from '../fixtures/fake-upstream.ts';
import { expectColumnsByValue, indistinctColumns } from '../fixtures/by-value.ts';
import { lcg } from '../fixtures/synthetic-units.ts';

// 4 categories × 12 images; layer a: unit 0 likes 'face', unit 1 untuned, unit 2 dead; layer b: unit 0 likes 'house'.
function imageShards() {
  const cats = ['body', 'face', 'house', 'word'];
  const per = 12;
  const n = cats.length * per;
  const category: string[] = [];
  const file: string[] = [];
  const a = new Float32Array(n * 3);
  const b = new Float32Array(n * 1);
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < n; i++) {
    const c = cats[Math.floor(i / per)]!;
    category.push(c);
    file.push(`${c}/${c}-${i % per}.jpg`);
    a[i * 3] = (c === 'face' ? 8 : 0.2) + rand() + (c === 'face' && i % per === 5 ? 10 : 0); // face-5 is the top image
    a[i * 3 + 1] = 3 + rand();
    a[i * 3 + 2] = 0;
    b[i] = (c === 'house' ? 2 : 1) + 0.5 * rand();
  }
  const descriptors = { stimulus: Int32Array.from({ length: n }, (_, i) => i), category, file };
  return splitShards('images', descriptors, { a: { matrix: a, channels: 3 }, b: { matrix: b, channels: 1 } }, 20);
}

describe('categoryStage', () => {
  const shards = imageShards();
  const onnx = { model: { arch: 'onnx', weights: '/x.onnx' } };
  it('plans per layer like the tuning stage, nothing when images are disabled; needs the image shards when wired', async () => {
    const plan = async (cfg: unknown, stage = createCategoryStage()) => (await stage.plan({ config: ExperimentSchema.parse(cfg), configDir: '/tmp' })) as { id: string; needs?: unknown }[];
    expect((await plan({ model: { arch: 'vgg16' } })).length).toBe(13);
    expect(await plan({ stimuli: { images: { enabled: false } } })).toEqual([]);
    const planner = () => [
      { id: 'images-000000-000512', params: { set: 'images', start: 0, end: 512 } },
      { id: 'noise-000000-000512', params: { set: 'noise', start: 0, end: 512 } },
    ];
    expect((await plan({}, createCategoryStage(planner)))[0]!.needs).toEqual({ activations: ['images-000000-000512'] });
  });
  it('a unit tuned to faces: preferred face, CSI near 1, selective, top image first', async () => {
    const t = tableFromIPC(tableToIPC(await categoryStage.run({ id: 'a', params: { layer: 'a' } }, fakeContext(shards, { ...onnx, category: { topN: 3 } })), 'file'));
    expect(t.numRows).toBe(3);
    expect(t.getChild('preferred_category')!.get(0)).toBe('face');
    expect(t.getChild('preferred_index')!.get(0)).toBe(1);
    expect(t.getChild('csi')!.get(0)).toBeGreaterThan(0.85);
    expect(t.getChild('selective')!.get(0)).toBe(true);
    expect(t.getChild('selective')!.get(1)).toBe(false);
    expect(t.getChild('q_value')!.get(2)).toBeNaN(); // dead unit: untestable
    expect(t.getChild('csi')!.get(2)).toBe(0);
    expect([...t.getChild('category_means')!.get(0)!.toArray()].length).toBe(4);
    expect(t.getChild('top_files')!.get(0)!.get(0)).toBe('face/face-5.jpg');
    expect(t.getChild('top_stimuli')!.get(0)!.get(0)).toBe(12 + 5);
    expect(t.getChild('top_responses')!.get(0)!.length).toBe(3);
    expect(JSON.parse(t.schema.metadata.get('revcor.category.categories')!)).toEqual(['body', 'face', 'house', 'word']);
    expect(JSON.parse(t.schema.metadata.get('revcor.category.counts')!)).toEqual([12, 12, 12, 12]);
    expect(JSON.parse(t.schema.metadata.get('revcor.category.anova_df')!)).toEqual([3, 44]);
  });
  it('split-half reliability columns: the face unit has the same preferred category on both halves and r ≈ 1; untuned and dead units are not reliable', async () => {
    const cfg = { ...onnx, category: { splitHalf: { permutations: 199, alpha: 0.05, seed: 2 } } };
    const t = await categoryStage.run({ id: 'a', params: { layer: 'a' } }, fakeContext(shards, cfg));
    const col = (c: string) => [0, 1, 2].map((u) => t.getChild(c)!.get(u));
    const [same, r, p, rel] = [col('split_half_same_preferred'), col('split_half_r'), col('split_half_p'), col('reliable')];
    expect(same).toEqual([true, true, false]); // the dead unit's flat profile has no preferred category
    expect(r[0]).toBeGreaterThan(0.99);
    expect(col('split_half_rsb')[0]).toBeCloseTo((2 * r[0]) / (1 + r[0]), 12);
    expect(p[0]).toBeLessThanOrEqual(0.05);
    expect(rel).toEqual([true, false, false]);
    expect(r[2]).toBeNaN(); // dead unit: no profile
    expect(p[2]).toBeNaN();
    expect(JSON.parse(t.schema.metadata.get('revcor.category.options')!).splitHalf).toEqual({ permutations: 199, alpha: 0.05, seed: 2 });
  });
  it('fdrFamily: network corrects across every layer column (q never smaller than per layer)', async () => {
    const run = async (fdrFamily: string) =>
      categoryStage.run({ id: 'b', params: { layer: 'b' } }, fakeContext(shards, { ...onnx, category: { fdrFamily } }));
    const layer = await run('layer');
    const network = await run('network');
    expect(layer.getChild('preferred_category')!.get(0)).toBe('house');
    const ql = layer.getChild('q_value')!.get(0) as number;
    const qn = network.getChild('q_value')!.get(0) as number;
    expect(ql).toBeCloseTo(layer.getChild('anova_p')!.get(0) as number, 15); // m = 1 in its own family
    expect(qn).toBeGreaterThan(ql);
  });
  it('minCsi adds an effect-size condition to selective', async () => {
    const run = async (minCsi: number) =>
      (await categoryStage.run({ id: 'b', params: { layer: 'b' } }, fakeContext(shards, { ...onnx, category: { minCsi } }))).getChild('selective')!.get(0);
    expect(await run(0)).toBe(true); // house 2 vs rest 1 (+ noise): CSI ≈ 0.28, significant
    expect(await run(0.5)).toBe(false);
  });
  it('the all-layers shard covers every layer column; fewer than 2 categories is a user error', async () => {
    const t = await categoryStage.run({ id: 'all-layers', params: { layer: null } }, fakeContext(shards, onnx));
    expect(t.numRows).toBe(4);
    const one = splitShards('images', { stimulus: [0, 1], category: ['x', 'x'], file: ['x/1', 'x/2'] }, { a: { matrix: new Float32Array(2), channels: 1 } }, 10);
    await expect(categoryStage.run({ id: 'a', params: { layer: 'a' } }, fakeContext(one, onnx))).rejects.toThrow(/at least 2 categories/);
  });
});

describe('category table checked by value (known units: one category only, graded, constant, dark, untuned, unlike halves)', () => {
  // 4 categories × 6 images in interleaved order; stimulus ids and files that are not the row index.
  const cats = ['body', 'face', 'house', 'word'];
  const nImg = 24;
  const labels = Int32Array.from({ length: nImg }, (_, i) => (3 * i) % 4);
  const images = {
    categories: cats,
    labels,
    stimulus: Int32Array.from({ length: nImg }, (_, i) => 1000 + 7 * i),
    files: Array.from({ length: nImg }, (_, i) => `${cats[labels[i]!]}/img-${i}.png`),
  };
  // unit 0 responds to faces only; 1 graded over the categories (1 + k); 2 constant; 3 dark (all zero); 4 untuned
  // noise; 5 prefers houses on both split halves (images of a category alternate between them) with otherwise unlike
  // half-profiles (r = 0.2): the same preferred category, but not a reliable one
  const U = 6;
  const rnd = lcg(11);
  const resp = new Float32Array(nImg * U);
  const seen = [0, 0, 0, 0];
  for (let i = 0; i < nImg; i++) {
    const k = labels[i]!;
    const half = seen[k]!++ % 2;
    resp.set([k === 1 ? 5 + rnd() : 0, 1 + k + 0.5 * rnd(), 2.5, 0, 3 + rnd(), [[0, 1, 3, 2], [2, 1, 3, 0]][half]![k]! + 0.01 * rnd()], i * U);
  }
  const splitHalf = { permutations: 99, alpha: 0.05, seed: 3 };
  const base = { topN: 4, fdr: 0.05, fdrFamily: 'layer' as const, minCsi: 0.4, spatial: 'centre', splitHalf };

  /** Every declared column of categoryTable's output (read back with readCategory) against science/ on each unit's own responses. */
  async function checkByValue(options: typeof base, q?: Float64Array) {
    const science = await import('../../science/category.ts');
    const { benjaminiHochberg } = await import('../../science/stats.ts');
    const { CATEGORY, readCategory } = await import('../../results/category.ts');
    const { categoryTable } = await import('../../stages/category.ts');
    const t = tableFromIPC(tableToIPC(categoryTable('block3_conv1', resp, U, images, options, q), 'file'));
    const cols = readCategory(t);
    const K = cats.length;
    const P = Array.from({ length: U }, (_, u) => {
      const own = Float32Array.from({ length: nImg }, (_, i) => resp[i * U + u]!);
      const c = science.categorySelectivity(own, 1, labels, K);
      const means = Array.from(c.means);
      const half = science.splitHalfReliability(own, 1, labels, K, options.splitHalf);
      return { c, means, half, top: science.topStimuli(own, 1, options.topN), csi: science.categorySelectivityIndex(means) };
    });
    // the layer family: BH over the layer's ANOVA p-values; the network family comes from the caller
    const qv = q ?? benjaminiHochberg(P.map((x) => x.c.anovaP[0]!));
    const expected: Record<string, (u: number) => unknown> = {
      layer: () => 'block3_conv1',
      channel: (u) => u,
      preferred_category: (u) => (P[u]!.c.preferred[0]! >= 0 ? cats[P[u]!.c.preferred[0]!] : ''),
      preferred_index: (u) => P[u]!.c.preferred[0],
      csi: (u) => P[u]!.csi,
      sparseness: (u) => science.sparseness(P[u]!.means),
      anova_f: (u) => P[u]!.c.anovaF[0],
      anova_p: (u) => P[u]!.c.anovaP[0],
      q_value: (u) => qv[u],
      selective: (u) => +(qv[u]! <= options.fdr && P[u]!.csi >= options.minCsi),
      split_half_same_preferred: (u) => P[u]!.half.samePreferred[0],
      split_half_r: (u) => P[u]!.half.r[0],
      split_half_rsb: (u) => P[u]!.half.rSB[0],
      split_half_p: (u) => P[u]!.half.p[0],
      reliable: (u) => science.reliablePreference(P[u]!.half, options.splitHalf.alpha)[0],
      category_means: (u) => P[u]!.means.map(Math.fround),
      top_stimuli: (u) => Array.from(P[u]!.top.index, (row) => (row >= 0 ? images.stimulus[row]! : -1)),
      top_files: (u) => Array.from(P[u]!.top.index, (row) => (row >= 0 ? images.files[row]! : '')),
      top_responses: (u) => Array.from(P[u]!.top.value),
    };
    // every declared column is checked (a new column needs its expectation here), and no two can be swapped unnoticed
    expectColumnsByValue(CATEGORY, cols, expected, U);
    expect(indistinctColumns(CATEGORY, cols, U)).toEqual([]);
    return cols;
  }

  it('every declared column equals the science functions on each unit\'s own responses (q over the layer)', async () => {
    const cols = await checkByValue(base);
    // the known units: faces only → CSI 1; graded → prefers the last category, significant but CSI 1/3 < minCsi;
    // constant and dark → untestable (q NaN); untuned noise → not selective
    expect(cols.preferred_category.slice(0, 2)).toEqual(['face', 'word']);
    expect(cols.csi[0]).toBe(1);
    expect(cols.csi[1]).toBeCloseTo(1 / 3, 1);
    expect(cols.csi[3]).toBe(0);
    expect(Number.isNaN(cols.q_value[2]!) && Number.isNaN(cols.q_value[3]!)).toBe(true);
    expect(cols.q_value[1]).toBeLessThan(0.05);
    expect([...cols.selective]).toEqual([1, 0, 0, 0, 0, 1]);
    expect(Number.isNaN(cols.split_half_r![3]!)).toBe(true);
    expect([...cols.split_half_same_preferred!]).toEqual([1, 1, 0, 0, 0, 1]);
    expect([...cols.reliable!]).toEqual([1, 1, 0, 0, 0, 0]);
  });

  it('with q-values from a wider family and more top-N than images: q_value is the given q, the top-N lists padded', async () => {
    const q = Float64Array.of(0.2, 0.001, NaN, NaN, 0.01, 0.3);
    const cols = await checkByValue({ ...base, topN: nImg + 2, minCsi: 0 }, q);
    expect([...cols.selective]).toEqual([0, 1, 0, 0, 1, 0]);
    expect([...cols.top_stimuli.get(0).slice(nImg)]).toEqual([-1, -1]);
    expect(cols.top_files.get(0).slice(nImg)).toEqual(['', '']);
  });
});
