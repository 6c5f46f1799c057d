// Seeded end-to-end runs of the five fixture graphs (ResNet block, Inception module, AlexNet with LRN,
// depthwise-separable, Keras NHWC with BatchNorm) through the real command line, `node bin/revcor.js run`:
// every stage writes its checkpoints, named by the graphs' layer names, and the summary has one row per layer.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerName } from '../../model/layers.ts';
import { dagFixtures } from '../fixtures/dag-fixtures.ts';
import { writeImageFolder } from '../fixtures/image-folder.ts';
import { onnxBytes } from '../fixtures/onnx-builder.ts';
import { REPO } from './helpers.ts';

const STAGES = ['stimuli', 'activations', 'tuning', 'category', 'awa', 'awc', 'summary'];

/** `node bin/revcor.js ARGS` from the repository root: exit code and output. */
function revcor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['bin/revcor.js', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A small seeded experiment on a fixture graph: every layer of `all`, 4 channels, 48 gratings, 300 noise samples. */
function experiment(name: string, inputSize: number): string {
  return `name: ${name}
model:
  arch: onnx
  weights: ${name}.onnx
  layers: all
  channels: 4
  inputSize: ${inputSize}
stimuli:
  gratings: { orientations: 4, kMin: -4, kMax: -2, kStep: 1, phases: 4 }
  images: { dir: images, resize: ${inputSize}, perCategory: 3 }
  noise: { count: 300, seed: 1 }
activations: { shardSize: 128 }
awc: { unitsPerShard: 8 }
run: { out: out-${name}, workers: 1 }
`;
}

describe('end to end through the CLI on five fixture graphs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-onnx-run-'));
    await writeImageFolder(join(dir, 'images'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const fx of dagFixtures()) {
    it(`${fx.name}: every stage writes its checkpoints; layers named from the graph`, async () => {
      await writeFile(join(dir, `${fx.name}.onnx`), onnxBytes(fx.model));
      await writeFile(join(dir, `${fx.name}.yaml`), experiment(fx.name, fx.inputSize));
      const out = join(dir, `run-${fx.name}`);
      const r = await revcor(['run', join(dir, `${fx.name}.yaml`), '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      for (const stage of STAGES) expect((await readdir(join(out, stage))).filter((f) => f.endsWith('.arrow')).length, stage).toBeGreaterThan(0);
      const layers = fx.all.map(layerName);
      const noise = tableFromIPC(await readFile(join(out, 'activations', 'noise-000000-000128.arrow')));
      expect(noise.schema.fields.map((f) => f.name).filter((n) => layers.includes(n))).toEqual(layers);
      const awa = (await readdir(join(out, 'awa'))).filter((f) => f.endsWith('.arrow'));
      let units = 0;
      for (const f of awa) units += tableFromIPC(await readFile(join(out, 'awa', f))).numRows;
      // 4 channels per layer (model.channels), fewer where a layer has fewer
      const widths = noise.schema.fields.filter((f) => layers.includes(f.name)).map((f) => (f.type as { listSize: number }).listSize);
      expect(widths.every((w) => w <= 4)).toBe(true);
      expect(units).toBe(widths.reduce((a, b) => a + b, 0));
      const summary = tableFromIPC(await readFile(join(out, 'summary', 'summary.arrow')));
      expect([...summary.getChild('layer')!.toArray()].sort()).toEqual([...layers].sort());
      expect((await readdir(out)).includes('report.html')).toBe(true);
    }, 180_000);
  }
});
