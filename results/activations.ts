// The activations stage's output (docs/method.md §1, §6): one row per stimulus — its index, the set's descriptor
// columns, then one FixedSizeList<Float32>(channels) column per analysed layer, named by the layer (the dynamic
// columns). Declared per stimulus set; built by stages/activations.ts, read by the analysis stages.
// Tested in test/stages/activations.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, dynamicColumns, readColumns, type DynamicColumns } from './columns.ts';

/** Schema-metadata keys of every activations shard. */
export const ACTIVATIONS_META = {
  set: 'revcor.activations.set',
  /** JSON LayerGeometry[] for the full input image (model.inputSize). */
  geometry: 'revcor.activations.geometry',
  /** JSON NoiseCanvas (every centre-readout shard): the crop of the input image the network saw, in its pixels. */
  canvas: 'revcor.activations.canvas',
  /** `<file> sha256:<hex>` or `seeded:<seed>`. */
  weights: 'revcor.activations.weights',
  /** centre | max | mean. */
  readout: 'revcor.activations.readout',
  /** Side of the network input in pixels (the canvas for centre readouts). */
  inputSize: 'revcor.activations.input_size',
  /** JSON { arch, preprocessing, layers, channels }. */
  model: 'revcor.activations.model',
  /** JSON NoiseParams (noise shards only). */
  noise: 'revcor.activations.noise',
  /** JSON PositionPlan (noise shards with positions: interior): each layer column holds g² positions × channels. */
  positions: 'revcor.activations.positions',
} as const;

/** The layer columns: named by the analysed layer, one value per kept channel. */
export const LAYER_COLUMNS: DynamicColumns = {
  type: 'fixedlist<float32>',
  unit: 'activation',
  meaning: 'post-nonlinearity response of the centre unit of every kept channel of this layer (or the spatial max/mean, category.spatial, for images; a grid of positions × channels with interior noise positions)',
};

const stimulus = { name: 'stimulus', type: 'int32', unit: '', meaning: 'stimulus index in its set (the stimuli table)' } as const;

/** Activations of the grating (and blank) set. */
export const ACTIVATIONS_GRATINGS = defineTable(
  'activations gratings',
  [
    stimulus,
    { name: 'theta_deg', type: 'float64', unit: 'deg', meaning: 'orientation θ of the grating' },
    { name: 'sf_cpp', type: 'float64', unit: 'cycles/px', meaning: 'spatial frequency f of the grating' },
    { name: 'phase_deg', type: 'float64', unit: 'deg', meaning: 'phase φ of the grating' },
  ] as const,
  LAYER_COLUMNS,
);

/** Activations of the natural-image set. */
export const ACTIVATIONS_IMAGES = defineTable(
  'activations images',
  [
    stimulus,
    { name: 'category', type: 'utf8', unit: '', meaning: 'category of the image' },
    { name: 'file', type: 'utf8', unit: '', meaning: 'file relative to stimuli.images.dir' },
  ] as const,
  LAYER_COLUMNS,
);

/** Activations of the noise set. */
export const ACTIVATIONS_NOISE = defineTable('activations noise', [stimulus, { name: 'noise_index', type: 'int32', unit: '', meaning: 'index n of the noise image' }] as const, LAYER_COLUMNS);

/** The analysed layers' columns of an activations table (its dynamic columns). */
export function activationLayers(table: Table): string[] {
  return dynamicColumns(ACTIVATIONS_NOISE, table);
}

/** The grating descriptors of activations tables, typed. */
export function readGratingActivations(table: Table, source = 'activations (gratings)') {
  return readColumns(ACTIVATIONS_GRATINGS, table, source);
}

/** The image descriptors of activations tables, typed. */
export function readImageActivations(table: Table, source = 'activations (images)') {
  return readColumns(ACTIVATIONS_IMAGES, table, source);
}

/** The noise descriptors of activations tables, typed. */
export function readNoiseActivations(table: Table, source = 'activations (noise)') {
  return readColumns(ACTIVATIONS_NOISE, table, source);
}

/** The activations declaration of a stimulus set (the blank shares the gratings' columns). */
export function activationsSpec(set: string) {
  if (set === 'gratings' || set === 'blank') return ACTIVATIONS_GRATINGS;
  if (set === 'images') return ACTIVATIONS_IMAGES;
  if (set === 'noise') return ACTIVATIONS_NOISE;
  throw new Error(`results: no activations declaration for the stimulus set '${set}'`);
}
