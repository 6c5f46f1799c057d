// Interior positions (docs/method.md §6): the position plan's geometry against hand-computed VGG16 values, and the
// exactness claim — a unit at an interior grid position of a large noise image responds exactly as the centre
// unit does to the same RF pixels (seeded VGG16, grid readout in ORT vs centre readout on a pasted crop).
import { describe, expect, it } from 'vitest';
import { layerGeometry } from '../../model/geometry.ts';
import { convLayers, selectLayers, vggNetwork } from '../../model/network.ts';
import { interiorRange, positionPlan, sampleAt, sampleIndex } from '../../model/positions.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';
import { noiseImageRGB } from '../../science/noise.ts';

const net = vggNetwork('vgg16');

describe('interiorRange', () => {
  it('gives the feature indices whose RF lies wholly inside the image (VGG16)', () => {
    const g = layerGeometry(net, convLayers(net), 224);
    const by = (n: string) => g.find((x) => x.name === n)!;
    // block1_conv1: r = 3, j = 1, RF of index i starts at i − 1 → i ∈ [1, 222]
    expect(interiorRange(by('block1_conv1'), 224)).toEqual({ first: 1, last: 222 });
    // block5_conv3: r = 196, j = 16, RF of index i starts at 16i − 90 (centre index 7 starts at 22... see below)
    const b5 = by('block5_conv3');
    const start0 = b5.rfX0 - 16 * b5.centreIndex;
    const { first, last } = interiorRange(b5, 224);
    expect(start0 + 16 * first).toBeGreaterThanOrEqual(0);
    expect(start0 + 16 * (first - 1)).toBeLessThan(0);
    expect(start0 + 16 * last + 196).toBeLessThanOrEqual(224);
    expect(start0 + 16 * (last + 1) + 196).toBeGreaterThan(224);
    expect(last - first + 1).toBe(2); // 2 × 2 = 4 whole block5_conv3 RFs in a 224-px image
    expect(interiorRange(b5, 384).last - interiorRange(b5, 384).first + 1).toBe(12);
  });
});

describe('positionPlan', () => {
  const layers = convLayers(net);
  it('sizes the image count by the layer with fewest positions and thins the others to ≥ N samples', () => {
    const plan = positionPlan(layerGeometry(net, layers, 224), 224, 20000);
    expect(plan.images).toBe(5000); // block5: 4 positions per image
    for (const l of plan.layers) {
      const g = layerGeometry(net, layers, 224).find((x) => x.name === l.name)!;
      expect(l.count ** 2 * plan.images).toBeGreaterThanOrEqual(20000);
      // a coarser grid would no longer give N samples
      const { first, last } = interiorRange(g, 224);
      const coarser = Math.floor((last - first) / (l.step + 1)) + 1;
      if (l.step + 1 <= last - first + 1) expect(coarser ** 2 * plan.images).toBeLessThan(20000);
      // every grid RF inside the image, on the layer's stride grid
      expect(l.x0).toBeGreaterThanOrEqual(0);
      expect(l.x0 + (l.count - 1) * l.pixelStep + l.rfSize).toBeLessThanOrEqual(224);
      expect(l.pixelStep).toBe(g.stride * l.step);
    }
    const b1 = plan.layers.find((l) => l.name === 'block1_conv1')!;
    expect(b1.count).toBe(2); // 5000 images × 4 = 20000: a 2 × 2 grid spread far apart
  });

  it('refuses an image that holds no whole RF, naming the layer', () => {
    expect(() => positionPlan(layerGeometry(net, layers, 200), 200, 100)).toThrow(/200-px noise image holds no whole RF of block5_conv3 \(196 px\)/);
  });

  it('orders samples by image, then grid row, then column', () => {
    const p = { name: 'x', first: 1, step: 2, count: 3, x0: 0, pixelStep: 4, rfSize: 3 };
    expect(sampleAt(p, 0)).toEqual({ image: 0, dx: 0, dy: 0 });
    expect(sampleAt(p, 5)).toEqual({ image: 0, dx: 8, dy: 4 });
    expect(sampleAt(p, 9)).toEqual({ image: 1, dx: 0, dy: 0 });
  });

  it('sampleIndex lists the first N samples, mapping image rows to noise indices when given', () => {
    const p = { name: 'x', first: 1, step: 2, count: 2, x0: 0, pixelStep: 4, rfSize: 3 };
    const { noiseIndex, offsets } = sampleIndex(p, 5, [7, 9]);
    expect(Array.from(noiseIndex)).toEqual([7, 7, 7, 7, 9]);
    expect(Array.from(offsets)).toEqual([0, 0, 4, 0, 0, 4, 4, 4, 0, 0]);
    expect(Array.from(sampleIndex(p, 5).noiseIndex)).toEqual([0, 0, 0, 0, 1]);
  });
});

describe('interior units are exact copies of the centre unit (seeded VGG16, ORT)', () => {
  it('grid readout on a 96-px noise image = centre readout of a 64-px image holding the same RF pixels', async () => {
    const weights = seededWeights(net, 3);
    const layers = selectLayers(net, ['block1_conv2', 'block2_conv2', 'block3_conv1']);
    const size = 96;
    const plan = positionPlan(layerGeometry(net, layers, size), size, 40);
    const grid = Object.fromEntries(plan.layers.map((l) => [l.name, { first: l.first, step: l.step, count: l.count }]));
    const gridSession = await ModelSession.create({ net, weights, layers, inputSize: size, readout: 'grid', grid, channels: 8 }, { threads: 1, batch: 4 });
    const centreSession = await ModelSession.create({ net, weights, layers, inputSize: 64, readout: 'centre', channels: 8 }, { threads: 1, batch: 8 });
    const noise = { seed: 5, sigma: 48, color: 'grey' as const, check: 1 };
    const centre64 = layerGeometry(net, layers, 64);
    try {
      const images = new Float32Array(plan.images * size * size * 3);
      for (let m = 0; m < plan.images; m++) images.set(noiseImageRGB(noise, m, 0, 0, size, size), m * size * size * 3);
      const out = await gridSession.run(images, plan.images);
      let checked = 0;
      for (const l of plan.layers) {
        const g = centre64.find((x) => x.name === l.name)!;
        const per = l.count * l.count;
        for (const k of [0, 1, per - 1, plan.samples - 1]) {
          const s = sampleAt(l, k);
          // a 64-px image of other noise with sample k's RF pasted where the centre unit's RF is
          const img = noiseImageRGB({ ...noise, seed: 99 }, k, 0, 0, 64, 64);
          const rf = noiseImageRGB(noise, s.image, l.x0 + s.dx, l.x0 + s.dy, l.rfSize, l.rfSize);
          for (let y = 0; y < l.rfSize; y++) img.set(rf.subarray(y * l.rfSize * 3, (y + 1) * l.rfSize * 3), ((g.rfY0 + y) * 64 + g.rfX0) * 3);
          const c = await centreSession.run(img, 1);
          const got = out[l.name]!.subarray(k * 8, k * 8 + 8);
          for (let ch = 0; ch < 8; ch++) expect(Math.abs(got[ch]! - c[l.name]![ch]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(c[l.name]![ch]!)));
          checked++;
        }
      }
      expect(checked).toBe(12);
      // and the surroundings matter only outside the RF: a different background changes nothing above, while a
      // changed RF pixel changes the response (the comparison is not vacuous)
      const l = plan.layers[0]!;
      const g = centre64.find((x) => x.name === l.name)!;
      const img = noiseImageRGB({ ...noise, seed: 7 }, 0, 0, 0, 64, 64);
      const base = (await centreSession.run(img, 1))[l.name]!.slice();
      img[(g.rfY0 * 64 + g.rfX0) * 3] += 200;
      img[(g.rfY0 * 64 + g.rfX0) * 3 + 1] += 200;
      const moved = (await centreSession.run(img, 1))[l.name]!;
      expect(Math.max(...Array.from(moved, (v, i) => Math.abs(v - base[i]!)))).toBeGreaterThan(1e-3);
    } finally {
      await gridSession.release();
      await centreSession.release();
    }
  }, 60_000);
});
