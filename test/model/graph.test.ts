// The ONNX graph on ONNX Runtime against an independent float64 direct convolution in plain TypeScript, and the
// preprocessing conventions (caffe, torch, explicit) on ONNX graphs against a float64 ONNX interpreter.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerGeometry, noiseCanvas } from '../../model/geometry.ts';
import { buildGraph, type GraphSpec } from '../../model/graph.ts';
import { convLayers, selectLayers, vggNetwork, type Network, type Preprocessing } from '../../model/network.ts';
import { loadOnnxFile } from '../../model/onnx-file.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';
import { depthwiseSeparable, kerasBatchNorm, resnetBlocks } from '../fixtures/dag-fixtures.ts';
import { directForward, unitValues, type FeatureMap } from '../fixtures/direct-conv.ts';
import { onnxBytes } from '../fixtures/onnx-builder.ts';
import { referenceForward, referenceInput, refUnit } from '../fixtures/onnx-reference.ts';

/** Deterministic pseudo-random 0–255 pixels. */
function randomPixels(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) % 256;
  }
  return out;
}

/** max |a − b| / max |b|: the relative error of a layer's values. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

function reduce(map: FeatureMap, how: 'max' | 'mean', channels: number): Float64Array {
  const out = new Float64Array(channels);
  const area = map.size * map.size;
  for (let c = 0; c < channels; c++) {
    const v = map.data.subarray(c * area, (c + 1) * area);
    out[c] = how === 'max' ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / area;
  }
  return out;
}

describe('ONNX Runtime vs direct convolution (seeded VGG16, 32 px)', () => {
  const net = vggNetwork('vgg16');
  const weights = seededWeights(net, 7);
  const layers = convLayers(net);
  const size = 32;
  const images = 2;
  const pixels = randomPixels(images * size * size * 3, 11);
  const direct = Array.from({ length: images }, (_, n) => directForward(net, weights, pixels.subarray(n * size * size * 3, (n + 1) * size * size * 3), size, layers.at(-1)!.outputIndex));

  it('centre unit of every channel of all 13 layers within 1e-4 relative', async () => {
    const session = await ModelSession.create({ net, weights, layers, inputSize: size }, { batch: 1 });
    const out = await session.run(pixels, images);
    await session.release();
    const geometry = layerGeometry(net, layers, size);
    layers.forEach((layer, li) => {
      const i = geometry[li].centreIndex;
      const ref = direct.flatMap((maps) => [...unitValues(maps[layer.outputIndex], i, i)]);
      expect(out[layer.name].length).toBe(images * layer.channels);
      expect(relError(out[layer.name], ref), layer.name).toBeLessThan(1e-4);
      expect(Math.max(...ref), `${layer.name} has live units`).toBeGreaterThan(0);
    });
  });

  it('another position, the first N channels, NCHW input', async () => {
    const chosen = selectLayers(net, ['block1_conv2', 'block3_conv1']);
    const nchw = new Float32Array(pixels.length);
    for (let n = 0; n < images; n++)
      for (let p = 0; p < size * size; p++)
        for (let c = 0; c < 3; c++) nchw[n * size * size * 3 + c * size * size + p] = pixels[n * size * size * 3 + p * 3 + c];
    const session = await ModelSession.create(
      { net, weights, layers: chosen, inputSize: size, unitIndex: { block1_conv2: 3, block3_conv1: 1 }, channels: 10, inputLayout: 'nchw' },
      { batch: 2 },
    );
    const out = await session.run(nchw, images);
    await session.release();
    const ref1 = direct.flatMap((m) => [...unitValues(m[chosen[0].outputIndex], 3, 3, 10)]);
    const ref3 = direct.flatMap((m) => [...unitValues(m[chosen[1].outputIndex], 1, 1, 10)]);
    expect(relError(out.block1_conv2, ref1)).toBeLessThan(1e-4);
    expect(relError(out.block3_conv1, ref3)).toBeLessThan(1e-4);
  });

  it('spatial max and mean readouts', async () => {
    const chosen = selectLayers(net, ['block2_conv2', 'block4_conv1']);
    for (const readout of ['max', 'mean'] as const) {
      const session = await ModelSession.create({ net, weights, layers: chosen, inputSize: size, readout }, { batch: 2 });
      const out = await session.run(pixels, images);
      await session.release();
      for (const layer of chosen) {
        const ref = direct.flatMap((m) => [...reduce(m[layer.outputIndex], readout, layer.channels)]);
        expect(relError(out[layer.name], ref), `${readout} ${layer.name}`).toBeLessThan(1e-4);
      }
    }
  });

  it('a wrong weight layout is detected (transposed kernel fails the comparison)', async () => {
    const bad = seededWeights(net, 7);
    const w = bad.layers.get('block1_conv1')!;
    const k = new Float32Array(w.kernel.length);
    for (let o = 0; o < 64; o++) for (let c = 0; c < 3; c++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) k[((o * 3 + c) * 3 + y) * 3 + x] = w.kernel[((o * 3 + c) * 3 + x) * 3 + y];
    bad.layers.set('block1_conv1', { kernel: k, bias: w.bias });
    const chosen = selectLayers(net, ['block1_conv1']);
    const session = await ModelSession.create({ net, weights: bad, layers: chosen, inputSize: size }, {});
    const out = await session.run(pixels, images);
    await session.release();
    const ref = direct.flatMap((m) => [...unitValues(m[chosen[0].outputIndex], 16, 16)]);
    expect(relError(out.block1_conv1, ref)).toBeGreaterThan(1e-2);
  });
});

describe('ONNX Runtime vs direct convolution (generic stride, padding, dilation, ceil mode)', () => {
  const net: Network = {
    arch: 'toy', inputChannels: 3, preprocessing: 'none',
    ops: [
      { op: 'conv', name: 'c1', kernel: 5, stride: 2, padBegin: 2, padEnd: 1, dilation: 1, inChannels: 3, outChannels: 8 },
      { op: 'relu', name: 'r1' },
      { op: 'maxpool', name: 'p1', kernel: 3, stride: 2, padBegin: 1, padEnd: 1, dilation: 1, ceilMode: true },
      { op: 'conv', name: 'c2', kernel: 3, stride: 1, padBegin: 2, padEnd: 2, dilation: 2, inChannels: 8, outChannels: 6 },
      { op: 'relu', name: 'r2' },
      { op: 'conv', name: 'c3', kernel: 3, stride: 1, padBegin: 0, padEnd: 0, dilation: 1, inChannels: 6, outChannels: 5 },
    ],
  };
  it('every layer, centre unit, odd input size', async () => {
    const weights = seededWeights(net, 3);
    const layers = convLayers(net);
    expect(layers.map((l) => l.relu)).toEqual([true, true, false]);
    const size = 29;
    const pixels = randomPixels(size * size * 3, 5);
    const maps = directForward(net, weights, pixels, size);
    const session = await ModelSession.create({ net, weights, layers, inputSize: size }, {});
    const out = await session.run(pixels, 1);
    await session.release();
    const geometry = layerGeometry(net, layers, size);
    layers.forEach((layer, li) => {
      expect(geometry[li].featureSize).toBe(maps[layer.outputIndex].size);
      const i = geometry[li].centreIndex;
      expect(relError(out[layer.name], unitValues(maps[layer.outputIndex], i, i)), layer.name).toBeLessThan(1e-4);
    });
  });
});

describe('preprocessing inside the graph (ONNX graphs vs the float64 reference on the documented formulas)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'revcor-preprocess-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // x = (pixel·scale − mean)/std per channel, in the channel order given (as written in config/schema.ts)
  const conventions = {
    caffe: { mean: [103.939, 116.779, 123.68], std: [1, 1, 1], scale: 1, order: 'bgr' as const },
    torch: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255, order: 'rgb' as const },
    explicit: { mean: [10, 20, 30], std: [2, 3, 4], scale: 0.5, order: 'bgr' as const },
  };
  // resnet: only convs read the input (the BGR swap is folded into their kernels); depthwise: a Pad reads it
  // (the swap is a Gather); keras: an NHWC input behind a Transpose
  for (const fx of [resnetBlocks(), depthwiseSeparable(), kerasBatchNorm()]) {
    it(`${fx.name}: caffe, torch and explicit mean/std/scale/channelOrder`, async () => {
      const file = path.join(dir, `${fx.name}.onnx`);
      writeFileSync(file, onnxBytes(fx.model));
      const size = fx.inputSize;
      const pixels = randomPixels(size * size * 3, 17);
      for (const [label, p] of Object.entries(conventions)) {
        const setting: Preprocessing = label === 'explicit' ? { mean: [10, 20, 30], std: [2, 3, 4], scale: 0.5, channelOrder: 'bgr' } : (label as 'caffe' | 'torch');
        const { net, weights } = await loadOnnxFile(file, setting, size);
        const layers = selectLayers(net, 'all');
        const session = await ModelSession.create({ net, weights, layers, inputSize: size }, { threads: 1 });
        const out = await session.run(pixels, 1);
        await session.release();
        const env = referenceForward(fx.model, referenceInput(pixels, size, p, fx.layout));
        layerGeometry(net, layers, size).forEach((g, li) => {
          expect(relError(out[g.name]!, refUnit(env.get(layers[li]!.source)!, g.centreIndex, g.centreIndex)), `${label} ${g.name}`).toBeLessThan(1e-4);
        });
      }
    });
  }
});

describe('VGG graphs are unchanged by graph support', () => {
  // sha256 (first 16 hex) of the ONNX bytes main's sequential builder wrote (commit 6ae2271) for these specs: equal
  // bytes mean equal ORT results, so VGG16/VGG19 checkpoints cannot move. A deliberate change to the VGG graph must
  // show `revcor diff` of config/smoke.yaml and config/default.yaml runs before updating these.
  const expected: Record<string, string> = {
    'vgg16 full': 'b2204410b81531a8', 'vgg16 some': '0fee4815dba2bd69', 'vgg16 canvas': 'fe7a6c40095af3ff', 'vgg16 max': 'e4741b2ffe3be5cc',
    'vgg16 mean': '961659441bb1a828', 'vgg16 grid': '2c5de613a2fd5b1a', 'vgg16 nchw': '9db220565975e14e', 'vgg16 nosub': '353104ea3b1df3ee',
    'vgg16 none': '53602a01581c6024', 'vgg19 full': 'ef737868ed930d18', 'vgg19 some': '1ba3c6dd1bf5dbb1', 'vgg19 canvas': 'cb0123975e6d9b1e',
    'vgg19 max': '10e5c9955720baff', 'vgg19 mean': 'b2e8cbc6f7e88179', 'vgg19 grid': 'b3d72214f110f2da', 'vgg19 nchw': 'f925414e5748bd5a',
    'vgg19 nosub': 'f77aa606b66c1045', 'vgg19 none': 'bde2f4e3cff4adf1',
  };
  it('byte for byte, centre / canvas / max / mean / grid / NCHW / plain-slice / no-preprocessing graphs', () => {
    const got: Record<string, string> = {};
    for (const arch of ['vgg16', 'vgg19'] as const) {
      const net = vggNetwork(arch);
      const w = seededWeights(net, 0);
      const all = convLayers(net);
      const some = selectLayers(net, ['block1_conv2', 'block2_conv2', 'block3_conv3']);
      const c = noiseCanvas(layerGeometry(net, some, 224));
      const specs: Record<string, GraphSpec> = {
        full: { net, weights: w, layers: all, inputSize: 224 },
        some: { net, weights: w, layers: some, inputSize: 224, channels: 16 },
        canvas: { net, weights: w, layers: some, inputSize: c.size, unitIndex: c.centreIndex, channels: 16 },
        max: { net, weights: w, layers: some, inputSize: 224, readout: 'max', channels: 16 },
        mean: { net, weights: w, layers: all, inputSize: 224, readout: 'mean' },
        grid: { net, weights: w, layers: some, inputSize: 224, readout: 'grid', grid: { block1_conv2: { first: 2, step: 3, count: 4 }, block2_conv2: { first: 5, step: 7, count: 2 }, block3_conv3: { first: 7, step: 1, count: 3 } }, channels: 8 },
        nchw: { net, weights: w, layers: some, inputSize: 64, inputLayout: 'nchw', unitIndex: { block1_conv2: 3 } },
        nosub: { net, weights: w, layers: some, inputSize: 64, subsample: false },
        none: { net: { ...net, preprocessing: 'none' }, weights: w, layers: some, inputSize: 64 },
      };
      for (const [k, spec] of Object.entries(specs)) got[`${arch} ${k}`] = createHash('sha256').update(buildGraph(spec).bytes).digest('hex').slice(0, 16);
    }
    expect(got).toEqual(expected);
  });
});
