// The stage registry: every stage the CLI runs. Add a stage by importing it and listing it here (any order:
// the engine orders stages by their `upstream` lists and rejects unknown upstreams, so list a stage only
// together with the stages it reads).
// Tested in test/stages/interior.test.ts.
import type { Experiment } from '../config/schema.ts';
import type { Stage } from '../pipeline/stage.ts';
import { activationsStage } from './activations.ts';
import { awaStage } from './awa.ts';
import { awcStage } from './awc.ts';
import { categoryStage } from './category.ts';
import { stimuliStage } from './stimuli.ts';
import { summaryStage } from './summary.ts';
import { tuningStage } from './tuning.ts';
import { v1Stage } from './v1.ts';

/** All stages of the revcor pipeline. */
export function allStages(): Stage<Experiment>[] {
  return [
    stimuliStage,
    activationsStage,
    awaStage,
    tuningStage,
    categoryStage,
    awcStage,
    summaryStage,
    v1Stage,
  ];
}
