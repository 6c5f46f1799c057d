// Image folder listing and decoding with sharp, on folders generated at test time (and fLoc where present).
import { requireOrSkip } from '../fixtures/require.ts';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../pipeline/errors.ts';
import { decodeCategoryImage, listImageSet, loadCategoryImage } from '../../stages/images-io.ts';
import { encodeImage, rampPixels, uniformPixels, writeImageFolder } from '../fixtures/image-folder.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const floc = resolve(repoRoot, '../shared/datasets/floc');
const hasFloc = existsSync(floc);
requireOrSkip('shared', hasFloc, `fLoc image tests: ${floc} is absent`);

let root: string;
let imgs: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'revcor-images-'));
  imgs = join(root, 'set');
  await writeImageFolder(imgs);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function inputErrorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('listImageSet', () => {
  it('lists categories and files in natural order, skipping hidden and loose files', async () => {
    const set = await listImageSet({ dir: imgs, perCategory: 'all' });
    expect(set.categories).toEqual(['animals', 'faces']);
    expect(set.entries.map((e) => e.file)).toEqual([
      'animals/img-1.png',
      'animals/img-2.png',
      'animals/img-10.png',
      'faces/a-grey.jpg',
      'faces/b-broken.jpg',
      'faces/c-alpha.png',
    ]);
    expect(set.entries.map((e) => e.stimulus)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(set.entries[4]).toMatchObject({ category: 'faces', path: join(imgs, 'faces/b-broken.jpg') });
    const two = await listImageSet({ dir: imgs, perCategory: 2 });
    expect(two.entries.map((e) => e.file)).toEqual(['animals/img-1.png', 'animals/img-2.png', 'faces/a-grey.jpg', 'faces/b-broken.jpg']);
  });

  it('follows symbolic links to images and to category folders; a broken link is listed as excluded, a nested folder is not an image', async () => {
    const linked = join(root, 'linked');
    await mkdir(join(linked, 'own', 'nested'), { recursive: true });
    await symlink(join(imgs, 'animals'), join(linked, 'animals')); // a linked category folder
    await symlink(join(imgs, 'faces', 'a-grey.jpg'), join(linked, 'own', 'x-1.jpg')); // a linked image
    await symlink(join(root, 'nowhere.png'), join(linked, 'own', 'x-2.png'));
    await writeFile(join(linked, 'own', 'x-3.png'), 'not decoded by the listing');
    const set = await listImageSet({ dir: linked, perCategory: 'all' });
    expect(set.categories).toEqual(['animals', 'own']);
    expect(set.entries.map((e) => [e.file, e.excluded ?? ''])).toEqual([
      ['animals/img-1.png', ''],
      ['animals/img-2.png', ''],
      ['animals/img-10.png', ''],
      ['own/x-1.jpg', ''],
      ['own/x-2.png', 'unreadable: a broken symbolic link (ENOENT)'],
      ['own/x-3.png', ''],
    ]);
  });

  it('a missing folder is an InputError naming the key and the path, or an explicit skip', async () => {
    const missing = join(root, 'nope');
    const msg = await inputErrorOf(listImageSet({ dir: missing, perCategory: 'all' }));
    expect(msg).toContain('stimuli.images.dir');
    expect(msg).toContain(missing);
    expect(msg).toContain('Expected a folder with one sub-folder of images per category');
    const skipped = await listImageSet({ dir: missing, perCategory: 'all', ifMissing: 'skip' });
    expect(skipped.entries).toEqual([]);
    expect(skipped.skipped).toContain(missing);
  });

  it('a file, a folder without category folders and an empty category are InputErrors', async () => {
    const file = join(root, 'file.txt');
    await writeFile(file, 'x');
    expect(await inputErrorOf(listImageSet({ dir: file, perCategory: 'all' }))).toMatch(/stimuli\.images\.dir: .*file\.txt is a file, not a folder/);
    const flat = join(root, 'flat');
    await mkdir(flat);
    await writeFile(join(flat, 'a.png'), await encodeImage(uniformPixels(4, 4, [1, 2, 3]), 4, 4, 3, 'png'));
    expect(await inputErrorOf(listImageSet({ dir: flat, perCategory: 'all' }))).toMatch(/stimuli\.images\.dir: .*flat has no category sub-folders \(1 file/);
    const withEmpty = join(root, 'with-empty');
    await mkdir(join(withEmpty, 'full'), { recursive: true });
    await mkdir(join(withEmpty, 'empty'), { recursive: true });
    await writeFile(join(withEmpty, 'full', 'a.png'), await encodeImage(uniformPixels(4, 4, [1, 2, 3]), 4, 4, 3, 'png'));
    await writeFile(join(withEmpty, 'empty', '.hidden'), 'x');
    expect(await inputErrorOf(listImageSet({ dir: withEmpty, perCategory: 'all' }))).toMatch(/stimuli\.images\.dir: category folder .*with-empty\/empty is empty/);
  });
});

describe('decoding', () => {
  it('no resize needed: exact pixels of the centre crop', async () => {
    const png = await encodeImage(rampPixels(40, 20), 40, 20, 3, 'png');
    const out = await decodeCategoryImage(png, { resize: 20, size: 20 });
    expect(out.length).toBe(20 * 20 * 3);
    for (const [c, r] of [[0, 0], [7, 3], [19, 19]]) {
      const i = (r * 20 + c) * 3;
      expect([out[i], out[i + 1], out[i + 2]]).toEqual([5 * (10 + c), 10 * r, 100]);
    }
  });

  it('resizes the short side then centre-crops (geometry by a black|white edge)', async () => {
    const W = 64;
    const H = 32;
    const p = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 32; x < W; x++) p.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const out = await decodeCategoryImage(await encodeImage(p, W, H, 3, 'png'), { resize: 16, size: 16 });
    // 64×32 → 32×16; crop columns 8..23; the edge at resized column 16 lands at crop column 8.
    const at = (c: number, r: number) => out[(r * 16 + c) * 3];
    expect(at(2, 8)).toBeLessThan(20);
    expect(at(6, 8)).toBeLessThan(40);
    expect(at(9, 8)).toBeGreaterThan(215);
    expect(at(14, 8)).toBeGreaterThan(235);
    // The crop is smaller than the resized image: resize must not be below the crop.
    await expect(decodeCategoryImage(await encodeImage(p, W, H, 3, 'png'), { resize: 8, size: 16 })).rejects.toThrow(/smaller than the crop/);
  });

  it('grey images become R = G = B; alpha is dropped', async () => {
    const grey = await decodeCategoryImage(await encodeImage(uniformPixels(30, 30, [90]), 30, 30, 1, 'jpeg'), { resize: 30, size: 24 });
    for (let i = 0; i < grey.length; i += 3) {
      expect(grey[i + 1]).toBe(grey[i]);
      expect(grey[i + 2]).toBe(grey[i]);
    }
    expect(Math.abs(grey[0] - 90)).toBeLessThanOrEqual(2);
    const greyPng = await decodeCategoryImage(await encodeImage(uniformPixels(8, 8, [77]), 8, 8, 1, 'png'), { resize: 8, size: 8 });
    expect([...greyPng.subarray(0, 6)]).toEqual([77, 77, 77, 77, 77, 77]);
    const rgba = await decodeCategoryImage(await encodeImage(uniformPixels(8, 8, [10, 20, 30, 128]), 8, 8, 4, 'png'), { resize: 8, size: 8 });
    expect(rgba.length).toBe(8 * 8 * 3);
    expect([...rgba.subarray(0, 3)]).toEqual([10, 20, 30]);
  });

  it('an unreadable file is an InputError naming its path', async () => {
    const bad = join(imgs, 'faces/b-broken.jpg');
    const msg = await inputErrorOf(loadCategoryImage(bad, { resize: 16, size: 16 }));
    expect(msg).toContain(bad);
    expect(msg).toContain('cannot be decoded');
    expect(await inputErrorOf(loadCategoryImage(join(imgs, 'gone.png'), { resize: 16, size: 16 }))).toContain('cannot be read (ENOENT)');
  });
});

describe.skipIf(!hasFloc)('fLoc (../shared/datasets/floc)', () => {
  it('lists 11 categories × 144 images and decodes one to 224×224 grey RGB', async () => {
    const set = await listImageSet({ dir: floc, perCategory: 'all' });
    expect(set.categories.length).toBe(11);
    expect(set.entries.length).toBe(11 * 144);
    expect(set.entries.slice(0, 3).map((e) => e.file)).toEqual(['adult/adult-1.jpg', 'adult/adult-2.jpg', 'adult/adult-3.jpg']);
    const img = await loadCategoryImage(set.entries[0].path, { resize: 256, size: 224 });
    expect(img.length).toBe(224 * 224 * 3);
    let maxDiff = 0;
    let min = 255;
    let max = 0;
    for (let i = 0; i < img.length; i += 3) {
      maxDiff = Math.max(maxDiff, Math.abs(img[i] - img[i + 1]), Math.abs(img[i] - img[i + 2]));
      min = Math.min(min, img[i]);
      max = Math.max(max, img[i]);
    }
    expect(maxDiff).toBeLessThanOrEqual(2); // grey-scale JPEGs stored with 3 components
    expect(max - min).toBeGreaterThan(50); // a real picture, not a blank
  });
});
