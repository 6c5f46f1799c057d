// Issue 2's bad-input list, end to end through the real CLI and the real stages: each mistake gets one
// message naming the file/key and what was expected, a non-zero exit, no stack trace, and no finished
// checkpoint is lost.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { allFinalizers } from '../../report/finalizers.ts';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { mkdir } from 'node:fs/promises';
import { allStages } from '../../stages/index.ts';
import { writeKerasH5 } from '../../model/keras-h5.ts';
import { vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { cli, REPO } from './helpers.ts';

const SMOKE = join(REPO, 'config', 'smoke.yaml');
let dir: string;
let out: string;
let images: string;
let before: Map<string, string>;

/** sha256 of every Arrow checkpoint under the output directory, by relative path. */
async function checkpoints(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const stage of await readdir(root, { withFileTypes: true })) {
    if (!stage.isDirectory() || stage.name.startsWith('.')) continue;
    for (const f of await readdir(join(root, stage.name))) {
      if (!f.endsWith('.arrow')) continue;
      const bytes = await readFile(join(root, stage.name, f));
      found.set(`${stage.name}/${f}`, createHash('sha256').update(bytes).digest('hex'));
    }
  }
  return found;
}

/** Runs the real CLI on the smoke experiment with extra arguments. */
function run(...args: string[]) {
  return cli(['run', ...args, '--out', out, '--quiet', '--set', `stimuli.images.dir=${images}`], allStages);
}

/** Asserts a user error: non-zero exit, one message, no stack trace. */
function expectUserError(r: { code: number; stderr: string }, ...fragments: (string | RegExp)[]): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  expect(r.stderr).not.toContain('unexpected error');
  for (const f of fragments) expect(r.stderr).toMatch(f);
}

beforeAll(async () => {
  dir = await tempDir('revcor-bad-');
  out = join(dir, 'out');
  images = join(dir, 'images');
  for (const cat of ['faces', 'houses']) {
    await mkdir(join(images, cat), { recursive: true });
    for (let i = 0; i < 2; i++) {
      const shade = cat === 'faces' ? 40 + i * 30 : 160 + i * 30;
      await sharp({ create: { width: 80, height: 70, channels: 3, background: { r: shade, g: shade, b: shade } } })
        .png()
        .toFile(join(images, cat, `${cat}-${i}.png`));
    }
  }
  const first = await run(SMOKE);
  expect(first.code, first.stderr).toBe(0);
  before = await checkpoints(out);
  expect(before.size).toBeGreaterThan(10);
}, 120_000);
afterAll(() => cleanup(dir));

describe('bad input through the real CLI never costs a finished checkpoint', () => {
  it('malformed YAML: file:line:column', async () => {
    const bad = join(dir, 'malformed.yaml');
    await writeFile(bad, `extends: ${SMOKE}\nstimuli:\n  noise: { count: 10\n`);
    expectUserError(await run(bad), /malformed\.yaml:\d+:\d+/);
  });

  it('an unknown key: a suggestion', async () => {
    const bad = join(dir, 'unknown.yaml');
    await writeFile(bad, `extends: ${SMOKE}\nstimuli:\n  noise:\n    cont: 10\n`);
    expectUserError(await run(bad), /unknown\.yaml:4:5/, /stimuli\.noise\.count/);
  });

  it('a negative count: the key path and what was expected', async () => {
    expectUserError(await run(SMOKE, '--set', 'stimuli.noise.count=-5'), /stimuli\.noise\.count/, /Expected/);
  });

  it('a missing weights file: the file and the key', async () => {
    const missing = join(dir, 'nowhere', 'vgg16.h5');
    expectUserError(await run(SMOKE, '--set', `model.weights=${missing}`), new RegExp(missing.replace(/[.]/g, '\\.')));
  });

  it('a weights file that is not HDF5: the file', async () => {
    const junk = join(dir, 'junk.h5');
    await writeFile(junk, 'this is not an HDF5 file\n');
    expectUserError(await run(SMOKE, '--set', `model.weights=${junk}`), /junk\.h5/);
  });

  it('a truncated .h5 (a partial download): one line naming the file and the truncation, no HDF5 trace', async () => {
    const full = join(dir, 'vgg16-full.h5');
    const net = vggNetwork('vgg16');
    await writeKerasH5(full, net, seededWeights(net, 3));
    const bytes = await readFile(full);
    const cut = join(dir, 'vgg16-cut.h5');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    const printed: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    let r;
    try {
      r = await run(SMOKE, '--set', `model.weights=${cut}`);
    } finally {
      spy.mockRestore();
    }
    expectUserError(r, /vgg16-cut\.h5 could not be opened as HDF5: truncated file \([\d,]+ of [\d,]+ bytes\)/);
    expect(r.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2); // the error and the resume hint
    expect(printed.join('')).not.toContain('HDF5-DIAG');
  });

  it('weights holding NaN: refused, naming the layer', async () => {
    const net = vggNetwork('vgg16');
    const weights = seededWeights(net, 3);
    weights.layers.get('block2_conv1')!.kernel[17] = NaN;
    const file = join(dir, 'vgg16-nan.h5');
    await writeKerasH5(file, net, weights);
    expectUserError(await run(SMOKE, '--set', `model.weights=${file}`), /layer 'block2_conv1' kernel holds 1 non-finite value \(first: NaN\)\. Expected finite weights in every layer\./);
  });

  it('a broken symbolic link and a link loop in the image folder: excluded with a warning, listed in report.html', async () => {
    const linked = join(dir, 'images-links');
    await cp(images, linked, { recursive: true });
    await symlink(join(dir, 'nowhere.png'), join(linked, 'faces', 'faces-2.png'));
    await symlink(join(linked, 'houses', 'loop-b.png'), join(linked, 'houses', 'loop-a.png'));
    await symlink(join(linked, 'houses', 'loop-a.png'), join(linked, 'houses', 'loop-b.png'));
    const out2 = join(dir, 'out-links');
    const r = await cli(['run', SMOKE, '--out', out2, '--set', `stimuli.images.dir=${linked}`, '--set', 'stimuli.noise.enabled=false', '--set', 'stimuli.gratings.enabled=false', '--set', 'stimuli.images.perCategory=all'], allStages, allFinalizers);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING stimuli: excluded .*faces-2\.png: unreadable: a broken symbolic link \(ENOENT\)/);
    expect(r.stderr).toMatch(/WARNING stimuli: excluded .*loop-a\.png: unreadable: a symbolic link loop \(ELOOP\)/);
    const t = tableFromIPC(await readFile(join(out2, 'stimuli', 'images.arrow')));
    const why = new Map([...t.getChild('file')!].map((f, i) => [String(f), t.getChild('excluded')!.get(i) as string | null]));
    expect(why.get('faces/faces-2.png')).toBe('unreadable: a broken symbolic link (ENOENT)');
    expect(why.get('houses/loop-b.png')).toBe('unreadable: a symbolic link loop (ELOOP)');
    expect(why.get('faces/faces-0.png')).toBeNull();
    const html = await readFile(join(out2, 'report.html'), 'utf8');
    expect(html).toMatch(/3 images were excluded from the image set: faces\/faces-2\.png \(unreadable: a broken symbolic link \(ENOENT\)\); houses\/loop-a\.png/);
  });

  it('absurd sizes are refused by validate and run before anything is computed, with the estimate', async () => {
    const huge = await cli(['validate', SMOKE, '--set', 'stimuli.noise.count=1000000000000'], allStages);
    expectUserError(huge, /^error: This experiment plans [\d,]+ shards, mostly activations: expected at most 1,000,000/);
    const wide = join(dir, 'wide');
    const big = await cli(['run', SMOKE, '--out', wide, '--set', 'model.inputSize=3000', '--set', 'stimuli.images.resize=3000'], allStages);
    expectUserError(big, /needs about [\d.]+ [GT]B of memory for one shard of activations \(16 × 3000-px (gratings|images) images per forward pass\): expected at most the [\d.]+ GB this machine has/);
    expect(existsSync(wide)).toBe(false); // nothing written
    const ok = await cli(['validate', SMOKE], allStages);
    expect(ok.stdout).toMatch(/Estimated needs: ≈ \d+ shards, [\d.]+ kB of checkpoints, [\d.]+ [MG]B peak memory per shard/);
  });

  it('a missing image folder when images are required: the folder and stimuli.images.dir', async () => {
    const r = await cli(
      ['run', SMOKE, '--out', out, '--quiet', '--set', `stimuli.images.dir=${join(dir, 'no-images')}`, '--set', 'stimuli.images.ifMissing=error'],
      allStages,
    );
    expectUserError(r, /no-images/, /stimuli\.images\.dir/);
  });

  it('a corrupt checkpoint is recomputed; every other checkpoint stays as it was', async () => {
    const victim = [...before.keys()].find((k) => k.startsWith('activations/noise-'))!;
    const path = join(out, victim);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(path, bytes);
    const r = await run(SMOKE);
    expect(r.code, r.stderr).toBe(0);
    expect(await checkpoints(out)).toEqual(before);
  });

  it('after all of the above the finished checkpoints are intact and the rerun has nothing to do', async () => {
    expect(await checkpoints(out)).toEqual(before);
    const r = await cli(['run', SMOKE, '--out', out, '--set', `stimuli.images.dir=${images}`], allStages);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Nothing to do');
  });
});
