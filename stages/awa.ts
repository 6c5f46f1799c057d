// The awa stage (docs/method.md §4, §5): activation-weighted average of the white noise for every unit, its z-map
// maximum and significance, and the orientation / spatial frequency its RF predicts. One shard per layer; the
// layer's AWAs are one streamed product Aᵀ X computed in the worker pool (noise regenerated from the seed).
// Tested in test/stages/revcor.test.ts.
import { estimateAwa } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';
import { InputError } from '../pipeline/errors.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { awaNullSd, effectiveSampleSizes, zMaxUnderNull, type AwaNullModel } from '../science/awa.ts';
import { awaKeepBytes, layerNoise, type LayerNoise, noiseEnabled, noiseShardIds, predictionArgs, readNoiseTables, REVCOR_WORKER, sharedNoiseImages, threadsPerTask } from './revcor-input.ts';
import type { AwaTaskArgs, AwaTaskResult, Backend } from './revcor-worker.ts';
import { buildTable } from '../results/columns.ts';
import { AWA } from '../results/awa.ts';
import { concatTables, layerColumns } from './unit-columns.ts';
import { layerShards } from './unit-plan.ts';

/** Schema-metadata keys of awa shards. */
export const AWA_META = {
  /** JSON { layer, crop: {x0, y0, size}, channels, clipped, zThreshold, nullModel, sigmaE, samples, method, window }. */
  layer: 'revcor.awa.layer',
} as const;

/** What an awa table records besides the worker's results. */
export interface AwaTableInfo {
  crop: { x0: number; y0: number; size: number };
  clipped: boolean;
  samples: number;
  zThreshold: number;
  /** The null the z-maps, z_max, significant and null_sd use (awa.nullModel). */
  nullModel: AwaNullModel;
  method: string;
  window: string;
}

/**
 * The per-unit AWA table of one layer. z_max / significant / null_sd are under `info.nullModel`; z_max and
 * significance under both null forms are kept too (z scales as 1/null SD), so one run can report either.
 */
export function awaTable(layer: string, res: AwaTaskResult, info: AwaTableInfo): Table {
  const U = res.zMax.length;
  const nEff = effectiveSampleSizes(res);
  const under = (model: AwaNullModel) =>
    Float64Array.from(res.zMax, (z, u) => (model === info.nullModel ? z : zMaxUnderNull(z, res.nullSd[u]!, awaNullSd(res.sigma, res.sum[u]!, res.sumSq[u]!, info.samples, model))));
  const zFinite = under('finite-n');
  const zPopulation = under('population');
  const sig = (z: Float64Array) => Uint8Array.from(z, (v) => (v >= info.zThreshold ? 1 : 0));
  return buildTable(
    AWA,
    {
      layer: Array.from({ length: U }, () => layer),
      channel: Int32Array.from({ length: U }, (_, i) => i),
      responsive: res.responsive,
      n_active: res.active,
      sum_a: res.sum,
      n_eff: nEff,
      null_sd: res.nullSd,
      z_max: res.zMax,
      significant: res.significant,
      z_max_finite_n: zFinite,
      z_max_population: zPopulation,
      significant_finite_n: sig(zFinite),
      significant_population: sig(zPopulation),
      awa: { values: res.awa, width: res.D },
      theta_pred: res.thetaPred,
      f_pred: res.fPred,
    },
    {
      [AWA_META.layer]: JSON.stringify({ layer, ...info, channels: res.channels, sigmaE: res.sigma, mapSide: info.crop.size }),
    },
  );
}

/**
 * The noise inputs of a shard's layers (one layer, or every layer column for the all-layers shard), copied out of the
 * noise activations, which are read here and not kept: the hundreds of MB of checkpoints are not held while the
 * shard's pool tasks run (two shards in flight would each hold a copy).
 */
async function shardLayers(shard: Shard, ctx: StageContext<Experiment>): Promise<LayerNoise[]> {
  const layer = shard.params['layer'];
  const one = typeof layer === 'string' ? [layer] : undefined; // else the all-layers shard: every layer column
  const tables = await readNoiseTables(ctx, 'awa', one);
  const layers = one ?? layerColumns(tables[0]!);
  return layers.map((l) => layerNoise(tables, l, 'awa'));
}

/** Runs one awa shard: every unit of one layer (or of every layer column for the all-layers shard). */
async function runAwa(shard: Shard, ctx: StageContext<Experiment>, backend: Backend): Promise<Table> {
  const inputs = await shardLayers(shard, ctx);
  const total = inputs.length;
  const out: Table[] = [];
  for (let i = 0; i < total; i++) {
    ctx.signal.throwIfAborted();
    const ln = inputs.shift()!; // a layer's matrix is dropped once its task is done
    const args: AwaTaskArgs = {
      noise: ln.noise,
      noiseIndex: ln.noiseIndex,
      offsets: ln.offsets,
      imageSize: ln.imageSize,
      images: sharedNoiseImages(ln),
      A: ln.A,
      U: ln.channels,
      crop: ln.crop,
      zThreshold: ctx.config.awa.zThreshold,
      nullModel: ctx.config.awa.nullModel,
      prediction: predictionArgs(ctx.config),
      threads: threadsPerTask(ctx),
      backend,
      cacheBytes: awaKeepBytes(ctx.config, ln),
    };
    // the activations move to the worker thread, not copied: this layer's matrix is read from the checkpoints per shard
    const res = await ctx.pool.run<AwaTaskResult>({ module: REVCOR_WORKER, fn: 'awaTask', args: [args] }, [ln.A.buffer as ArrayBuffer]);
    out.push(
      awaTable(ln.layer, res, {
        crop: ln.crop,
        clipped: ln.geometry.clipped,
        samples: ln.noiseIndex.length,
        zThreshold: ctx.config.awa.zThreshold,
        nullModel: ctx.config.awa.nullModel,
        method: ctx.config.prediction.method,
        window: ctx.config.prediction.window,
      }),
    );
    ctx.progress((i + 1) / total);
  }
  if (out.length === 0) throw new InputError(`awa: no layer columns in the noise activations (shard ${shard.id})`);
  return concatTables(out);
}

/** The awa stage; `backend` 'js' runs the products in plain JS (tests). */
export function createAwaStage(backend: Backend = 'ort'): Stage<Experiment> {
  return {
    name: 'awa',
    description: 'activation-weighted average of white noise per unit, z-map significance, RF-predicted θ and f (docs/method.md §4–5)',
    version: '3', // 2: responsive = activation varies; z_max and significance under both null forms; awa.nullModel; prediction.window. 3: a constant unit's AWA, z and z_max are 0
    upstream: ['activations'],
    configSlice: (config: Experiment) => ({
      awa: config.awa,
      prediction: { method: config.prediction.method, window: config.prediction.window },
      gratings: config.prediction.method === 'model' ? config.stimuli.gratings : null,
      layers: config.model.layers,
    }),
    async plan(ctx: PlanContext<Experiment>) {
      if (!noiseEnabled(ctx)) return [];
      const needs = { activations: await noiseShardIds(ctx.config) };
      // largest layers first (cost ∝ crop pixels × channels): the last awa shards to finish are short, and the
      // awc shards of the costly layers can start early
      const { geometry } = await loadNetwork(ctx.config.model);
      const cost = new Map(geometry.map((g) => [g.name, g.cropSize * g.cropSize * g.channels]));
      return layerShards(ctx.config)
        .map((s) => ({ ...s, needs, cost: cost.get(s.id) ?? 1 }))
        .sort((a, b) => b.cost - a.cost);
    },
    estimate: estimateAwa,
    run: (shard, ctx) => runAwa(shard, ctx, backend),
  };
}

/** The awa stage (ONNX Runtime products). */
export const awaStage: Stage<Experiment> = createAwaStage();
