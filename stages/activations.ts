// The activations stage: every analysed unit's response to every stimulus (docs/method.md §1, §6). Shards are stimulus
// ranges of one set (gratings | images | noise); pixels are regenerated from the stimuli stage's descriptors,
// run through the ONNX graph in batches, and only the centre units (or spatial max/mean) leave the runtime.
// Noise is generated on the stride-aligned canvas holding every analysed layer's RF and run once for all layers.
import { estimateActivations } from './estimate.ts';
import { Field, FixedSizeList, Float32, makeData, makeVector, type Table, type Vector } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { noiseCanvas, type LayerGeometry, type NoiseCanvas } from '../model/geometry.ts';
import type { GridReadout, Readout } from '../model/graph.ts';
import type { PositionPlan } from '../model/positions.ts';
import { loadModel, loadNetwork, resolveWeights, type LoadedModel } from '../model/load.ts';
import { convFlops } from '../model/network.ts';
import { ModelSession } from '../model/session.ts';
import { InputError } from '../pipeline/errors.ts';
import type { PlanContext, PrepareContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { ensureAutoWeights } from '../model/auto-weights.ts';
import { gratingList, gratingImageInto } from '../science/gratings.ts';
import { noiseImageRGBInto, type NoiseParams } from '../science/noise.ts';
import { countImages, imageRows } from './activations-images.ts';
import { interiorImageSize, interiorPlan, noiseImageCount, noiseKeyParams } from './noise-plan.ts';
import { blankEnabled } from './stimuli.ts';
import { buildTable, type BuildValues } from '../results/columns.ts';
import { activationsSpec } from '../results/activations.ts';

/** The stimulus sets the stage shards over (blank: one uniform mid-grey image, with v1.enabled). */
export type StimulusSet = 'gratings' | 'blank' | 'images' | 'noise';

/** Schema-metadata keys of every activations shard. */
export const ACTIVATIONS_META = {
  set: 'revcor.activations.set',
  /** JSON LayerGeometry[] for the full input image (model.inputSize). */
  geometry: 'revcor.activations.geometry',
  /** JSON NoiseCanvas (noise shards only): the crop the network saw, in input-image pixels. */
  canvas: 'revcor.activations.canvas',
  /** `<file> sha256:<hex>` or `seeded:<seed>`. */
  weights: 'revcor.activations.weights',
  /** centre | max | mean. */
  readout: 'revcor.activations.readout',
  /** Side of the network input in pixels (the canvas for noise). */
  inputSize: 'revcor.activations.input_size',
  /** JSON { arch, preprocessing, layers, channels }. */
  model: 'revcor.activations.model',
  /** JSON NoiseParams (noise shards only). */
  noise: 'revcor.activations.noise',
  /** JSON PositionPlan (noise shards with positions: interior): each layer column holds g² positions × channels. */
  positions: 'revcor.activations.positions',
} as const;

/** Zero-padded shard id `<set>-<start>-<end>`. */
export function activationsShardId(set: StimulusSet, start: number, end: number): string {
  return `${set}-${String(start).padStart(6, '0')}-${String(end).padStart(6, '0')}`;
}

/** What a shard computes: a stimulus range of one set. */
interface ShardParams {
  set: StimulusSet;
  start: number;
  end: number;
}

/** Geometry and per-image cost of the configured model, without reading weights (an ONNX file is parsed). */
async function planGeometry(config: Experiment): Promise<{ geometry: LayerGeometry[]; flopsFull: number; flopsCanvas: number; canvas: NoiseCanvas }> {
  const model = await loadNetwork(config.model);
  const canvas = noiseCanvas(model.geometry);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const noiseSide = config.stimuli.noise.positions === 'interior' ? interiorImageSize(config) : canvas.size;
  return { geometry: model.geometry, canvas, flopsFull: convFlops(model.net, last, model.inputSize), flopsCanvas: convFlops(model.net, last, noiseSide) };
}

/** The noise parameters of the config (what science/noise.ts needs). */
function noiseParams(config: Experiment): NoiseParams {
  const { seed, sigma, color, check } = config.stimuli.noise;
  return { seed, sigma, color, check };
}

// A process-local memo of loaded models and compiled sessions: shards of one run share them instead of
// re-reading weights and re-compiling the graph per shard. Bounded; keyed by everything that shapes them.
const models = new Map<string, Promise<LoadedModel>>();
const sessions = new Map<string, Promise<ModelSession>>();
const MAX_SESSIONS = 3;
/** Models whose weights notice was already logged in this process (said once, loudly, not per shard). */
const announced = new WeakSet<LoadedModel>();

function modelKey(config: Experiment): string {
  const { threads: _t, batch: _b, ...rest } = config.model;
  return JSON.stringify(rest);
}

async function loadModelCached(config: Experiment): Promise<LoadedModel> {
  const key = modelKey(config);
  let p = models.get(key);
  if (!p) {
    p = loadModel(config.model);
    p.catch(() => models.delete(key));
    if (models.size >= 2) models.delete(models.keys().next().value!);
    models.set(key, p);
  }
  return p;
}

async function sessionFor(config: Experiment, model: LoadedModel, inputSize: number, readout: Readout, unitIndex?: Record<string, number>, grid?: Record<string, GridReadout>): Promise<ModelSession> {
  const key = JSON.stringify([modelKey(config), config.model.threads, config.model.batch, inputSize, readout, unitIndex ?? null, grid ?? null]);
  let p = sessions.get(key);
  if (!p) {
    p = ModelSession.create(
      { net: model.net, weights: model.weights, layers: model.layers, inputSize, readout, unitIndex, grid, channels: config.model.channels },
      { threads: config.model.threads, batch: batchFor(config, inputSize) },
    );
    p.catch(() => sessions.delete(key));
    if (sessions.size >= MAX_SESSIONS) {
      const [oldKey, old] = sessions.entries().next().value!;
      sessions.delete(oldKey);
      void old.then((s) => s.release()).catch(() => undefined);
    }
    sessions.set(key, p);
  }
  return p;
}

/**
 * Images per ORT run for an input side: model.batch up to the model's input size, scaled down by area above it
 * (interior noise images), so the runtime's activation memory stays near that of a model.batch at inputSize.
 */
export function batchFor(config: Experiment, side: number): number {
  const { batch, inputSize } = config.model;
  return side <= inputSize ? batch : Math.max(1, Math.floor((batch * inputSize * inputSize) / (side * side)));
}

/** Releases every cached ORT session and model (Stage.release once the run's activations are done; tests). */
export async function releaseActivationSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  models.clear();
  for (const p of all) await p.then((s) => s.release()).catch(() => undefined);
}

/** How many stimuli each enabled set has (images: the candidate files listed now; null when skipped). */
async function setSizes(ctx: PlanContext<Experiment>): Promise<[StimulusSet, number][]> {
  const s = ctx.config.stimuli;
  const out: [StimulusSet, number][] = [];
  if (s.gratings.enabled) out.push(['gratings', gratingList(s.gratings).length]);
  if (blankEnabled(ctx.config)) out.push(['blank', 1]);
  if (s.images.enabled) {
    const n = await countImages(s.images);
    if (n !== null) out.push(['images', n]);
  }
  if (s.noise.enabled) out.push(['noise', await noiseImageCount(ctx.config)]);
  return out;
}

/** The stimulus descriptors and pixel generator for one shard. */
interface ShardStimuli {
  /** Descriptor columns (after `stimulus`), one value per row, as the set's activations declaration names them. */
  columns: Record<string, Float64Array | Int32Array | string[]>;
  stimulus: Int32Array;
  /** Writes row r's pixels (HWC RGB 0–255, side × side) into out at offset. */
  fill(out: Float32Array, offset: number, row: number): Promise<void> | void;
}

/** Reads the rows [start, end) of one set from the stimuli stage and prepares their pixels. */
async function shardStimuli(params: ShardParams, ctx: StageContext<Experiment>, side: number, x0: number, y0: number): Promise<ShardStimuli> {
  const view = ctx.upstream('stimuli');
  const info = view.shards.find((s) => s.id === params.set);
  if (!info) throw new InputError(`activations: the stimuli stage has no '${params.set}' shard. Expected stimuli.${params.set}.enabled: true to produce it.`);
  const table = await view.read(info.id);
  const stim = table.getChild('stimulus');
  if (!stim) throw new InputError(`activations: stimuli shard '${params.set}' has no 'stimulus' column.`);
  const all = Int32Array.from(stim.toArray() as ArrayLike<number>);
  if (params.set === 'images') return imageRows(table, all, params, ctx.config.stimuli.images, ctx.config.model.inputSize);
  const rows: number[] = [];
  for (let r = 0; r < all.length; r++) if (all[r] >= params.start && all[r] < params.end) rows.push(r);
  rows.sort((a, b) => all[a] - all[b]);
  const stimulus = Int32Array.from(rows, (r) => all[r]);
  if (stimulus.length !== params.end - params.start) {
    throw new InputError(`activations: stimuli shard '${params.set}' holds ${stimulus.length} of the stimuli ${params.start}–${params.end - 1}. Expected all of them (is the stimuli stage from another config?).`);
  }
  const num = (name: string) => {
    const col = table.getChild(name);
    if (!col) throw new InputError(`activations: stimuli shard '${params.set}' has no '${name}' column.`);
    return Float64Array.from(rows, (r) => Number(col.get(r)));
  };
  if (params.set === 'gratings' || params.set === 'blank') {
    const theta = num('theta_deg');
    const sf = num('sf_cpp');
    const phase = num('phase_deg');
    const contrast = params.set === 'blank' ? 0 : ctx.config.stimuli.gratings.contrast;
    return {
      stimulus,
      columns: { theta_deg: theta, sf_cpp: sf, phase_deg: phase },
      fill: (out, offset, r) => gratingImageInto(out, offset, { thetaDeg: theta[r], sfCpp: sf[r], phaseDeg: phase[r], contrast }, side, side, x0, y0),
    };
  }
  const noiseIndex = Int32Array.from(num('noise_index'));
  const p = noiseParams(ctx.config);
  return {
    stimulus,
    columns: { noise_index: noiseIndex },
    fill: (out, offset, r) => noiseImageRGBInto(out, offset, p, noiseIndex[r], x0, y0, side, side),
  };
}

/** `model.weights: auto` downloads the Keras file once (progress in the log) unless offline, and says what happened. */
export async function prepareWeights(ctx: PrepareContext<Experiment>): Promise<void> {
  let shown = -1;
  const outcome = await ensureAutoWeights(ctx.config.model, {
    offline: ctx.offline,
    onProgress: (received, total) => {
      const pct = total > 0 ? Math.floor((100 * received) / total) : -1;
      if (pct >= shown + 10 || (received === total && pct > shown)) {
        shown = pct;
        ctx.log('info', `downloading ${ctx.config.model.arch} ImageNet weights (model.weights: auto): ${(received / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB (${pct}%)`);
      }
    },
  });
  if (outcome.kind === 'downloaded') ctx.log('info', `installed ${outcome.path} (sha256 ${outcome.result.sha256.slice(0, 16)}…); later runs read it from there`);
  if (outcome.kind === 'offline') ctx.log('warn', `model.weights: auto: no Keras cache file and no download (${outcome.reason}): this run uses SEEDED, untrained weights`);
}

/** The activations stage (see the file comment; output layout in README "Activations"). */
export const activationsStage: Stage<Experiment> = {
  name: 'activations',
  description: 'centre-unit responses of every analysed layer to gratings, natural images and noise (ONNX Runtime)',
  version: '1',
  upstream: ['stimuli'],

  configSlice(config: Experiment) {
    const { threads: _t, batch: _b, ...model } = config.model;
    const { enabled: _g, ...gratings } = config.stimuli.gratings;
    // Stimulus counts are left out: growing N adds shards without invalidating the finished ranges. With interior
    // positions N decides every layer's position grid, so it is part of the key there.
    const { enabled: _n, ...noise } = noiseKeyParams(config.stimuli.noise);
    if (config.stimuli.noise.positions !== 'interior') delete noise['count'];
    return { model, gratings, noise, images: { resize: config.stimuli.images.resize }, spatial: config.category.spatial };
  },

  inputFiles(ctx: PlanContext<Experiment>) {
    const choice = resolveWeights(ctx.config.model);
    return choice.kind === 'file' ? [choice.path] : [];
  },

  async plan(ctx: PlanContext<Experiment>): Promise<Shard[]> {
    const sizes = await setSizes(ctx);
    if (sizes.length === 0) return [];
    const { flopsFull, flopsCanvas } = await planGeometry(ctx.config);
    const size = ctx.config.activations.shardSize;
    const shards: Shard[] = [];
    for (const [set, count] of sizes) {
      const perImage = (set === 'noise' ? flopsCanvas : flopsFull) / flopsFull;
      for (let start = 0; start < count; start += size) {
        const end = Math.min(count, start + size);
        shards.push({ id: activationsShardId(set, start, end), params: { set, start, end }, needs: { stimuli: [set] }, cost: (end - start) * perImage });
      }
    }
    return shards;
  },

  release: releaseActivationSessions,
  prepare: prepareWeights,
  estimate: estimateActivations,

  async run(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
    const params = shard.params as unknown as ShardParams;
    const config = ctx.config;
    const model = await loadModelCached(config);
    if (!announced.has(model)) {
      announced.add(model);
      ctx.log(model.notice);
    }
    let side = model.inputSize;
    let x0 = 0;
    let y0 = 0;
    let readout: Readout = 'centre';
    let unitIndex: Record<string, number> | undefined;
    let canvas: NoiseCanvas | undefined;
    let positions: PositionPlan | null = null;
    let grid: Record<string, GridReadout> | undefined;
    if (params.set === 'noise') positions = await interiorPlan(config);
    if (positions) {
      // interior sampling: whole noise images, a grid of positions per layer (stages/noise-plan.ts)
      side = positions.imageSize;
      readout = 'grid';
      grid = Object.fromEntries(positions.layers.map((l) => [l.name, { first: l.first, step: l.step, count: l.count }]));
    } else if (params.set === 'noise') {
      canvas = noiseCanvas(model.geometry);
      ({ x0, y0, size: side } = canvas);
      unitIndex = canvas.centreIndex;
    } else if (params.set === 'images') {
      readout = config.category.spatial;
    }
    const stimuli = await shardStimuli(params, ctx, side, x0, y0);
    const session = await sessionFor(config, model, side, readout, unitIndex, grid);
    const n = stimuli.stimulus.length;
    const per = side * side * 3;
    const batch = session.batch;
    const outputs = session.outputs;
    const values: Record<string, Float32Array> = {};
    for (const o of outputs) values[o.name] = new Float32Array(n * o.width);
    // Double-buffered: the next batch's pixels are generated while the ORT worker runs the current one.
    const buffers = [0, 1].map(() => new Float32Array(Math.min(batch, Math.max(n, 1)) * per));
    const batches = Math.ceil(n / batch);
    const countOf = (k: number) => Math.min(batch, n - k * batch);
    const fillBatch = (k: number) => Promise.all(Array.from({ length: countOf(k) }, (_, i) => stimuli.fill(buffers[k % 2], i * per, k * batch + i)));
    let inflight: Promise<Record<string, Float32Array>> | undefined;
    if (batches > 0) {
      await fillBatch(0);
      inflight = session.run(buffers[0], countOf(0), ctx.signal);
    }
    for (let k = 0; k < batches; k++) {
      ctx.signal.throwIfAborted();
      const current = inflight!;
      current.catch(() => undefined); // a failing fill below must not leave this rejection unhandled
      if (k + 1 < batches) await fillBatch(k + 1);
      const out = await current;
      for (const o of outputs) values[o.name].set(out[o.name], k * batch * o.width);
      if (k + 1 < batches) inflight = session.run(buffers[(k + 1) % 2], countOf(k + 1), ctx.signal);
      ctx.progress(Math.min(n, (k + 1) * batch) / n);
    }
    const layerColumns = Object.fromEntries(outputs.map((o) => [o.name, { values: values[o.name], width: o.width }]));
    const metadata: Record<string, string> = {
      [ACTIVATIONS_META.set]: params.set,
      // Geometry of the analysed layers, `channels` = channels kept (model.channels), as in the layer columns.
      [ACTIVATIONS_META.geometry]: JSON.stringify(model.geometry.map((g) => ({ ...g, channels: outputs.find((o) => o.name === g.name)?.channels ?? g.channels }))),
      [ACTIVATIONS_META.weights]: model.weightsLabel,
      [ACTIVATIONS_META.readout]: readout,
      [ACTIVATIONS_META.inputSize]: String(side),
      [ACTIVATIONS_META.model]: JSON.stringify({ arch: model.net.arch, preprocessing: model.net.preprocessing, layers: model.layers.map((l) => l.name), channels: config.model.channels }),
    };
    if (canvas) metadata[ACTIVATIONS_META.canvas] = JSON.stringify(canvas);
    if (positions) metadata[ACTIVATIONS_META.positions] = JSON.stringify(positions);
    if (params.set === 'noise') metadata[ACTIVATIONS_META.noise] = JSON.stringify(noiseParams(config));
    return buildTable(activationsSpec(params.set), { stimulus: stimuli.stimulus, ...stimuli.columns } as BuildValues<ReturnType<typeof activationsSpec>['columns']>, metadata, layerColumns);
  },
};

/** A FixedSizeList<Float32>(width) vector from a row-major [stimulus × width] matrix (one layer column). */
export function layerListVector(matrix: Float32Array, channels: number): Vector {
  const child = makeData({ type: new Float32(), length: matrix.length, nullCount: 0, data: matrix });
  return makeVector(makeData({ type: new FixedSizeList(channels, new Field('item', new Float32(), false)), length: matrix.length / channels, nullCount: 0, child }));
}
