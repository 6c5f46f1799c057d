// The natural-image set (docs/method.md §3): the category folders listed, hashed and checked by the stimuli stage
// (unreadable files kept as excluded rows), re-read and decoded by the activations stage, read out as the centre
// unit or the spatial max/mean (category.spatial). Tested in test/stages/stimuli.test.ts.
import { readFile } from 'node:fs/promises';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../../config/schema.ts';
import { InputError } from '../../pipeline/errors.ts';
import type { StageContext } from '../../pipeline/stage.ts';
import { buildTable } from '../../results/columns.ts';
import { STIMULI_IMAGES } from '../../results/stimuli.ts';
import { countImages, imageRows } from '../activations-images.ts';
import { IMAGES_DIR_KEY, decodeCategoryImage, firstLine, listImageSet, sha256Hex } from '../images-io.ts';
import { centreCanvas, fullImage } from './grating-rows.ts';
import type { StimulusSet } from './types.ts';

/** Images decoded at once (sharp also threads internally). */
const DECODE_CONCURRENCY = 4;

/** Shard params of the image set: the folder and how images become network input. */
export function imagesParams(c: Experiment): Record<string, unknown> {
  const { enabled: _e, ...im } = c.stimuli.images;
  return { set: 'images', ...im, size: c.model.inputSize };
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
      const e = set.entries[next++]!;
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

/** The natural-image set. */
export const imagesSet: StimulusSet = {
  name: 'images',
  enabledKey: 'stimuli.images.enabled',
  enabled: (c) => c.stimuli.images.enabled,
  async stimuliShard(c) {
    const set = await listImageSet(c.stimuli.images); // missing folder (ifMissing: error) fails here, at plan time
    // Image files count by content towards the images shard's key only (replacing a file reruns images, not noise).
    return { id: 'images', params: imagesParams(c), cost: 1 + set.entries.length / 50, inputFiles: set.entries.filter((e) => !e.excluded).map((e) => e.path) };
  },
  stimuliTable: imagesTable,
  count: (c) => countImages(c.stimuli.images),
  networkSide: async (c, canvasSide) => (c.category.spatial === 'centre' ? canvasSide : c.model.inputSize),
  // read at the centre: the centre units' canvas (stages/sets/grating-rows.ts); spatial max/mean: whole images
  layout: async (c, model) => (c.category.spatial === 'centre' ? centreCanvas(model) : fullImage(model, c.category.spatial)),
  rows(table, range, c, layout) {
    const stim = table.getChild('stimulus');
    if (!stim) throw new InputError(`activations: stimuli shard 'images' has no 'stimulus' column.`);
    return imageRows(table, Int32Array.from(stim.toArray() as ArrayLike<number>), range, c.stimuli.images, c.model.inputSize, { x0: layout.x0, y0: layout.y0, size: layout.side });
  },
};
