// Natural images for the activations stage: how many there are at plan time (the stimuli stage's listing), and the
// rows of one range — re-read from disk, checked against the sha256 the stimuli stage recorded, decoded with sharp.
// Tested in test/stages/activations.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import type { ImagesConfig } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import { decodeCategoryImage, IMAGES_DIR_KEY, listImageSet, sha256Hex } from './images-io.ts';

/** Candidate image files of the set (excluded ones included: they keep their stimulus index), or null when skipped. */
export async function countImages(cfg: ImagesConfig): Promise<number | null> {
  const set = await listImageSet(cfg);
  return set.skipped ? null : set.entries.length;
}

/**
 * The readable images with stimulus ∈ [start, end) from the stimuli stage's `images` table, and their pixels: the
 * inputSize² image, or the square `window` of it (the centre units' canvas).
 */
export function imageRows(
  table: Table,
  stimulusColumn: Int32Array,
  range: { start: number; end: number },
  cfg: ImagesConfig,
  inputSize: number,
  window: { x0: number; y0: number; size: number } = { x0: 0, y0: 0, size: inputSize },
): { stimulus: Int32Array; columns: Record<string, string[]>; fill(out: Float32Array, offset: number, row: number): Promise<void> } {
  const col = (name: string) => {
    const c = table.getChild(name);
    if (!c) throw new InputError(`activations: stimuli shard 'images' has no '${name}' column.`);
    return c;
  };
  const category = col('category');
  const file = col('file');
  const sha = col('sha256');
  const excluded = col('excluded');
  const rows: number[] = [];
  for (let r = 0; r < stimulusColumn.length; r++) {
    const s = stimulusColumn[r];
    if (s >= range.start && s < range.end && excluded.get(r) === null) rows.push(r);
  }
  rows.sort((a, b) => stimulusColumn[a] - stimulusColumn[b]);
  const files = rows.map((r) => String(file.get(r)));
  const opts = { resize: cfg.resize, size: inputSize };
  return {
    stimulus: Int32Array.from(rows, (r) => stimulusColumn[r]),
    columns: { category: rows.map((r) => String(category.get(r))), file: files },
    async fill(out, offset, i) {
      const path = join(cfg.dir, files[i]);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (e) {
        throw new InputError(`${IMAGES_DIR_KEY}: image ${path} cannot be read any more (${(e as NodeJS.ErrnoException).code ?? String(e)}). Expected the files the stimuli stage listed; rerun the stimuli stage.`);
      }
      const recorded = String(sha.get(rows[i]));
      if (sha256Hex(bytes) !== recorded) {
        throw new InputError(`${IMAGES_DIR_KEY}: image ${path} changed since the stimuli stage hashed it (sha256 ${recorded.slice(0, 12)}…). Expected the same file; rerun the stimuli stage.`);
      }
      const pixels = await decodeCategoryImage(bytes, opts);
      if (window.size === inputSize) out.set(pixels, offset);
      else {
        // the window (e.g. the centre units' canvas) of the inputSize² image, HWC rows
        const row = window.size * 3;
        for (let y = 0; y < window.size; y++) {
          const from = ((window.y0 + y) * inputSize + window.x0) * 3;
          out.set(pixels.subarray(from, from + row), offset + y * row);
        }
      }
    },
  };
}
