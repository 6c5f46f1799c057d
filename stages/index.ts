// The stage registry: every stage the CLI runs, in pipeline order. Add a stage by importing it and listing it here.
import type { Stage } from '../pipeline/stage.ts';
import { stimuliStage } from './stimuli.ts';

/** All stages of the revcor pipeline (the engine orders them by their upstream lists). */
export function allStages(): Stage[] {
  return [
    stimuliStage,
    // activationsStage, tuningStage, categoryStage, awaStage, awcStage, summaryStage
  ];
}
