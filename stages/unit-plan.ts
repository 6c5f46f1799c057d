// Shard planning shared by the per-unit analysis stages (tuning, category): one shard per analysed layer
// when the layer list is known from the config alone, else one shard for every layer column upstream.
import type { Experiment } from '../config/schema.ts';
import { selectLayers, vggNetwork } from '../model/network.ts';
import type { Shard, UpstreamShardInfo } from '../pipeline/stage.ts';

/** Shard id of the single shard used when the analysed layers are only known from the upstream tables. */
export const ALL_LAYERS = 'all-layers';

/** Analysed layer names known from the config (VGG architectures, or an explicit list), else null (ONNX + 'all'). */
export function configuredLayers(config: Experiment): string[] | null {
  const { arch, layers } = config.model;
  if (arch === 'vgg16' || arch === 'vgg19') return selectLayers(vggNetwork(arch), layers).map((l) => l.name);
  return layers === 'all' ? null : [...layers];
}

/** One shard per layer (params { layer }), or a single ALL_LAYERS shard (params { layer: null }). */
export function layerShards(config: Experiment, cost = 1): Shard[] {
  const layers = configuredLayers(config);
  if (!layers) return [{ id: ALL_LAYERS, params: { layer: null }, cost }];
  return layers.map((layer) => ({ id: layer, params: { layer }, cost }));
}

/** The upstream activations shards of one stimulus set, in stimulus order. */
export function setShards(shards: readonly UpstreamShardInfo[], set: 'gratings' | 'images' | 'noise'): UpstreamShardInfo[] {
  return shards
    .filter((s) => s.params['set'] === set)
    .sort((a, b) => Number(a.params['start'] ?? 0) - Number(b.params['start'] ?? 0));
}
