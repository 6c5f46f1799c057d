// The tuning stage (docs/method.md §2): orientation and spatial-frequency tuning of every analysed unit from the
// activations stage's grating shards. One output shard per layer, one row per unit (channel).
import { estimateTuning } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import { activationsStage } from './activations.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { gratingTuning, type GratingGrid, type TuningOptions } from '../science/tuning.ts';
import { buildTable, valuesFrom, type BuildValues } from '../results/columns.ts';
import { TUNING } from '../results/tuning.ts';
import { concatTables, layerColumns, readLayerMatrix, readNumbers } from './unit-columns.ts';
import { ALL_LAYERS, layerShards, setNeeds, setShards, type ActivationsPlanner } from './unit-plan.ts';

/** Tuning options from the experiment. */
export function tuningOptions(config: Experiment): TuningOptions {
  return { epsilon: config.tuning.epsilon, response: config.tuning.response, halfHeight: config.tuning.halfHeight };
}

/** Reads the grating activations upstream: descriptor columns and the tables themselves. */
export async function readGratingTables(ctx: StageContext<Experiment>): Promise<Table[]> {
  const view = ctx.upstream('activations');
  const shards = setShards(view.shards, 'gratings');
  if (shards.length === 0) {
    throw new InputError('tuning: the activations stage has no grating shards. Expected stimuli.gratings.enabled: true, got no gratings');
  }
  const tables: Table[] = [];
  for (const s of shards) tables.push(await view.read(s.id));
  return tables;
}

/** The per-unit tuning table of one layer from grating responses [stimulus × channel]. */
export function tuningTable(
  layer: string,
  responses: Float32Array,
  channels: number,
  set: { thetaDeg: ArrayLike<number>; sfCpp: ArrayLike<number>; phaseDeg: ArrayLike<number> },
  options: TuningOptions,
): Table {
  const { grid, reduced, indices: ix } = gratingTuning(responses, channels, set, options);
  const nT = grid.thetaDeg.length;
  const nF = grid.sfCpp.length;
  // Full R(θ, f) per unit, θ-major: [unit × (θ·nF + f)], from the phase reduction's [cell × unit].
  const R = options.response === 'mean' ? reduced.mean : reduced.max;
  const gridRows = new Float32Array(channels * nT * nF);
  for (let c = 0; c < nT * nF; c++) for (let u = 0; u < channels; u++) gridRows[u * nT * nF + c] = R[c * channels + u]!;
  return buildTable(
    TUNING,
    {
      layer: Array.from({ length: channels }, () => layer),
      channel: Int32Array.from({ length: channels }, (_, i) => i),
      ...(valuesFrom(TUNING, ix) as Omit<BuildValues<typeof TUNING.columns>, 'layer' | 'channel' | 'ori_curve' | 'sf_curve' | 'response_grid'>),
      ori_curve: { values: ix.oriCurve, width: nT },
      sf_curve: { values: ix.sfCurve, width: nF },
      response_grid: { values: gridRows, width: nT * nF },
    },
    tuningMetadata(grid, options),
  );
}

// Schema metadata: the grids the list columns are laid out on, and the options used.
function tuningMetadata(grid: GratingGrid, options: TuningOptions): Record<string, string> {
  return {
    'revcor.tuning.theta_deg': JSON.stringify([...grid.thetaDeg]),
    'revcor.tuning.sf_cpp': JSON.stringify([...grid.sfCpp]),
    'revcor.tuning.phase_deg': JSON.stringify([...grid.phaseDeg]),
    'revcor.tuning.options': JSON.stringify(options),
    'revcor.tuning.layout': JSON.stringify({
      ori_curve: 'R at f_pref over theta_deg',
      sf_curve: 'R at theta_pref over sf_cpp',
      response_grid: 'R(theta, f), theta-major: index = iTheta * len(sf_cpp) + iF',
      response: options.response === 'mean' ? 'mean over phase' : 'max over phase',
    }),
  };
}

/** Runs one tuning shard: every layer of the shard from the grating activations. */
export async function runTuning(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
  const tables = await readGratingTables(ctx);
  const source = 'activations (gratings)';
  const set = {
    thetaDeg: readNumbers(tables, 'theta_deg', source),
    sfCpp: readNumbers(tables, 'sf_cpp', source),
    phaseDeg: readNumbers(tables, 'phase_deg', source),
  };
  const layer = shard.params['layer'];
  const layers = typeof layer === 'string' ? [layer] : layerColumns(tables[0]!);
  const options = tuningOptions(ctx.config);
  const out: Table[] = [];
  layers.forEach((name, i) => {
    if (ctx.signal.aborted) return;
    const { matrix, channels } = readLayerMatrix(tables, name, source);
    out.push(tuningTable(name, matrix, channels, set, options));
    ctx.progress((i + 1) / layers.length);
  });
  ctx.signal.throwIfAborted();
  if (out.length === 0) throw new InputError(`tuning: no layer columns in the grating activations (shard ${shard.id})`);
  return concatTables(out);
}

/**
 * The tuning stage. `activationsPlan` (the activations stage's plan) tells which upstream shards hold the
 * gratings; without it the shared id contract `gratings-<start>-<end>` is used.
 */
export function createTuningStage(activationsPlan?: ActivationsPlanner): Stage<Experiment> {
  return {
    name: 'tuning',
    description: 'Orientation and spatial-frequency tuning of every unit to full-field gratings (docs/method.md §2)',
    version: '3', // 2: responsive = max R − min R > epsilon (a constant unit is not responsive); 3: ori_bandwidth
    upstream: ['activations'],
    configSlice: (config: Experiment) => ({ tuning: config.tuning, layers: config.model.layers }),
    async plan(ctx: PlanContext<Experiment>) {
      if (!ctx.config.stimuli.gratings.enabled) return [];
      const needs = await setNeeds(ctx, 'gratings', activationsPlan);
      return layerShards(ctx.config).map((s) => ({ ...s, needs }));
    },
    estimate: estimateTuning,
    run: runTuning,
  };
}

/** The tuning stage; its shards need exactly the activations stage's grating shards. */
export const tuningStage: Stage<Experiment> = createTuningStage((ctx) => activationsStage.plan(ctx));

export { ALL_LAYERS };
