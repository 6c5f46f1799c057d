// docs/method.md §6: a unit depends only on its RF; on a crop whose origin is a multiple of the layer's cumulative stride and
// that holds the RF, its activation equals the full-image one. One pass on the noise canvas serves every layer.
import { describe, expect, it } from 'vitest';
import { layerGeometry, noiseCanvas } from '../../model/geometry.ts';
import { convLayers, selectLayers, vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';

function randomImage(size: number, seed: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) % 256;
  }
  return out;
}

function crop(image: Float32Array, size: number, x0: number, y0: number, side: number): Float32Array {
  const out = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) out.set(image.subarray(((y0 + y) * size + x0) * 3, ((y0 + y) * size + x0 + side) * 3), y * side * 3);
  return out;
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

describe('aligned crops give the full-image activation (seeded VGG16, 224 px)', () => {
  const net = vggNetwork('vgg16');
  const weights = seededWeights(net, 2);
  const layers = convLayers(net);
  const geometry = layerGeometry(net, layers, 224);
  const images = [randomImage(224, 1), randomImage(224, 2)];
  const full = new Float32Array(2 * 224 * 224 * 3);
  images.forEach((im, i) => full.set(im, i * im.length));

  it('the noise canvas of all 13 layers: one pass, every centre unit equal', async () => {
    const canvas = noiseCanvas(geometry);
    const fullSession = await ModelSession.create({ net, weights, layers, inputSize: 224 }, {});
    const ref = await fullSession.run(full, 2);
    await fullSession.release();
    const cropped = new Float32Array(2 * canvas.size * canvas.size * 3);
    images.forEach((im, i) => cropped.set(crop(im, 224, canvas.x0, canvas.y0, canvas.size), i * canvas.size * canvas.size * 3));
    const canvasSession = await ModelSession.create({ net, weights, layers, inputSize: canvas.size, unitIndex: canvas.centreIndex }, {});
    const out = await canvasSession.run(cropped, 2);
    await canvasSession.release();
    const worst = Math.max(...layers.map((l) => maxRel(out[l.name], ref[l.name])));
    console.log(`canvas ${canvas.size}px at (${canvas.x0}, ${canvas.y0}) vs full image: worst relative difference ${worst.toExponential(2)}`);
    for (const l of layers) expect(maxRel(out[l.name], ref[l.name]), l.name).toBeLessThan(1e-5);
  });

  it('per-layer crops aligned to the layer stride equal the full image; a misaligned one does not', async () => {
    for (const name of ['block1_conv2', 'block2_conv2', 'block3_conv3', 'block4_conv2']) {
      const chosen = selectLayers(net, [name]);
      const [g] = layerGeometry(net, chosen, 224);
      const fullSession = await ModelSession.create({ net, weights, layers: chosen, inputSize: 224 }, {});
      const ref = (await fullSession.run(full, 2))[name];
      await fullSession.release();
      // The RF crop's origin rounded down to the stride, side = RF + the rounding.
      const x0 = Math.floor(g.cropX0 / g.stride) * g.stride;
      const side = g.cropX0 + g.cropSize - x0;
      const unit = g.centreIndex - x0 / g.stride;
      const run = async (ox: number) => {
        const c = new Float32Array(2 * side * side * 3);
        images.forEach((im, i) => c.set(crop(im, 224, ox, ox, side), i * side * side * 3));
        const s = await ModelSession.create({ net, weights, layers: chosen, inputSize: side, unitIndex: { [name]: unit } }, {});
        const v = (await s.run(c, 2))[name];
        await s.release();
        return v;
      };
      expect(maxRel(await run(x0), ref), `${name} aligned`).toBeLessThan(1e-5);
      if (g.stride > 1) expect(maxRel(await run(x0 + 1), ref), `${name} shifted by 1 px`).toBeGreaterThan(1e-3);
    }
  });
});
