// `revcor model info CONFIG`: the weights source said loudly, and the per-layer geometry table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/app.ts';
import { resnetBlocks } from '../fixtures/dag-fixtures.ts';
import { onnxBytes } from '../fixtures/onnx-builder.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-model-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr, stages: () => [], invocation: 'revcor' });
  return { code, out, err };
}

describe('revcor model info', () => {
  it('prints the weights source and the VGG16 geometry table', async () => {
    const cfg = path.join(dir, 'exp.yaml');
    writeFileSync(cfg, 'model:\n  arch: vgg16\n  weights: seeded\n  seed: 7\n');
    const { code, out } = await run(['model', 'info', cfg]);
    expect(code).toBe(0);
    expect(out).toContain('weights:       seeded:7');
    expect(out).toMatch(/seeded He-normal weights \(model.seed = 7\)/);
    expect(out).toContain('noise canvas:  202×202 px at (16, 16)');
    const row = out.split('\n').find((l) => l.startsWith('block5_conv3'))!;
    expect(row.split(/\s+/)).toEqual(['block5_conv3', '5', '512', '16', '196', '14', '7', '119.5', '22', '22', '196']);
  });

  it('--json for VGG19: clipped block5_conv3/4', async () => {
    const cfg = path.join(dir, 'v19.yaml');
    writeFileSync(cfg, 'model:\n  arch: vgg19\n  weights: seeded\n');
    const { code, out } = await run(['model', 'info', cfg, '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(out);
    expect(info.geometry.filter((g: { clipped: boolean }) => g.clipped).map((g: { name: string }) => g.name)).toEqual(['block5_conv3', 'block5_conv4']);
    expect(info.canvas).toMatchObject({ x0: 0, size: 224 });
  });

  it('an ONNX graph: layers by tensor name, the table of every analysable output with its geometry, --json', async () => {
    writeFileSync(path.join(dir, 'resnet.onnx'), onnxBytes(resnetBlocks().model));
    const cfg = path.join(dir, 'resnet.yaml');
    writeFileSync(cfg, "model:\n  arch: onnx\n  weights: resnet.onnx\n  inputSize: 48\n  preprocessing: torch\n  layers: ['/layer1/layer1.0/relu_1/Relu_output_0', layer2.layer2.0.relu_1.Relu]\n");
    const { code, out, err } = await run(['model', 'info', cfg]);
    expect(code, err).toBe(0);
    expect(out).toContain('network:       resnet_blocks, 2 analysed layers');
    expect(out).toContain('preprocessing torch');
    expect(out).toContain("graph input:   'input', NCHW");
    expect(out).toContain('Analysable outputs of');
    const cells = (tensor: string) => out.split('\n').find((l) => l.includes(` ${tensor} `))!.trim().split(/\s+/);
    // the residual block output: in `all`, 16 channels, 24×24 at stride 2, RF 13 = the main path's (the 1×1 shortcut's is 7)
    expect(cells('/layer2/layer2.0/relu_1/Relu_output_0')).toEqual(['*', '/layer2/layer2.0/relu_1/Relu_output_0', 'layer2.layer2.0.relu_1.Relu', 'relu', '16', '24', '2', '13', '24']);
    expect(cells('/layer2/layer2.0/downsample/downsample.0/Conv_output_0').slice(2)).toEqual(['conv', '16', '24', '2', '7', '24']);
    expect(out.split('\n').find((l) => l.startsWith('layer1.layer1.0.relu_1.Relu'))!.split(/\s+/).slice(2, 5)).toEqual(['8', '1', '7']);
    const json = JSON.parse((await run(['model', 'info', cfg, '--json'])).out);
    expect(json.layers).toEqual([{ name: 'layer1.layer1.0.relu_1.Relu', tensor: '/layer1/layer1.0/relu_1/Relu_output_0' }, { name: 'layer2.layer2.0.relu_1.Relu', tensor: '/layer2/layer2.0/relu_1/Relu_output_0' }]);
    expect(json.outputs.filter((o: { inAll: boolean }) => o.inAll).map((o: { tensor: string }) => o.tensor)).toEqual(resnetBlocks().all);
    expect(json.canvas).toMatchObject({ stride: 2, size: 13 });
  });

  it('an unknown layer is a user error naming the key', async () => {
    const cfg = path.join(dir, 'bad.yaml');
    writeFileSync(cfg, 'model:\n  weights: seeded\n  layers: [block6_conv1]\n');
    const { code, err } = await run(['model', 'info', cfg]);
    expect(code).toBe(2);
    expect(err).toMatch(/model.layers: unknown layer 'block6_conv1'/);
  });
});
