// Shard planning shared by the per-unit analysis stages (tuning, category): one shard per analysed layer
// when the layer list is known from the config alone, else one shard for every layer column upstream.
// Tested in test/stages/tuning.test.ts.
import type { Experiment } from '../config/schema.ts';
import { layerName } from '../model/layers.ts';
import { selectLayers, vggNetwork } from '../model/network.ts';
import type { PlanContext, Shard, UpstreamShardInfo } from '../pipeline/stage.ts';
import { gratingList } from '../science/gratings.ts';
import { setRanges } from './sets/shard-id.ts';
export { ALL_LAYERS } from '../results/reader.ts';
import { ALL_LAYERS } from '../results/reader.ts';


/**
 * Analysed layer names known from the config (VGG architectures, or an explicit list: ONNX tensor names become their
 * file-safe layer names), else null (ONNX + 'all').
 */
export function configuredLayers(config: Experiment): string[] | null {
  const { arch, layers } = config.model;
  if (arch === 'vgg16' || arch === 'vgg19') return selectLayers(vggNetwork(arch), layers).map((l) => l.name);
  return layers === 'all' ? null : [...new Set(layers.map(layerName))];
}

/** One shard per layer (params { layer }), or a single ALL_LAYERS shard (params { layer: null }). */
export function layerShards(config: Experiment, cost = 1): Shard[] {
  const layers = configuredLayers(config);
  if (!layers) return [{ id: ALL_LAYERS, params: { layer: null }, cost }];
  return layers.map((layer) => ({ id: layer, params: { layer }, cost }));
}

/** The upstream activations shards of one stimulus set, in stimulus order. */
export function setShards(shards: readonly UpstreamShardInfo[], set: string): UpstreamShardInfo[] {
  return shards
    .filter((s) => s.params['set'] === set)
    .sort((a, b) => Number(a.params['start'] ?? 0) - Number(b.params['start'] ?? 0));
}

/** Plans the activations stage (its Stage.plan), to learn which of its shards hold one stimulus set. */
export type ActivationsPlanner = (ctx: PlanContext<Experiment>) => Shard[] | Promise<Shard[]>;

/**
 * The `needs` of a shard reading one stimulus set: the activations shards whose params.set is `set`, from
 * the activations stage's own plan when a planner is given, else from the shard-id scheme of stages/sets/shard-id.ts
 * when the set size is known from the config alone (gratings); undefined (= every activations shard) otherwise.
 */
export async function setNeeds(ctx: PlanContext<Experiment>, set: 'gratings' | 'images', planner?: ActivationsPlanner): Promise<Record<string, string[]> | undefined> {
  if (planner) return { activations: (await planner(ctx)).filter((s) => s.params['set'] === set).map((s) => s.id) };
  if (set !== 'gratings') return undefined;
  const count = gratingList(ctx.config.stimuli.gratings).length;
  return { activations: setRanges(set, count, ctx.config.activations.shardSize).map((r) => r.id) };
}
