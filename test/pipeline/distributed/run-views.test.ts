// A worker's view of an output directory without Redis: loaded once per resolved-config content, reloaded when the
// content changes, a failed load not kept, at most `max` views.
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment, toResolvedYaml } from '../../../config/load.ts';
import { FileHasher } from '../../../pipeline/cache-key.ts';
import { planRun } from '../../../pipeline/plan.ts';
import { runPipeline } from '../../../pipeline/runner.ts';
import { resolvedConfigFile } from '../../../pipeline/rundir.ts';
import { RunViews } from '../../../pipeline/distributed/run-views.ts';
import { toyStages } from '../../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from '../helpers.ts';

const stages = toyStages();
let dir: string;
const runs: string[] = [];
beforeAll(async () => {
  dir = await tempDir('revcor-views-');
  for (const name of ['a', 'b', 'c']) {
    const experiment = toyExperiment();
    const out = join(dir, name);
    await runPipeline({ stages, experiment, outDir: out, workers: 1, resolvedYaml: toResolvedYaml(experiment.config) });
    runs.push(out);
  }
});
afterAll(() => cleanup(dir));

describe('RunViews', () => {
  it('keys every shard as a local plan does, loads once per config content and again after it changes', async () => {
    const loads: string[] = [];
    const views = new RunViews(stages, async (f) => (loads.push(f), loadExperiment(f)), new FileHasher());
    const [out] = runs;
    const v1 = await views.get(out);
    const plan = await planRun(stages, await loadExperiment(resolvedConfigFile(out)), out);
    expect([...v1.stages.keys()]).toEqual(['source', 'square', 'total']);
    for (const sp of plan.stages) for (const ps of sp.shards) expect(v1.stages.get(ps.stage)!.byId.get(ps.shard.id)!.key).toBe(ps.key);
    expect(await views.get(out)).toBe(v1);
    expect(loads).toHaveLength(1);
    const file = resolvedConfigFile(out);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/zThreshold: 5/, 'zThreshold: 6'));
    const v2 = await views.get(out);
    expect(loads).toHaveLength(2);
    expect(v2.sha).not.toBe(v1.sha);
    expect(v2.stages.get('square')!.byId.get('sq-0000-0004')!.key).not.toBe(v1.stages.get('square')!.byId.get('sq-0000-0004')!.key);
    expect(v2.stages.get('source')!.byId.get('src-0000-0004')!.key).toBe(v1.stages.get('source')!.byId.get('src-0000-0004')!.key);
    await writeFile(file, text);
  });

  it('does not keep a failed load, and keeps at most `max` views', async () => {
    let fail = true;
    const views = new RunViews(stages, async (f) => {
      if (fail) throw new Error('disk hiccup');
      return loadExperiment(f);
    }, new FileHasher(), 2);
    await expect(views.get(runs[0])).rejects.toThrow('disk hiccup');
    expect(views.size).toBe(0);
    fail = false;
    await views.get(runs[0]);
    await views.get(runs[1]);
    await views.get(runs[2]);
    expect(views.size).toBe(2);
  });
});
