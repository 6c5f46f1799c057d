// Experiment loading: every config mistake of issue 2 gets file:line:column, the key path and what was expected.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_DIR, DEFAULT_CONFIG, loadExperiment, toResolvedYaml } from '../../config/load.ts';
import { gratingAxes } from '../../science/gratings.ts';
import { ConfigError } from '../../pipeline/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'revcor-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a YAML file under the temp dir and returns its absolute path. */
async function yaml(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  return file;
}

/** The ConfigError message of loading `file` with `sets` (fails the test if it loads). */
async function errorOf(file: string | undefined, sets: string[] = []): Promise<string> {
  try {
    await loadExperiment(file, sets);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

/** How messages name a file: relative to the working directory when inside it. */
const shown = (file: string) => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

describe('malformed YAML', () => {
  it('names file:line:column and shows the line', async () => {
    const f = await yaml('bad.yaml', 'name: x\nmodel:\n  arch: [vgg16\n  seed: 1\nstimuli: {\n');
    const msg = await errorOf(f);
    expect(msg).toMatch(new RegExp(`^${shown(f).replace(/[.]/g, '\\.')}:\\d+:\\d+: malformed YAML`));
    expect(msg).toContain('Expected valid YAML');
  });

  it('reports a duplicate key at its line', async () => {
    const f = await yaml('dup.yaml', 'name: a\nstimuli:\n  noise:\n    count: 5\n    count: 6\n');
    const msg = await errorOf(f);
    expect(msg).toMatch(/dup\.yaml:5:5: malformed YAML: .*unique/i);
  });

  it('a missing config file is named', async () => {
    const msg = await errorOf(join(dir, 'nope.yaml'));
    expect(msg).toContain('nope.yaml: config file not found');
    expect(msg).toContain('Expected a YAML experiment file');
  });

  it('a top level that is not a mapping is rejected', async () => {
    const f = await yaml('list.yaml', '- a\n- b\n');
    expect(await errorOf(f)).toMatch(/list\.yaml:1:1: Expected a mapping of experiment keys \(name, .*model.*\), got a list/);
  });
});

describe('schema errors with positions', () => {
  it('negative count: file:line:column, key path, expected and found', async () => {
    const f = await yaml('neg.yaml', 'name: neg\nstimuli:\n  noise:\n    count: -5\n');
    expect(await errorOf(f)).toBe(`${shown(f)}:4:12: stimuli.noise.count: Expected a positive integer, got -5.`);
  });

  it('wrong types name the expected type', async () => {
    const f = await yaml(
      'types.yaml',
      [
        'model:',
        '  arch: vgg15', // 2:9
        '  layers: [block1_conv1, 3]', // 3:26 (the 3)
        '  channels: lots', // 4:13
        'stimuli:',
        '  gratings:',
        '    enabled: yes', // 7:14
        '  noise:',
        '    sigma: "big"', // 9:12
        '    check: 2.5', // 10:12
        'awc:',
        '  level: 1', // 12:10
        '',
      ].join('\n'),
    );
    const lines = (await errorOf(f)).split('\n');
    const p = shown(f);
    expect(lines).toContain(`${p}:2:9: model.arch: Expected one of \`vgg16\`, \`vgg19\`, \`onnx\`, got "vgg15".`);
    expect(lines).toContain(`${p}:3:26: model.layers.1: Expected a non-empty string, got 3.`);
    expect(lines).toContain(`${p}:4:13: model.channels: Expected \`all\` or a positive integer, got "lots".`);
    expect(lines).toContain(`${p}:7:14: stimuli.gratings.enabled: Expected true or false, got "yes".`);
    expect(lines).toContain(`${p}:9:12: stimuli.noise.sigma: Expected a number in (0, 255], got "big".`);
    expect(lines).toContain(`${p}:10:12: stimuli.noise.check: Expected a positive integer, got 2.5.`);
    expect(lines).toContain(`${p}:12:10: awc.level: Expected a number in (0, 1), got 1.`);
  });

  it('an empty section is a type error, not silently the defaults', async () => {
    const f = await yaml('empty-section.yaml', 'stimuli:\n  noise:\n');
    expect(await errorOf(f)).toMatch(/empty-section\.yaml:2:3: stimuli\.noise: Expected a mapping with keys among enabled, count, .*, got an empty value \(null\)/);
  });

  it('cross-key rules are reported at the key that set them', async () => {
    const f = await yaml('cross.yaml', 'stimuli:\n  gratings:\n    kMin: -1\n    kMax: -2\n  images:\n    resize: 128\n');
    const msg = await errorOf(f);
    expect(msg).toContain(`${shown(f)}:3:11: stimuli.gratings.kMin: Expected a number ≤ stimuli.gratings.kMax (-2), got -1.`);
    expect(msg).toContain(`${shown(f)}:6:13: stimuli.images.resize: Expected an integer ≥ model.inputSize (224)`);
  });
});

describe('unknown keys', () => {
  it('a typo gets the close key at that level', async () => {
    const f = await yaml('typo.yaml', 'stimuli:\n  noise:\n    cont: 500\n');
    expect(await errorOf(f)).toBe(
      `${shown(f)}:3:5: stimuli.noise.cont: unknown key, did you mean \`stimuli.noise.count\`? ` +
        'Expected one of the keys of `stimuli.noise`: enabled, count, positions, imageSize, seed, sigma, color, check.',
    );
  });

  it('a key at the wrong level gets the full path where it belongs', async () => {
    const f = await yaml('level.yaml', 'noise:\n  count: 5\ncount: 3\nmodel:\n  sigma: 2\n');
    const msg = await errorOf(f);
    expect(msg).toContain(`${shown(f)}:1:1: noise: unknown key, did you mean \`stimuli.noise\`?`);
    expect(msg).toContain(`${shown(f)}:3:1: count: unknown key, did you mean \`stimuli.noise.count\`?`);
    expect(msg).toContain(`${shown(f)}:5:3: model.sigma: unknown key, did you mean \`stimuli.noise.sigma\`?`);
    expect(msg).toContain('Expected one of the keys of the top level: name, extends, model, stimuli');
  });

  it('a key with no near match lists the valid keys only', async () => {
    const f = await yaml('far.yaml', 'model:\n  zzzzzzzzzzzz: 1\n');
    const msg = await errorOf(f);
    expect(msg).toContain(`${shown(f)}:2:3: model.zzzzzzzzzzzz: unknown key. Expected one of the keys of \`model\`: arch, weights`);
  });

  it('a bare `null:` key is explained as a key YAML reads as empty', async () => {
    const f = await yaml('nullkey.yaml', 'awc:\n  null: shuffle\n');
    expect(await errorOf(f)).toContain('a key that YAML reads as empty');
    const ok = await yaml('nullok.yaml', 'awc:\n  nullModel: shuffle\n');
    expect((await loadExperiment(ok)).config.awc.nullModel).toBe('shuffle');
  });
});

describe('extends', () => {
  it('chains and deep-merges, the child winning; errors in a base name the base file', async () => {
    await yaml('chain/a.yaml', 'name: a\nmodel:\n  arch: vgg19\n  seed: 3\nstimuli:\n  noise:\n    count: 100\n    seed: 7\n');
    await yaml('chain/sub/b.yaml', 'extends: ../a.yaml\nname: b\nstimuli:\n  noise:\n    count: 200\n');
    const c = await yaml('chain/c.yaml', 'extends: sub/b.yaml\nmodel:\n  layers: [block1_conv1]\n');
    const l = await loadExperiment(c);
    expect(l.config.name).toBe('b');
    expect(l.config.model).toMatchObject({ arch: 'vgg19', seed: 3, layers: ['block1_conv1'] });
    expect(l.config.stimuli.noise).toMatchObject({ count: 200, seed: 7 });
    expect(l.sources).toEqual([join(dir, 'chain/a.yaml'), join(dir, 'chain/sub/b.yaml'), c]);
    expect(l.config.extends).toBe(join(dir, 'chain/sub/b.yaml'));
    expect(l.origin('stimuli.noise.seed')).toBe(`${shown(join(dir, 'chain/a.yaml'))}:8:11`);
    expect(l.origin('stimuli.noise.count')).toBe(`${shown(join(dir, 'chain/sub/b.yaml'))}:5:12`);
    expect(l.origin('awc.top')).toBeUndefined();

    await yaml('chain/bad-base.yaml', 'stimuli:\n  noise:\n    count: 0\n');
    const child = await yaml('chain/bad-child.yaml', 'extends: bad-base.yaml\nname: child\n');
    expect(await errorOf(child)).toBe(`${shown(join(dir, 'chain/bad-base.yaml'))}:3:12: stimuli.noise.count: Expected a positive integer, got 0.`);
  });

  it('a cycle is an error naming the chain', async () => {
    await yaml('cyc/a.yaml', 'extends: b.yaml\n');
    await yaml('cyc/b.yaml', 'name: b\nextends: a.yaml\n');
    const msg = await errorOf(join(dir, 'cyc/a.yaml'));
    expect(msg).toContain(`${shown(join(dir, 'cyc/b.yaml'))}:2:10: extends: cycle`);
    expect(msg).toContain(`${shown(join(dir, 'cyc/a.yaml'))} → ${shown(join(dir, 'cyc/b.yaml'))} → ${shown(join(dir, 'cyc/a.yaml'))}`);
    const self = await yaml('cyc/self.yaml', 'extends: ./self.yaml\n');
    expect(await errorOf(self)).toContain('extends: cycle');
  });

  it('a missing or non-string extends target is named at the extends key', async () => {
    const f = await yaml('ext/missing.yaml', 'name: m\nextends: ../nowhere/base.yaml\n');
    const msg = await errorOf(f);
    expect(msg).toContain(`${shown(f)}:2:10: extends: config file not found`);
    expect(msg).toContain('nowhere/base.yaml');
    const g = await yaml('ext/num.yaml', 'extends: 5\n');
    expect(await errorOf(g)).toContain(`${shown(g)}:1:10: extends: Expected a path to another YAML experiment`);
  });
});

describe('--set overrides', () => {
  it('parses YAML scalars and flow lists, later ones win, and beats the file', async () => {
    const f = await yaml('set.yaml', 'model:\n  layers: [block2_conv1, block3_conv1]\nstimuli:\n  noise:\n    count: 100\n');
    const l = await loadExperiment(f, [
      'stimuli.noise.count=500',
      'model.layers=[block1_conv1]',
      'stimuli.noise.color=rgb',
      'stimuli.gratings.enabled=false',
      'awc.level=0.95',
      'name=with spaces',
      'stimuli.noise.count=600',
      'stimuli.images={perCategory: 3}',
    ]);
    expect(l.config.stimuli.noise.count).toBe(600);
    expect(l.config.model.layers).toEqual(['block1_conv1']);
    expect(l.config.stimuli.noise.color).toBe('rgb');
    expect(l.config.stimuli.gratings.enabled).toBe(false);
    expect(l.config.awc.level).toBe(0.95);
    expect(l.config.name).toBe('with spaces');
    expect(l.config.stimuli.images.perCategory).toBe(3);
    expect(l.config.stimuli.images.resize).toBe(256); // merged, not replaced
    expect(l.origin('stimuli.noise.count')).toBe('--set stimuli.noise.count=600');
    expect(l.overrides.length).toBe(8);
  });

  it('a bad --set key gets a suggestion and names --set as the source', async () => {
    const f = await yaml('set2.yaml', 'name: s\n');
    expect(await errorOf(f, ['stimuli.noise.cont=5'])).toBe(
      '--set stimuli.noise.cont=5: stimuli.noise.cont: unknown key, did you mean `stimuli.noise.count`? ' +
        'Expected one of the keys of `stimuli.noise`: enabled, count, positions, imageSize, seed, sigma, color, check.',
    );
    expect(await errorOf(f, ['noise.count=5'])).toContain('--set noise.count=5: noise: unknown key, did you mean `stimuli.noise`?');
    expect(await errorOf(f, ['stimuli.noise.count=-5'])).toBe('--set stimuli.noise.count=-5: stimuli.noise.count: Expected a positive integer, got -5.');
    expect(await errorOf(f, ['model.layers=[1]'])).toBe('--set model.layers=[1]: model.layers.0: Expected a non-empty string, got 1.');
  });

  it('malformed --set arguments are named', async () => {
    const f = await yaml('set3.yaml', 'name: s\n');
    expect(await errorOf(f, ['stimuli.noise.count'])).toContain('--set stimuli.noise.count: Expected key=value');
    expect(await errorOf(f, ['=5'])).toContain('Expected key=value');
    expect(await errorOf(f, ['model.layers=[a, b'])).toContain('--set model.layers=[a, b: model.layers: Expected a YAML scalar or flow value');
    expect(await errorOf(f, ['extends=x.yaml'])).toContain('--set extends=x.yaml');
  });
});

describe('paths', () => {
  it('resolve relative to the YAML file that set them, --set to the working directory, defaults to config/', async () => {
    await yaml('paths/base/base.yaml', 'model:\n  weights: weights/w.h5\nstimuli:\n  images:\n    dir: ../imgs\n');
    const f = await yaml('paths/exp/exp.yaml', 'extends: ../base/base.yaml\nstimuli:\n  images:\n    dir: my-images\n');
    const l = await loadExperiment(f);
    expect(l.config.model.weights).toBe(join(dir, 'paths/base/weights/w.h5'));
    expect(l.config.stimuli.images.dir).toBe(join(dir, 'paths/exp/my-images'));
    expect(l.config.run.out).toBe(resolve(CONFIG_DIR, '../artifacts/default'));
    expect(l.configDir).toBe(join(dir, 'paths/exp'));

    const s = await loadExperiment(f, ['run.out=some/out', 'stimuli.images.dir=/abs/imgs', 'model.weights=~/w.h5']);
    expect(s.config.run.out).toBe(resolve(process.cwd(), 'some/out'));
    expect(s.config.stimuli.images.dir).toBe('/abs/imgs');
    expect(s.config.model.weights).toBe(join(homedir(), 'w.h5'));

    for (const kw of ['auto', 'seeded']) {
      const k = await loadExperiment(f, [`model.weights=${kw}`]);
      expect(k.config.model.weights).toBe(kw);
    }
  });

  it('an empty file is the schema defaults, paths relative to config/', async () => {
    const f = await yaml('empty.yaml', '');
    const l = await loadExperiment(f);
    expect(l.config.stimuli.noise.count).toBe(20000);
    expect(l.config.stimuli.images.dir).toBe(resolve(CONFIG_DIR, '../../shared/datasets/floc'));
    expect(l.config.model.weights).toBe('auto');
  });
});

describe('shipped experiments', () => {
  it('default.yaml is used with no file and is small; every shipped config loads', async () => {
    const d = await loadExperiment(undefined);
    expect(d.file).toBe(DEFAULT_CONFIG);
    expect(d.config.name).toBe('default');
    expect(d.config.model.layers).toEqual(['block1_conv2', 'block2_conv2', 'block3_conv3']);
    expect(d.config.stimuli.images.dir).toBe(resolve(CONFIG_DIR, '../../shared/datasets/floc'));
    expect(d.config.stimuli.images.ifMissing).toBe('skip');
    expect(d.config.run.out).toBe(resolve(CONFIG_DIR, '../artifacts/default'));

    const smoke = await loadExperiment(join(CONFIG_DIR, 'smoke.yaml'));
    expect(smoke.config.stimuli.noise.count).toBeLessThanOrEqual(500);
    expect(smoke.config.model.weights).toBe('seeded');

    const full = await loadExperiment(join(CONFIG_DIR, 'vgg16-full.yaml'));
    expect(full.config.model).toMatchObject({ arch: 'vgg16', layers: 'all', channels: 'all' });
    expect(full.config.stimuli.noise.count).toBe(20000);
    expect(full.config.stimuli.images).toMatchObject({ perCategory: 'all', ifMissing: 'error' });

    const v19 = await loadExperiment(join(CONFIG_DIR, 'vgg19-floc.yaml'));
    expect(v19.config.model).toMatchObject({ arch: 'vgg19', weights: resolve(CONFIG_DIR, '../../shared/models/vgg19_imagenet_notop.h5'), layers: 'all' });
    expect(v19.config.run.out).toBe(resolve(CONFIG_DIR, '../artifacts/vgg19-floc'));

    // the effective-crop variant differs from vgg19-floc only in awc.crop (so a fork reuses every upstream stage)
    const eff = await loadExperiment(join(CONFIG_DIR, 'vgg19-floc-effective.yaml'));
    expect(eff.config.awc.crop).toBe('effective');
    const strip = (c: typeof v19.config) => ({ ...c, name: '', extends: undefined, run: { ...c.run, out: '' }, awc: { ...c.awc, crop: 'theoretical' } });
    expect(strip(eff.config)).toEqual(strip(v19.config));
    // the model-response variant differs only in prediction.method (a fork reuses everything upstream of awa)
    const model = await loadExperiment(join(CONFIG_DIR, 'vgg19-floc-model.yaml'));
    expect(model.config.prediction.method).toBe('model');
    const stripM = (c: typeof v19.config) => ({ ...c, name: '', extends: undefined, run: { ...c.run, out: '' }, prediction: { ...c.prediction, method: 'fft' } });
    expect(stripM(model.config)).toEqual(stripM(v19.config));
  });

  it('vgg19-v1.yaml: VGG19 gratings only, the V1 grating set (quarter octaves, 0.37–14 c/deg at 28 px/deg), v1 on and strict', async () => {
    const v1 = await loadExperiment(join(CONFIG_DIR, 'vgg19-v1.yaml'));
    const floc = await loadExperiment(join(CONFIG_DIR, 'vgg19-floc.yaml'));
    expect(v1.config.model).toEqual(floc.config.model);
    expect(v1.config.stimuli.images.enabled).toBe(false);
    expect(v1.config.stimuli.noise.enabled).toBe(false);
    expect(v1.config.v1).toMatchObject({ enabled: true, ifMissing: 'error', pixelsPerDegree: 28, reference: resolve(CONFIG_DIR, '../../shared/datasets/v1-reference') });
    const axes = gratingAxes(v1.config.stimuli.gratings);
    expect(axes.thetasDeg).toEqual(Array.from({ length: 12 }, (_, i) => i * 15));
    expect(axes.phasesDeg.length).toBe(8);
    const cpd = axes.sfsCpp.map((f) => f * v1.config.v1.pixelsPerDegree);
    expect(cpd.length).toBe(22);
    expect(cpd[0]).toBeCloseTo(0.368, 3); // Brain-Score's lowest: 0.385 c/deg
    expect(cpd[21]).toBe(14); // 0.5 c/px: the Nyquist limit of the input (Brain-Score's highest: 14.7 c/deg)
    for (let i = 1; i < cpd.length; i++) expect(Math.log2(cpd[i]! / cpd[i - 1]!)).toBeCloseTo(0.25, 12);
    // the seeded VGG16 baseline differs only in the network and its weights
    const v16 = await loadExperiment(join(CONFIG_DIR, 'vgg16-v1.yaml'));
    expect(v16.config.model).toMatchObject({ arch: 'vgg16', weights: 'seeded', seed: 0, layers: 'all', channels: 'all' });
    const stripV = (c: typeof v1.config) => ({ ...c, name: '', extends: undefined, run: { ...c.run, out: '' }, model: null });
    expect(stripV(v16.config)).toEqual(stripV(v1.config));
    // the default experiment runs the comparison too, skipping it with a warning where ../shared is absent
    const d = await loadExperiment(undefined);
    expect(d.config.v1).toMatchObject({ enabled: true, ifMissing: 'skip', reference: resolve(CONFIG_DIR, '../../shared/datasets/v1-reference') });
  });

  it('toResolvedYaml fills every default, starts with a comment and loads back to the same experiment', async () => {
    const l = await loadExperiment(join(CONFIG_DIR, 'vgg19-floc.yaml'), ['stimuli.noise.count=123']);
    const text = toResolvedYaml(l.config, l.sources);
    expect(text.startsWith('#')).toBe(true);
    expect(text).toContain('count: 123');
    expect(text).toContain('zThreshold: 5');
    expect(text).not.toMatch(/^extends:/m);
    const back = await loadExperiment(await yaml('resolved.yaml', text));
    const { extends: _a, ...want } = l.config;
    const { extends: _b, ...got } = back.config;
    expect(got).toEqual(want);
  });
});
