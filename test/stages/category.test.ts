// The category stage on in-memory activations shards: columns, preferred category, top-N files, FDR family.
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { categoryStage, createCategoryStage } from '../../stages/category.ts';
import { fakeContext, splitShards } from '../fixtures/fake-upstream.ts';

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
