// The stimulus-set registry (stages/sets/) and its one shard-id scheme: the stimuli and activations stages plan
// from the registry, and every stage that names activations shards (tuning, v1, awa, awc) gets the ids the
// activations stage plans.
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { activationsStage } from '../../stages/activations.ts';
import { noiseShardIds } from '../../stages/revcor-input.ts';
import { STIMULUS_SETS, stimulusSet } from '../../stages/sets/index.ts';
import { setRanges, setShardId } from '../../stages/sets/shard-id.ts';
import { stimuliStage } from '../../stages/stimuli.ts';
import { setNeeds } from '../../stages/unit-plan.ts';

const ctx = (over: Record<string, unknown> = {}) => ({
  config: ExperimentSchema.parse({ name: 't', model: { arch: 'vgg16', weights: 'seeded', layers: ['block1_conv1'], inputSize: 64 }, stimuli: { images: { enabled: false }, noise: { count: 1100 } }, activations: { shardSize: 500 }, v1: { enabled: true }, ...over }),
  configDir: '/',
});

describe('shard ids', () => {
  it('are <set>-<start>-<end>, zero-padded to 6 digits, shardSize stimuli per shard', () => {
    expect(setShardId('noise', 0, 512)).toBe('noise-000000-000512');
    expect(setRanges('gratings', 1100, 500).map((r) => r.id)).toEqual(['gratings-000000-000500', 'gratings-000500-001000', 'gratings-001000-001100']);
    expect(setRanges('blank', 0, 500)).toEqual([]);
  });

  it('the ids other stages name are the ids the activations stage plans', async () => {
    const c = ctx();
    const plan = await activationsStage.plan(c);
    const ids = (set: string) => plan.filter((s) => s.params['set'] === set).map((s) => s.id);
    expect(await noiseShardIds(c.config)).toEqual(ids('noise'));
    expect((await setNeeds(c, 'gratings'))!.activations).toEqual(ids('gratings'));
    expect(ids('noise')).toEqual(['noise-000000-000500', 'noise-000500-001000', 'noise-001000-001100']);
    expect(ids('blank')).toEqual(['blank-000000-000001']);
  });
});

describe('the registry', () => {
  it('names each set once; an unknown set is a one-line error', () => {
    expect(STIMULUS_SETS.map((s) => s.name)).toEqual(['gratings', 'blank', 'images', 'noise']);
    expect(() => stimulusSet('movies')).toThrow(/Expected a stimulus set \(gratings, blank, images, noise\), got 'movies'/);
  });

  it('the stimuli and activations stages plan exactly the enabled sets of the registry, in its order', async () => {
    const c = ctx();
    const enabled = STIMULUS_SETS.filter((s) => s.enabled(c.config)).map((s) => s.name);
    expect(enabled).toEqual(['gratings', 'blank', 'noise']);
    expect((await stimuliStage.plan(c)).map((s) => s.id)).toEqual(enabled);
    expect([...new Set((await activationsStage.plan(c)).map((s) => s.params['set']))]).toEqual(enabled);
    const off = ctx({ v1: { enabled: false } });
    expect((await stimuliStage.plan(off)).map((s) => s.id)).toEqual(['gratings', 'noise']);
  });

  it('each set says how the network sees it: centre units on the stride-aligned canvas, spatial max/mean on whole images', async () => {
    const c = ctx();
    const { loadModel } = await import('../../model/load.ts');
    const model = await loadModel(c.config.model);
    const noise = await stimulusSet('noise').layout(c.config, model);
    expect(noise.side).toBeLessThan(64); // the stride-aligned canvas of block1_conv1's 3-px RF
    expect(Object.keys(noise.metadata)).toEqual(['revcor.activations.canvas', 'revcor.activations.noise']);
    const canvas = { side: noise.side, x0: noise.x0, y0: noise.y0, readout: 'centre', unitIndex: noise.unitIndex };
    // gratings and the blank are read at the centre: the same canvas as the noise (the same units, fewer FLOPs)
    for (const set of ['gratings', 'blank']) {
      const l = await stimulusSet(set).layout(c.config, model);
      expect(l, set).toMatchObject(canvas);
      expect(Object.keys(l.metadata), set).toEqual(['revcor.activations.canvas']);
    }
    const centre = ctx({ category: { spatial: 'centre' } });
    expect(await stimulusSet('images').layout(centre.config, model)).toMatchObject(canvas);
    const max = ctx({ category: { spatial: 'max' } });
    expect(await stimulusSet('images').layout(max.config, model)).toMatchObject({ side: 64, x0: 0, y0: 0, readout: 'max', metadata: {} });
  });
});
