// The engine with the real stimuli stage: cache keys per stimulus set, image files by content, kill -9 mid-write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { stimuliStage } from '../../stages/stimuli.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { cli, spawnToy } from './helpers.ts';

let dir: string;
let cfg: string;
const stages = () => [stimuliStage];

/** A small solid-colour PNG. */
const png = (r: number, g: number, b: number) => sharp({ create: { width: 24, height: 20, channels: 3, background: { r, g, b } } }).png().toBuffer();

const shardsRun = (stdout: string) =>
  stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done').map((e) => e.shard).sort();

beforeAll(async () => {
  dir = await tempDir('revcor-stimuli-');
  for (const [cat, colours] of [['faces', [[200, 10, 10], [180, 30, 30]]], ['places', [[10, 200, 10], [20, 90, 200]]]] as const) {
    await mkdir(join(dir, 'images', cat), { recursive: true });
    for (const [i, c] of colours.entries()) await writeFile(join(dir, 'images', cat, `${i}.png`), await png(c[0], c[1], c[2]));
  }
  cfg = join(dir, 'exp.yaml');
  await writeFile(
    cfg,
    [
      'model: { inputSize: 16 }',
      'stimuli:',
      '  gratings: { orientations: 2, kMin: -3, kMax: -2, kStep: 1, phases: 2 }',
      '  images: { dir: ./images, resize: 16 }',
      '  noise: { count: 50, seed: 1 }',
      'run: { out: ./out }',
      '',
    ].join('\n'),
  );
});
afterAll(() => cleanup(dir));

describe('engine × real stimuli stage', () => {
  it('one shard per set; a seed change reruns only noise; an image replaced in place reruns only images', async () => {
    const out = join(dir, 'out');
    const first = await cli(['run', cfg, '--json'], stages);
    expect(first.code, first.stderr).toBe(0);
    expect(shardsRun(first.stdout)).toEqual(['gratings', 'images', 'noise']);
    expect((await readdir(join(out, 'stimuli'))).sort()).toEqual(['gratings.arrow', 'images.arrow', 'noise.arrow']);
    expect(shardsRun((await cli(['run', cfg, '--json'], stages)).stdout)).toEqual([]);
    const dry = await cli(['run', cfg, '--set', 'stimuli.noise.seed=2', '--dry-run'], stages);
    expect(dry.stdout).toContain('Dry run: 1 of 3 shards would run');
    expect(dry.stdout).toContain('- shard params seed: 1 → 2');
    const img = join(dir, 'images', 'places', '1.png');
    await writeFile(img, await png(20, 90, 201));
    const st = JSON.parse((await cli(['status', out, '--json'], stages)).stdout);
    expect(st.stages[0].reasons).toEqual({ [`input file ${img} changed`]: 1 });
    const rerun = await cli(['run', cfg, '--json'], stages);
    expect(shardsRun(rerun.stdout)).toEqual(['images']);
    expect(rerun.code).toBe(0);
  });

  it('kill -9 mid-write of the noise shard, then the same command: identical tables', async () => {
    const ref = join(dir, 'out');
    const out = join(dir, 'killed');
    const child = spawnToy(['run', cfg, '--out', out, '--json'], { TOY_STAGES: 'stimuli', TOY_PAUSE: 'mid-write:stimuli/noise' });
    await child.waitFor((e) => e.type === 'test-paused');
    child.proc.kill('SIGKILL');
    expect(await child.exit).toBe('SIGKILL');
    expect((await readdir(join(out, 'stimuli'))).some((f) => f.startsWith('.noise.arrow.'))).toBe(true);
    const again = spawnToy(['run', cfg, '--out', out, '--json'], { TOY_STAGES: 'stimuli' });
    expect(await again.exit, again.stderr()).toBe(0);
    const ran = again.events.filter((e) => e.type === 'shard-done').map((e) => e.shard);
    expect(ran).toContain('noise');
    expect(ran.length).toBeLessThan(3);
    expect((await readdir(join(out, 'stimuli'))).sort()).toEqual(['gratings.arrow', 'images.arrow', 'noise.arrow']);
    for (const f of ['gratings.arrow', 'images.arrow', 'noise.arrow']) {
      expect((await readFile(join(out, 'stimuli', f))).equals(await readFile(join(ref, 'stimuli', f))), f).toBe(true);
    }
  }, 180_000); // three CLI processes, each starting tsx: minutes on a loaded machine (a guard, not a speed assertion)
});
