// The tuning stage on in-memory activations shards: plan, columns, metadata, IPC round trip.
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { ALL_LAYERS, createTuningStage, tuningStage } from '../../stages/tuning.ts';
import { defaultGratingSet } from '../fixtures/grating-units.ts';
import { fakeContext, splitShards } from '../fixtures/fake-upstream.ts';

const DEG = Math.PI / 180;

// Two layers of phase-separable units R = A(θ)·B(f)·(1 + cos φ) with known θ_pref and f_pref.
function gratingShards() {
  const set = defaultGratingSet();
  const n = set.thetaDeg.length;
  const prefs = [
    [75, -3],
    [30, -5],
    [150, -2],
  ] as const;
  const layer = (units: readonly (readonly [number, number])[]) => {
    const m = new Float32Array(n * units.length);
    for (let i = 0; i < n; i++) {
      units.forEach(([t0, k0], u) => {
        const a = Math.exp(2 * (Math.cos(2 * (set.thetaDeg[i]! - t0) * DEG) - 1));
        const b = Math.exp(-((Math.log2(set.sfCpp[i]!) - k0) ** 2) / 0.5);
        m[i * units.length + u] = a * b * (1 + Math.cos(set.phaseDeg[i]! * DEG));
      });
    }
    return { matrix: m, channels: units.length };
  };
  const descriptors = {
    stimulus: Int32Array.from({ length: n }, (_, i) => i),
    theta_deg: set.thetaDeg,
    sf_cpp: set.sfCpp,
    phase_deg: set.phaseDeg,
  };
  return splitShards('gratings', descriptors, { block1_conv1: layer(prefs), block1_conv2: layer(prefs.slice(0, 2)) }, 512);
}

describe('tuningStage.plan', () => {
  const plan = async (cfg: unknown) => (await createTuningStage().plan({ config: ExperimentSchema.parse(cfg), configDir: '/tmp' })) as { id: string; params: Record<string, unknown> }[];
  it('plans one shard per analysed layer (VGG19: 16), or the listed layers', async () => {
    const all = await plan({ model: { arch: 'vgg19' } });
    expect(all.length).toBe(16);
    expect(all[0]).toMatchObject({ id: 'block1_conv1', params: { layer: 'block1_conv1' } });
    expect((await plan({ model: { arch: 'vgg16', layers: ['block3_conv1'] } })).map((s) => s.id)).toEqual(['block3_conv1']);
  });
  it('needs only the grating activations shards: from the activations stage plan, or by the id contract', async () => {
    const cfg = { model: { arch: 'vgg19', weights: 'seeded' }, stimuli: { images: { enabled: false }, noise: { count: 600 } } };
    const ids = ['gratings-000000-000512', 'gratings-000512-001024', 'gratings-001024-001344'];
    const wiredToActivations = (await tuningStage.plan({ config: ExperimentSchema.parse(cfg), configDir: '/tmp' })) as { needs?: unknown }[];
    expect(wiredToActivations.length).toBe(16);
    expect(wiredToActivations[0]!.needs).toEqual({ activations: ids });
    const byContract = (await createTuningStage().plan({ config: ExperimentSchema.parse(cfg), configDir: '/tmp' })) as { needs?: unknown }[];
    expect(byContract[0]!.needs).toEqual({ activations: ids });
    const planner = () => [
      { id: 'g0', params: { set: 'gratings', start: 0, end: 1344 } },
      { id: 'n0', params: { set: 'noise', start: 0, end: 512 } },
    ];
    const wired = (await createTuningStage(planner).plan({ config: ExperimentSchema.parse({}), configDir: '/tmp' })) as { needs?: unknown }[];
    expect(wired[0]!.needs).toEqual({ activations: ['g0'] });
  });
  it('plans one all-layers shard for an ONNX model with layers: all, and nothing when gratings are disabled', async () => {
    expect((await plan({ model: { arch: 'onnx', weights: '/x.onnx' } })).map((s) => s.id)).toEqual([ALL_LAYERS]);
    expect(await plan({ stimuli: { gratings: { enabled: false } } })).toEqual([]);
  });
});

describe('tuningStage.run', () => {
  const shards = gratingShards();
  it('reads the grating shards, one row per channel, with every index column', async () => {
    const ctx = fakeContext(shards);
    const t = await tuningStage.run({ id: 'block1_conv1', params: { layer: 'block1_conv1' } }, ctx);
    expect(t.numRows).toBe(3);
    expect(t.getChild('layer')!.toArray()).toEqual(['block1_conv1', 'block1_conv1', 'block1_conv1']);
    expect([...t.getChild('channel')!.toArray()]).toEqual([0, 1, 2]);
    expect([...t.getChild('theta_pref')!.toArray()]).toEqual([75, 30, 150]);
    expect([...t.getChild('sf_pref')!.toArray()]).toEqual([2 ** -3, 2 ** -5, 2 ** -2]);
    expect(t.getChild('responsive')!.get(0)).toBe(true);
    for (const col of ['theta_vector', 'circular_variance', 'osi', 'ori_half_width', 'sf_bandwidth', 'f1f0', 'max_phase_response', 'sf_low', 'sf_high']) {
      expect(Number.isFinite(t.getChild(col)!.get(0)), col).toBe(true);
    }
    expect(t.getChild('ori_curve')!.get(0)!.length).toBe(12);
    expect(t.getChild('sf_curve')!.get(0)!.length).toBe(14);
    expect(t.getChild('response_grid')!.get(0)!.length).toBe(168);
    expect(ctx.progressed.at(-1)).toBe(1);
  });
  it('records the θ and f grids and options in the schema metadata and survives an IPC round trip', async () => {
    const t = tableFromIPC(tableToIPC(await tuningStage.run({ id: 'block1_conv2', params: { layer: 'block1_conv2' } }, fakeContext(shards)), 'file'));
    expect(JSON.parse(t.schema.metadata.get('revcor.tuning.theta_deg')!)).toEqual(Array.from({ length: 12 }, (_, i) => i * 15));
    expect(JSON.parse(t.schema.metadata.get('revcor.tuning.sf_cpp')!).length).toBe(14);
    expect(JSON.parse(t.schema.metadata.get('revcor.tuning.options')!)).toEqual({ epsilon: 1e-6, response: 'mean', halfHeight: 'zero' });
    expect(t.numRows).toBe(2);
    // response_grid is θ-major: the peak of unit 1 (θ = 30°, f = 2^-5) sits at index 2·14 + 6.
    const g = t.getChild('response_grid')!.get(1)!.toArray() as Float32Array;
    expect(g.indexOf(Math.max(...g))).toBe(2 * 14 + 6);
  });
  it('the all-layers shard covers every layer column', async () => {
    const t = await tuningStage.run({ id: ALL_LAYERS, params: { layer: null } }, fakeContext(shards));
    expect(t.numRows).toBe(5);
    expect(new Set(t.getChild('layer')!.toArray())).toEqual(new Set(['block1_conv1', 'block1_conv2']));
  });
  it('fails with a user-facing error when there are no grating shards', async () => {
    await expect(tuningStage.run({ id: 'block1_conv1', params: { layer: 'block1_conv1' } }, fakeContext([]))).rejects.toThrow(/no grating shards/);
  });
});

describe('tuning table checked by value (known units: Gabor, complex, constant, dark-only)', () => {
  it('every declared column equals the science function computed unit by unit', async () => {
    const { gaborUnit, gratingRenderer, linearResponses } = await import('../fixtures/grating-units.ts');
    const science = await import('../../science/tuning.ts');
    const { TUNING } = await import('../../results/tuning.ts');
    const { readTuning } = await import('../../results/tuning.ts');
    const { tuningTable } = await import('../../stages/tuning.ts');
    const set = defaultGratingSet();
    const n = set.thetaDeg.length;
    const render = gratingRenderer(set);
    // unit 0: rectified Gabor (θ 60°, f 1/8); unit 1: energy of a quadrature pair (θ 120°, f 1/16); 2: constant; 3: dark
    const g = gaborUnit(8, 8, 17, 3, 60, 1 / 8);
    const q0 = gaborUnit(8, 8, 17, 4, 120, 1 / 16, 0);
    const q1 = gaborUnit(8, 8, 17, 4, 120, 1 / 16, Math.PI / 2);
    const lin = linearResponses([g], n, render);
    const resp = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const px = render(i, 0, 0, 17);
      const dot = (w: ArrayLike<number>) => Array.from(w).reduce((s, v, k) => s + v * (px[k]! - 127.5), 0);
      resp[i * 4] = lin[i]!;
      resp[i * 4 + 1] = (dot(q0.weights) ** 2 + dot(q1.weights) ** 2) / 1e4;
      resp[i * 4 + 2] = 3;
      resp[i * 4 + 3] = 0;
    }
    const options = { epsilon: 1e-6, response: 'mean' as const, halfHeight: 'zero' as const };
    const cols = readTuning(tuningTable('L', resp, 4, set, options));
    // the expected value of every column, from the science functions on each unit's own curves
    const grid = science.gratingGrid(set);
    const R = science.reducePhase(resp, 4, grid);
    const nT = grid.thetaDeg.length;
    const nF = grid.sfCpp.length;
    const at = (u: number, t: number, f: number) => R.mean[(t * nF + f) * 4 + u]!;
    const expected: Record<string, (u: number) => unknown> = {};
    const unit = (u: number) => {
      let best = -Infinity;
      let worst = Infinity;
      for (let t = 0; t < nT; t++) for (let f = 0; f < nF; f++) (best = Math.max(best, at(u, t, f))), (worst = Math.min(worst, at(u, t, f)));
      let fp = 0;
      outer: for (let f = 0; f < nF; f++) for (let t = 0; t < nT; t++) if (at(u, t, f) === best) { fp = f; break outer; }
      const ori = Array.from({ length: nT }, (_, t) => at(u, t, fp));
      const tp = ori.indexOf(Math.max(...ori));
      const sf = Array.from({ length: nF }, (_, f) => at(u, tp, f));
      const responsive = best - worst > options.epsilon;
      const half = sf[fp]! / 2;
      return { best, responsive, fp, tp, ori, sf, half, k: (tp * nF + fp) * 4 + u };
    };
    const U = [0, 1, 2, 3].map(unit);
    const when = (u: number, v: () => number) => (U[u]!.responsive ? v() : NaN);
    Object.assign(expected, {
      layer: () => 'L',
      channel: (u: number) => u,
      responsive: (u: number) => +U[u]!.responsive,
      max_response: (u: number) => Math.fround(U[u]!.best),
      sf_pref: (u: number) => when(u, () => grid.sfCpp[U[u]!.fp]!),
      sf_pref_index: (u: number) => (U[u]!.responsive ? U[u]!.fp : -1),
      theta_pref: (u: number) => when(u, () => grid.thetaDeg[U[u]!.tp]!),
      theta_pref_index: (u: number) => (U[u]!.responsive ? U[u]!.tp : -1),
      theta_vector: (u: number) => when(u, () => science.vectorAverageOrientation(U[u]!.ori, grid.thetaDeg)),
      circular_variance: (u: number) => when(u, () => science.circularVariance(U[u]!.ori, grid.thetaDeg)),
      osi: (u: number) => when(u, () => science.orientationSelectivity(U[u]!.ori, grid.thetaDeg, U[u]!.tp)),
      ori_half_width: (u: number) => when(u, () => science.orientationHalfWidth(U[u]!.ori, grid.thetaDeg, U[u]!.tp)),
      ori_bandwidth: (u: number) => when(u, () => science.orientationHalfWidth(U[u]!.ori, grid.thetaDeg, U[u]!.tp, 'zero', Math.SQRT1_2)),
      ori_width_open: (u: number) => +(U[u]!.responsive && Number.isNaN(science.orientationHalfWidth(U[u]!.ori, grid.thetaDeg, U[u]!.tp))),
      sf_low: (u: number) => when(u, () => science.sfCrossing(U[u]!.sf, grid.sfCpp, U[u]!.fp, U[u]!.half, -1)),
      sf_high: (u: number) => when(u, () => science.sfCrossing(U[u]!.sf, grid.sfCpp, U[u]!.fp, U[u]!.half, 1)),
      sf_bandwidth: (u: number) => when(u, () => science.sfBandwidth(U[u]!.sf, grid.sfCpp, U[u]!.fp)),
      sf_low_open: (u: number) => +(U[u]!.responsive && Number.isNaN(science.sfCrossing(U[u]!.sf, grid.sfCpp, U[u]!.fp, U[u]!.half, -1))),
      sf_high_open: (u: number) => +(U[u]!.responsive && Number.isNaN(science.sfCrossing(U[u]!.sf, grid.sfCpp, U[u]!.fp, U[u]!.half, 1))),
      f1f0: (u: number) => when(u, () => R.f1f0[U[u]!.k]!),
      max_phase_response: (u: number) => when(u, () => R.max[U[u]!.k]!),
      ori_curve: (u: number) => U[u]!.ori.map(Math.fround),
      sf_curve: (u: number) => U[u]!.sf.map(Math.fround),
      response_grid: (u: number) => Array.from({ length: nT * nF }, (_, c) => Math.fround(R.mean[c * 4 + u]!)),
    });
    // every declared column is checked, so a new column needs its expectation here
    expect(Object.keys(expected).sort()).toEqual(TUNING.columns.map((c) => c.name).sort());
    const got = cols as unknown as Record<string, ArrayLike<unknown> | { get(r: number): ArrayLike<number> }>;
    for (const c of TUNING.columns) {
      for (let u = 0; u < 4; u++) {
        const col = got[c.name]!;
        const v = 'get' in col && typeof col.get === 'function' ? Array.from((col as { get(r: number): ArrayLike<number> }).get(u)) : (col as ArrayLike<unknown>)[u];
        expect(v, `${c.name}[${u}]`).toEqual(expected[c.name]!(u));
      }
    }
    // the known units: the Gabor and the complex cell are tuned where they were built, the constant and dark ones are not
    expect([cols.theta_pref[0], cols.theta_pref[1]]).toEqual([60, 120]);
    expect([...cols.responsive]).toEqual([1, 1, 0, 0]);
    expect(cols.f1f0[0]).toBeGreaterThan(1); // simple
    expect(cols.f1f0[1]).toBeLessThan(0.3); // complex
  });
});
