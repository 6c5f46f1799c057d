// `stimuli.noise.positions: interior` through the real CLI and stages (seeded VGG16, smoke geometry): far fewer
// noise images, the same N samples per unit, AWA maps that agree with the centre-unit run's, the settings it
// refuses, and cache keys of centre runs untouched by the new keys.
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { activationsStage } from '../../stages/activations.ts';
import { allStages } from '../../stages/index.ts';
import { interiorPlan } from '../../stages/noise-plan.ts';
import { layerNoise, sharedNoiseImages } from '../../stages/revcor-input.ts';
import { noiseShardParams as noiseParams } from '../../stages/stimuli.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { pearson } from '../fixtures/synthetic-units.ts';

const SMOKE = join(REPO, 'config/smoke.yaml');
const common = ['--quiet', '--set', 'stimuli.images.enabled=false', '--set', 'stimuli.noise.count=3000'];

async function read(out: string, stage: string, prefix = ''): Promise<Table[]> {
  const dir = join(out, stage);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.arrow') && f.startsWith(prefix)).sort();
  return Promise.all(files.map(async (f) => tableFromIPC(await readFile(join(dir, f)))));
}

describe('positions: interior (smoke geometry, N = 3,000)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-interior-'));
    // two centre runs with different noise seeds measure how far two independent N = 3,000 estimates differ
    for (const [name, mode, seed] of [['centre', 'centre', 1], ['centre2', 'centre', 2], ['interior', 'interior', 1]] as const) {
      const r = await cli(['run', SMOKE, '--out', join(dir, name), ...common, '--set', `stimuli.noise.positions=${mode}`, '--set', `stimuli.noise.seed=${seed}`], allStages);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs N samples per unit from a handful of images', async () => {
    const centre = await read(join(dir, 'centre'), 'activations', 'noise');
    const interior = await read(join(dir, 'interior'), 'activations', 'noise');
    expect(centre.reduce((n, t) => n + t.numRows, 0)).toBe(3000);
    const images = interior.reduce((n, t) => n + t.numRows, 0);
    expect(images).toBeLessThanOrEqual(5); // block2_conv1 has 28 × 28 whole 10-px RFs in a 64-px image
    const plan = JSON.parse(interior[0]!.schema.metadata.get('revcor.activations.positions')!);
    expect(plan.images).toBe(images);
    for (const t of await read(join(dir, 'interior'), 'awa')) {
      expect(JSON.parse(t.schema.metadata.get('revcor.awa.layer')!).samples ?? 3000).toBe(3000);
    }
  });

  it('shares one set of whole noise images among every layer (the pool threads generate each image once); none for centre units', async () => {
    const interior = await read(join(dir, 'interior'), 'activations', 'noise');
    const layers = (JSON.parse(interior[0]!.schema.metadata.get('revcor.activations.positions')!) as { layers: { name: string }[] }).layers.map((l) => l.name);
    expect(layers.length).toBeGreaterThan(1);
    const lns = layers.map((l) => layerNoise(interior, l, 'test'));
    const set = sharedNoiseImages(lns[0]!)!;
    for (const ln of lns) expect(sharedNoiseImages(ln)).toBe(set);
    const all = interior.flatMap((t) => Array.from(t.getChild('noise_index')!.toArray() as ArrayLike<number>));
    expect(Array.from(set.images)).toEqual([...new Set(all)].sort((a, b) => a - b));
    expect(set.side).toBe(lns[0]!.imageSize);
    expect(set.noise).toEqual(lns[0]!.noise);
    // another noise set replaces it
    const other = sharedNoiseImages({ ...lns[0]!, noise: { ...lns[0]!.noise, seed: 99 } })!;
    expect(other).not.toBe(set);
    expect(other.noise.seed).toBe(99);
    const centre = await read(join(dir, 'centre'), 'activations', 'noise');
    expect(sharedNoiseImages(layerNoise(centre, layers[0]!, 'test'))).toBeNull();
  });

  it('gives AWA maps that match those of the centre-unit run', async () => {
    const maps = async (mode: string) => {
      const out = new Map<string, { map: Float32Array; sig: boolean }>();
      for (const t of await read(join(dir, mode), 'awa')) {
        for (let r = 0; r < t.numRows; r++) {
          out.set(`${t.getChild('layer')!.get(r)}/${t.getChild('channel')!.get(r)}`, { map: (t.getChild('awa')!.get(r) as { toArray(): Float32Array }).toArray(), sig: Boolean(t.getChild('significant')!.get(r)) });
        }
      }
      return out;
    };
    const [c, c2, i] = [await maps('centre'), await maps('centre2'), await maps('interior')];
    expect([...i.keys()].sort()).toEqual([...c.keys()].sort());
    const lines: string[] = [];
    let compared = 0;
    for (const [key, cu] of c) {
      const [iu, cu2] = [i.get(key)!, c2.get(key)!];
      expect(iu.map.length).toBe(cu.map.length);
      if (!cu.sig || !iu.sig || !cu2.sig) continue;
      // interior agrees with centre as well as a second centre run with other noise does (estimation noise alone)
      const [ri, rc] = [pearson(cu.map, iu.map), pearson(cu.map, cu2.map)];
      lines.push(`${key} ${ri.toFixed(3)} (centre seeds: ${rc.toFixed(3)})`);
      expect(ri, key).toBeGreaterThan(rc - 0.1);
      if (key.startsWith('block1_conv1')) expect(ri, key).toBeGreaterThan(0.98);
      compared++;
    }
    console.log(`AWA maps, centre vs interior: ${lines.join('; ')}`);
    expect(compared).toBeGreaterThanOrEqual(5);
  });

  it('refuses noise checks and clipped centre RFs with one-line errors', async () => {
    const checks = await cli(['run', SMOKE, '--out', join(dir, 'bad'), '--dry-run', '--set', 'stimuli.noise.positions=interior', '--set', 'stimuli.noise.check=2'], allStages);
    expect(checks.code).toBe(2);
    expect(checks.stderr).toMatch(/Expected stimuli\.noise\.check: 1 with interior positions, got 2/);
    const clipped = await cli(['run', SMOKE, '--out', join(dir, 'bad'), '--dry-run', '--set', 'model.arch=vgg19', '--set', 'model.inputSize=224', '--set', 'stimuli.images.resize=256', '--set', 'model.layers=[block5_conv4]', '--set', 'stimuli.noise.positions=interior'], allStages);
    expect(clipped.code).toBe(2);
    expect(clipped.stderr).toMatch(/centre RF of block5_conv4 reaches past the 224-px image/);
    expect(clipped.stderr).not.toMatch(/\n\s+at /);
    const small = await cli(['run', SMOKE, '--out', join(dir, 'bad'), '--dry-run', '--set', 'stimuli.noise.positions=interior', '--set', 'stimuli.noise.imageSize=8'], allStages);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/8-px noise image holds no whole RF of block2_conv1/);
  });
});

describe('centre runs keep their cache keys', () => {
  it('the interior keys enter no slice or shard params while positions is centre', () => {
    const config = ExperimentSchema.parse({});
    const slice = activationsStage.configSlice(config) as { noise: Record<string, unknown> };
    expect(Object.keys(slice.noise).sort()).toEqual(['check', 'color', 'seed', 'sigma']);
    expect(Object.keys(noiseParams(config)).sort()).toEqual(['check', 'color', 'count', 'seed', 'set', 'sigma']);
    const interior = ExperimentSchema.parse({ stimuli: { noise: { positions: 'interior' } } });
    expect(Object.keys((activationsStage.configSlice(interior) as { noise: Record<string, unknown> }).noise).sort()).toEqual(['check', 'color', 'count', 'imageSize', 'positions', 'seed', 'sigma']);
  });
});

describe('a grid over N with interior positions', () => {
  it('keys only the noise shards on N: the other sets’ activations and what reads only them (tuning) are shared by the points', async () => {
    const { loadExperiment } = await import('../../config/load.ts');
    const { planGrid } = await import('../../pipeline/grid-plan.ts');
    const point = async (count: number) => {
      const loaded = await loadExperiment(SMOKE, ['stimuli.noise.positions=interior', `stimuli.noise.count=${count}`, 'stimuli.images.enabled=false']);
      return { name: `count=${count}`, outDir: join(tmpdir(), `never-written-${count}`), experiment: { config: loaded.config, configDir: loaded.configDir } };
    };
    const plan = await planGrid(allStages(), [await point(1000), await point(3000)], { sharing: true });
    const stage = (name: string) => plan.stages.find((s) => s.stage === name)!;
    // activations: blank and gratings shards shared (one key, two points), each point's noise shards its own
    const acts = stage('activations');
    const ids = (p: number) => plan.points[p]!;
    expect(ids(0).shards).toBeGreaterThan(0);
    expect(acts.unique).toBeGreaterThan(0);
    expect(acts.shared).toBeGreaterThanOrEqual(1); // the smoke config's gratings (one range)
    expect(acts.shards).toBe(2 * acts.shared + acts.unique);
    expect(stage('tuning').shards).toBeGreaterThan(0);
    expect(stage('tuning')).toMatchObject({ unique: 0, shared: stage('tuning').shards / 2 });
    for (const name of ['awa', 'awc', 'summary']) expect(stage(name), name).toMatchObject({ shared: 0 });
  });

  it('a centre-unit run’s activations keys are the stage slice for every shard (unchanged by the per-shard slice)', () => {
    const config = ExperimentSchema.parse({});
    for (const set of ['gratings', 'images', 'blank', 'noise'])
      expect(activationsStage.shardSlice!(config, { id: `${set}-0-1`, params: { set, start: 0, end: 1 } }), set).toEqual(activationsStage.configSlice(config));
    const interior = ExperimentSchema.parse({ stimuli: { noise: { positions: 'interior' } } });
    expect(activationsStage.shardSlice!(interior, { id: 'noise-0-1', params: { set: 'noise', start: 0, end: 1 } })).toEqual(activationsStage.configSlice(interior));
    const gratings = activationsStage.shardSlice!(interior, { id: 'gratings-0-1', params: { set: 'gratings', start: 0, end: 1 } }) as { noise: Record<string, unknown> };
    expect(Object.keys(gratings.noise).sort()).toEqual(['check', 'color', 'imageSize', 'positions', 'seed', 'sigma']);
  });
});

describe('batchFor', () => {
  it('keeps model.batch up to the input size and scales it down by area above', async () => {
    const { batchFor } = await import('../../stages/activations.ts');
    const config = ExperimentSchema.parse({ model: { batch: 16, inputSize: 224 } });
    expect(batchFor(config, 202)).toBe(16);
    expect(batchFor(config, 224)).toBe(16);
    expect(batchFor(config, 384)).toBe(5); // 16 · (224/384)² = 5.4
    expect(batchFor(config, 2000)).toBe(1);
  });
});

describe('interiorPlan memo', () => {
  it('parses the network once per model/noise setting; a refused setting is not remembered', async () => {
    const config = ExperimentSchema.parse({ model: { arch: 'vgg16', layers: ['block1_conv1', 'block2_conv1'] }, stimuli: { noise: { positions: 'interior', count: 500 } } });
    const a = await interiorPlan(config);
    expect(a!.samples).toBe(500);
    expect(await interiorPlan(ExperimentSchema.parse(config))).toBe(a); // equal config, new object: same plan
    const other = await interiorPlan({ ...config, stimuli: { ...config.stimuli, noise: { ...config.stimuli.noise, count: 800 } } });
    expect(other).not.toBe(a);
    expect(other!.samples).toBe(800);
    const clipped = { ...config, model: { ...config.model, arch: 'vgg19' as const, layers: ['block5_conv4'] } };
    await expect(interiorPlan(clipped)).rejects.toThrow(/reaches past/);
    await expect(interiorPlan(clipped)).rejects.toThrow(/reaches past/); // computed again, same refusal
  });
});
