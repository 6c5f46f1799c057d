// RF geometry computed from the architecture (docs/method.md §1): cumulative stride, RF size, centre, crop, clipping, canvas.
import { describe, expect, it } from 'vitest';
import { layerGeometry, noiseCanvas, opGeometries } from '../../model/geometry.ts';
import { convLayers, featureSizeAt, selectLayers, vggNetwork, type Network } from '../../model/network.ts';

describe('VGG RF geometry', () => {
  it('VGG16: r = 3, 5 | 10, 14 | 24, 32, 40 | 60, 76, 92 | 132, 164, 196 with j = 1, 2, 4, 8, 16', () => {
    const net = vggNetwork('vgg16');
    const g = layerGeometry(net, convLayers(net), 224);
    expect(g.map((l) => l.name)).toEqual(['block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2', 'block3_conv1', 'block3_conv2', 'block3_conv3', 'block4_conv1', 'block4_conv2', 'block4_conv3', 'block5_conv1', 'block5_conv2', 'block5_conv3']);
    expect(g.map((l) => l.rfSize)).toEqual([3, 5, 10, 14, 24, 32, 40, 60, 76, 92, 132, 164, 196]);
    expect(g.map((l) => l.stride)).toEqual([1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16]);
    expect(g.map((l) => l.featureSize)).toEqual([224, 224, 112, 112, 56, 56, 56, 28, 28, 28, 14, 14, 14]);
    expect(g.map((l) => l.channels).reduce((a, b) => a + b, 0)).toBe(4224);
    expect(g.every((l) => !l.clipped)).toBe(true);
  });

  it('VGG19: r = 3, 5 | 10, 14 | 24, 32, 40, 48 | 68, 84, 100, 116 | 156, 188, 220, 252', () => {
    const net = vggNetwork('vgg19');
    const g = layerGeometry(net, convLayers(net), 224);
    expect(g.map((l) => l.rfSize)).toEqual([3, 5, 10, 14, 24, 32, 40, 48, 68, 84, 100, 116, 156, 188, 220, 252]);
    expect(g.filter((l) => l.clipped).map((l) => l.name)).toEqual(['block5_conv3', 'block5_conv4']);
  });

  it('centre index ⌊size/2⌋, RF centre j·i + (j−1)/2, RF origin and crop for every layer', () => {
    for (const arch of ['vgg16', 'vgg19'] as const) {
      const net = vggNetwork(arch);
      for (const l of layerGeometry(net, convLayers(net), 224)) {
        expect(l.centreIndex).toBe(Math.floor(l.featureSize / 2));
        expect(l.rfCentre).toBe(l.stride * l.centreIndex + (l.stride - 1) / 2);
        expect(l.rfX0).toBe(l.rfCentre - (l.rfSize - 1) / 2);
        expect(l.rfY0).toBe(l.rfX0);
        expect(l.cropX0).toBe(Math.max(0, l.rfX0));
        expect(l.cropX0 + l.cropSize).toBe(Math.min(224, l.rfX0 + l.rfSize));
        expect(l.clipped).toBe(l.rfX0 < 0 || l.rfX0 + l.rfSize > 224);
      }
    }
  });

  it('VGG19 block5_conv4: RF [−6, 246) clipped to the whole 224-px image', () => {
    const net = vggNetwork('vgg19');
    const [l] = layerGeometry(net, selectLayers(net, ['block5_conv4']), 224);
    expect(l).toMatchObject({ stride: 16, rfSize: 252, featureSize: 14, centreIndex: 7, rfCentre: 119.5, rfX0: -6, cropX0: 0, cropSize: 224, clipped: true });
    const [l3] = layerGeometry(net, selectLayers(net, ['block5_conv3']), 224);
    expect(l3).toMatchObject({ rfX0: 10, cropX0: 10, cropSize: 214, clipped: true });
  });

  it('block1_conv1 and block2_conv1 exact crops', () => {
    const net = vggNetwork('vgg16');
    const [a, b] = layerGeometry(net, selectLayers(net, ['block1_conv1', 'block2_conv1']), 224);
    expect(a).toMatchObject({ centreIndex: 112, rfCentre: 112, rfX0: 111, cropX0: 111, cropSize: 3 });
    expect(b).toMatchObject({ centreIndex: 56, rfCentre: 112.5, rfX0: 108, cropX0: 108, cropSize: 10 });
  });

  it('feature sizes follow the input size (odd sizes floor at each pool)', () => {
    const net = vggNetwork('vgg16');
    const g = layerGeometry(net, convLayers(net), 100);
    expect(g.map((l) => l.featureSize)).toEqual([100, 100, 50, 50, 25, 25, 25, 12, 12, 12, 6, 6, 6]);
    expect(() => layerGeometry(net, convLayers(net), 8)).toThrow(/too small/);
  });
});

describe('generic geometry (stride, padding, dilation)', () => {
  const net: Network = {
    arch: 'toy', inputChannels: 3, preprocessing: 'none',
    ops: [
      { op: 'conv', name: 'c1', kernel: 5, stride: 2, padBegin: 2, padEnd: 2, dilation: 1, inChannels: 3, outChannels: 4 },
      { op: 'relu', name: 'r1' },
      { op: 'maxpool', name: 'p1', kernel: 3, stride: 2, padBegin: 1, padEnd: 1, dilation: 1, ceilMode: false },
      { op: 'conv', name: 'c2', kernel: 3, stride: 1, padBegin: 2, padEnd: 2, dilation: 2, inChannels: 4, outChannels: 6 },
      { op: 'relu', name: 'r2' },
    ],
  };
  it('recurrence j·s, r + (k_eff − 1)·j, start − pad·j', () => {
    const g = opGeometries(net);
    expect(g[0]).toEqual({ stride: 2, rfSize: 5, start: -2 });
    expect(g[2]).toEqual({ stride: 4, rfSize: 5 + 2 * 2, start: -2 - 1 * 2 });
    expect(g[3]).toEqual({ stride: 4, rfSize: 9 + 4 * 4, start: -4 - 2 * 4 });
    expect(featureSizeAt(net, 4, 33)).toBe(9); // 33 → 17 → 9 → 9
  });
});

describe('noise canvas', () => {
  it('VGG16 all layers: origin aligned to 16, holds every crop; index = i − x0/j', () => {
    const net = vggNetwork('vgg16');
    const g = layerGeometry(net, convLayers(net), 224);
    const c = noiseCanvas(g);
    expect(c).toMatchObject({ x0: 16, y0: 16, size: 202, stride: 16 });
    for (const l of g) {
      expect(c.x0 % l.stride).toBe(0);
      expect(l.cropX0).toBeGreaterThanOrEqual(c.x0);
      expect(l.cropX0 + l.cropSize).toBeLessThanOrEqual(c.x0 + c.size);
      expect(c.centreIndex[l.name]).toBe(l.centreIndex - c.x0 / l.stride);
      // The unit exists in the canvas's feature map.
      const size = featureSizeAt(net, convLayers(net).find((a) => a.name === l.name)!.outputIndex, c.size);
      expect(c.centreIndex[l.name]).toBeLessThan(size);
    }
  });
  it('a single shallow layer gets a crop-sized canvas; VGG19 all layers the whole image', () => {
    const net = vggNetwork('vgg16');
    expect(noiseCanvas(layerGeometry(net, selectLayers(net, ['block1_conv1']), 224))).toMatchObject({ x0: 111, size: 3, centreIndex: { block1_conv1: 1 } });
    expect(noiseCanvas(layerGeometry(net, selectLayers(net, ['block3_conv1']), 224))).toMatchObject({ x0: 100, size: 26, centreIndex: { block3_conv1: 3 } });
    const v19 = vggNetwork('vgg19');
    expect(noiseCanvas(layerGeometry(v19, convLayers(v19), 224))).toMatchObject({ x0: 0, size: 224, centreIndex: { block5_conv4: 7 } });
  });
});
