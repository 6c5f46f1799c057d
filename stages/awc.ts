// The awc stage (docs/method.md §4, §5): activation-weighted covariance of the white noise per unit — top/bottom
// eigenpairs, their significance against the null, the energy map — and whether the reconstructed RF (AWA and
// AWC) predicts the unit's grating tuning. Sharded by layer × unit range (awc.unitsPerShard); the heavy part
// runs in the worker pool (stages/revcor-worker.ts) on ONNX Runtime products, noise regenerated from the seed.
// Tested in test/stages/revcor.test.ts.
import { estimateAwc } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';
import { ConfigError, InputError } from '../pipeline/errors.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { effectiveCrop, type EffectiveCrop } from '../science/effective-rf.ts';
import { variesOverSamples } from '../science/awa.ts';
import { analysisBin, binnedSide } from '../science/noise-source.ts';
import { noiseChannels } from '../science/noise.ts';
import { predictionVerdicts } from '../science/predict.ts';
import { noiseEnabled, noiseShardIds, predictionArgs, readLayerNoise, REVCOR_WORKER, sharedNoiseImages, threadsPerTask, unitColumns, type LayerNoise } from './revcor-input.ts';
import type { AwcTaskArgs, AwcTaskResult, Backend } from './revcor-worker.ts';
import { buildTable, type BuildValues } from '../results/columns.ts';
import { AWC } from '../results/awc.ts';
import { readNumbers, readStrings } from './unit-columns.ts';
import { ALL_LAYERS, configuredLayers } from './unit-plan.ts';

/** Schema-metadata key of awc shards: JSON { layer, start, end, crop, D, pixelD, solver, null, level, sigmaE, ... }. */
export const AWC_META = { shard: 'revcor.awc.shard' } as const;

/** Zero-padded shard id `<layer>-<start>-<end>`. */
export function awcShardId(layer: string, start: number, end: number): string {
  return `${layer}-${String(start).padStart(4, '0')}-${String(end).padStart(4, '0')}`;
}

/** Shards: each analysed layer's channels in ranges of awc.unitsPerShard. */
async function planAwc(ctx: PlanContext<Experiment>): Promise<Shard[]> {
  if (!noiseEnabled(ctx)) return [];
  const cfg = ctx.config;
  const model = await loadNetwork(cfg.model);
  const per = cfg.awc.unitsPerShard;
  const noiseIds = await noiseShardIds(cfg);
  // the awa and tuning stages shard by layer (ids = layer names), or in one ALL_LAYERS shard (ONNX + 'all')
  const byLayer = configuredLayers(cfg) !== null;
  const layerId = (name: string) => (byLayer ? name : ALL_LAYERS);
  const shards: Shard[] = [];
  for (const g of model.geometry) {
    const channels = cfg.model.channels === 'all' ? g.channels : Math.min(g.channels, cfg.model.channels);
    const D = g.cropSize * g.cropSize;
    for (let start = 0; start < channels; start += per) {
      const end = Math.min(channels, start + per);
      shards.push({
        id: awcShardId(g.name, start, end),
        params: { layer: g.name, start, end },
        needs: { activations: noiseIds, awa: [layerId(g.name)], tuning: cfg.stimuli.gratings.enabled ? [layerId(g.name)] : [] },
        cost: (end - start) * Math.max(D, 64),
      });
    }
  }
  return shards;
}

/** Per-unit rows of an upstream per-layer table (awa or tuning) for channels [start, end), or null when absent. */
async function upstreamRows(ctx: StageContext<Experiment>, stage: string, layer: string, start: number, end: number): Promise<{ table: Table; rows: number[] } | null> {
  const view = ctx.upstream(stage);
  const info = view.shards.find((s) => s.id === layer) ?? view.shards.find((s) => s.id === ALL_LAYERS);
  if (!info) return null;
  const table = await view.read(info.id);
  const layers = readStrings([table], 'layer', stage);
  const channels = readNumbers([table], 'channel', stage);
  const rows = new Array<number>(end - start).fill(-1);
  for (let r = 0; r < table.numRows; r++) {
    if (layers[r] === layer && channels[r]! >= start && channels[r]! < end) rows[channels[r]! - start] = r;
  }
  if (rows.some((r) => r < 0)) throw new InputError(`awc: the ${stage} output lacks some of ${layer}'s channels ${start}–${end - 1}.`);
  return { table, rows };
}

/** Numeric column values at the given rows (NaN where the table is absent). */
function pick(src: { table: Table; rows: number[] } | null, column: string, n: number): Float64Array {
  if (!src) return new Float64Array(n).fill(NaN);
  const col = src.table.getChild(column);
  if (!col) throw new InputError(`awc: upstream table has no '${column}' column.`);
  return Float64Array.from(src.rows, (r) => {
    const v = col.get(r);
    return v === null || v === undefined ? NaN : typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  });
}

/** The worker task of one awc shard: units [start, end) of a layer's noise activations, analysed on `bin`×`bin` bins. */
export function awcTaskArgs(cfg: Experiment, ln: LayerNoise, bin: number, start: number, end: number, threads: number, backend: Backend): AwcTaskArgs {
  const a = cfg.awc;
  return {
    noise: ln.noise,
    noiseIndex: ln.noiseIndex,
    offsets: ln.offsets,
    imageSize: ln.imageSize,
    images: sharedNoiseImages(ln),
    A: unitColumns(ln.A, ln.noiseIndex.length, ln.channels, start, end),
    U: end - start,
    unitOffset: start,
    crop: ln.crop,
    solver: a.solver,
    fullMaxDim: a.fullMaxDim,
    bin,
    options: {
      top: a.top,
      bottom: a.bottom,
      nullKind: a.nullModel,
      shuffles: a.shuffles,
      level: a.level,
      block: Math.max(a.block, a.top + a.bottom),
      steps: a.steps,
      seed: cfg.stimuli.noise.seed,
      cacheBytes: a.cacheMiB * 2 ** 20,
    },
    prediction: predictionArgs(cfg),
    threads,
    backend,
  };
}

/** Runs one awc shard: one layer's channels [start, end). */
async function runAwc(shard: Shard, ctx: StageContext<Experiment>, backend: Backend): Promise<Table> {
  const cfg = ctx.config;
  const layer = String(shard.params['layer']);
  const start = Number(shard.params['start']);
  const end = Number(shard.params['end']);
  const ln = await readLayerNoise(ctx, layer, 'awc');
  if (end > ln.channels) throw new InputError(`awc: shard ${shard.id} asks for channels up to ${end}, the noise activations of ${layer} have ${ln.channels}.`);
  const N = ln.noiseIndex.length;
  const U = end - start;
  const a = cfg.awc;
  let eff: EffectiveCrop | null = null;
  if (a.crop === 'effective') {
    eff = await layerEffectiveCrop(ctx, ln.layer, ln.channels, ln.crop.size, ln.geometry.rfCentre - ln.geometry.cropX0, a.effectiveCoverage);
    ln.crop = { x0: ln.crop.x0 + eff.dx, y0: ln.crop.y0 + eff.dy, size: eff.size };
    ctx.log(
      eff.units === 0
        ? `awc ${layer}: no unit has a significant AWA to measure an effective RF from: theoretical crop ${eff.size}×${eff.size}`
        : `awc ${layer}: effective crop ${eff.size}×${eff.size} of ${ln.geometry.cropSize} (${eff.units} units with significant AWA, ${eff.coverage > 1 ? 'all' : `${(100 * eff.coverage).toFixed(0)}%`} of their z² excess${eff.coverage > 1 ? `: the rest of the crop sums below zero, noise` : ''})`,
    );
  }
  // the Krylov basis of every operator (units × (shuffles + 1)) is held in memory: refuse sizes that cannot fit
  const c = ln.noise.check;
  const channels = noiseChannels(ln.noise);
  const bin = analysisBin(ln.crop.size, channels, c, a.maxDim);
  const side = c > 1 ? Math.ceil((ln.crop.size - 1) / c) + 1 : binnedSide(ln.crop.size, bin); // features per side, at most
  const D = side * side * channels;
  const subspace = a.solver === 'subspace' || (a.solver === 'auto' && D > a.fullMaxDim);
  const operators = U * (a.nullModel === 'shuffle' ? a.shuffles + 1 : 1);
  const basisGiB = (operators * D * Math.max(a.block, a.top + a.bottom) * (a.steps + 1) * 4) / 2 ** 30;
  if (subspace && basisGiB > 8) {
    throw new ConfigError(
      `awc: layer ${layer} (D = ${D}) needs ${basisGiB.toFixed(1)} GiB of Krylov basis for ${operators} operators per shard (awc.nullModel = ${a.nullModel}, awc.unitsPerShard = ${a.unitsPerShard}). Expected at most 8 GiB: use awc.nullModel: marchenko-pastur or a smaller awc.unitsPerShard.`,
    );
  }
  const args = awcTaskArgs(cfg, ln, bin, start, end, threadsPerTask(ctx), backend);
  ctx.progress(0.02);
  const res = await ctx.pool.run<AwcTaskResult>({ module: REVCOR_WORKER, fn: 'awcTask', args: [args] });
  ctx.signal.throwIfAborted();
  const awa = await upstreamRows(ctx, 'awa', layer, start, end);
  const tuning = await upstreamRows(ctx, 'tuning', layer, start, end);
  return awcTable(layer, start, res, {
    responsive: variesOverSamples(args.A, N, U),
    awaSignificant: pick(awa, 'significant', U),
    awaTheta: pick(awa, 'theta_pred', U),
    awaF: pick(awa, 'f_pred', U),
    thetaPref: pick(tuning, 'theta_pref', U),
    fPref: pick(tuning, 'sf_pref', U),
    tuningResponsive: pick(tuning, 'responsive', U),
    config: cfg,
    crop: ln.crop,
    clipped: ln.geometry.clipped,
    samples: N,
    end,
    effective: eff,
    bin,
  });
}


/** The layer's effective crop (science/effective-rf.ts) from every unit's AWA z-map in the awa stage's output. */
async function layerEffectiveCrop(ctx: StageContext<Experiment>, layer: string, channels: number, r: number, centre: number, coverage: number): Promise<EffectiveCrop> {
  const src = await upstreamRows(ctx, 'awa', layer, 0, channels);
  if (!src) throw new InputError(`awc: awc.crop is 'effective' but the awa stage has no output for ${layer}. Expected stimuli.noise.enabled: true.`);
  const maps = src.table.getChild('awa');
  if (!maps) throw new InputError(`awc: the awa output for ${layer} has no 'awa' column.`);
  const sd = pick(src, 'null_sd', channels);
  const sig = pick(src, 'significant', channels);
  let z: Float32Array | null = null;
  let width = 0;
  src.rows.forEach((row, u) => {
    const m = maps.get(row) as { toArray(): Float32Array } | null;
    const values = m ? m.toArray() : new Float32Array(0);
    if (!z) {
      width = values.length;
      z = new Float32Array(channels * width);
    }
    if (values.length !== width) throw new InputError(`awc: awa maps of ${layer} have unequal lengths (${values.length} vs ${width}).`);
    for (let i = 0; i < width; i++) z[u * width + i] = sd[u]! > 0 ? values[i]! / sd[u]! : 0;
  });
  if (!z || width % (r * r) !== 0) throw new InputError(`awc: awa maps of ${layer} hold ${width} values, expected a multiple of ${r}×${r}.`);
  return effectiveCrop(z, Uint8Array.from(sig, (v) => (v === 1 ? 1 : 0)), r, width / (r * r), centre, coverage);
}

/** The per-unit AWC + prediction table of one shard. */
export function awcTable(
  layer: string,
  start: number,
  res: AwcTaskResult,
  o: {
    /** Per unit: the activation varies over the noise samples (the awa stage's meaning; default: the AWC was computed, Σa > 0). */
    responsive?: Uint8Array;
    awaSignificant: Float64Array;
    awaTheta: Float64Array;
    awaF: Float64Array;
    thetaPref: Float64Array;
    fPref: Float64Array;
    tuningResponsive: Float64Array;
    config: Experiment;
    crop: { x0: number; y0: number; size: number };
    clipped: boolean;
    samples: number;
    end: number;
    /** The effective crop used (null: the theoretical crop). */
    effective?: EffectiveCrop | null;
    /** Bin size of the analysis basis (1 = per pixel or per check). */
    bin?: number;
  },
): Table {
  const U = res.responsive.length;
  const kt = o.config.awc.top;
  const kb = o.config.awc.bottom;
  const tol = { thetaDeg: o.config.prediction.thetaTolerance, octaves: o.config.prediction.sfTolerance };
  const nSigTop = new Int32Array(U);
  const nSigBottom = new Int32Array(U);
  for (let u = 0; u < U; u++) {
    for (let k = 0; k < kt; k++) nSigTop[u] += res.topSignificant[u * kt + k]!;
    for (let k = 0; k < kb; k++) nSigBottom[u] += res.bottomSignificant[u * kb + k]!;
  }
  const awaV = predictionVerdicts(o.awaTheta, o.awaF, o.thetaPref, o.fPref, (u) => o.awaSignificant[u] === 1, tol);
  const awcV = predictionVerdicts(res.thetaPred, res.fPred, o.thetaPref, o.fPref, (u) => nSigTop[u]! > 0, tol);
  const flag = (v: Float64Array) => Uint8Array.from(v, (x) => (x === 1 ? 1 : 0));
  const bottom = kb > 0;
  const columns: BuildValues<typeof AWC.columns> = {
    layer: Array.from({ length: U }, () => layer),
    channel: Int32Array.from({ length: U }, (_, i) => start + i),
    responsive: o.responsive ?? res.responsive,
    eig_top: { values: res.top, width: kt },
    top_significant: { values: res.topSignificant, width: kt },
    n_sig_top: nSigTop,
    null_upper: res.upper,
    null_lower: res.lower,
    eigvec_top: { values: res.topVectors, width: kt * res.pixelD },
    energy: { values: res.energy, width: res.pixelD },
    awc_theta_pred: res.thetaPred,
    awc_f_pred: res.fPred,
    awa_significant: flag(o.awaSignificant),
    awa_theta_pred: o.awaTheta,
    awa_f_pred: o.awaF,
    theta_pref: o.thetaPref,
    f_pref: o.fPref,
    tuning_responsive: flag(o.tuningResponsive),
    awa_theta_match: awaV.thetaMatch,
    awa_f_match: awaV.fMatch,
    awa_reconstructed: awaV.reconstructed,
    awc_theta_match: awcV.thetaMatch,
    awc_f_match: awcV.fMatch,
    awc_reconstructed: awcV.reconstructed,
    eig_bottom: bottom ? { values: res.bottom, width: kb } : undefined,
    bottom_significant: bottom ? { values: res.bottomSignificant, width: kb } : undefined,
    n_sig_bottom: bottom ? nSigBottom : undefined,
    eigvec_bottom: bottom ? { values: res.bottomVectors, width: kb * res.pixelD } : undefined,
  };
  const a = o.config.awc;
  return buildTable(AWC, columns, {
    [AWC_META.shard]: JSON.stringify({
      layer,
      start,
      end: o.end,
      crop: o.crop,
      cropKind: o.effective ? 'effective' : 'theoretical',
      effective: o.effective ?? null,
      bin: o.bin ?? 1,
      clipped: o.clipped,
      samples: o.samples,
      D: res.D,
      pixelD: res.pixelD,
      mapSide: o.crop.size,
      channels: res.pixelD / (o.crop.size * o.crop.size),
      solver: res.solver,
      null: a.nullModel,
      shuffles: a.nullModel === 'shuffle' ? a.shuffles : 0,
      level: a.level,
      block: a.block,
      steps: a.steps,
      features: res.features,
      sigmaE: res.sigma,
      prediction: o.config.prediction,
      eigenvalues: 'AWC eigenvalues (prior σ_e² subtracted), in grey-level² per unit-norm feature direction',
    }),
  });
}

/** The awc stage; `backend` 'js' runs the products in plain JS (tests). */
export function createAwcStage(backend: Backend = 'ort'): Stage<Experiment> {
  return {
    name: 'awc',
    description: 'activation-weighted covariance per unit: eigenpairs, null, energy map; RF-predicted tuning and matches (docs/method.md §4–5)',
    version: '4', // 2: Krylov breakdown on low-rank (sparse-unit) AWCs handled; Ritz values from computed projections; 3: responsive = activation varies, prediction.window; 4: CholQR refuses Gram pivots below 1e-6 of the largest (rank-deficient blocks)
    upstream: ['activations', 'awa', 'tuning'],
    configSlice: (config: Experiment) => {
      const { unitsPerShard: _u, cacheMiB: _c, ...awc } = config.awc;
      return { awc, prediction: config.prediction, gratings: config.stimuli.gratings, layers: config.model.layers, channels: config.model.channels };
    },
    plan: planAwc,
    estimate: estimateAwc,
    run: (shard, ctx) => runAwc(shard, ctx, backend),
  };
}

/** The awc stage (ONNX Runtime products). */
export const awcStage: Stage<Experiment> = createAwcStage();
