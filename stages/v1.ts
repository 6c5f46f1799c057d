// The v1 stage (docs/v1-comparison.md): how V1-like each analysed layer is. Per unit, Brain-Score's V1 grating
// properties from the activations stage's per-phase grating responses and its blank response; per layer, the
// ceiled KS similarity of each property's distribution to recorded macaque V1 (v1.reference) and the V1 score.
// One shard per layer, one row per unit (V1_UNIT_COLUMNS); the layer's numbers are one row of V1_LAYER_COLUMNS in
// the schema metadata `revcor.v1.layers` (readV1Layers reads them back).
//
// Upstream: activations, not tuning. The properties are read from the responses mapped to spikes/s and clipped
// at 0 per stimulus before the phase mean (the F1 of a clipped response is not the F1 of the mean), and they need
// the blank response; the tuning stage keeps only phase-reduced raw curves and no blank.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';
import type { ResourceEstimate } from '../pipeline/budget.ts';
import { InputError } from '../pipeline/errors.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { V1_LAYER_COLUMNS, V1_PROPERTIES, V1_UNIT_COLUMNS, type V1LayerRow } from '../science/v1-catalogue.ts';
import { compareLayer, referenceCeilings, type CompareOptions } from '../science/v1-compare.ts';
import { v1UnitProperties, type FiringRateMap, type V1PropertyOptions, type V1UnitProperties } from '../science/v1-properties.ts';
import type { GratingSet } from '../science/tuning.ts';
import type { V1Reference } from '../science/v1-reference.ts';
import { activationsStage } from './activations.ts';
import { gratingCount } from './estimate.ts';
import { blankEnabled } from './stimuli.ts';
import { buildTable, withSchemaMetadata, type BuildValues } from '../results/columns.ts';
import { readV1Layers, V1, V1_META } from '../results/v1.ts';
import { concatTables, layerColumns, readLayerMatrix, readNumbers } from './unit-columns.ts';
import { layerShards, setShards, type ActivationsPlanner } from './unit-plan.ts';
import { missingReferenceError, readV1Reference, referenceFiles, V1_REFERENCE_KEY } from './v1-reference.ts';

export { V1_META, readV1Layers };

/** The activations tables of one stimulus set (InputError when there are none). */
async function setTables(ctx: StageContext<Experiment>, set: 'gratings' | 'blank'): Promise<Table[]> {
  const view = ctx.upstream('activations');
  const shards = setShards(view.shards, set);
  if (shards.length === 0) {
    throw new InputError(`v1: the activations stage has no ${set} shards. Expected v1.enabled: true and stimuli.gratings.enabled: true, got none.`);
  }
  const tables: Table[] = [];
  for (const s of shards) tables.push(await view.read(s.id));
  return tables;
}

// Processes that already warned about a missing reference folder (said once, not per layer).
const warned = new Set<string>();

/** The reference and its ceilings, or null (with one warning) when it is absent and v1.ifMissing is skip. */
async function loadComparison(ctx: StageContext<Experiment>): Promise<{ reference: V1Reference; ceilings: Record<string, number>; options: CompareOptions; dir: string } | { skipped: string; dir: string }> {
  const v1 = ctx.config.v1;
  const { missing } = await referenceFiles(v1.reference);
  if (missing) {
    if (v1.ifMissing === 'error') throw missingReferenceError(missing);
    if (!warned.has(v1.reference)) {
      warned.add(v1.reference);
      ctx.log(`WARNING ${V1_REFERENCE_KEY}: ${missing}; the V1 comparison is skipped (v1.ifMissing: skip): the v1 stage measures the properties only.`);
    }
    return { skipped: `${missing} (v1.ifMissing: skip)`, dir: v1.reference };
  }
  const loaded = await readV1Reference(v1.reference);
  const options = { resamples: v1.bootstrap, seed: v1.seed, level: v1.level };
  return { reference: loaded.reference, ceilings: referenceCeilings(loaded.reference, options), options, dir: v1.reference };
}

/** The per-unit table of one layer. */
function unitTable(layer: string, units: ReturnType<typeof v1UnitProperties>['units']): Table {
  const cols: Record<string, unknown> = {
    layer: Array.from({ length: units.nUnits }, () => layer),
    channel: Int32Array.from({ length: units.nUnits }, (_, i) => i),
    responsive: units.responsive,
  };
  for (const c of V1_UNIT_COLUMNS) cols[c.name] = units[c.unit];
  return buildTable(V1, cols as BuildValues<typeof V1.columns>);
}

/**
 * The per-unit table of one layer from its grating responses [stimulus × channel] and its blank responses (one per
 * channel), with the properties and the firing-rate map it was built from (the layer's comparison row needs them).
 */
export function v1Table(
  layer: string,
  responses: Float32Array,
  channels: number,
  set: GratingSet,
  blank: ArrayLike<number>,
  options: V1PropertyOptions,
): { table: Table; map: FiringRateMap; units: V1UnitProperties } {
  const { map, units } = v1UnitProperties(responses, channels, set, blank, options);
  return { table: unitTable(layer, units), map, units };
}

/** Runs one v1 shard: the properties of every layer of the shard, and the comparison with V1. */
export async function runV1(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
  const gratings = await setTables(ctx, 'gratings');
  const blank = await setTables(ctx, 'blank');
  const source = 'activations (gratings)';
  const set = { thetaDeg: readNumbers(gratings, 'theta_deg', source), sfCpp: readNumbers(gratings, 'sf_cpp', source), phaseDeg: readNumbers(gratings, 'phase_deg', source) };
  const comparison = await loadComparison(ctx);
  const layer = shard.params['layer'];
  const layers = typeof layer === 'string' ? [layer] : layerColumns(gratings[0]!);
  const v1 = ctx.config.v1;
  const rows: V1LayerRow[] = [];
  const tables: Table[] = [];
  layers.forEach((name, i) => {
    if (ctx.signal.aborted) return;
    const { matrix, channels } = readLayerMatrix(gratings, name, source);
    const b = readLayerMatrix(blank, name, 'activations (blank)');
    if (b.matrix.length !== channels) throw new InputError(`v1: the blank activations of ${name} hold ${b.matrix.length} values. Expected one per channel (${channels}).`);
    const { table, map, units } = v1Table(name, matrix, channels, set, b.matrix, { pixelsPerDegree: v1.pixelsPerDegree });
    rows.push(compareLayer(name, units, map, 'skipped' in comparison ? null : comparison));
    tables.push(table);
    ctx.progress((i + 1) / layers.length);
  });
  ctx.signal.throwIfAborted();
  if (tables.length === 0) throw new InputError(`v1: no layer columns in the grating activations (shard ${shard.id})`);
  const all = concatTables(tables);
  return withSchemaMetadata(all, {
    [V1_META.layers]: JSON.stringify(rows),
    [V1_META.columns]: JSON.stringify(V1_LAYER_COLUMNS),
    [V1_META.reference]: JSON.stringify(referenceSummary(comparison)),
    [V1_META.options]: JSON.stringify({ pixelsPerDegree: v1.pixelsPerDegree, bootstrap: v1.bootstrap, seed: v1.seed, level: v1.level }),
  });
}

// What the comparison was made against: per property its dataset, data n, ceiling and (Ringach) data median.
function referenceSummary(c: Awaited<ReturnType<typeof loadComparison>>): Record<string, unknown> {
  if ('skipped' in c) return { dir: c.dir, skipped: c.skipped };
  const properties: Record<string, unknown> = {};
  for (const p of V1_PROPERTIES) {
    const r = c.reference[p.name]!;
    const values = r.values ? Float64Array.from(r.values).sort() : null;
    const median = values && values.length ? (values.length % 2 ? values[values.length >> 1]! : (values[values.length / 2 - 1]! + values[values.length / 2]!) / 2) : null;
    properties[p.name] = { dataset: p.dataset, histogram: p.histogram, n: r.distribution.binOf.length, ceiling: c.ceilings[p.name], scored: p.scored, ...(median === null ? {} : { median }) };
  }
  return { dir: c.dir, properties };
}

/**
 * What the v1 stage needs (pipeline/budget.ts): one shard per layer; per unit ~18 numbers; in memory a layer's raw
 * and mapped grating responses (float32) and two phase reductions (float64 sums, float32 results).
 */
export async function estimateV1(ctx: PlanContext<Experiment>): Promise<ResourceEstimate> {
  const c = ctx.config;
  const n = gratingCount(c.stimuli.gratings);
  if (!blankEnabled(c) || n === 0) return { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const model = await loadNetwork(c.model);
  const units = model.geometry.map((g) => (c.model.channels === 'all' ? g.channels : Math.min(g.channels, c.model.channels)));
  const cells = n / c.stimuli.gratings.phases;
  return {
    shards: units.length,
    diskBytes: units.reduce((a, u) => a + 200 * u, 0),
    memoryBytes: Math.max(...units.map((u) => (8 * n + 2 * 36 * cells) * u)),
  };
}

/** The v1 stage's config slice: everything of `v1` but `enabled`, and the analysed layers. */
export function v1ConfigSlice(config: Experiment): unknown {
  const { enabled: _e, ...v1 } = config.v1;
  return { v1, layers: config.model.layers };
}

/** The v1 stage; `activationsPlan` tells which activations shards hold the gratings and the blank. */
export function createV1Stage(activationsPlan: ActivationsPlanner): Stage<Experiment> {
  return {
    name: 'v1',
    description: "How V1-like each layer is: Brain-Score's V1 grating properties per unit, ceiled KS similarity to macaque V1 per layer",
    version: '1',
    upstream: ['activations'],
    configSlice: v1ConfigSlice,
    estimate: estimateV1,
    // The reference files count by content; absent ones are not listed, so their arrival recomputes the shards.
    async inputFiles(ctx: PlanContext<Experiment>) {
      return blankEnabled(ctx.config) ? (await referenceFiles(ctx.config.v1.reference)).files : [];
    },
    async plan(ctx: PlanContext<Experiment>) {
      if (!blankEnabled(ctx.config)) return [];
      const { missing } = await referenceFiles(ctx.config.v1.reference);
      if (missing && ctx.config.v1.ifMissing === 'error') throw missingReferenceError(missing);
      const ids = (await activationsPlan(ctx)).filter((s) => s.params['set'] === 'gratings' || s.params['set'] === 'blank').map((s) => s.id);
      return layerShards(ctx.config).map((s) => ({ ...s, needs: { activations: ids } }));
    },
    run: runV1,
  };
}

/** The v1 stage, its needs from the activations stage's own plan. */
export const v1Stage: Stage<Experiment> = createV1Stage((ctx) => activationsStage.plan(ctx));
