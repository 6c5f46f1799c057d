// How the noise set is sampled (docs/method.md §4, §6), shared by the stimuli, activations, awa and awc stages: with
// `positions: centre` one noise image per sample (N images on the stride-aligned canvas); with `interior` a
// position plan (model/positions.ts) of fewer, larger images whose interior units all contribute samples.
// Tested in test/stages/interior.test.ts.
import type { Experiment, NoiseConfig } from '../config/schema.ts';
import { layerGeometry } from '../model/geometry.ts';
import { loadNetwork } from '../model/load.ts';
import { positionPlan, type PositionPlan } from '../model/positions.ts';
import { ConfigError } from '../pipeline/errors.ts';

/** The noise keys that shape stimuli and activations: the interior keys only when interior sampling is on, so
 * checkpoints made before those keys existed (all centre) keep their cache keys. */
export function noiseKeyParams(noise: NoiseConfig): Record<string, unknown> {
  const { positions, imageSize, ...rest } = noise;
  return positions === 'centre' ? rest : { ...rest, positions, imageSize };
}

/** Side of the interior noise images (stimuli.noise.imageSize, 0 = model.inputSize). */
export function interiorImageSize(config: Experiment): number {
  return config.stimuli.noise.imageSize > 0 ? config.stimuli.noise.imageSize : config.model.inputSize;
}

/**
 * The interior position plan of a config (null with positions: centre). Refuses settings under which an
 * interior unit is not a copy of the analysed centre unit: a centre RF clipped by the image border (that unit
 * also sees zero padding) and noise checks (a shifted crop would cut the checks differently).
 */
export async function interiorPlan(config: Experiment): Promise<PositionPlan | null> {
  const noise = config.stimuli.noise;
  if (noise.positions !== 'interior') return null;
  if (noise.check > 1) {
    throw new ConfigError(`stimuli.noise.positions: interior samples crops at shifted positions, which cut ${noise.check}-px checks differently. Expected stimuli.noise.check: 1 with interior positions, got ${noise.check}.`);
  }
  // every plan and every interior noise shard asks for it: parse the network once per model/noise setting
  const key = JSON.stringify([config.model, noise]);
  let plan = planMemo.get(key);
  if (!plan) {
    plan = computeInteriorPlan(config);
    plan.catch(() => planMemo.delete(key)); // a failure (bad weights file, clipped RF) is not remembered
    if (planMemo.size >= 8) planMemo.clear();
    planMemo.set(key, plan);
  }
  return plan;
}

/** Interior plans already computed in this process, by model and noise config. */
const planMemo = new Map<string, Promise<PositionPlan>>();

/** The interior plan from the network's geometry (uncached; see interiorPlan). */
async function computeInteriorPlan(config: Experiment): Promise<PositionPlan> {
  const model = await loadNetwork(config.model);
  const clipped = model.geometry.filter((g) => g.clipped).map((g) => g.name);
  if (clipped.length) {
    throw new ConfigError(
      `stimuli.noise.positions: interior: the centre RF of ${clipped.join(', ')} reaches past the ${config.model.inputSize}-px image (the unit also sees zero padding), so no interior unit copies it. Expected positions: centre, or model.layers without ${clipped.length === 1 ? 'it' : 'them'}.`,
    );
  }
  const size = interiorImageSize(config);
  return positionPlan(layerGeometry(model.net, model.layers, size), size, config.stimuli.noise.count);
}

/** Noise images through the network: N with centre positions, the plan's image count with interior ones. */
export async function noiseImageCount(config: Experiment): Promise<number> {
  const plan = await interiorPlan(config);
  return plan ? plan.images : config.stimuli.noise.count;
}
