// The activations stage: every analysed unit's response to every stimulus (docs/method.md §1, §6). Shards are stimulus
// ranges of one set of the registry stages/sets/ (gratings, blank, images, noise: how the network sees each set and how
// its rows become pixels is the set's own); pixels are regenerated from the stimuli stage's descriptors,
// run through the ONNX graph in batches, and only the centre units (or spatial max/mean) leave the runtime.
// Centre units (noise, gratings, images read at the centre) run on the stride-aligned canvas holding every
// analysed layer's RF, once for all layers; spatial max/mean readouts of images and interior noise see whole images.
import { estimateActivations } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { noiseCanvas } from '../model/geometry.ts';
import type { GridReadout, Readout } from '../model/graph.ts';
import { loadModel, loadNetwork, resolveWeights, type LoadedModel } from '../model/load.ts';
import { convFlops } from '../model/network.ts';
import type { ModelSession } from '../model/session.ts';
import { InputError } from '../pipeline/errors.ts';
import type { PlanContext, PrepareContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { ensureAutoWeights } from '../model/auto-weights.ts';
import { noiseKeyParams } from './noise-plan.ts';
import { buildTable, type BuildValues } from '../results/columns.ts';
import { ACTIVATIONS_META, activationsSpec } from '../results/activations.ts';
import { STIMULUS_SETS, stimulusSet } from './sets/index.ts';
import { setRanges, setShardId } from './sets/shard-id.ts';
import type { SetLayout, SetRows } from './sets/types.ts';

/** The stimulus sets the stage shards over: the names of the registry stages/sets/ (gratings, blank, images, noise). */
export type StimulusSet = string;

export { ACTIVATIONS_META };

/** Zero-padded shard id `<set>-<start>-<end>` (stages/sets/shard-id.ts). */
export const activationsShardId: (set: StimulusSet, start: number, end: number) => string = setShardId;

/** What a shard computes: a stimulus range of one set. */
interface ShardParams {
  set: StimulusSet;
  start: number;
  end: number;
}

/** Per-image network cost of each set relative to a full input image, without reading weights (an ONNX file is parsed). */
async function relativeCosts(config: Experiment, sets: readonly string[]): Promise<Map<string, number>> {
  const model = await loadNetwork(config.model);
  const canvas = noiseCanvas(model.geometry);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const full = convFlops(model.net, last, model.inputSize);
  const out = new Map<string, number>();
  for (const name of sets) out.set(name, convFlops(model.net, last, await stimulusSet(name).networkSide(config, canvas.size)) / full);
  return out;
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
    // ONNX Runtime and the graph builder load with the first session, not with the stage registry (`revcor status`)
    p = import('../model/session.ts').then(({ ModelSession }) => ModelSession.create(
      { net: model.net, weights: model.weights, layers: model.layers, inputSize, readout, unitIndex, grid, channels: config.model.channels },
      { threads: config.model.threads, batch: batchFor(config, inputSize) },
    ));
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

/** How many stimuli each enabled set has (images: the candidate files listed now; left out when skipped). */
async function setSizes(ctx: PlanContext<Experiment>): Promise<[StimulusSet, number][]> {
  const out: [StimulusSet, number][] = [];
  for (const set of STIMULUS_SETS) {
    if (!set.enabled(ctx.config)) continue;
    const n = await set.count(ctx.config);
    if (n !== null) out.push([set.name, n]);
  }
  return out;
}

/** Reads the rows [start, end) of one set from the stimuli stage and prepares their pixels (stages/sets/). */
async function shardStimuli(params: ShardParams, ctx: StageContext<Experiment>, layout: SetLayout): Promise<SetRows> {
  const set = stimulusSet(params.set);
  const view = ctx.upstream('stimuli');
  const info = view.shards.find((s) => s.id === params.set);
  if (!info) throw new InputError(`activations: the stimuli stage has no '${params.set}' shard. Expected ${set.enabledKey}: true to produce it.`);
  return set.rows(await view.read(info.id), params, ctx.config, layout);
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

  // N decides the position grid of the noise shards only: the other sets' shards leave it out, so a grid over
  // stimuli.noise.count computes their activations once. (The rest of the slice stays as it was, so that the keys of
  // every finished centre-unit run, where N was never part of the key, stay valid.)
  shardSlice(config: Experiment, shard: Shard) {
    const slice = this.configSlice(config) as { noise: Record<string, unknown> };
    if (shard.params['set'] !== 'noise') delete slice.noise['count'];
    return slice;
  },

  inputFiles(ctx: PlanContext<Experiment>) {
    const choice = resolveWeights(ctx.config.model);
    return choice.kind === 'file' ? [choice.path] : [];
  },

  async plan(ctx: PlanContext<Experiment>): Promise<Shard[]> {
    const sizes = await setSizes(ctx);
    if (sizes.length === 0) return [];
    const costs = await relativeCosts(ctx.config, sizes.map(([set]) => set));
    const size = ctx.config.activations.shardSize;
    return sizes.flatMap(([set, count]) =>
      setRanges(set, count, size).map(({ id, start, end }) => ({ id, params: { set, start, end }, needs: { stimuli: [set] }, cost: (end - start) * costs.get(set)! })),
    );
  },

  release: releaseActivationSessions,
  // the ORT session's intra-op threads (model.threads, 0 = every core): a pool task beside it would oversubscribe
  cores: (config: Experiment) => config.model.threads,
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
    // how the network sees this set (input side, crop, readout) comes from the set's registry entry (stages/sets/)
    const layout = await stimulusSet(params.set).layout(config, model);
    const { side, readout } = layout;
    const stimuli = await shardStimuli(params, ctx, layout);
    const session = await sessionFor(config, model, side, readout, layout.unitIndex, layout.grid);
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
    Object.assign(metadata, layout.metadata);
    return buildTable(activationsSpec(params.set), { stimulus: stimuli.stimulus, ...stimuli.columns } as BuildValues<ReturnType<typeof activationsSpec>['columns']>, metadata, layerColumns);
  },
};

