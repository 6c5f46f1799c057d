// The seeded ResNet-18 graph (test/fixtures/resnet18.ts, torchvision names) as revcor reads it: the 17 layers of
// `all`, the published RF sizes (435 px at layer4), ORT = the float64 interpreter, and the RF measured through ORT.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerGeometry } from '../../model/geometry.ts';
import { selectLayers } from '../../model/network.ts';
import { loadOnnxFile } from '../../model/onnx-file.ts';
import { ModelSession } from '../../model/session.ts';
import { onnxBytes, uniform } from '../fixtures/onnx-builder.ts';
import { referenceForward, referenceInput, refUnit } from '../fixtures/onnx-reference.ts';
import { resnet18AllLayers, resnet18Model } from '../fixtures/resnet18.ts';
import { probeSupport } from '../fixtures/rf-probe.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-resnet18-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const model = resnet18Model({ seed: 3 });
const file = path.join(dir, 'resnet18.onnx');
writeFileSync(file, onnxBytes(model));

describe('seeded ResNet-18 (torchvision names, BatchNorm folded)', () => {
  it('all = the stem ReLU and both ReLUs of the 8 basic blocks; strides and RF sizes as published (layer4: stride 32, 435 px)', async () => {
    const { net } = await loadOnnxFile(file, 'torch', 224);
    const layers = selectLayers(net, 'all');
    expect(layers.map((l) => l.source)).toEqual(resnet18AllLayers());
    const g = layerGeometry(net, layers, 224);
    expect(g.map((l) => l.rfSize)).toEqual([7, 19, 27, 35, 43, 51, 67, 83, 99, 115, 147, 179, 211, 243, 307, 371, 435]);
    expect(g.map((l) => l.stride)).toEqual([2, 4, 4, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32]);
    expect(g.map((l) => l.featureSize)).toEqual([112, 56, 56, 56, 56, 28, 28, 28, 28, 14, 14, 14, 14, 7, 7, 7, 7]);
    // at 224 px only layer4's centre RFs reach past the image
    expect(g.filter((l) => l.clipped).map((l) => l.name)).toEqual(g.slice(13).map((l) => l.name));
  });

  it('ORT centre units of all 17 layers = the float64 interpreter at 64 px (torch preprocessing)', async () => {
    const { net, weights } = await loadOnnxFile(file, 'torch', 64);
    const layers = selectLayers(net, 'all');
    const r = uniform(4);
    const pixels = Float32Array.from({ length: 64 * 64 * 3 }, () => Math.floor(256 * r()));
    const session = await ModelSession.create({ net, weights, layers, inputSize: 64 }, { threads: 1 });
    const out = await session.run(pixels, 1);
    await session.release();
    const env = referenceForward(model, referenceInput(pixels, 64, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255, order: 'rgb' }, 'nchw'));
    layerGeometry(net, layers, 64).forEach((g, li) => {
      const ref = refUnit(env.get(layers[li]!.source)!, g.centreIndex, g.centreIndex);
      const scale = Math.max(...ref.map(Math.abs));
      expect(scale, g.name).toBeGreaterThan(0);
      for (let c = 0; c < ref.length; c++) expect(Math.abs(out[g.name]![c]! - ref[c]!), `${g.name} channel ${c}`).toBeLessThanOrEqual(1e-4 * scale);
    });
  }, 60_000);

  it('the RF of the stem, layer1 and the strided layer2.0 block (1×1 downsample shortcut) = the RF measured through ORT at 96 px', async () => {
    const { net, weights } = await loadOnnxFile(file, 'none', 96);
    const layers = selectLayers(net, resnet18AllLayers().slice(0, 7));
    const session = await ModelSession.create({ net, weights, layers, inputSize: 96 }, { batch: 48 });
    const r = uniform(8);
    const measured = await probeSupport(session, Float32Array.from({ length: 96 * 96 * 3 }, () => Math.floor(256 * r())), 96);
    await session.release();
    for (const g of layerGeometry(net, layers, 96)) {
      expect(g.clipped, g.name).toBe(false);
      expect(measured[g.name], g.name).toEqual({ x: [g.rfX0, g.rfX0 + g.rfSize - 1], y: [g.rfX0, g.rfX0 + g.rfSize - 1] });
    }
  }, 120_000);
});
