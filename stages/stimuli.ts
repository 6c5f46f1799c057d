// The stimuli stage (docs/method.md §2–4): one descriptor table per enabled stimulus set of the registry
// (stages/sets/: gratings, blank with v1.enabled, images, noise). Pixels are not stored: gratings and noise are
// regenerated from these descriptors, images are re-decoded from their files and checked against the recorded sha256.
//
// One shard per enabled set, id = set name; each shard's params carry its own config sub-slice (configSlice is
// empty), so changing the noise seed reruns only the noise shard and what reads it. Tested in test/stages/stimuli.test.ts.
import { estimateStimuli } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { STIMULUS_SETS, stimulusSet } from './sets/index.ts';

export { blankEnabled, blankParams, blankTable } from './sets/blank.ts';
export { gratingsParams, gratingsTable } from './sets/gratings.ts';
export { imagesParams, imagesTable } from './sets/images.ts';
export { noiseShardParams, noiseTable } from './sets/noise.ts';

/** Bump when a stimuli table changes for the same config. */
export const STIMULI_VERSION = '1';

/** The stimuli stage. */
export const stimuliStage: Stage<Experiment> = {
  name: 'stimuli',
  description: 'Stimulus sets: grating descriptors, natural images (listed, hashed, checked), noise indices',
  version: STIMULI_VERSION,
  upstream: [],
  // Each shard's params carry its own sub-config: a change to one set reruns only that set's shard.
  configSlice: () => ({}),
  estimate: estimateStimuli,
  async plan(ctx: PlanContext<Experiment>): Promise<Shard[]> {
    const shards: Shard[] = [];
    for (const set of STIMULUS_SETS) if (set.enabled(ctx.config)) shards.push(await set.stimuliShard(ctx.config));
    return shards;
  },
  async run(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
    return stimulusSet(shard.id).stimuliTable(ctx.config, ctx);
  },
};
