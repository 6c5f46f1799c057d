// The activations stage on in-memory stimuli shards: plan (ids, needs, costs), table layout and metadata,
// values against an independent full-image forward pass, and shard-size invariance.
import { makeVector, RecordBatch, Schema, Table, type Vector } from 'apache-arrow';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentSchema, type Experiment } from '../../config/schema.ts';
import { layerGeometry, noiseCanvas } from '../../model/geometry.ts';
import { selectLayers, vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';
import type { Shard, StageContext } from '../../pipeline/stage.ts';
import { gratingImage, gratingList } from '../../science/gratings.ts';
import { noiseImageRGB } from '../../science/noise.ts';
import { ACTIVATIONS_META, activationsStage, releaseActivationSessions } from '../../stages/activations.ts';
import { loadCategoryImage } from '../../stages/images-io.ts';
import { imagesTable } from '../../stages/stimuli.ts';
import { readLayerMatrix } from '../../stages/unit-columns.ts';

afterAll(() => releaseActivationSessions());

const LAYERS = ['block1_conv1', 'block2_conv2', 'block3_conv1'];

function config(shardSize: number): Experiment {
  return ExperimentSchema.parse({
    model: { arch: 'vgg16', weights: 'seeded', seed: 3, layers: LAYERS, batch: 4 },
    stimuli: {
      gratings: { orientations: 2, kMin: -3, kMax: -2, kStep: 1, phases: 2 },
      images: { enabled: false },
      noise: { count: 10, seed: 5, sigma: 48 },
    },
    activations: { shardSize },
  });
}

function withMeta(columns: Record<string, Vector>, meta: Record<string, string>): Table {
  const t = new Table(columns);
  const schema = new Schema(t.schema.fields, new Map(Object.entries(meta)));
  return new Table(schema, t.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** The stimuli stage's shards as its contract describes them (rows deliberately out of order). */
function stimuliTables(cfg: Experiment): Record<string, Table> {
  const g = gratingList(cfg.stimuli.gratings).reverse();
  const n = cfg.stimuli.noise.count;
  const order = Array.from({ length: n }, (_, i) => (i * 7) % n);
  return {
    gratings: new Table({
      stimulus: makeVector(Int32Array.from(g, (d) => d.stimulus)),
      theta_deg: makeVector(Float64Array.from(g, (d) => d.thetaDeg)),
      sf_cpp: makeVector(Float64Array.from(g, (d) => d.sfCpp)),
      phase_deg: makeVector(Float64Array.from(g, (d) => d.phaseDeg)),
    }),
    noise: withMeta(
      { stimulus: makeVector(Int32Array.from(order)), noise_index: makeVector(Int32Array.from(order)) },
      { seed: '5', sigma: '48', color: 'grey', check: '1' },
    ),
  };
}

function context(cfg: Experiment): StageContext<Experiment> {
  const tables = stimuliTables(cfg);
  return {
    config: cfg,
    configDir: '/tmp',
    upstream(stage) {
      expect(stage).toBe('stimuli');
      return { stage, shards: Object.entries(tables).map(([id, t]) => ({ id, params: {}, rows: t.numRows })), read: async (id) => tables[id]! };
    },
    pool: { size: 1, run: async () => { throw new Error('unused'); } },
    threads: 1,
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
  };
}

async function runAll(cfg: Experiment): Promise<{ shards: Shard[]; tables: Map<string, Table> }> {
  const ctx = context(cfg);
  const shards = await activationsStage.plan(ctx);
  const tables = new Map<string, Table>();
  for (const s of shards) tables.set(s.id, await activationsStage.run(s, ctx));
  return { shards, tables };
}

describe('activations stage', () => {
  it('plans stimulus ranges per set with zero-padded ids, needing only the matching stimuli shard', async () => {
    const cfg = config(3);
    const shards = await activationsStage.plan(context(cfg));
    expect(shards.map((s) => s.id)).toEqual([
      'gratings-000000-000003', 'gratings-000003-000006', 'gratings-000006-000008',
      'noise-000000-000003', 'noise-000003-000006', 'noise-000006-000009', 'noise-000009-000010',
    ]);
    expect(shards[1]).toMatchObject({ params: { set: 'gratings', start: 3, end: 6 }, needs: { stimuli: ['gratings'] } });
    expect(shards[3].needs).toEqual({ stimuli: ['noise'] });
    // Centre units (noise and gratings) run on the canvas (smaller than 224²): a stimulus costs less than a full image.
    expect(shards[3].cost! / 3).toBeLessThan(0.5);
    expect(shards[0].cost! / 3).toBe(shards[3].cost! / 3);
    expect(activationsStage.inputFiles!(context(cfg))).toEqual([]);
    // Threads/batch and stimulus counts do not change the key; the model and stimulus parameters do.
    const slice = (c: Partial<Record<string, unknown>>) => JSON.stringify(activationsStage.configSlice(ExperimentSchema.parse(c)));
    expect(slice({ model: { threads: 1, batch: 2 }, stimuli: { noise: { count: 5 } } })).toBe(slice({}));
    expect(slice({ model: { seed: 1 } })).not.toBe(slice({}));
    expect(slice({ stimuli: { noise: { sigma: 30 } } })).not.toBe(slice({}));
  });

  it('writes the documented layout and matches an independent full-image forward pass', async () => {
    const cfg = config(4);
    const { tables } = await runAll(cfg);
    const g0 = tables.get('gratings-000000-000004')!;
    expect(g0.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'stimulus:Int32', 'theta_deg:Float64', 'sf_cpp:Float64', 'phase_deg:Float64',
      'block1_conv1:FixedSizeList[64]<Float32>', 'block2_conv2:FixedSizeList[128]<Float32>', 'block3_conv1:FixedSizeList[256]<Float32>',
    ]);
    expect([...g0.getChild('stimulus')!.toArray()]).toEqual([0, 1, 2, 3]);
    const meta = g0.schema.metadata;
    expect(meta.get(ACTIVATIONS_META.set)).toBe('gratings');
    expect(meta.get(ACTIVATIONS_META.weights)).toBe('seeded:3');
    expect(JSON.parse(meta.get(ACTIVATIONS_META.geometry)!).map((l: { rfSize: number }) => l.rfSize)).toEqual([3, 14, 24]);
    const n0 = tables.get('noise-000000-000004')!;
    expect(n0.schema.fields.map((f) => f.name).slice(0, 2)).toEqual(['stimulus', 'noise_index']);
    expect(JSON.parse(n0.schema.metadata.get(ACTIVATIONS_META.canvas)!)).toMatchObject({ x0: 100, y0: 100, size: 26 });
    expect(n0.schema.metadata.get(ACTIVATIONS_META.inputSize)).toBe('26');
    // gratings are centre units too: the same canvas (the full-image comparison below checks their values)
    expect(JSON.parse(meta.get(ACTIVATIONS_META.canvas)!)).toMatchObject({ x0: 100, y0: 100, size: 26 });
    expect(meta.get(ACTIVATIONS_META.inputSize)).toBe('26');

    // Independent route: full 224-px images through a fresh session with the same seeded weights.
    const net = vggNetwork('vgg16');
    const layers = selectLayers(net, LAYERS);
    const session = await ModelSession.create({ net, weights: seededWeights(net, 3), layers, inputSize: 224 }, {});
    const gr = gratingList(cfg.stimuli.gratings);
    const gp = new Float32Array(gr.length * 224 * 224 * 3);
    gr.forEach((d, i) => gp.set(gratingImage(d, 224, 224), i * 224 * 224 * 3));
    const refG = await session.run(gp, gr.length);
    const np = new Float32Array(10 * 224 * 224 * 3);
    for (let i = 0; i < 10; i++) np.set(noiseImageRGB({ seed: 5, sigma: 48, color: 'grey', check: 1 }, i, 0, 0, 224, 224), i * 224 * 224 * 3);
    const refN = await session.run(np, 10);
    await session.release();
    const grat = [...tables.entries()].filter(([id]) => id.startsWith('gratings')).map(([, t]) => t);
    const noise = [...tables.entries()].filter(([id]) => id.startsWith('noise')).map(([, t]) => t);
    for (const l of LAYERS) {
      const got = readLayerMatrix(grat, l).matrix;
      const gotN = readLayerMatrix(noise, l).matrix;
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(refG[l][i], 3);
      // Noise ran on the canvas only; docs/method.md §6 says the centre units equal the full-image ones.
      let worst = 0;
      for (let i = 0; i < gotN.length; i++) worst = Math.max(worst, Math.abs(gotN[i] - refN[l][i]) / Math.max(1, Math.abs(refN[l][i])));
      expect(worst, l).toBeLessThan(1e-5);
      expect(Math.max(...gotN), `${l} has live units`).toBeGreaterThan(0);
    }
    expect(noiseCanvas(layerGeometry(net, layers, 224)).size).toBe(26);
  });

  it('same config and seed → identical activations whatever the shard size', async () => {
    const a = await runAll(config(3));
    const b = await runAll(config(10));
    for (const set of ['gratings', 'noise']) {
      const ta = [...a.tables.entries()].filter(([id]) => id.startsWith(set)).map(([, t]) => t);
      const tb = [...b.tables.entries()].filter(([id]) => id.startsWith(set)).map(([, t]) => t);
      for (const l of LAYERS) {
        const x = readLayerMatrix(ta, l).matrix;
        const y = readLayerMatrix(tb, l).matrix;
        expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${set} ${l}`).toBe(true);
      }
    }
  });

  it('a missing stimuli shard is a user error', async () => {
    const cfg = config(4);
    const ctx = context(cfg);
    const bad: StageContext<Experiment> = { ...ctx, upstream: (s) => ({ ...ctx.upstream(s), shards: [] }) };
    await expect(activationsStage.run({ id: 'noise-000000-000004', params: { set: 'noise', start: 0, end: 4 } }, bad)).rejects.toThrow(/no 'noise' shard/);
  });
});

describe('activations stage on natural images', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'revcor-act-images-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ranges over the listing, skips excluded files, reads spatial max, matches the decoded images', async () => {
    for (const [c, k] of [['cars', 3], ['faces', 2]] as const) {
      mkdirSync(path.join(dir, c));
      for (let i = 0; i < k; i++) {
        const px = Buffer.alloc(80 * 96 * 3).map((_, j) => (j * (i + 3) * (c === 'cars' ? 7 : 13)) % 256);
        await sharp(px, { raw: { width: 96, height: 80, channels: 3 } }).png().toFile(path.join(dir, c, `img-${i + 1}.png`));
      }
    }
    writeFileSync(path.join(dir, 'faces', 'img-9.png'), 'not a png');
    const cfg = ExperimentSchema.parse({
      model: { arch: 'vgg16', weights: 'seeded', seed: 3, layers: ['block1_conv1', 'block2_conv1'], inputSize: 64, batch: 2 },
      stimuli: { gratings: { enabled: false }, noise: { enabled: false }, images: { dir, resize: 72 } },
      category: { spatial: 'max' },
      activations: { shardSize: 4 },
    });
    const logs: string[] = [];
    const stim = await imagesTable(cfg, { signal: new AbortController().signal, progress: () => undefined, log: (m) => logs.push(m) });
    const ctx: StageContext<Experiment> = {
      config: cfg, configDir: dir,
      upstream: () => ({ stage: 'stimuli', shards: [{ id: 'images', params: {}, rows: stim.numRows }], read: async () => stim }),
      pool: { size: 1, run: async () => { throw new Error('unused'); } },
      threads: 1, signal: new AbortController().signal, progress: () => undefined, log: () => undefined,
    };
    const shards = await activationsStage.plan(ctx);
    expect(shards.map((s) => s.id)).toEqual(['images-000000-000004', 'images-000004-000006']);
    const t0 = await activationsStage.run(shards[0], ctx);
    const t1 = await activationsStage.run(shards[1], ctx);
    expect(t0.schema.fields.map((f) => f.name)).toEqual(['stimulus', 'category', 'file', 'block1_conv1', 'block2_conv1']);
    expect([...t0.getChild('file')!.toArray()]).toEqual(['cars/img-1.png', 'cars/img-2.png', 'cars/img-3.png', 'faces/img-1.png']);
    // faces/img-9.png (stimulus 5) is unreadable: excluded by the stimuli stage, absent here.
    expect([...t1.getChild('stimulus')!.toArray()]).toEqual([4]);
    expect(t0.schema.metadata.get(ACTIVATIONS_META.readout)).toBe('max');

    const net = vggNetwork('vgg16');
    const layers = selectLayers(net, ['block1_conv1', 'block2_conv1']);
    const session = await ModelSession.create({ net, weights: seededWeights(net, 3), layers, inputSize: 64, readout: 'max' }, {});
    const files = ['cars/img-1.png', 'cars/img-2.png', 'cars/img-3.png', 'faces/img-1.png', 'faces/img-2.png'];
    const px = new Float32Array(files.length * 64 * 64 * 3);
    for (const [i, f] of files.entries()) px.set(await loadCategoryImage(path.join(dir, f), { resize: 72, size: 64 }), i * 64 * 64 * 3);
    const ref = await session.run(px, files.length);
    await session.release();
    for (const l of ['block1_conv1', 'block2_conv1']) {
      const got = readLayerMatrix([t0, t1], l).matrix;
      expect(got.length).toBe(ref[l].length);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(ref[l][i], 3);
    }

    // read at the centre, images run on the canvas holding the layers' RFs and give the full image's centre units
    const centreCfg = ExperimentSchema.parse({ ...cfg, category: { ...cfg.category, spatial: 'centre' } });
    const centreCtx: StageContext<Experiment> = { ...ctx, config: centreCfg };
    const c0 = await activationsStage.run(shards[0], centreCtx);
    const c1 = await activationsStage.run(shards[1], centreCtx);
    const canvas = noiseCanvas(layerGeometry(net, layers, 64));
    expect(canvas.size).toBeLessThan(64);
    expect(JSON.parse(c0.schema.metadata.get(ACTIVATIONS_META.canvas)!)).toEqual(JSON.parse(JSON.stringify(canvas)));
    const full = await ModelSession.create({ net, weights: seededWeights(net, 3), layers, inputSize: 64 }, {});
    const refCentre = await full.run(px, files.length);
    await full.release();
    for (const l of ['block1_conv1', 'block2_conv1']) {
      const got = readLayerMatrix([c0, c1], l).matrix;
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - refCentre[l]![i]!) / Math.max(1, Math.abs(refCentre[l]![i]!)));
      expect(worst, l).toBeLessThan(1e-5);
      expect(Math.max(...got), `${l} has live units`).toBeGreaterThan(0);
    }
  });
});
