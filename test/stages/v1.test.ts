// The v1 stage: plan, per-unit table and per-layer rows on in-memory activations (smoke-sized grating set, real
// reference data from ../shared when present), the missing-reference paths, and a seeded smoke run through the
// real CLI: the blank set is a contrast-0 grating, enabling v1 leaves every other shard's key alone, resumes.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireOrSkip } from '../fixtures/require.ts';
import { ExperimentSchema } from '../../config/schema.ts';
import { gratingList } from '../../science/gratings.ts';
import { V1_LAYER_COLUMNS, V1_PROPERTIES, V1_UNIT_COLUMNS } from '../../science/v1-catalogue.ts';
import { allStages } from '../../stages/index.ts';
import { createV1Stage, readV1Layers, v1Stage, V1_META } from '../../stages/v1.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { fakeContext, splitShards } from '../fixtures/fake-upstream.ts';
import { expectColumnsByValue, indistinctColumns } from '../fixtures/by-value.ts';
import { blobUnit, defaultGratingSet, dogUnit, energyResponses, gaborUnit, gratingRenderer, linearResponses } from '../fixtures/grating-units.ts';

const REFERENCE = path.resolve(REPO, '../shared/datasets/v1-reference');
const hasReference = existsSync(path.join(REFERENCE, 'ringach2002.csv'));
requireOrSkip('shared', hasReference, `the v1 comparison checks need ${REFERENCE}`);
const NOWHERE = path.join(tmpdir(), 'revcor-no-such-v1-reference');

// The smoke grating set (config/smoke.yaml): 4 θ × 3 f × 4 φ = 48 gratings.
const SMOKE_GRATINGS = { orientations: 4, kMin: -4, kMax: -2, kStep: 1, phases: 4, contrast: 1 };

/** Activations shards of two layers of rectified linear units (Gabors, a blob, a constant unit) and the blank. */
function upstream() {
  const list = gratingList(SMOKE_GRATINGS);
  const set = {
    thetaDeg: Float64Array.from(list, (g) => g.thetaDeg),
    sfCpp: Float64Array.from(list, (g) => g.sfCpp),
    phaseDeg: Float64Array.from(list, (g) => g.phaseDeg),
    contrast: Float64Array.from(list, (g) => g.contrast),
  };
  const units = [gaborUnit(32, 32, 21, 3, 45, 0.125), gaborUnit(32, 32, 21, 4, 90, 0.0625, 1), gaborUnit(32, 32, 21, 2.5, 0, 0.25, 2), blobUnit(32, 32, 21, 3)];
  const linear = linearResponses(units, list.length, gratingRenderer(set));
  const layer = (withConstant: boolean) => {
    const c = units.length + (withConstant ? 1 : 0);
    const m = new Float32Array(list.length * c);
    for (let i = 0; i < list.length; i++) {
      for (let u = 0; u < units.length; u++) m[i * c + u] = linear[i * units.length + u]!;
      if (withConstant) m[i * c + units.length] = 7;
    }
    // blank: the linear units see no contrast (0), the blob sees its weight sum × 0 too; the constant unit 7
    const blank = Float32Array.from({ length: c }, (_, u) => (u === units.length ? 7 : 0));
    return { grating: { matrix: m, channels: c }, blank: { matrix: blank, channels: c } };
  };
  const a = layer(true);
  const b = layer(false);
  const descriptors = { stimulus: Int32Array.from(list, (g) => g.stimulus), theta_deg: set.thetaDeg, sf_cpp: set.sfCpp, phase_deg: set.phaseDeg };
  return [
    ...splitShards('gratings', descriptors, { block1_conv1: a.grating, block2_conv1: b.grating }, 32),
    ...splitShards('blank', { stimulus: [0], theta_deg: [0], sf_cpp: [0], phase_deg: [0] }, { block1_conv1: a.blank, block2_conv1: b.blank }, 1),
  ];
}

const config = (v1: Record<string, unknown> = {}) => ({
  model: { arch: 'vgg16', layers: ['block1_conv1', 'block2_conv1'], channels: 5 },
  stimuli: { gratings: SMOKE_GRATINGS, images: { enabled: false }, noise: { enabled: false } },
  v1: { enabled: true, reference: REFERENCE, ...v1 },
});

describe('v1Stage.plan', () => {
  const plan = async (cfg: unknown) => (await v1Stage.plan({ config: ExperimentSchema.parse(cfg), configDir: '/tmp' })) as { id: string; needs?: Record<string, string[]> }[];
  it('plans nothing unless v1.enabled (and gratings), else one shard per layer reading the grating and blank activations', async () => {
    expect(await plan({})).toEqual([]);
    expect(await plan({ ...config(), stimuli: { gratings: { enabled: false } } })).toEqual([]);
    const shards = await plan({ ...config(), activations: { shardSize: 32 } });
    expect(shards.map((s) => s.id)).toEqual(['block1_conv1', 'block2_conv1']);
    expect(shards[0]!.needs).toEqual({ activations: ['gratings-000000-000032', 'gratings-000032-000048', 'blank-000000-000001'] });
  });
  it('a missing reference: an error at plan time naming v1.reference with ifMissing: error; planned with skip', async () => {
    await expect(plan(config({ reference: NOWHERE, ifMissing: 'error' }))).rejects.toThrow(
      `v1.reference: ${path.join(NOWHERE, 'ringach2002.csv')} not found. Expected a folder holding ringach2002.csv and histograms.json`,
    );
    expect((await plan(config({ reference: NOWHERE, ifMissing: 'skip' }))).length).toBe(2);
  });
  it('estimates one shard per layer, and nothing when disabled (pipeline/budget.ts)', async () => {
    const on = await v1Stage.estimate!({ config: ExperimentSchema.parse(config()), configDir: '/tmp' });
    expect(on.shards).toBe(2);
    expect(on.diskBytes).toBe(200 * 10); // 5 units per layer
    expect(on.memoryBytes).toBe((8 * 48 + 2 * 36 * 12) * 5);
    expect(await v1Stage.estimate!({ config: ExperimentSchema.parse({}), configDir: '/tmp' })).toEqual({ shards: 0, diskBytes: 0, memoryBytes: 0 });
  });
  it('the key: v1 settings but enabled, and the reference files by content', async () => {
    const slice = v1Stage.configSlice(ExperimentSchema.parse(config())) as { v1: Record<string, unknown> };
    expect(Object.keys(slice.v1).sort()).toEqual(['bootstrap', 'ifMissing', 'level', 'pixelsPerDegree', 'reference', 'seed']);
    const files = await v1Stage.inputFiles!({ config: ExperimentSchema.parse(config()), configDir: '/tmp' });
    expect(files).toEqual(hasReference ? [path.join(REFERENCE, 'ringach2002.csv'), path.join(REFERENCE, 'histograms.json')] : []);
    expect(await v1Stage.inputFiles!({ config: ExperimentSchema.parse(config({ reference: NOWHERE })), configDir: '/tmp' })).toEqual([]);
  });
});

describe('v1Stage.run on in-memory activations', () => {
  const shards = upstream();
  const run = async (v1: Record<string, unknown> = {}, layer = 'block1_conv1') => {
    const ctx = fakeContext(shards, config(v1));
    const logs: string[] = [];
    ctx.log = (m: string) => logs.push(m);
    const t = await createV1Stage(() => []).run({ id: layer, params: { layer } }, ctx);
    return { t, logs };
  };

  it('one row per unit with the declared unit columns; the constant unit is not responsive', async () => {
    const { t } = await run();
    expect(t.numRows).toBe(5);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['layer', 'channel', 'responsive', ...V1_UNIT_COLUMNS.map((c) => c.name)]);
    expect([...t.getChild('responsive')!].map(Boolean)).toEqual([true, true, true, true, false]);
    expect(t.getChild('pref_theta_deg')!.get(0)).toBe(45);
    expect(t.getChild('pref_sf')!.get(0)).toBeCloseTo(0.125 * 28, 12);
  });

  describe.skipIf(!hasReference)('against the reference data', () => {
    it('per-layer row: every declared column, counts matching the unit table, score inside its interval', async () => {
      const { t } = await run();
      const [row] = readV1Layers(t);
      expect(Object.keys(row!)).toEqual(V1_LAYER_COLUMNS.map((c) => c.name));
      expect(JSON.parse(t.schema.metadata.get(V1_META.columns)!)).toEqual(V1_LAYER_COLUMNS);
      expect(row).toMatchObject({ layer: 'block1_conv1', v1_n_units: 5, v1_n_responsive: 4 });
      for (const p of V1_PROPERTIES) {
        const col = V1_UNIT_COLUMNS.find((c) => c.unit === p.unit)!.name;
        const finite = [...t.getChild(col)!].filter((v, i) => t.getChild('responsive')!.get(i) && Number.isFinite(v)).length;
        expect(row![`v1_${p.name}_n`], p.name).toBe(finite);
        expect(row![`v1_${p.name}_lo`] as number).toBeLessThanOrEqual((row![`v1_${p.name}`] as number) + 1e-12);
        expect(row![`v1_${p.name}_hi`] as number).toBeGreaterThanOrEqual((row![`v1_${p.name}`] as number) - 1e-12);
      }
      const scored = V1_PROPERTIES.filter((p) => p.scored).map((p) => row![`v1_${p.name}`] as number);
      expect(row!.v1_score).toBeCloseTo(scored.reduce((a, b) => a + b, 0) / scored.length, 12);
      expect(row!.v1_score_lo as number).toBeLessThanOrEqual(row!.v1_score as number);
      expect(row!.v1_score_hi as number).toBeGreaterThanOrEqual(row!.v1_score as number);
      const ref = JSON.parse(t.schema.metadata.get(V1_META.reference)!);
      expect(ref.properties.circular_variance).toMatchObject({ dataset: 'Ringach2002', n: 304, median: 0.598766 });
      expect(ref.properties.circular_variance.ceiling).toBeLessThan(1);
    });
    it('is deterministic given v1.seed, survives an IPC round trip, and another seed moves only the bootstrap', async () => {
      const a = (await run()).t;
      const b = (await run()).t;
      expect(b.schema.metadata.get(V1_META.layers)).toBe(a.schema.metadata.get(V1_META.layers));
      expect(readV1Layers(tableFromIPC(tableToIPC(a)))).toEqual(readV1Layers(a));
      const c = readV1Layers((await run({ seed: 7 })).t)[0]!;
      const [ra] = readV1Layers(a);
      expect(c.v1_score).not.toBe(ra!.v1_score);
      expect(Math.abs((c.v1_score as number) - (ra!.v1_score as number))).toBeLessThan(0.05);
      expect(c.v1_circular_variance_median).toBe(ra!.v1_circular_variance_median);
    });
  });

  it('a missing reference with ifMissing: skip warns once naming v1.reference; properties measured, similarities NaN', async () => {
    const { t, logs } = await run({ reference: NOWHERE, ifMissing: 'skip' });
    expect(logs.join('\n')).toMatch(/^WARNING v1\.reference: .*ringach2002\.csv not found; the V1 comparison is skipped/);
    const [row] = readV1Layers(t);
    expect(row!.v1_score).toBeNaN();
    expect(row!.v1_circular_variance).toBeNaN();
    expect(row!.v1_circular_variance_n).toBe(4);
    expect(JSON.parse(t.schema.metadata.get(V1_META.reference)!).skipped).toMatch(/not found \(v1\.ifMissing: skip\)/);
    expect((await run({ reference: NOWHERE, ifMissing: 'skip' }, 'block2_conv1')).logs).toEqual([]); // said once
  });
});

describe('a seeded smoke run with v1 through the CLI (config/smoke.yaml, gratings only)', () => {
  const SMOKE = path.join(REPO, 'config/smoke.yaml');
  const common = ['--quiet', '--set', 'stimuli.images.enabled=false', '--set', 'stimuli.noise.enabled=false'];
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'revcor-v1-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const keys = async (out: string) => {
    const m = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { stages: Record<string, { shard: string; key: string }[]> };
    return Object.fromEntries(Object.entries(m.stages).flatMap(([stage, recs]) => recs.map((r) => [`${stage}/${r.shard}`, r.key])));
  };
  const read = async (file: string): Promise<Table> => tableFromIPC(await readFile(file));

  it('adds only the blank and v1 shards (every other key unchanged), resumes, and the blank is a contrast-0 grating', async () => {
    const plain = path.join(dir, 'plain');
    const withV1 = path.join(dir, 'v1');
    const grey = path.join(dir, 'grey');
    expect((await cli(['run', SMOKE, '--out', plain, ...common], allStages)).code).toBe(0);
    const r = await cli(['run', SMOKE, '--out', withV1, ...common, '--set', 'v1.enabled=true', '--set', `v1.reference=${REFERENCE}`], allStages);
    expect(r.code, r.stderr).toBe(0);
    const [k0, k1] = [await keys(plain), await keys(withV1)];
    const added = Object.keys(k1).filter((k) => !(k in k0)).sort();
    expect(added).toEqual(['activations/blank-000000-000001', 'stimuli/blank', 'v1/block1_conv1', 'v1/block2_conv1']);
    for (const [k, v] of Object.entries(k0)) if (!k.startsWith('summary/')) expect(k1[k], k).toBe(v);
    expect((await readdir(path.join(withV1, 'v1'))).sort()).toEqual(['block1_conv1.arrow', 'block2_conv1.arrow']);
    const again = await cli(['run', SMOKE, '--out', withV1, ...common.filter((a) => a !== '--quiet'), '--set', 'v1.enabled=true', '--set', `v1.reference=${REFERENCE}`], allStages);
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/Nothing to do: all 9 shards of 8 stages/);
    expect(await keys(withV1)).toEqual(k1);
    // With contrast 0 every grating is the blank image: its activations equal the blank's, channel by channel.
    const g0 = await cli(['run', SMOKE, '--out', grey, ...common, '--set', 'stimuli.gratings.contrast=0'], allStages);
    expect(g0.code, g0.stderr).toBe(0);
    const blank = await read(path.join(withV1, 'activations/blank-000000-000001.arrow'));
    const gratingsZero = await read(path.join(grey, 'activations/gratings-000000-000048.arrow'));
    for (const layer of ['block1_conv1', 'block2_conv1']) {
      const b = (blank.getChild(layer)!.get(0) as { toArray(): Float32Array }).toArray();
      expect(b.some((v) => v > 0)).toBe(true);
      for (let i = 0; i < gratingsZero.numRows; i++) {
        const g = (gratingsZero.getChild(layer)!.get(i) as { toArray(): Float32Array }).toArray();
        g.forEach((v, c) => expect(v).toBeCloseTo(b[c]!, 4));
      }
    }
  }, 240_000);
});

describe('v1 table checked by value (known units: Gabor, complex, constant, dark-only, blob, centre-surround)', () => {
  it('every declared column equals science/ (firing-rate map, phase reduction, Brain-Score curves) on each unit\'s own responses', async () => {
    const { v1Table } = await import('../../stages/v1.ts');
    const { V1, readV1Units } = await import('../../results/v1.ts');
    const { gratingGrid, reducePhase } = await import('../../science/tuning.ts');
    const { firingRateMap, V1_CONSTANTS } = await import('../../science/v1-properties.ts');
    const curves = await import('../../science/v1-curves.ts');
    const set = defaultGratingSet();
    const n = set.thetaDeg.length;
    const render = gratingRenderer(set);
    // unit 0: rectified Gabor (θ 60°, f 1/8); 1: energy of a quadrature pair (θ 120°, f 1/16); 2: constant; 3: dark;
    // 4: rectified Gaussian blob (low-pass: neither orientation nor SF selective); 5: rectified centre-surround (SF
    // selective, not orientation selective) — so no two flag columns agree on every unit
    const lin = linearResponses([gaborUnit(8, 8, 17, 3, 60, 1 / 8), blobUnit(8, 8, 17, 3), dogUnit(8, 8, 17, 1.5, 3, 60)], n, render);
    const energy = energyResponses([gaborUnit(8, 8, 17, 4, 120, 1 / 16, 0), gaborUnit(8, 8, 17, 4, 120, 1 / 16, Math.PI / 2)], n, render);
    const U = 6;
    const resp = new Float32Array(n * U);
    for (let i = 0; i < n; i++) resp.set([lin[3 * i]!, energy[i]!, 3, 0, lin[3 * i + 1]!, lin[3 * i + 2]!], i * U);
    const blank = Float32Array.of(0, 0, 3, 0, 0, 0); // the linear and energy units see no contrast; the constant unit its constant
    const ppd = 28;
    const t = tableFromIPC(tableToIPC(v1Table('block1_conv1', resp, U, set, blank, { pixelsPerDegree: ppd }).table, 'file'));
    const read = readV1Units(t);
    const cols = { layer: read.layer, channel: read.channel, responsive: read.responsive, ...read.values };
    // the expected value of every column: the layer's firing-rate map, then each unit's own mapped responses
    const grid = gratingGrid(set);
    const nT = grid.thetaDeg.length;
    const nF = grid.sfCpp.length;
    const own = Array.from({ length: U }, (_, u) => Float32Array.from({ length: n }, (_, i) => Math.max(0, resp[i * U + u]!)));
    const raw = own.map((r) => reducePhase(r, 1, grid));
    const map = firingRateMap(raw.map((r) => Math.max(...r.mean)), blank);
    const E = own.map((r, u) => {
      const m = reducePhase(Float32Array.from(r, (x) => Math.max(0, map.slope * x + map.offset)), 1, grid);
      const dc = (th: number, f: number) => m.mean[th * nF + f]!;
      const ac = (th: number, f: number) => (m.mean[th * nF + f] === 0 ? 0 : m.f1f0[th * nF + f]! * m.mean[th * nF + f]!);
      let [tp, fp] = [0, 0];
      for (let f = 0; f < nF; f++) for (let th = 0; th < nT; th++) if (dc(th, f) > dc(tp, fp)) [tp, fp] = [th, f];
      const base = Math.max(0, map.slope * blank[u]! + map.offset);
      const ori = Array.from({ length: nT }, (_, th) => dc(th, fp));
      const sf = Array.from({ length: nF }, (_, f) => dc(tp, f));
      // De Valois: the SF curve at the θ of the largest value of F0 − blank or F1 (first in f, θ, component order)
      let [best, tb, comp] = [-Infinity, 0, 0];
      for (let f = 0; f < nF; f++) {
        for (let th = 0; th < nT; th++) {
          if (dc(th, f) - base > best) [best, tb, comp] = [dc(th, f) - base, th, 0];
          if (ac(th, f) > best) [best, tb, comp] = [ac(th, f), th, 1];
        }
      }
      const peakCurve = Array.from({ length: nF }, (_, f) => (comp === 0 ? dc(tb, f) - base : ac(tb, f)));
      const bw = curves.orientationBandwidth(ori, grid.thetaDeg);
      const schiller = curves.sfCurveFit(sf, grid.sfCpp);
      return {
        responsive: +(dc(tp, fp) > base + V1_CONSTANTS.responseThreshold),
        baseline: base,
        max_dc: dc(tp, fp),
        min_dc: Math.min(...ori),
        max_ac: ac(tp, fp),
        modulation_ratio: ac(tp, fp) / dc(tp, fp),
        modulation_ratio_raw: raw[u]!.f1f0[tp * nF + fp],
        circular_variance: curves.circularVarianceBS(ori, grid.thetaDeg),
        ori_bandwidth: bw,
        orth_pref_ratio: curves.orthogonalPreferredRatio(ori, grid.thetaDeg),
        ori_selective: Number.isNaN(bw) ? 0 : 1,
        peak_sf: curves.sfCurveFit(peakCurve, grid.sfCpp).peak * ppd,
        sf_bandwidth: schiller.ratio,
        sf_selective: Number.isNaN(schiller.ratio) ? 0 : 1,
        pref_theta_deg: grid.thetaDeg[tp],
        pref_sf: grid.sfCpp[fp]! * ppd,
      } as Record<string, unknown>;
    });
    const expected: Record<string, (u: number) => unknown> = { layer: () => 'block1_conv1', channel: (u) => u };
    for (const name of Object.keys(E[0]!)) expected[name] = (u) => E[u]![name];
    // every declared column is checked (a new column needs its expectation here), and no two can be swapped unnoticed
    expectColumnsByValue(V1, cols, expected, U);
    expect(indistinctColumns(V1, cols, U)).toEqual([]);
    // the known units: the Gabor and the complex cell respond and are tuned where they were built (simple vs complex),
    // the constant and dark units do not respond, the blob and the centre-surround unit respond without orientation
    // selectivity, and only the latter is SF selective
    expect([...read.responsive]).toEqual([1, 1, 0, 0, 1, 1]);
    expect([...read.values['ori_selective']!]).toEqual([1, 1, 0, 0, 0, 0]);
    expect([...read.values['sf_selective']!]).toEqual([1, 1, 0, 0, 0, 1]);
    expect([...read.values['pref_theta_deg']!.slice(0, 2)]).toEqual([60, 120]);
    expect(read.values['pref_sf']![0]).toBeCloseTo(ppd / 8, 12);
    expect(read.values['modulation_ratio']![0]).toBeGreaterThan(1);
    expect(read.values['modulation_ratio']![1]).toBeLessThan(0.3);
  });
});
