// Grid files: `grid:` expands to every combination (first key slowest) and `points:` to its list; every value is
// validated like any key (file:line:column, key path, did-you-mean), points get readable and unique names, and
// what a grid may not vary or duplicate is refused with the position of the mistake.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGridFile, keyLabels, loadGrid, pointNames } from '../../config/grid.ts';
import { CONFIG_DIR } from '../../config/load.ts';
import { ConfigError } from '../../pipeline/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'revcor-grid-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SMOKE = resolve(CONFIG_DIR, 'smoke.yaml');

/** Writes a grid file extending the smoke experiment; returns its path. */
async function gridFile(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, `extends: ${SMOKE}\n${body}`);
  return file;
}

/** The ConfigError message of loading a grid file. */
async function errorOf(file: string, sets: string[] = []): Promise<string> {
  try {
    await loadGrid(file, sets);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('grid:', () => {
  it('every combination, the first key varying slowest, each point a validated experiment with a readable name', async () => {
    const f = await gridFile('a.yaml', 'name: sweep\ngrid:\n  stimuli.noise.count: [100, 200, 300]\n  awc.crop: [theoretical, effective]\n');
    expect(await isGridFile(f)).toBe(true);
    expect(await isGridFile(SMOKE)).toBe(false);
    const g = (await loadGrid(f, ['awc.shuffles=3']))!;
    expect(g.kind).toBe('grid');
    expect(g.keys).toEqual(['stimuli.noise.count', 'awc.crop']);
    expect(g.points.map((p) => p.name)).toEqual([
      'count=100,crop=theoretical', 'count=100,crop=effective', 'count=200,crop=theoretical',
      'count=200,crop=effective', 'count=300,crop=theoretical', 'count=300,crop=effective',
    ]);
    const p = g.points[3]!;
    expect(p.experiment.config.stimuli.noise.count).toBe(200);
    expect(p.experiment.config.awc.crop).toBe('effective');
    expect(p.experiment.config.awc.shuffles).toBe(3); // --set applies to every point
    expect(p.experiment.config.name).toBe('sweep'); // other keys of the grid file too
    expect(p.experiment.config.model.channels).toBe(4); // and the extended experiment
    expect(p.experiment.origin('awc.crop')).toBe(`${f}:5:27`);
    expect(g.out).toBeUndefined(); // run.out is inherited from smoke.yaml: a single run's directory
    expect(await loadGrid(SMOKE)).toBeNull();
  });

  it('values are validated like any key: file:line:column, key path, what was expected, did-you-mean', async () => {
    const f = await gridFile('bad.yaml', 'grid:\n  stimuli.noise.count: [100, -5]\n  awc.crop: [theoretical, effectiv]\n  stimuli.noise.cuont: [1]\n');
    const msg = await errorOf(f);
    expect(msg.split('\n').sort()).toEqual([
      `${f}:4:27: awc.crop: Expected one of \`theoretical\`, \`effective\`, got "effectiv".`,
      `${f}:3:30: stimuli.noise.count: Expected a positive integer, got -5.`,
      `${f}:5:3: stimuli.noise.cuont: unknown key, did you mean \`stimuli.noise.count\`? Expected one of the keys of \`stimuli.noise\`: enabled, count, positions, imageSize, seed, sigma, color, check.`,
    ].sort());
  });

  it('refuses what a grid cannot vary or repeat, with the position of the mistake', async () => {
    expect(await errorOf(await gridFile('out.yaml', 'grid:\n  run.out: [a, b]\n'))).toMatch(/out\.yaml:3:3: grid: run\.out: Expected a key that changes a point's results, got run\.out: /);
    expect(await errorOf(await gridFile('run.yaml', 'grid:\n  run: [{}]\n'))).toMatch(/run\.yaml:3:3: grid: run: Expected a key that changes a point's results, got run \(it holds run\.out\)/);
    expect(await errorOf(await gridFile('dup.yaml', 'grid:\n  awc.crop: [effective, theoretical, effective]\n'))).toMatch(/dup\.yaml:3:38: grid: awc\.crop: Expected distinct values, got "effective" twice \(items 1 and 3\)\./);
    expect(await errorOf(await gridFile('empty.yaml', 'grid:\n  awc.crop: []\n'))).toMatch(/empty\.yaml:3:13: grid: awc\.crop: Expected a non-empty list of values, got a list \[\]\./);
    expect(await errorOf(await gridFile('nested.yaml', 'grid:\n  awc:\n    crop: [effective]\n'))).toMatch(/nested\.yaml:4:5: grid: awc: Expected a non-empty list of values \(write the key path in full: awc\.crop: \[a, b\]\)/);
    expect(await errorOf(await gridFile('both.yaml', 'grid:\n  awc.crop: [effective]\npoints:\n  - awc.crop: theoretical\n'))).toMatch(/both\.yaml:4:1: points: Expected either grid: \(every combination\) or points: \(a list\), got both\./);
    const clash = await errorOf(await gridFile('clash.yaml', 'grid:\n  awc.crop: [effective, theoretical]\n'), ['awc.crop=effective']);
    expect(clash).toMatch(/^--set awc\.crop=effective: awc\.crop: Expected a key the grid does not vary, got awc\.crop, which the grid varies \(awc\.crop at .*clash\.yaml:3:3\)\.$/);
    expect(await errorOf(await gridFile('clash2.yaml', 'grid:\n  awc.crop: [effective, theoretical]\n'), ['awc={crop: effective}'])).toMatch(/^--set awc=\{crop: effective\}: awc: Expected a key the grid does not vary/);
  });

  it('a grid file that sets run.out itself names the grid directory; path values resolve against the grid file', async () => {
    const f = await gridFile('sub/paths.yaml', 'run:\n  out: ../runs/here\ngrid:\n  stimuli.images.dir: [imgs/a, /abs/b]\n');
    const g = (await loadGrid(f))!;
    expect(g.out).toBe(join(dir, 'runs', 'here'));
    expect(g.points.map((p) => p.experiment.config.stimuli.images.dir)).toEqual([join(dir, 'sub', 'imgs', 'a'), '/abs/b']);
    expect(g.points.map((p) => p.name)).toEqual(['dir=a', 'dir=b']);
  });
});

describe('points:', () => {
  it('an explicit list; nested mappings are key paths; each point is named by what it sets', async () => {
    const f = await gridFile('p.yaml', 'points:\n  - {}\n  - awc: { crop: effective }\n  - { stimuli.noise.count: 500, awc.crop: effective }\n  - model.layers: [block1_conv1, block2_conv1]\n');
    const g = (await loadGrid(f))!;
    expect(g.kind).toBe('points');
    expect(g.keys).toEqual(['awc.crop', 'stimuli.noise.count', 'model.layers']);
    expect(g.points.map((p) => p.name)).toEqual(['base', 'crop=effective', 'count=500,crop=effective', 'layers=block1_conv1+block2_conv1']);
    expect(g.points[1]!.experiment.config.awc.crop).toBe('effective');
    expect(g.points[0]!.experiment.config.awc.crop).toBe('theoretical');
    expect(g.points[3]!.experiment.config.model.layers).toEqual(['block1_conv1', 'block2_conv1']);
  });

  it('refuses duplicates, non-mappings and invalid values at their position', async () => {
    expect(await errorOf(await gridFile('pd.yaml', 'points:\n  - awc.crop: effective\n  - awc: { crop: effective }\n'))).toMatch(/pd\.yaml:4:5: points: item 2: Expected distinct points, got the same settings as item 1\./);
    expect(await errorOf(await gridFile('pn.yaml', 'points:\n  - effective\n'))).toMatch(/pn\.yaml:3:5: points: item 1: Expected a mapping of key paths to values, got "effective"\./);
    expect(await errorOf(await gridFile('pe.yaml', 'points: []\n'))).toMatch(/pe\.yaml:2:\d+: points: Expected a non-empty list of mappings/);
    expect(await errorOf(await gridFile('pv.yaml', 'points:\n  - awc: { crop: sideways }\n'))).toBe(`${join(dir, 'pv.yaml')}:3:18: awc.crop: Expected one of \`theoretical\`, \`effective\`, got "sideways".`);
  });
});

describe('point names', () => {
  it('labels are the shortest key suffix no other key shares; values that only differ in unsafe characters are refused', () => {
    expect([...keyLabels(['awa.seed', 'stimuli.noise.seed', 'awc.crop'])]).toEqual([['awa.seed', 'awa.seed'], ['stimuli.noise.seed', 'noise.seed'], ['awc.crop', 'crop']]);
    const o = { kind: 'file', file: '/g.yaml', line: 3, col: 4, keyLine: 3, keyCol: 2 } as const;
    expect(pointNames([[{ key: 'name', value: 'a/b c', origin: o }], [{ key: 'name', value: 'x', origin: o }]])).toEqual(['name=a_b_c', 'name=x']);
    expect(() => pointNames([[{ key: 'name', value: 'a/b', origin: o }], [{ key: 'name', value: 'a b', origin: o }]])).toThrow(/\/g\.yaml:3:4: Expected every point of the grid to get its own directory name, got name=a_b for two points \(items 1 and 2\)/);
    const long = pointNames([[{ key: 'name', value: 'x'.repeat(400), origin: o }]])[0]!;
    expect(long).toMatch(/^name=x{175}-[0-9a-f]{12}$/);
  });
});
