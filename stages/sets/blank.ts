// The blank set (docs/v1-comparison.md): one uniform mid-grey image, a grating of contrast 0 — the V1 comparison's
// baseline, run only with v1.enabled (and gratings), so no other shard's key changes. Tested in test/stages/v1.test.ts.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../../config/schema.ts';
import { buildTable } from '../../results/columns.ts';
import { STIMULI_BLANK } from '../../results/stimuli.ts';
import { centreCanvas, gratingRows } from './grating-rows.ts';
import type { StimulusSet } from './types.ts';

/** Whether the blank set runs: one uniform mid-grey image (a contrast-0 grating), the V1 comparison's baseline. */
export function blankEnabled(c: Experiment): boolean {
  return c.v1.enabled && c.stimuli.gratings.enabled;
}

/** Shard params of the blank set (nothing in it depends on the config). */
export function blankParams(): Record<string, unknown> {
  return { set: 'blank', contrast: 0 };
}

/** The blank table: one stimulus, a grating of contrast 0 (uniform grey 127.5), in the grating table's columns. */
export function blankTable(): Table {
  return buildTable(
    STIMULI_BLANK,
    { stimulus: Int32Array.of(0), theta_deg: Float64Array.of(0), sf_cpp: Float64Array.of(0), phase_deg: Float64Array.of(0) },
    { set: 'blank', contrast: '0', formula: 'L(x,y) = 127.5, R=G=B: the grating formula with C = 0 (the blank of the V1 comparison)' },
  );
}

/** The blank set. */
export const blankSet: StimulusSet = {
  name: 'blank',
  enabledKey: 'v1.enabled',
  enabled: blankEnabled,
  stimuliShard: async () => ({ id: 'blank', params: blankParams(), cost: 1 }),
  stimuliTable: async () => blankTable(),
  count: async () => 1,
  networkSide: async (_c, canvasSide) => canvasSide,
  layout: async (_c, model) => centreCanvas(model),
  rows: (table, range, _c, layout) => gratingRows(table, range, 'blank', 0, layout),
};
