// The stimulus-set registry: every set the stimuli and activations stages know, in shard order. A new stimulus type
// is one file implementing StimulusSet (stages/sets/types.ts) and its line here. Tested in test/stages/sets.test.ts.
import { InputError } from '../../pipeline/errors.ts';
import { blankSet } from './blank.ts';
import { gratingsSet } from './gratings.ts';
import { imagesSet } from './images.ts';
import { noiseSet } from './noise.ts';
import type { StimulusSet } from './types.ts';

/** Every stimulus set, in the order their shards are planned. */
export const STIMULUS_SETS: readonly StimulusSet[] = [gratingsSet, blankSet, imagesSet, noiseSet];

/** A set by name (InputError for an unknown one: a checkpoint or job naming a set this version does not have). */
export function stimulusSet(name: string): StimulusSet {
  const s = STIMULUS_SETS.find((x) => x.name === name);
  if (!s) throw new InputError(`Expected a stimulus set (${STIMULUS_SETS.map((x) => x.name).join(', ')}), got '${name}'`);
  return s;
}
