// VGG19 with the shared ImageNet weights against the independent float64 reference (docs/method.md §7): every layer's
// centre units within 1e-4 relative, where relative = max |ours − ref| / max |ref| over the layer's 10 × C values.
import { requireOrSkip } from '../fixtures/require.ts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { loadKerasH5 } from '../../model/keras-h5.ts';
import { convLayers, vggNetwork } from '../../model/network.ts';
import { ModelSession } from '../../model/session.ts';
import { layerGeometry } from '../../model/geometry.ts';
import { directForward, unitValues } from '../fixtures/direct-conv.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const shared = path.resolve(repoRoot, '../shared');
const weightsFile = path.join(shared, 'models/vgg19_imagenet_notop.h5');
const referenceFile = path.join(shared, 'reference/vgg19_centre_units.arrow');
const present = existsSync(weightsFile) && existsSync(referenceFile);
requireOrSkip('shared', present, `VGG19 reference test needs ${weightsFile} and ${referenceFile}`);

describe.skipIf(!present)('VGG19 ImageNet weights vs the float64 reference', () => {
  it('all 16 layers within 1e-4 relative; colour noise row included', async () => {
    const net = vggNetwork('vgg19');
    const weights = await loadKerasH5(weightsFile, net);
    const layers = convLayers(net);
    const table = tableFromIPC(readFileSync(referenceFile));
    const rows = table.numRows;
    expect(rows).toBe(10);
    const pixels = new Float32Array(rows * 224 * 224 * 3);
    const column = table.getChild('pixels_hwc_rgb')!;
    for (let i = 0; i < rows; i++) pixels.set(column.get(i)!.toArray() as Float32Array, i * 224 * 224 * 3);
    const session = await ModelSession.create({ net, weights, layers, inputSize: 224 }, { batch: 5 });
    const out = await session.run(pixels, rows);
    await session.release();
    const report: string[] = [];
    let worst = 0;
    for (const layer of layers) {
      const ref = table.getChild(layer.name)!;
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < rows; i++) {
        const r = ref.get(i)!.toArray() as Float32Array;
        for (let c = 0; c < layer.channels; c++) {
          diff = Math.max(diff, Math.abs(out[layer.name][i * layer.channels + c] - r[c]));
          scale = Math.max(scale, Math.abs(r[c]));
        }
      }
      const rel = diff / scale;
      worst = Math.max(worst, rel);
      report.push(`${layer.name.padEnd(13)} max|diff| ${diff.toExponential(2)}  max|ref| ${scale.toFixed(1)}  rel ${rel.toExponential(2)}`);
      expect(scale, `${layer.name} reference is not all zero`).toBeGreaterThan(0);
      expect(rel, layer.name).toBeLessThan(1e-4);
    }
    console.log(`VGG19 vs reference (worst ${worst.toExponential(2)}):\n${report.join('\n')}`);

    // The test can fail: feeding the colour-noise row with R and B swapped misses block1_conv1 by far.
    const last = rows - 1;
    const swapped = pixels.slice(last * 224 * 224 * 3, rows * 224 * 224 * 3);
    for (let p = 0; p < swapped.length; p += 3) [swapped[p], swapped[p + 2]] = [swapped[p + 2], swapped[p]];
    const first = await ModelSession.create({ net, weights, layers: layers.slice(0, 1), inputSize: 224 }, {});
    const bad = (await first.run(swapped, 1)).block1_conv1;
    await first.release();
    const ref = table.getChild('block1_conv1')!.get(last)!.toArray() as Float32Array;
    const badDiff = Math.max(...ref.map((v, c) => Math.abs(v - bad[c])));
    expect(badDiff / Math.max(...ref.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('ImageNet VGG19 on ORT = a direct float64 convolution in TypeScript, all 16 layers, 40-px inputs', async () => {
    const net = vggNetwork('vgg19');
    const weights = await loadKerasH5(weightsFile, net);
    const layers = convLayers(net);
    const size = 40;
    // A colour-noise image and a grating, 0–255 RGB.
    const pixels = new Float32Array(2 * size * size * 3);
    let s = 12345;
    for (let i = 0; i < size * size * 3; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      pixels[i] = (s >>> 8) % 256;
    }
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) pixels[size * size * 3 + (y * size + x) * 3 + c] = 127.5 * (1 + Math.cos(2 * Math.PI * 0.125 * (x * 0.8 + y * 0.6)));
    const session = await ModelSession.create({ net, weights, layers, inputSize: size }, {});
    const out = await session.run(pixels, 2);
    await session.release();
    const geometry = layerGeometry(net, layers, size);
    const maps = [0, 1].map((n) => directForward(net, weights, pixels.subarray(n * size * size * 3, (n + 1) * size * size * 3), size, layers.at(-1)!.outputIndex));
    let worst = 0;
    layers.forEach((layer, li) => {
      const i = geometry[li].centreIndex;
      const ref = maps.flatMap((m) => [...unitValues(m[layer.outputIndex], i, i)]);
      let diff = 0;
      let scale = 0;
      ref.forEach((v, k) => {
        diff = Math.max(diff, Math.abs(out[layer.name][k] - v));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(scale, `${layer.name} is not all zero`).toBeGreaterThan(0);
      worst = Math.max(worst, diff / scale);
      expect(diff / scale, layer.name).toBeLessThan(1e-4);
    });
    console.log(`VGG19 ORT vs direct convolution (40 px): worst relative difference ${worst.toExponential(2)}`);
  });
});
