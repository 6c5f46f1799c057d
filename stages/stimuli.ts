// The stimuli stage (docs/method.md §2–4): descriptor tables for the grating, natural-image and noise sets (and, with
// v1.enabled, the blank: one uniform mid-grey image). Pixels are
// not stored: gratings and noise are regenerated from these descriptors (science/gratings.ts, science/noise.ts),
// images are re-decoded from their files (stages/images-io.ts) and checked against the recorded sha256.
//
// One shard per enabled set, id = set name; each shard's params carry its own config sub-slice (configSlice is
// empty), so changing the noise seed reruns only the noise shard and what reads it.
import { estimateStimuli } from './estimate.ts';
import type { Table } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import type { Experiment, NoiseConfig } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { gratingAxes, gratingList } from '../science/gratings.ts';
import { noiseMoments } from '../science/noise.ts';
import { IMAGES_DIR_KEY, decodeCategoryImage, firstLine, listImageSet, sha256Hex } from './images-io.ts';
import { noiseImageCount, noiseKeyParams } from './noise-plan.ts';
import { buildTable } from '../results/columns.ts';
import { STIMULI_BLANK, STIMULI_GRATINGS, STIMULI_IMAGES, STIMULI_NOISE } from '../results/stimuli.ts';

/** Bump when a stimuli table changes for the same config. */
export const STIMULI_VERSION = '1';

/** Images decoded at once (sharp also threads internally). */
const DECODE_CONCURRENCY = 4;

/** Shard params of the grating set. */
export function gratingsParams(c: Experiment): Record<string, unknown> {
  const { enabled: _e, ...g } = c.stimuli.gratings;
  return { set: 'gratings', ...g };
}

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
    {
      stimulus: Int32Array.of(0),
      theta_deg: Float64Array.of(0),
      sf_cpp: Float64Array.of(0),
      phase_deg: Float64Array.of(0),
    },
    { set: 'blank', contrast: '0', formula: 'L(x,y) = 127.5, R=G=B: the grating formula with C = 0 (the blank of the V1 comparison)' },
  );
}

/** Shard params of the image set: the folder and how images become network input. */
export function imagesParams(c: Experiment): Record<string, unknown> {
  const { enabled: _e, ...im } = c.stimuli.images;
  return { set: 'images', ...im, size: c.model.inputSize };
}

/** Shard params of the noise set (`images`: the noise images of interior sampling, which the model decides). */
export function noiseParams(c: Experiment, images?: number): Record<string, unknown> {
  const { enabled: _e, ...n } = c.stimuli.noise;
  return { set: 'noise', ...noiseKeyParams(n as NoiseConfig), ...(n.positions === 'interior' ? { images } : {}) };
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

/** One row of the image table. */
interface ImageRow {
  stimulus: number;
  category: string;
  file: string;
  sha256: string;
  excluded: string | null;
}

/** Lists, hashes and decodes every image; unreadable files are kept as rows with an `excluded` reason. */
export async function imagesTable(c: Experiment, ctx: Pick<StageContext<Experiment>, 'signal' | 'progress' | 'log'>): Promise<Table> {
  const im = c.stimuli.images;
  const set = await listImageSet(im);
  const opts = { resize: im.resize, size: c.model.inputSize };
  const rows: ImageRow[] = new Array(set.entries.length);
  if (set.skipped) {
    ctx.log(`WARNING ${IMAGES_DIR_KEY}: ${set.skipped}; this run has NO natural images (category selectivity is skipped).`);
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < set.entries.length) {
      ctx.signal.throwIfAborted();
      const e = set.entries[next++];
      let sha = '';
      let excluded: string | null = e.excluded ?? null;
      if (excluded === null) {
        try {
          const bytes = await readFile(e.path);
          sha = sha256Hex(bytes);
          await decodeCategoryImage(bytes, opts);
        } catch (err) {
          excluded = `unreadable: ${firstLine(err)}`;
        }
      }
      if (excluded !== null) ctx.log(`WARNING stimuli: excluded ${e.path}: ${excluded}`);
      rows[e.stimulus] = { stimulus: e.stimulus, category: e.category, file: e.file, sha256: sha, excluded };
      ctx.progress(++done / set.entries.length);
    }
  };
  await Promise.all(Array.from({ length: DECODE_CONCURRENCY }, worker));
  for (const cat of set.categories) {
    if (!rows.some((r) => r.category === cat && r.excluded === null)) {
      throw new InputError(`${IMAGES_DIR_KEY}: every image of category folder ${set.dir}/${cat} is unreadable. Expected at least one readable image per category.`);
    }
  }
  const excludedCount = rows.filter((r) => r.excluded !== null).length;
  return buildTable(
    STIMULI_IMAGES,
    {
      stimulus: Int32Array.from(rows, (r) => r.stimulus),
      category: rows.map((r) => r.category),
      file: rows.map((r) => r.file),
      sha256: rows.map((r) => r.sha256),
      excluded: rows.map((r) => r.excluded),
    },
    {
      set: 'images',
      dir: set.dir,
      resize: String(im.resize),
      size: String(opts.size),
      per_category: String(im.perCategory),
      categories: JSON.stringify(set.categories),
      images: String(rows.length - excludedCount),
      excluded: String(excludedCount),
      ...(set.skipped ? { skipped: set.skipped } : {}),
      decode: 'sharp: EXIF orientation, alpha dropped, grey replicated to RGB, short side resized (lanczos3) to resize, centre crop size×size',
    },
  );
}

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
    const c = ctx.config;
    const shards: Shard[] = [];
    if (c.stimuli.gratings.enabled) shards.push({ id: 'gratings', params: gratingsParams(c), cost: 1 });
    if (blankEnabled(c)) shards.push({ id: 'blank', params: blankParams(), cost: 1 });
    if (c.stimuli.images.enabled) {
      const set = await listImageSet(c.stimuli.images); // missing folder (ifMissing: error) fails here, at plan time
      // Image files count by content towards the images shard's key only (replacing a file reruns images, not noise).
      shards.push({ id: 'images', params: imagesParams(c), cost: 1 + set.entries.length / 50, inputFiles: set.entries.filter((e) => !e.excluded).map((e) => e.path) });
    }
    if (c.stimuli.noise.enabled) shards.push({ id: 'noise', params: noiseParams(c, await noiseImageCount(c)), cost: 1 });
    return shards;
  },
  async run(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
    const c = ctx.config;
    switch (shard.id) {
      case 'gratings':
        return gratingsTable(c.stimuli.gratings);
      case 'blank':
        return blankTable();
      case 'noise':
        return noiseTable(c.stimuli.noise, await noiseImageCount(c));
      case 'images':
        return imagesTable(c, ctx);
      default:
        throw new Error(`stimuli: unknown shard ${shard.id}`);
    }
  },
};
