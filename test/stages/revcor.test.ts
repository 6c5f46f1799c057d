// The awa and awc stages on an in-memory StageContext: synthetic units driven by the project's own noise at
// the real VGG16 RF geometry, an in-process pool, JS products. Sharded awc = one-shot awc. Their tables checked by
// value on known units.
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema, type Experiment } from '../../config/schema.ts';
import { loadNetwork } from '../../model/load.ts';
import { noiseCanvas } from '../../model/geometry.ts';
import type { PoolTask, StageContext, UpstreamShardInfo } from '../../pipeline/stage.ts';
import { noiseCrop } from '../../science/noise.ts';
import { predictAwaFft } from '../../science/predict.ts';
import { createAwaStage } from '../../stages/awa.ts';
import { awaKeepBytes } from '../../stages/revcor-input.ts';
import { createAwcStage } from '../../stages/awc.ts';
import { boolVector, layerListVector, numberVector, stringVector, tableWithMetadata } from '../fixtures/arrow-tables.ts';
import { concatTables } from '../../stages/unit-columns.ts';
import { expectColumnsByValue, indistinctColumns } from '../fixtures/by-value.ts';
import { gabor, lcg, noiseMatrix, pearson, project } from '../fixtures/synthetic-units.ts';

const N = 4000;
const LAYER = 'block2_conv1';
const CH = 6;
const theta = 60;
const f = 0.2;

type Upstreams = Record<string, { info: UpstreamShardInfo; table: Table }[]>;

/** A StageContext over in-memory upstream shards and a pool that runs tasks in-process. */
function context(config: Experiment, up: Upstreams): StageContext<Experiment> {
  return {
    config,
    configDir: '/tmp',
    upstream(stage) {
      const shards = up[stage] ?? [];
      return {
        stage,
        shards: shards.map((s) => s.info).reverse(),
        read: async (id) => {
          const s = shards.find((x) => x.info.id === id);
          if (!s) throw new Error(`no ${stage} shard ${id}`);
          return s.table;
        },
      };
    },
    pool: {
      size: 1,
      async run<T>(task: PoolTask): Promise<T> {
        const mod = (await import(task.module)) as Record<string, (...a: unknown[]) => Promise<T>>;
        // structured clone, as piscina would
        return structuredClone(await mod[task.fn]!(...structuredClone(task.args)));
      },
    },
    threads: 1,
    signal: new AbortController().signal,
    progress: () => {},
    log: () => {},
  };
}

async function setup(awc: Record<string, unknown> = {}) {
  const config = ExperimentSchema.parse({
    model: { arch: 'vgg16', weights: 'seeded', layers: ['block1_conv1', LAYER], channels: CH },
    stimuli: { noise: { count: N, seed: 3 } },
    activations: { shardSize: 1000 },
    awc: { top: 4, bottom: 2, ...awc },
  });
  const model = await loadNetwork(config.model);
  const canvas = noiseCanvas(model.geometry);
  const g = model.geometry.find((l) => l.name === LAYER)!;
  const r = g.cropSize;
  const noise = { seed: 3, sigma: 48, color: 'grey' as const, check: 1 };
  const X = new Float32Array(N * r * r);
  for (let n = 0; n < N; n++) X.set(noiseCrop(noise, n, g.cropX0, g.cropY0, r, r), n * r * r);
  const g0 = gabor(r, theta, f, 0, 2.5);
  const g90 = gabor(r, theta, f, 90, 2.5);
  const p0 = project(X, N, g0, 48);
  const p90 = project(X, N, g90, 48);
  const rnd = lcg(5);
  // channels: 0 linear Gabor, 1 energy model, 2 ignores input, 3 silent, 4 linear Gabor ×3, 5 ignores input (sparse)
  const A2 = new Float32Array(N * CH);
  for (let n = 0; n < N; n++) {
    A2[n * CH + 0] = Math.max(0, p0[n]!);
    A2[n * CH + 1] = p0[n]! ** 2 + p90[n]! ** 2;
    A2[n * CH + 2] = -Math.log(rnd());
    A2[n * CH + 3] = 0;
    A2[n * CH + 4] = 3 * Math.max(0, p90[n]!);
    A2[n * CH + 5] = rnd() < 0.8 ? 0 : rnd();
  }
  const A1 = Float32Array.from({ length: N * CH }, () => rnd());
  const shards: Upstreams['activations'] = [];
  for (let start = 0; start < N; start += 1000) {
    const end = start + 1000;
    const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const table = tableWithMetadata(
      {
        stimulus: numberVector(idx),
        noise_index: numberVector(idx),
        block1_conv1: layerListVector(A1.slice(start * CH, end * CH), CH),
        [LAYER]: layerListVector(A2.slice(start * CH, end * CH), CH),
      },
      {
        'revcor.activations.set': 'noise',
        'revcor.activations.geometry': JSON.stringify(model.geometry),
        'revcor.activations.canvas': JSON.stringify(canvas),
        'revcor.activations.noise': JSON.stringify(noise),
      },
    );
    const id = `noise-${String(start).padStart(6, '0')}-${String(end).padStart(6, '0')}`;
    shards.push({ info: { id, params: { set: 'noise', start, end }, rows: end - start }, table });
  }
  const tuning = tableWithMetadata(
    {
      layer: stringVector(Array.from({ length: CH }, () => LAYER)),
      channel: numberVector(Int32Array.from({ length: CH }, (_, i) => i)),
      responsive: boolVector(Uint8Array.from([1, 1, 1, 0, 1, 1])),
      theta_pref: numberVector(Float64Array.from([theta, theta, 0, NaN, theta, 90])),
      sf_pref: numberVector(Float64Array.from([f, f, 0.1, NaN, f, 0.05])),
    },
    {},
  );
  const up: Upstreams = { activations: shards, tuning: [{ info: { id: LAYER, params: { layer: LAYER }, rows: CH }, table: tuning }] };
  return { config, up, r };
}

async function runStage(stage: ReturnType<typeof createAwcStage>, config: Experiment, up: Upstreams, only?: string) {
  const ctx = context(config, up);
  const plan = (await stage.plan(ctx)).filter((s) => !only || s.params['layer'] === only);
  const tables: Table[] = [];
  for (const s of plan) tables.push(await stage.run(s, ctx));
  return { plan, tables };
}

describe('awa and awc stages', () => {
  it('awa plans the largest layers first (crop pixels × channels), so the awc of the costly layers can start early', async () => {
    const shards = await createAwaStage('js').plan({ config: ExperimentSchema.parse({ model: { arch: 'vgg16', layers: 'all' } }), configDir: '/tmp' });
    expect(shards.map((s) => s.id).slice(0, 3)).toEqual(['block5_conv3', 'block5_conv2', 'block5_conv1']);
    expect(shards.at(-1)!.id).toBe('block1_conv1');
    expect(shards.length).toBe(13);
  });

  it("awa keeps a layer's samples in its worker only when the layer's awc shards read the same pixel features", async () => {
    const { config, up, r } = await setup();
    // the memory the awa task of LAYER may keep its samples in, under these awc settings
    const kept = async (awc: Record<string, unknown>) => {
      const cfg = ExperimentSchema.parse({ ...config, awc: { ...config.awc, ...awc } });
      const ctx = context(cfg, up);
      let bytes: number | undefined;
      const run = ctx.pool.run.bind(ctx.pool);
      ctx.pool = {
        ...ctx.pool,
        run: <T,>(task: PoolTask) => {
          bytes = (task.args[0] as { cacheBytes: number }).cacheBytes;
          return run<T>(task);
        },
      };
      const stage = createAwaStage('js');
      for (const s of (await stage.plan(ctx)).filter((x) => x.id === LAYER)) await stage.run(s, ctx);
      return bytes;
    };
    expect(r * r).toBe(100);
    expect(await kept({ cacheMiB: 64 })).toBe(64 * 2 ** 20); // 100 px ≤ awc.maxDim: awc reads the same pixels
    expect(await kept({ cacheMiB: 64, maxDim: 99 })).toBe(0); // awc bins the crop: other features
    expect(await kept({ cacheMiB: 64, crop: 'effective' })).toBe(0); // awc reads another crop
    const grey = { color: 'grey' as const, check: 1 };
    expect(awaKeepBytes(config, { noise: grey, crop: { size: 64 } })).toBe(config.awc.cacheMiB * 2 ** 20); // 4,096 = maxDim
    expect(awaKeepBytes(config, { noise: grey, crop: { size: 65 } })).toBe(0);
    expect(awaKeepBytes(config, { noise: { color: 'rgb', check: 1 }, crop: { size: 36 } })).toBe(config.awc.cacheMiB * 2 ** 20); // 3,888 values
    expect(awaKeepBytes(config, { noise: { color: 'rgb', check: 1 }, crop: { size: 37 } })).toBe(0); // 4,107 > maxDim
    expect(awaKeepBytes(config, { noise: { ...grey, check: 2 }, crop: { size: 10 } })).toBe(0); // awc reads checks
  });

  it('awa: one shard per layer, per-unit maps; the Gabor units are significant and predicted, the others not', async () => {
    const { config, up, r } = await setup();
    const { plan, tables } = await runStage(createAwaStage('js'), config, up);
    expect(plan.map((s) => s.id)).toEqual([LAYER, 'block1_conv1']); // largest first
    expect(plan[0]!.needs!['activations']).toEqual(['noise-000000-001000', 'noise-001000-002000', 'noise-002000-003000', 'noise-003000-004000']);
    const t = tables[0]!;
    expect(t.numRows).toBe(CH);
    const sig = t.getChild('significant')!.toArray() as boolean[];
    expect(Array.from(sig, Boolean)).toEqual([true, false, false, false, true, false]);
    expect((t.getChild('awa')!.get(0) as { length: number }).length).toBe(r * r);
    expect(t.getChild('responsive')!.get(3)).toBe(false);
    expect(Math.abs(Number(t.getChild('theta_pred')!.get(0)) - theta)).toBeLessThanOrEqual(15);
    const meta = JSON.parse(t.schema.metadata.get('revcor.awa.layer')!);
    expect(meta.crop.size).toBe(r);
    expect(meta.nullModel).toBe('finite-n');
    expect(meta.window).toBe(config.prediction.window);
  });

  it('awa: prediction.window reaches the FFT predictions (each unit\'s θ_pred, f_pred = predictAwaFft of its map with that window)', async () => {
    const { config, up } = await setup();
    const preds: Record<string, number[][]> = {};
    for (const window of ['hann', 'none'] as const) {
      const t = (await runStage(createAwaStage('js'), { ...config, prediction: { ...config.prediction, window } }, up, LAYER)).tables[0]!;
      const meta = JSON.parse(t.schema.metadata.get('revcor.awa.layer')!);
      expect(meta.window).toBe(window);
      const rf = { r: meta.crop.size, channels: 1, x0: meta.crop.x0, y0: meta.crop.y0 };
      preds[window] = [];
      for (const u of [0, 1, 2, 4, 5]) {
        const p = predictAwaFft((t.getChild('awa')!.get(u) as { toArray(): Float32Array }).toArray(), rf, window);
        expect(t.getChild('theta_pred')!.get(u)).toBeCloseTo(p.thetaDeg, 9);
        expect(t.getChild('f_pred')!.get(u)).toBeCloseTo(p.fCpp, 12);
        preds[window].push([p.thetaDeg, p.fCpp]);
      }
    }
    expect(preds['none']).not.toEqual(preds['hann']); // the noise-driven units' maps peak elsewhere without the taper
  });

  it('awa: z_max under both null forms; awa.nullModel population makes z_max / significant / null_sd the population ones', async () => {
    const { config, up } = await setup();
    const col = (t: Table, c: string) => Array.from(t.getChild(c)!.toArray() as ArrayLike<number>, Number);
    const finite = (await runStage(createAwaStage('js'), config, up, LAYER)).tables[0]!;
    expect(col(finite, 'z_max_finite_n')).toEqual(col(finite, 'z_max'));
    expect(col(finite, 'significant_finite_n')).toEqual(col(finite, 'significant'));
    const zf = col(finite, 'z_max');
    const zp = col(finite, 'z_max_population');
    // the population SD is the larger (Σw² vs Σw² − 1/N): z shrinks by √(1 − 1/(N Σw²)) = √(1 − n_eff/N)
    const nEff = col(finite, 'n_eff');
    for (let u = 0; u < CH; u++) {
      if (!(zf[u]! > 0)) continue;
      expect(zp[u]! / zf[u]!).toBeCloseTo(Math.sqrt(1 - nEff[u]! / N), 6);
    }
    const cfg = { ...config, awa: { ...config.awa, nullModel: 'population' as const } };
    const pop = (await runStage(createAwaStage('js'), cfg, up, LAYER)).tables[0]!;
    expect(JSON.parse(pop.schema.metadata.get('revcor.awa.layer')!).nullModel).toBe('population');
    col(pop, 'z_max').forEach((z, u) => expect(z).toBeCloseTo(zp[u]!, 4));
    col(pop, 'z_max_finite_n').forEach((z, u) => expect(z).toBeCloseTo(zf[u]!, 4));
    expect(col(pop, 'significant')).toEqual(col(finite, 'significant_population'));
    const sdF = col(finite, 'null_sd');
    col(pop, 'null_sd').forEach((sd, u) => expect(sd).toBeGreaterThanOrEqual(sdF[u]!));
  });

  it('awc: sharded by unit range = one shot; the energy unit is reconstructed, null units are not', async () => {
    const { config, up } = await setup();
    const awa = await runStage(createAwaStage('js'), config, up);
    up['awa'] = awa.plan.map((s, i) => ({ info: { id: s.id, params: s.params, rows: awa.tables[i]!.numRows }, table: awa.tables[i]! }));
    for (const solver of ['full', 'subspace'] as const) {
      const one = await runStage(createAwcStage('js'), { ...config, awc: { ...config.awc, solver, unitsPerShard: 64 } }, up, LAYER);
      const sharded = await runStage(createAwcStage('js'), { ...config, awc: { ...config.awc, solver, unitsPerShard: 4 } }, up, LAYER);
      expect(one.plan.map((s) => s.id)).toEqual([`${LAYER}-0000-0006`]);
      expect(sharded.plan.map((s) => s.id)).toEqual([`${LAYER}-0000-0004`, `${LAYER}-0004-0006`]);
      const a = one.tables[0]!;
      const b = concatTables(sharded.tables);
      expect(b.numRows).toBe(CH);
      for (const col of ['eig_top', 'eig_bottom', 'energy', 'eigvec_top']) {
        for (let u = 0; u < CH; u++) {
          const x = Array.from(a.getChild(col)!.get(u) as ArrayLike<number>);
          const y = Array.from(b.getChild(col)!.get(u) as ArrayLike<number>);
          expect(y.length).toBe(x.length);
          for (let i = 0; i < x.length; i++) {
            if (Number.isNaN(x[i]!)) expect(Number.isNaN(y[i]!)).toBe(true);
            else expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(x[i]!)));
          }
        }
      }
      for (const col of ['n_sig_top', 'n_sig_bottom', 'awc_reconstructed', 'awa_reconstructed', 'responsive']) {
        expect(Array.from(b.getChild(col)!.toArray() as ArrayLike<unknown>)).toEqual(Array.from(a.getChild(col)!.toArray() as ArrayLike<unknown>));
      }
      const nSig = Array.from(a.getChild('n_sig_top')!.toArray() as Int32Array);
      expect(nSig[1]).toBe(2); // energy unit: the quadrature pair
      expect(nSig[2]).toBe(0); // ignores its input
      expect(nSig[3]).toBe(0); // silent
      expect(nSig[5]).toBe(0);
      const rec = Array.from(a.getChild('awc_reconstructed')!.toArray() as boolean[], Boolean);
      expect(rec[1]).toBe(true);
      expect(Array.from(a.getChild('awa_reconstructed')!.toArray() as boolean[], Boolean)).toEqual([true, false, false, false, true, false]);
      expect(a.getChild('responsive')!.get(3)).toBe(false);
      const meta = JSON.parse(a.schema.metadata.get('revcor.awc.shard')!);
      expect(meta.solver).toBe(solver);
    }
  });

  it('awc: with checkpoint digests, the shards of a layer read the noise checkpoints once (again when a digest changes), same tables', async () => {
    const { config, up, r } = await setup();
    const awa = await runStage(createAwaStage('js'), config, up);
    up['awa'] = awa.plan.map((s, i) => ({ info: { id: s.id, params: s.params, rows: awa.tables[i]!.numRows }, table: awa.tables[i]! }));
    const cfg = { ...config, awc: { ...config.awc, unitsPerShard: 2 } };
    const plain = await runStage(createAwcStage('js'), cfg, up, LAYER); // no digests: every shard reads
    let reads = 0;
    /** The same upstreams, the noise shards with digests `tag-<id>` and a read counter. */
    const withDigests = (tag: string): Upstreams => ({
      ...up,
      activations: up['activations']!.map((s) => {
        const entry = { info: { ...s.info, sha256: `${tag}-${s.info.id}` } } as { info: UpstreamShardInfo; table: Table };
        Object.defineProperty(entry, 'table', { get: () => (reads++, s.table) });
        return entry;
      }),
    });
    const tag = `t${Math.random()}`;
    // the effective crop first: the crop it narrows must not leak into the kept layer
    const eff = await runStage(createAwcStage('js'), { ...cfg, awc: { ...cfg.awc, crop: 'effective' as const, effectiveCoverage: 0.9 } }, withDigests(tag), LAYER);
    expect(JSON.parse(eff.tables[0]!.schema.metadata.get('revcor.awc.shard')!).crop.size).toBeLessThan(r);
    expect(reads).toBe(4); // 4 noise checkpoints, read once for 3 shards
    const kept = await runStage(createAwcStage('js'), cfg, withDigests(tag), LAYER);
    expect(reads).toBe(4);
    expect(kept.plan.length).toBe(3);
    kept.tables.forEach((t, i) => {
      expect(JSON.parse(t.schema.metadata.get('revcor.awc.shard')!).crop.size).toBe(r);
      const cells = (x: Table, col: string) => Array.from({ length: x.numRows }, (_, u) => {
        const v = x.getChild(col)!.get(u) as unknown;
        return v !== null && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray()) : v;
      });
      for (const col of t.schema.fields.map((f) => f.name)) expect(cells(t, col), col).toEqual(cells(plain.tables[i]!, col));
    });
    await runStage(createAwcStage('js'), cfg, withDigests(`${tag}-recomputed`), LAYER);
    expect(reads).toBe(8);
  });

  it('awc with the effective crop: a smaller square centred on the RF, the energy unit still found', async () => {
    const { config, up, r } = await setup();
    const awa = await runStage(createAwaStage('js'), config, up);
    up['awa'] = awa.plan.map((s, i) => ({ info: { id: s.id, params: s.params, rows: awa.tables[i]!.numRows }, table: awa.tables[i]! }));
    const cfg = { ...config, awc: { ...config.awc, crop: 'effective' as const, effectiveCoverage: 0.9 } };
    const { tables } = await runStage(createAwcStage('js'), cfg, up, LAYER);
    const t = tables[0]!;
    const meta = JSON.parse(t.schema.metadata.get('revcor.awc.shard')!);
    expect(meta.cropKind).toBe('effective');
    expect(meta.crop.size).toBeLessThan(r);
    expect(meta.crop.size).toBeGreaterThanOrEqual(4);
    expect(meta.effective.units).toBe(2); // the two Gabor units with significant AWA
    expect((t.getChild('energy')!.get(0) as { length: number }).length).toBe(meta.crop.size ** 2);
    expect(t.getChild('n_sig_top')!.get(1)).toBe(2);
  });

  it('awc with awc.maxDim below the crop: 2×2 bins (D = 25 of 100), maps expanded to pixels', async () => {
    const { config, up, r } = await setup();
    const awa = await runStage(createAwaStage('js'), config, up);
    up['awa'] = awa.plan.map((s, i) => ({ info: { id: s.id, params: s.params, rows: awa.tables[i]!.numRows }, table: awa.tables[i]! }));
    const cfg = { ...config, awc: { ...config.awc, maxDim: 36 } };
    const { tables } = await runStage(createAwcStage('js'), cfg, up, LAYER);
    const t = tables[0]!;
    const meta = JSON.parse(t.schema.metadata.get('revcor.awc.shard')!);
    expect(meta.bin).toBe(2);
    expect(meta.features).toBe('bins');
    expect(meta.D).toBe(25);
    expect((t.getChild('eigvec_top')!.get(1) as { length: number }).length).toBe(4 * r * r);
    expect(t.getChild('n_sig_top')!.get(1)).toBe(2);
    expect(t.getChild('n_sig_top')!.get(2)).toBe(0);
  });
});

describe('awa and awc tables checked by value (known units: Gabor-like, complex-like, constant, dark-only)', () => {
  // awc: four units as the workers would report them: 0 a significant linear RF predicted at its tuning, 1 a complex
  // cell (AWA flat, two significant AWC eigenvalues, predicted 90° off), 2 a constant unit, 3 a unit dark on every
  // sample. awa (the last test): six units computed from the project's noise, through the worker and the table.
  const U = 4;
  const kt = 2;
  const kb = 1;
  const P = 9;
  const cfg = ExperimentSchema.parse({ name: 't', model: { arch: 'vgg16', weights: 'seeded', layers: [LAYER] }, awc: { top: kt, bottom: kb } });
  const awcRes = {
    D: P, pixelD: P, features: 'pixels' as const, solver: 'full' as const, sigma: 47.5,
    responsive: Uint8Array.of(1, 1, 0, 0),
    top: Float32Array.of(900, 40, 700, 650, NaN, NaN, NaN, NaN),
    bottom: Float32Array.of(-300, -10, NaN, NaN),
    topVectors: Float32Array.from({ length: U * kt * P }, (_, i) => Math.sin(i)),
    bottomVectors: Float32Array.from({ length: U * kb * P }, (_, i) => Math.cos(i)),
    upper: Float64Array.of(500, 500, NaN, NaN),
    lower: Float64Array.of(-200, -200, NaN, NaN),
    topSignificant: Int32Array.of(1, 0, 1, 1, 0, 0, 0, 0),
    bottomSignificant: Int32Array.of(1, 0, 0, 0),
    energy: Float32Array.from({ length: U * P }, (_, i) => i),
    thetaPred: Float64Array.of(60, 30, NaN, NaN),
    fPred: Float64Array.of(0.2, 0.1, NaN, NaN),
  };
  const o = {
    awaSignificant: Float64Array.of(1, 0, 0, 0),
    awaTheta: Float64Array.of(62, 115, NaN, NaN), // unit 1: the AWA orientation matches, the AWC one does not
    awaF: Float64Array.of(0.21, 0.1, NaN, NaN),
    thetaPref: Float64Array.of(60, 120, NaN, NaN),
    fPref: Float64Array.of(0.2, 0.1, NaN, NaN),
    tuningResponsive: Float64Array.of(1, 1, 0, 0),
    config: cfg,
    crop: { x0: 0, y0: 0, size: 3 },
    clipped: false,
    samples: 1000,
    end: U,
  };

  it('awc: every declared column equals the worker result or the verdict science/predict.ts decides', async () => {
    const { awcTable } = await import('../../stages/awc.ts');
    const { AWC, readAwc } = await import('../../results/awc.ts');
    const { matchFlags } = await import('../../science/predict.ts');
    const cols = readAwc(awcTable(LAYER, 0, awcRes, o)) as unknown as Record<string, ArrayLike<number> | { get(r: number): ArrayLike<number> } | (string | null)[]>;
    const tol = { thetaDeg: cfg.prediction.thetaTolerance, octaves: cfg.prediction.sfTolerance };
    const m = (u: number, t: Float64Array, f: Float64Array) => matchFlags({ thetaDeg: t[u]!, fCpp: f[u]! }, o.thetaPref[u]!, o.fPref[u]!, tol);
    const nSig = (u: number) => awcRes.topSignificant[u * kt]! + awcRes.topSignificant[u * kt + 1]!;
    const slice = (a: ArrayLike<number>, u: number, w: number) => Array.from(a).slice(u * w, (u + 1) * w);
    const expected: Record<string, (u: number) => unknown> = {
      layer: () => LAYER,
      channel: (u) => u,
      responsive: (u) => awcRes.responsive[u],
      eig_top: (u) => slice(awcRes.top, u, kt),
      top_significant: (u) => slice(awcRes.topSignificant, u, kt),
      n_sig_top: nSig,
      null_upper: (u) => awcRes.upper[u],
      null_lower: (u) => awcRes.lower[u],
      eigvec_top: (u) => slice(awcRes.topVectors, u, kt * P),
      energy: (u) => slice(awcRes.energy, u, P),
      awc_theta_pred: (u) => awcRes.thetaPred[u],
      awc_f_pred: (u) => awcRes.fPred[u],
      awa_significant: (u) => o.awaSignificant[u],
      awa_theta_pred: (u) => o.awaTheta[u],
      awa_f_pred: (u) => o.awaF[u],
      theta_pref: (u) => o.thetaPref[u],
      f_pref: (u) => o.fPref[u],
      tuning_responsive: (u) => o.tuningResponsive[u],
      awa_theta_match: (u) => +m(u, o.awaTheta, o.awaF).theta,
      awa_f_match: (u) => +m(u, o.awaTheta, o.awaF).f,
      awa_reconstructed: (u) => +(o.awaSignificant[u] === 1 && m(u, o.awaTheta, o.awaF).theta && m(u, o.awaTheta, o.awaF).f),
      awc_theta_match: (u) => +m(u, awcRes.thetaPred, awcRes.fPred).theta,
      awc_f_match: (u) => +m(u, awcRes.thetaPred, awcRes.fPred).f,
      awc_reconstructed: (u) => +(nSig(u) > 0 && m(u, awcRes.thetaPred, awcRes.fPred).theta && m(u, awcRes.thetaPred, awcRes.fPred).f),
      eig_bottom: (u) => slice(awcRes.bottom, u, kb),
      bottom_significant: (u) => slice(awcRes.bottomSignificant, u, kb),
      n_sig_bottom: (u) => awcRes.bottomSignificant[u],
      eigvec_bottom: (u) => slice(awcRes.bottomVectors, u, kb * P),
    };
    expect(Object.keys(expected).sort()).toEqual(AWC.columns.map((c) => c.name).sort());
    for (const c of AWC.columns) {
      for (let u = 0; u < U; u++) {
        const col = cols[c.name]!;
        const v = 'get' in col && typeof col.get === 'function' ? Array.from(col.get(u)) : (col as ArrayLike<unknown>)[u];
        const want = expected[c.name]!(u);
        expect(v, `${c.name}[${u}]`).toEqual(Array.isArray(want) ? want.map((x) => (typeof x === 'number' && !Number.isInteger(x) ? Math.fround(x) : x)) : want);
      }
    }
    // the known units: the linear unit is reconstructed by AWA and AWC, the complex one by neither (90° off), the rest not
    expect([...(cols['awa_reconstructed'] as Uint8Array)]).toEqual([1, 0, 0, 0]);
    expect([...(cols['awc_reconstructed'] as Uint8Array)]).toEqual([1, 0, 0, 0]);
  });

  it('awa: every declared column equals science/awa.ts and predict.ts on each unit\'s own activations (Gabor, complex, dark-only, constant, ignores the stimulus, silent)', async () => {
    const { awaTable } = await import('../../stages/awa.ts');
    const { awaTask } = await import('../../stages/revcor-worker.ts');
    const { predictionArgs } = await import('../../stages/revcor-input.ts');
    const { AWA, readAwa } = await import('../../results/awa.ts');
    const { awaLayer, variesOverSamples } = await import('../../science/awa.ts');
    const { JsMatMul } = await import('../../science/gemm.ts');
    const { featureLayout, noiseSource } = await import('../../science/noise-source.ts');
    const n = 3000;
    const noise = { seed: 3, sigma: 48, color: 'grey' as const, check: 1 };
    const crop = { x0: 37, y0: 41, size: 11 };
    const r = crop.size;
    const X = noiseMatrix(noise, n, crop.x0, crop.y0, r);
    const g = gabor(r, 60, 0.2, 0, 2.5);
    const blob = Float64Array.from({ length: r * r }, (_, i) => Math.exp(-(((i % r) - 5) ** 2 + (Math.floor(i / r) - 5) ** 2) / 8));
    const bn = Math.hypot(...blob);
    const pg = project(X, n, g, 48);
    const pq = project(X, n, gabor(r, 60, 0.2, 90, 2.5), 48);
    const pb = project(X, n, blob.map((v) => v / bn), 48);
    const rnd = lcg(7);
    // 0 linear Gabor filter (a tonic linear unit: AWA ∝ the Gabor); 1 energy of a quadrature pair (complex: flat AWA);
    // 2 dark-only (rectified −blob: a negative AWA); 3 constant; 4 ignores the stimulus; 5 silent
    const units = 6;
    const A = new Float32Array(n * units);
    for (let i = 0; i < n; i++) {
      A.set([5 + pg[i]!, pg[i]! ** 2 + pq[i]! ** 2, Math.max(0, -pb[i]!), 3, -Math.log(rnd()), 0], i * units);
    }
    const noiseIndex = Int32Array.from({ length: n }, (_, i) => i);
    const src = () => noiseSource(noise, noiseIndex, crop, featureLayout(noise, crop, 'pixels'), null, { centred: true });
    const rf = { r, channels: 1, x0: crop.x0, y0: crop.y0 };
    const indistinct: string[][] = [];
    for (const nullModel of ['finite-n', 'population'] as const) {
      const config = ExperimentSchema.parse({ name: 't', awa: { nullModel }, prediction: { window: 'hann' } });
      const { zThreshold } = config.awa;
      const res = await awaTask({ noise, noiseIndex, A, U: units, crop, zThreshold, nullModel, prediction: predictionArgs(config), threads: 1, backend: 'js', cacheBytes: 0 });
      const info = { crop, clipped: false, samples: n, zThreshold, nullModel, method: config.prediction.method, window: config.prediction.window };
      const cols = readAwa(tableFromIPC(tableToIPC(awaTable(LAYER, res, info), 'file')));
      // the expected value of every column, from each unit's own column of activations alone
      const own = await Promise.all(
        Array.from({ length: units }, async (_, u) => {
          const a = Float32Array.from({ length: n }, (_, i) => A[i * units + u]!);
          const fin = await awaLayer(src(), a, 1, new JsMatMul(), { zThreshold, nullModel: 'finite-n' });
          const pop = await awaLayer(src(), a, 1, new JsMatMul(), { zThreshold, nullModel: 'population' });
          const pred = fin.sum[0]! > 0 ? predictAwaFft(fin.awa, rf, config.prediction.window) : { thetaDeg: NaN, fCpp: NaN };
          return { a, fin, pop, used: nullModel === 'finite-n' ? fin : pop, pred };
        }),
      );
      const expected: Record<string, (u: number) => unknown> = {
        layer: () => LAYER,
        channel: (u) => u,
        responsive: (u) => variesOverSamples(own[u]!.a, n, 1)[0],
        n_active: (u) => own[u]!.fin.active[0],
        sum_a: (u) => own[u]!.fin.sum[0],
        n_eff: (u) => (own[u]!.fin.sumSq[0]! > 0 ? own[u]!.fin.sum[0]! ** 2 / own[u]!.fin.sumSq[0]! : 0),
        null_sd: (u) => own[u]!.used.nullSd[0],
        z_max: (u) => own[u]!.used.zMax[0],
        significant: (u) => own[u]!.used.significant[0],
        z_max_finite_n: (u) => own[u]!.fin.zMax[0],
        z_max_population: (u) => own[u]!.pop.zMax[0],
        significant_finite_n: (u) => own[u]!.fin.significant[0],
        significant_population: (u) => own[u]!.pop.significant[0],
        awa: (u) => Array.from(own[u]!.fin.awa),
        theta_pred: (u) => own[u]!.pred.thetaDeg,
        f_pred: (u) => own[u]!.pred.fCpp,
      };
      // every declared column is checked (a new column needs its expectation here); z under the other null is rescaled
      // by the stage (z·sd/sd'), not recomputed: equal to rounding, and to 1e-6 for the constant unit, whose AWA is
      // float rounding (~1e-7 grey levels; its finite-n SD is 0, so its rescaled z is 0)
      const near = (v: unknown, want: unknown, label: string) => {
        if (typeof want === 'number' && Number.isFinite(want) && !Number.isInteger(want)) expect(Math.abs((v as number) - want), `${label}: ${v} vs ${want}`).toBeLessThanOrEqual(1e-12 * Math.abs(want) + 1e-6);
        else expect(v, label).toEqual(want);
      };
      expectColumnsByValue(AWA, cols, expected, units, near, `${nullModel}: `);
      indistinct.push(indistinctColumns(AWA, cols, units));
      // the known units
      const awa = (u: number) => Array.from(cols.awa.get(u));
      expect(pearson(awa(0), g)).toBeGreaterThan(0.9); // AWA ∝ the Gabor
      expect(pearson(awa(2), blob)).toBeLessThan(-0.9); // the dark-only unit's AWA is the negative blob
      expect([...cols.responsive]).toEqual([1, 1, 1, 0, 1, 0]);
      expect([...cols.significant_finite_n!]).toEqual([1, 0, 1, 0, 0, 0]);
      expect(cols.z_max[5]).toBe(0);
      expect(Number.isNaN(cols.theta_pred[5]!)).toBe(true);
    }
    // z_max and significant are the finite-n columns under one null and the population ones under the other: across
    // the two, the known units tell every two columns apart, so a swap of any two fails
    expect(indistinct[0]!.filter((pair) => indistinct[1]!.includes(pair))).toEqual([]);
  });
});
