// The stimuli stage run directly with an in-memory StageContext: shard plan and params, the three tables,
// unreadable images recorded with a reason, a missing image folder (error or explicit skip), and fLoc; every set's
// table checked by value (each declared column against science/ and the image folder written).
import { requireOrSkip } from '../fixtures/require.ts';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentSchema, type Experiment } from '../../config/schema.ts';
import { InputError } from '../../pipeline/errors.ts';
import type { StageContext } from '../../pipeline/stage.ts';
import { gratingList } from '../../science/gratings.ts';
import { noiseMoments } from '../../science/noise.ts';
import { stimuliStage } from '../../stages/stimuli.ts';
import { writeImageFolder } from '../fixtures/image-folder.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const floc = resolve(repoRoot, '../shared/datasets/floc');
const hasFloc = existsSync(floc);
requireOrSkip('shared', hasFloc, `stimuli stage on fLoc: ${floc} is absent`);

let root: string;
let imgs: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'revcor-stimuli-'));
  imgs = join(root, 'set');
  await writeImageFolder(imgs);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An experiment with absolute paths, as the loader returns it. */
function experiment(over: Record<string, unknown> = {}): Experiment {
  const base = { model: { inputSize: 16 }, stimuli: { images: { dir: imgs, resize: 16 }, noise: { count: 300 } } };
  return ExperimentSchema.parse(merge(base, over));
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b || Array.isArray(a) || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}

/** A StageContext without engine: no upstream, no pool, logs collected. */
function context(config: Experiment, logs: string[] = [], progress: number[] = []): StageContext<Experiment> {
  return {
    config,
    configDir: root,
    upstream: (s) => {
      throw new Error(`no upstream ${s}`);
    },
    pool: { size: 1, run: () => Promise.reject(new Error('no pool')) },
    threads: 1,
    signal: new AbortController().signal,
    progress: (f) => progress.push(f),
    log: (m) => logs.push(m),
  };
}

async function runShard(config: Experiment, id: string, logs: string[] = [], progress: number[] = []): Promise<Table> {
  const shards = await stimuliStage.plan({ config, configDir: root });
  const shard = shards.find((s) => s.id === id);
  if (!shard) throw new Error(`no shard ${id}`);
  return stimuliStage.run(shard, context(config, logs, progress));
}

const col = (t: Table, name: string) => Array.from(t.getChild(name)!.toArray() as ArrayLike<unknown>);
const meta = (t: Table) => Object.fromEntries(t.schema.metadata);

describe('plan', () => {
  it('one shard per enabled set; each carries its own sub-config so a noise seed change touches only noise', async () => {
    const a = await stimuliStage.plan({ config: experiment(), configDir: root });
    expect(a.map((s) => s.id)).toEqual(['gratings', 'images', 'noise']);
    expect(stimuliStage.configSlice(experiment())).toEqual({});
    expect(stimuliStage.upstream).toEqual([]);
    const b = await stimuliStage.plan({ config: experiment({ stimuli: { noise: { seed: 99 } } }), configDir: root });
    for (const id of ['gratings', 'images']) expect(b.find((s) => s.id === id)!.params).toEqual(a.find((s) => s.id === id)!.params);
    expect(b.find((s) => s.id === 'noise')!.params).not.toEqual(a.find((s) => s.id === 'noise')!.params);
    expect(a.find((s) => s.id === 'noise')!.params).toMatchObject({ set: 'noise', count: 300, seed: 1, sigma: 48, color: 'grey', check: 1 });
    expect(a.find((s) => s.id === 'images')!.params).toMatchObject({ set: 'images', dir: imgs, resize: 16, size: 16 });
    // The crop size is the model input size: changing it reruns images only.
    const c = await stimuliStage.plan({ config: experiment({ model: { inputSize: 12 } }), configDir: root });
    expect(c.find((s) => s.id === 'images')!.params).not.toEqual(a.find((s) => s.id === 'images')!.params);
    expect(c.find((s) => s.id === 'gratings')!.params).toEqual(a.find((s) => s.id === 'gratings')!.params);
    for (const s of a) expect(s.id).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('disabled sets plan no shard; the images shard (only) has the listed image files as inputs', async () => {
    const off = experiment({ stimuli: { gratings: { enabled: false }, images: { enabled: false } } });
    expect((await stimuliStage.plan({ config: off, configDir: root })).map((s) => s.id)).toEqual(['noise']);
    const shards = await stimuliStage.plan({ config: experiment(), configDir: root });
    const files = shards.find((s) => s.id === 'images')!.inputFiles!;
    expect(files.length).toBe(6);
    expect(files[0]).toBe(join(imgs, 'animals/img-1.png'));
    expect(files).toContain(join(imgs, 'faces/b-broken.jpg'));
    expect(shards.find((s) => s.id === 'noise')!.inputFiles).toBeUndefined();
    expect(stimuliStage.inputFiles).toBeUndefined();
  });

  it('a missing image folder fails planning with the key named, unless ifMissing: skip', async () => {
    const missing = experiment({ stimuli: { images: { dir: join(root, 'absent') } } });
    await expect(stimuliStage.plan({ config: missing, configDir: root })).rejects.toThrow(InputError);
    await expect(stimuliStage.plan({ config: missing, configDir: root })).rejects.toThrow(/stimuli\.images\.dir: folder .*absent not found/);
  });
});

describe('tables', () => {
  it('gratings: the documented order and columns', async () => {
    const t = await runShard(experiment(), 'gratings');
    expect(t.numRows).toBe(1344);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['stimulus', 'theta_deg', 'sf_cpp', 'phase_deg']);
    const list = gratingList(experiment().stimuli.gratings);
    const theta = col(t, 'theta_deg');
    const sf = col(t, 'sf_cpp');
    const ph = col(t, 'phase_deg');
    const st = col(t, 'stimulus');
    for (const i of [0, 1, 111, 590, 1343]) {
      expect([st[i], theta[i], sf[i], ph[i]]).toEqual([i, list[i].thetaDeg, list[i].sfCpp, list[i].phaseDeg]);
    }
    expect(meta(t)).toMatchObject({ set: 'gratings', contrast: '1', orientations: '12', frequencies: '14', phases: '8' });
  });

  it('noise: indices 0..N-1 and the generator parameters in the metadata', async () => {
    const t = await runShard(experiment({ stimuli: { noise: { seed: 5, color: 'rgb', check: 2 } } }), 'noise');
    expect(t.numRows).toBe(300);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['stimulus', 'noise_index']);
    expect(col(t, 'noise_index')).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const m = meta(t);
    expect(m).toMatchObject({ set: 'noise', seed: '5', sigma: '48', color: 'rgb', check: '2', count: '300' });
    expect(Number(m.expected_sd)).toBeCloseTo(noiseMoments({ sigma: 48 }).sd, 10);
  });

  it('images: one row per listed file with sha256; the corrupt file is excluded with a reason', async () => {
    const logs: string[] = [];
    const progress: number[] = [];
    const t = await runShard(experiment(), 'images', logs, progress);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['stimulus', 'category', 'file', 'sha256', 'excluded']);
    expect(t.numRows).toBe(6);
    const files = col(t, 'file') as string[];
    const excluded = [...col(t, 'excluded')] as (string | null)[];
    const shas = [...col(t, 'sha256')] as string[];
    expect([...files]).toEqual(['animals/img-1.png', 'animals/img-2.png', 'animals/img-10.png', 'faces/a-grey.jpg', 'faces/b-broken.jpg', 'faces/c-alpha.png']);
    expect([...(col(t, 'category') as string[])]).toEqual(['animals', 'animals', 'animals', 'faces', 'faces', 'faces']);
    expect(excluded.map((e) => e === null)).toEqual([true, true, true, true, false, true]);
    expect(excluded[4]).toMatch(/^unreadable: /);
    for (let i = 0; i < 6; i++) {
      expect(shas[i]).toBe(createHash('sha256').update(await readFile(join(imgs, files[i]))).digest('hex'));
    }
    expect(logs.some((l) => l.includes(join(imgs, 'faces/b-broken.jpg')))).toBe(true);
    expect(progress[progress.length - 1]).toBe(1);
    expect(meta(t)).toMatchObject({ set: 'images', dir: imgs, resize: '16', size: '16', images: '5', excluded: '1', categories: '["animals","faces"]' });
    // perCategory limits each category to its first files in natural order.
    const two = await runShard(experiment({ stimuli: { images: { perCategory: 2 } } }), 'images');
    expect([...(col(two, 'file') as string[])]).toEqual(['animals/img-1.png', 'animals/img-2.png', 'faces/a-grey.jpg', 'faces/b-broken.jpg']);
  });

  it('a category with no readable image is an InputError naming the folder', async () => {
    const dir = join(root, 'all-bad');
    await mkdir(join(dir, 'good'), { recursive: true });
    await mkdir(join(dir, 'bad'), { recursive: true });
    await writeFile(join(dir, 'bad', 'x.jpg'), 'not an image');
    await writeFile(join(dir, 'good', 'y.jpg'), await readFile(join(imgs, 'faces/a-grey.jpg')));
    const run = runShard(experiment({ stimuli: { images: { dir } } }), 'images');
    await expect(run).rejects.toThrow(InputError);
    await expect(runShard(experiment({ stimuli: { images: { dir } } }), 'images')).rejects.toThrow(/stimuli\.images\.dir: every image of category folder .*all-bad\/bad is unreadable/);
  });

  it('ifMissing: skip gives an empty images table that records why, and a loud log line', async () => {
    const logs: string[] = [];
    const absent = join(root, 'absent');
    const t = await runShard(experiment({ stimuli: { images: { dir: absent, ifMissing: 'skip' } } }), 'images', logs);
    expect(t.numRows).toBe(0);
    expect(meta(t).skipped).toContain(absent);
    expect(logs.join('\n')).toMatch(/WARNING stimuli\.images\.dir: folder .*absent not found .*NO natural images/);
  });

  it('stops when the run is aborted', async () => {
    const config = experiment();
    const shard = (await stimuliStage.plan({ config, configDir: root })).find((s) => s.id === 'images')!;
    const ac = new AbortController();
    ac.abort(new Error('interrupted'));
    await expect(stimuliStage.run(shard, { ...context(config), signal: ac.signal })).rejects.toThrow('interrupted');
  });
});

describe.skipIf(!hasFloc)('on fLoc (../shared/datasets/floc)', () => {
  it('3 images per category: 33 readable images, 11 categories, nothing excluded', async () => {
    const config = experiment({ model: { inputSize: 224 }, stimuli: { images: { dir: floc, resize: 256, perCategory: 3 } } });
    const t = await runShard(config, 'images');
    expect(t.numRows).toBe(33);
    expect(JSON.parse(meta(t).categories).length).toBe(11);
    expect(meta(t).excluded).toBe('0');
    expect((col(t, 'file') as string[])[0]).toBe('adult/adult-1.jpg');
  });
});

describe('stimuli tables checked by value (every declared column of every set against science/ and the folder written)', () => {
  it('gratings: stimulus, θ, f and phase of each row from the grid of science/gratings.ts (θ-major, then f, then phase)', async () => {
    const { gratingAxes, gratingIndex } = await import('../../science/gratings.ts');
    const { STIMULI_GRATINGS, readGratingStimuli } = await import('../../results/stimuli.ts');
    const { expectColumnsByValue, indistinctColumns } = await import('../fixtures/by-value.ts');
    // a grid unlike the default, with no axis value shared between the θ, f and phase columns beyond row 0's
    const config = experiment({ stimuli: { gratings: { orientations: 3, kMin: -4, kMax: -2, kStep: 1, phases: 4, contrast: 0.5 } } });
    const t = tableFromIPC(tableToIPC(await runShard(config, 'gratings'), 'file'));
    const cols = readGratingStimuli(t);
    const axes = gratingAxes(config.stimuli.gratings);
    expect(axes).toMatchObject({ thetasDeg: [0, 60, 120], sfsCpp: [1 / 16, 1 / 8, 1 / 4], phasesDeg: [0, 90, 180, 270] });
    const [nF, nP] = [3, 4];
    const at = (r: number) => ({ iT: Math.floor(r / (nF * nP)), iF: Math.floor(r / nP) % nF, iP: r % nP });
    expect(t.numRows).toBe(3 * nF * nP);
    expectColumnsByValue(STIMULI_GRATINGS, cols, {
      stimulus: (r) => gratingIndex(axes, at(r).iT, at(r).iF, at(r).iP),
      theta_deg: (r) => axes.thetasDeg[at(r).iT],
      sf_cpp: (r) => 2 ** (-4 + at(r).iF),
      phase_deg: (r) => axes.phasesDeg[at(r).iP],
    }, t.numRows);
    expect(indistinctColumns(STIMULI_GRATINGS, cols, t.numRows)).toEqual([]);
    expect(meta(t)).toMatchObject({ contrast: '0.5', orientations: '3', frequencies: '3', phases: '4' });
  });

  it('blank: one contrast-0 grating, stimulus 0 with θ = f = phase = 0', async () => {
    const { STIMULI_BLANK, readGratingStimuli } = await import('../../results/stimuli.ts');
    const { gratingImage } = await import('../../science/gratings.ts');
    const { expectColumnsByValue, indistinctColumns } = await import('../fixtures/by-value.ts');
    const t = tableFromIPC(tableToIPC(await runShard(experiment({ v1: { enabled: true } }), 'blank'), 'file'));
    const cols = readGratingStimuli(t, 'stimuli blank');
    expect(t.numRows).toBe(1);
    expectColumnsByValue(STIMULI_BLANK, cols, { stimulus: () => 0, theta_deg: () => 0, sf_cpp: () => 0, phase_deg: () => 0 }, 1);
    // θ, f and phase are all 0 by definition (a contrast-0 grating is uniform grey whatever they are)
    expect(indistinctColumns(STIMULI_BLANK, cols, 1)).toEqual(['theta_deg = sf_cpp', 'theta_deg = phase_deg', 'sf_cpp = phase_deg']);
    expect(meta(t)).toMatchObject({ set: 'blank', contrast: '0' });
    expect(new Set(gratingImage({ thetaDeg: cols.theta_deg[0]!, sfCpp: cols.sf_cpp[0]!, phaseDeg: cols.phase_deg[0]!, contrast: 0 }, 4, 4))).toEqual(new Set([127.5]));
  });

  it('noise: stimulus n with noise index n for n = 0..N−1, the generator (seed, σ, colour, check) and its moments in the metadata', async () => {
    const { STIMULI_NOISE, readNoiseStimuli } = await import('../../results/stimuli.ts');
    const { expectColumnsByValue, indistinctColumns } = await import('../fixtures/by-value.ts');
    const config = experiment({ stimuli: { noise: { count: 37, seed: 123, sigma: 30, color: 'rgb', check: 2 } } });
    const t = tableFromIPC(tableToIPC(await runShard(config, 'noise'), 'file'));
    const cols = readNoiseStimuli(t);
    expect(t.numRows).toBe(37);
    expectColumnsByValue(STIMULI_NOISE, cols, { stimulus: (r) => r, noise_index: (r) => r }, 37);
    // with centre positions every stimulus is its own noise image, so the two columns agree by definition
    expect(indistinctColumns(STIMULI_NOISE, cols, 37)).toEqual(['stimulus = noise_index']);
    const m = noiseMoments(config.stimuli.noise);
    expect(meta(t)).toMatchObject({ seed: '123', sigma: '30', color: 'rgb', check: '2', count: '37', samples_per_unit: '37', expected_mean: String(m.mean), expected_sd: String(m.sd) });
  });

  it('images: each file of the folder in order, its category, sha256 of its bytes, and why it is excluded (corrupt file only)', async () => {
    const { STIMULI_IMAGES, readImageStimuli } = await import('../../results/stimuli.ts');
    const { expectColumnsByValue, indistinctColumns } = await import('../fixtures/by-value.ts');
    const t = tableFromIPC(tableToIPC(await runShard(experiment(), 'images'), 'file'));
    const cols = readImageStimuli(t);
    // the folder writeImageFolder wrote: categories in name order, files in natural order within each
    const files = ['animals/img-1.png', 'animals/img-2.png', 'animals/img-10.png', 'faces/a-grey.jpg', 'faces/b-broken.jpg', 'faces/c-alpha.png'];
    const sha = await Promise.all(files.map(async (f) => createHash('sha256').update(await readFile(join(imgs, f))).digest('hex')));
    expect(t.numRows).toBe(files.length);
    const same = (got: unknown, want: unknown, label: string) => (want instanceof RegExp ? expect(got, label).toMatch(want) : expect(got, label).toEqual(want));
    expectColumnsByValue(STIMULI_IMAGES, cols, {
      stimulus: (r) => r,
      category: (r) => files[r]!.split('/')[0],
      file: (r) => files[r],
      sha256: (r) => sha[r],
      excluded: (r) => (files[r] === 'faces/b-broken.jpg' ? /^unreadable: \S/ : null),
    }, files.length, same);
    expect(indistinctColumns(STIMULI_IMAGES, cols, files.length)).toEqual([]);
    expect(JSON.parse(meta(t)['categories']!)).toEqual(['animals', 'faces']);
  });
});
