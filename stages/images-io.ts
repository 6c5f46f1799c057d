// Natural-image I/O (docs/method.md §3): lists a folder of category folders deterministically and decodes images with
// sharp (EXIF orientation applied, alpha dropped, grey → 3 channels, short side resized, centre crop).
// Every problem a user can cause is an InputError naming the path and the config key stimuli.images.dir.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImagesConfig } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import { centreCropRGB, naturalCompare, shortSideSize } from '../science/images.ts';

/** The config key every image-folder error names. */
export const IMAGES_DIR_KEY = 'stimuli.images.dir';

/** One image file of the set. */
export interface ImageEntry {
  /** Index within the image set (listing order; unreadable files keep their index and are marked excluded). */
  stimulus: number;
  category: string;
  /** Path relative to the image folder, '/'-separated (e.g. 'adult/adult-1.jpg'). */
  file: string;
  /** Absolute path. */
  path: string;
  /** Set when the file cannot even be opened (a broken symbolic link, a link loop, no permission): why it is left out. */
  excluded?: string;
}

/** The listing of an image folder. */
export interface ImageSet {
  dir: string;
  /** Category folder names in natural order. */
  categories: string[];
  /** Category by category, files in natural order, at most perCategory each. */
  entries: ImageEntry[];
  /** Set when the folder is absent and ifMissing is skip: why the set is empty. */
  skipped?: string;
}

/** How images become network input. */
export interface DecodeOptions {
  /** Short side resized to this. */
  resize: number;
  /** Centre crop size (the model input size). */
  size: number;
}

const hidden = (name: string) => name.startsWith('.');

const EXPECTED = 'Expected a folder with one sub-folder of images per category (like ../shared/datasets/floc)';

/** Lists the image set of `stimuli.images` (dir absolute); missing or malformed folders are InputErrors. */
export async function listImageSet(cfg: Pick<ImagesConfig, 'dir' | 'perCategory'> & { ifMissing?: 'error' | 'skip' }): Promise<ImageSet> {
  const dir = cfg.dir;
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (cfg.ifMissing === 'skip') return { dir, categories: [], entries: [], skipped: `folder ${dir} not found (stimuli.images.ifMissing: skip)` };
      throw new InputError(
        `${IMAGES_DIR_KEY}: folder ${dir} not found. ${EXPECTED}; point ${IMAGES_DIR_KEY} at your image set, ` +
          'or set stimuli.images.enabled: false (or stimuli.images.ifMissing: skip) to run without natural images.',
      );
    }
    throw new InputError(`${IMAGES_DIR_KEY}: folder ${dir} cannot be read (${code ?? String(e)}). ${EXPECTED}.`);
  }
  if (!st.isDirectory()) throw new InputError(`${IMAGES_DIR_KEY}: ${dir} is a file, not a folder. ${EXPECTED}.`);
  const top = await listDir(dir);
  const categories: string[] = [];
  let looseFiles = 0;
  for (const d of top) {
    // a broken link or link loop at the top level is neither a category nor an image: counted as a loose entry
    if ((await resolveEntry(dir, d)).stats?.isDirectory()) categories.push(d.name);
    else looseFiles++;
  }
  if (categories.length === 0) {
    throw new InputError(`${IMAGES_DIR_KEY}: ${dir} has no category sub-folders (${looseFiles} file(s) at its top level). ${EXPECTED}.`);
  }
  const entries: ImageEntry[] = [];
  for (const category of categories) {
    const files: { name: string; excluded?: string }[] = [];
    for (const d of await listDir(join(dir, category))) {
      const { stats, reason } = await resolveEntry(join(dir, category), d);
      if (stats?.isFile()) files.push({ name: d.name });
      else if (reason) files.push({ name: d.name, excluded: reason });
    }
    if (files.length === 0) {
      throw new InputError(`${IMAGES_DIR_KEY}: category folder ${join(dir, category)} is empty. Expected at least one image in every category folder (add images or remove the folder).`);
    }
    const kept = cfg.perCategory === 'all' ? files : files.slice(0, cfg.perCategory);
    for (const f of kept) {
      entries.push({ stimulus: entries.length, category, file: `${category}/${f.name}`, path: join(dir, category, f.name), ...(f.excluded ? { excluded: f.excluded } : {}) });
    }
  }
  return { dir, categories, entries };
}

/** A folder's visible entries in natural order, with their types as the folder lists them (no stat per file). */
async function listDir(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((d) => !hidden(d.name)).sort((a, b) => naturalCompare(a.name, b.name));
}

type EntryKind = { stats?: { isFile(): boolean; isDirectory(): boolean }; reason?: string };

/** What a listed entry is: a plain file or folder from the listing itself; a link (or an unknown type) through stat(). */
async function resolveEntry(dir: string, d: Dirent): Promise<EntryKind> {
  if (d.isFile() || d.isDirectory()) return { stats: d };
  return statOrReason(join(dir, d.name));
}

/** stat() of a path, or why it cannot be opened (broken symbolic link, link loop, permission) instead of throwing. */
async function statOrReason(path: string): Promise<{ stats?: Awaited<ReturnType<typeof stat>>; reason?: string }> {
  try {
    return { stats: await stat(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why: Record<string, string> = { ENOENT: 'a broken symbolic link', ELOOP: 'a symbolic link loop', EACCES: 'permission denied' };
    return { reason: `unreadable: ${why[code] ?? code} (${code})` };
  }
}

/** Decodes encoded image bytes to network input: HWC RGB Float32 0–255, size×size. Throws sharp's error if unreadable. */
export async function decodeCategoryImage(bytes: Uint8Array, opts: DecodeOptions): Promise<Float32Array> {
  if (opts.resize < opts.size) throw new RangeError(`resize ${opts.resize} is smaller than the crop ${opts.size}`);
  const { default: sharp } = await import('sharp'); // loaded with the first image, not by commands that decode none
  const meta = await sharp(bytes).metadata();
  const w = meta.autoOrient?.width ?? meta.width;
  const h = meta.autoOrient?.height ?? meta.height;
  if (!w || !h) throw new Error('image has no width/height');
  const target = shortSideSize(w, h, opts.resize);
  const { data, info } = await sharp(bytes)
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(target.width, target.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return centreCropRGB(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.channels, opts.size);
}

/** Reads and decodes one image file; an unreadable file is an InputError naming its path. */
export async function loadCategoryImage(path: string, opts: DecodeOptions): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`${path}: image cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}). Expected an image file under ${IMAGES_DIR_KEY}.`);
  }
  try {
    return await decodeCategoryImage(bytes, opts);
  } catch (e) {
    throw new InputError(`${path}: image cannot be decoded (${firstLine(e)}). Expected an image format sharp reads (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG).`);
  }
}

/** Hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** First line of an error's message. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
