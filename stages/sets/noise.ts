// The white-noise set (docs/method.md §4, §6): N noise images regenerated from (seed, index) — on the stride-aligned
// canvas holding every analysed layer's centre RF (positions: centre), or fewer larger images read out on a grid of
// interior positions per layer (positions: interior, stages/noise-plan.ts). Tested in test/stages/interior.test.ts.
import type { Table } from 'apache-arrow';
import type { Experiment, NoiseConfig } from '../../config/schema.ts';
import { ACTIVATIONS_META } from '../../results/activations.ts';
import { buildTable } from '../../results/columns.ts';
import { readNoiseStimuli, STIMULI_NOISE } from '../../results/stimuli.ts';
import { noiseImageRGBInto, noiseMoments, type NoiseParams } from '../../science/noise.ts';
import { interiorImageSize, interiorPlan, noiseImageCount, noiseKeyParams } from '../noise-plan.ts';
import { centreCanvas, rangeRows } from './grating-rows.ts';
import type { SetLayout, StimulusSet } from './types.ts';

/** Shard params of the noise set's stimuli shard (`images`: the noise images of interior sampling, which the model decides). */
export function noiseShardParams(c: Experiment, images?: number): Record<string, unknown> {
  const { enabled: _e, ...n } = c.stimuli.noise;
  return { set: 'noise', ...noiseKeyParams(n as NoiseConfig), ...(n.positions === 'interior' ? { images } : {}) };
}

/** The generator parameters of the noise (what science/noise.ts needs to regenerate an image). */
export function noiseGenerator(config: Experiment): NoiseParams {
  const { seed, sigma, color, check } = config.stimuli.noise;
  return { seed, sigma, color, check };
}

/**
 * The noise table: stimulus and noise_index 0..images−1 (images = N with centre positions, fewer with interior
 * ones), generator parameters in the metadata.
 */
export function noiseTable(c: Experiment['stimuli']['noise'], images = c.count): Table {
  const idx = Int32Array.from({ length: images }, (_, i) => i);
  const m = noiseMoments(c);
  return buildTable(
    STIMULI_NOISE,
    { stimulus: idx, noise_index: Int32Array.from(idx) },
    {
      set: 'noise',
      seed: String(c.seed),
      sigma: String(c.sigma),
      color: c.color,
      check: String(c.check),
      count: String(images),
      samples_per_unit: String(c.count),
      positions: c.positions,
      expected_mean: String(m.mean),
      expected_sd: String(m.sd),
      generator:
        'clip(127.5 + sigma*xi, 0, 255); xi by Box-Muller from Philox4x32-10, counter (floor(x/check), floor(y/check), n, 0), ' +
        'key (seed mod 2^32, floor(seed/2^32)); grey = R channel; see science/noise.ts',
    },
  );
}

/** The noise set. */
export const noiseSet: StimulusSet = {
  name: 'noise',
  enabledKey: 'stimuli.noise.enabled',
  enabled: (c) => c.stimuli.noise.enabled,
  stimuliShard: async (c) => ({ id: 'noise', params: noiseShardParams(c, await noiseImageCount(c)), cost: 1 }),
  stimuliTable: async (c) => noiseTable(c.stimuli.noise, await noiseImageCount(c)),
  count: noiseImageCount,
  networkSide: async (c, canvasSide) => (c.stimuli.noise.positions === 'interior' ? interiorImageSize(c) : canvasSide),
  async layout(c, model): Promise<SetLayout> {
    const positions = await interiorPlan(c);
    const noise = JSON.stringify(noiseGenerator(c));
    if (positions) {
      // interior sampling: whole noise images, a grid of positions per layer (stages/noise-plan.ts)
      const grid = Object.fromEntries(positions.layers.map((l) => [l.name, { first: l.first, step: l.step, count: l.count }]));
      return { side: positions.imageSize, x0: 0, y0: 0, readout: 'grid', grid, metadata: { [ACTIVATIONS_META.positions]: JSON.stringify(positions), [ACTIVATIONS_META.noise]: noise } };
    }
    const centre = centreCanvas(model);
    return { ...centre, metadata: { ...centre.metadata, [ACTIVATIONS_META.noise]: noise } };
  },
  rows(table, range, c, layout) {
    const cols = readNoiseStimuli(table, `activations: stimuli shard 'noise'`);
    const rows = rangeRows(cols.stimulus, range, 'noise');
    const noiseIndex = Int32Array.from(rows, (r) => cols.noise_index[r]!);
    const p = noiseGenerator(c);
    return {
      stimulus: Int32Array.from(rows, (r) => cols.stimulus[r]!),
      columns: { noise_index: noiseIndex },
      fill: (out, offset, r) => noiseImageRGBInto(out, offset, p, noiseIndex[r]!, layout.x0, layout.y0, layout.side, layout.side),
    };
  },
};
