// The grating set (docs/method.md §2): full-field sinusoidal gratings over θ × f × φ, described by the stimuli stage
// (one row per grating) and rendered again by the activations stage. Tested in test/stages/stimuli.test.ts.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../../config/schema.ts';
import { buildTable } from '../../results/columns.ts';
import { STIMULI_GRATINGS } from '../../results/stimuli.ts';
import { gratingAxes, gratingList } from '../../science/gratings.ts';
import { centreCanvas, gratingRows } from './grating-rows.ts';
import type { StimulusSet } from './types.ts';

/** Shard params of the grating set. */
export function gratingsParams(c: Experiment): Record<string, unknown> {
  const { enabled: _e, ...g } = c.stimuli.gratings;
  return { set: 'gratings', ...g };
}

/** The grating table: stimulus, theta_deg, sf_cpp, phase_deg in gratingList order. */
export function gratingsTable(c: Experiment['stimuli']['gratings']): Table {
  const list = gratingList(c);
  const axes = gratingAxes(c);
  return buildTable(
    STIMULI_GRATINGS,
    {
      stimulus: Int32Array.from(list, (d) => d.stimulus),
      theta_deg: Float64Array.from(list, (d) => d.thetaDeg),
      sf_cpp: Float64Array.from(list, (d) => d.sfCpp),
      phase_deg: Float64Array.from(list, (d) => d.phaseDeg),
    },
    {
      set: 'gratings',
      contrast: String(c.contrast),
      orientations: String(axes.thetasDeg.length),
      frequencies: String(axes.sfsCpp.length),
      phases: String(axes.phasesDeg.length),
      order: 'stimulus = (i_theta * n_sf + i_sf) * n_phase + i_phase',
      formula: 'L(x,y) = 127.5*(1 + C*cos(2*pi*f*(x*cos(theta) + y*sin(theta)) + phase)), R=G=B, x=column, y=row, (0,0) = top-left pixel',
    },
  );
}

/** The grating set. */
export const gratingsSet: StimulusSet = {
  name: 'gratings',
  enabledKey: 'stimuli.gratings.enabled',
  enabled: (c) => c.stimuli.gratings.enabled,
  stimuliShard: async (c) => ({ id: 'gratings', params: gratingsParams(c), cost: 1 }),
  stimuliTable: async (c) => gratingsTable(c.stimuli.gratings),
  count: async (c) => gratingList(c.stimuli.gratings).length,
  networkSide: async (_c, canvasSide) => canvasSide,
  layout: async (_c, model) => centreCanvas(model),
  rows: (table, range, c, layout) => gratingRows(table, range, 'gratings', c.stimuli.gratings.contrast, layout),
};
