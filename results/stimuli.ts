// The stimuli stage's outputs (docs/method.md §2–4): one table per stimulus set, every column declared once. The
// stimulus-set registry (stages/sets/) builds them; the activations stage reads them through readStimuli.
// Tested in test/stages/stimuli.test.ts.
import type { Table } from 'apache-arrow';
import { defineTable, readColumns } from './columns.ts';

/** Gratings: one row per grating, stimulus = (iθ·nF + iF)·nΦ + iΦ. */
export const STIMULI_GRATINGS = defineTable('stimuli gratings', [
  { name: 'stimulus', type: 'int32', unit: '', meaning: 'stimulus index = (iθ·nF + iF)·nΦ + iΦ' },
  { name: 'theta_deg', type: 'float64', unit: 'deg', meaning: 'orientation θ, wave-vector direction (bars lie at θ + 90°)' },
  { name: 'sf_cpp', type: 'float64', unit: 'cycles/px', meaning: 'spatial frequency f' },
  { name: 'phase_deg', type: 'float64', unit: 'deg', meaning: 'phase φ' },
] as const);

/** The blank: one uniform mid-grey image, a grating of contrast 0 (the V1 comparison's baseline). */
export const STIMULI_BLANK = defineTable('stimuli blank', STIMULI_GRATINGS.columns);

/** Natural images: one row per candidate image file. */
export const STIMULI_IMAGES = defineTable('stimuli images', [
  { name: 'stimulus', type: 'int32', unit: '', meaning: 'stimulus index (file order within the set)' },
  { name: 'category', type: 'utf8', unit: '', meaning: 'category (sub-folder name)' },
  { name: 'file', type: 'utf8', unit: '', meaning: 'file relative to stimuli.images.dir' },
  { name: 'sha256', type: 'utf8', unit: '', meaning: "sha256 of the file's bytes ('' when unreadable)" },
  { name: 'excluded', type: 'utf8', unit: '', meaning: 'null, or why the image is left out (unreadable, broken link)', nullable: true },
] as const);

/** White noise: one row per noise image; pixels are regenerated from (seed, noise_index). */
export const STIMULI_NOISE = defineTable('stimuli noise', [
  { name: 'stimulus', type: 'int32', unit: '', meaning: 'stimulus index' },
  { name: 'noise_index', type: 'int32', unit: '', meaning: 'index n of the noise image: its pixels are a function of (stimuli.noise.seed, n)' },
] as const);

/** A stimuli table's columns, typed (gratings and blank). */
export function readGratingStimuli(table: Table, source = 'stimuli gratings') {
  return readColumns(STIMULI_GRATINGS, table, source);
}

/** A stimuli table's columns, typed (images). */
export function readImageStimuli(table: Table, source = 'stimuli images') {
  return readColumns(STIMULI_IMAGES, table, source);
}

/** A stimuli table's columns, typed (noise). */
export function readNoiseStimuli(table: Table, source = 'stimuli noise') {
  return readColumns(STIMULI_NOISE, table, source);
}
