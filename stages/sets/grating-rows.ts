// Rows of a grating-like stimuli table (gratings, the blank) for the activations stage: the descriptors of the
// stimuli [start, end) and a generator that renders each with science/gratings.ts. Tested in test/stages/activations.test.ts.
import type { Table } from 'apache-arrow';
import { noiseCanvas } from '../../model/geometry.ts';
import { InputError } from '../../pipeline/errors.ts';
import { ACTIVATIONS_META } from '../../results/activations.ts';
import { readGratingStimuli } from '../../results/stimuli.ts';
import { gratingImageInto } from '../../science/gratings.ts';
import type { LoadedModel } from '../../model/load.ts';
import type { SetLayout, SetRows } from './types.ts';

/** The rows of stimuli [start, end) of a set table, sorted by stimulus; InputError when some are missing. */
export function rangeRows(stimulus: Int32Array, range: { start: number; end: number }, set: string): number[] {
  const rows: number[] = [];
  for (let r = 0; r < stimulus.length; r++) if (stimulus[r]! >= range.start && stimulus[r]! < range.end) rows.push(r);
  rows.sort((a, b) => stimulus[a]! - stimulus[b]!);
  if (rows.length !== range.end - range.start) {
    throw new InputError(`activations: stimuli shard '${set}' holds ${rows.length} of the stimuli ${range.start}–${range.end - 1}. Expected all of them (is the stimuli stage from another config?).`);
  }
  return rows;
}

/** Grating rows of contrast `contrast`. */
export function gratingRows(table: Table, range: { start: number; end: number }, set: string, contrast: number, layout: SetLayout): SetRows {
  const cols = readGratingStimuli(table, `activations: stimuli shard '${set}'`);
  const rows = rangeRows(cols.stimulus, range, set);
  const pick = (v: Float64Array) => Float64Array.from(rows, (r) => v[r]!);
  const theta = pick(cols.theta_deg);
  const sf = pick(cols.sf_cpp);
  const phase = pick(cols.phase_deg);
  return {
    stimulus: Int32Array.from(rows, (r) => cols.stimulus[r]!),
    columns: { theta_deg: theta, sf_cpp: sf, phase_deg: phase },
    fill: (out, offset, r) => gratingImageInto(out, offset, { thetaDeg: theta[r]!, sfCpp: sf[r]!, phaseDeg: phase[r]!, contrast }, layout.side, layout.side, layout.x0, layout.y0),
  };
}

/** The layout of full images at the model's input size (gratings, blank, images). */
export function fullImage(model: { inputSize: number }, readout: SetLayout['readout'] = 'centre'): SetLayout {
  return { side: model.inputSize, x0: 0, y0: 0, readout, metadata: {} };
}

/**
 * The layout of centre units on the stride-aligned canvas holding every analysed layer's RF (docs/method.md §6): the
 * same pixels under each RF and the same units as the full image, fewer FLOPs (gratings, blank, noise, images read at
 * the centre).
 */
export function centreCanvas(model: Pick<LoadedModel, 'geometry'>): SetLayout {
  const canvas = noiseCanvas(model.geometry);
  return { side: canvas.size, x0: canvas.x0, y0: canvas.y0, readout: 'centre', unitIndex: canvas.centreIndex, metadata: { [ACTIVATIONS_META.canvas]: JSON.stringify(canvas) } };
}
