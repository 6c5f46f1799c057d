// ONNX model files: a sequential Conv/Relu/MaxPool graph becomes the analysed network (names and geometry
// from the graph) and runs identically to the file itself; what cannot be analysed fails with a message naming
// the node and op; layer names (tensor, layer name, legacy conv name) and the refusals of non-convolutional graphs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { layerGeometry } from '../../model/geometry.ts';
import { layerName } from '../../model/layers.ts';
import { convLayers, selectLayers, vggNetwork, type Network } from '../../model/network.ts';
import { alexnetFeatures, inceptionModule } from '../fixtures/dag-fixtures.ts';
import { loadOnnxFile, sequentialOnnxBytes } from '../../model/onnx-file.ts';
import { decodeModel, encodeModel } from '../../model/onnx-proto.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';
import { ModelError } from '../../pipeline/errors.ts';
import { i64, onnxBytes, OnnxGraphBuilder, str } from '../fixtures/onnx-builder.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net: Network = {
  arch: 'toy_cnn', inputChannels: 3, preprocessing: 'none',
  ops: [
    { op: 'conv', name: 'features.0', kernel: 7, stride: 2, padBegin: 3, padEnd: 3, dilation: 1, inChannels: 3, outChannels: 8 },
    { op: 'relu', name: 'features.1' },
    { op: 'maxpool', name: 'features.2', kernel: 3, stride: 2, padBegin: 1, padEnd: 1, dilation: 1, ceilMode: false },
    { op: 'conv', name: 'features.3', kernel: 3, stride: 1, padBegin: 2, padEnd: 2, dilation: 2, inChannels: 8, outChannels: 12 },
    { op: 'relu', name: 'features.4' },
    { op: 'conv', name: 'features.5', kernel: 3, stride: 2, padBegin: 1, padEnd: 1, dilation: 1, inChannels: 12, outChannels: 16 },
    { op: 'relu', name: 'features.6' },
  ],
};

describe('ONNX model files', () => {
  const weights = seededWeights(net, 9);
  const file = path.join(dir, 'toy.onnx');
  writeFileSync(file, sequentialOnnxBytes(net, weights));

  it('reads ops, geometry attributes, names and weights from the graph', async () => {
    const loaded = await loadOnnxFile(file);
    expect(loaded.net.arch).toBe('toy_cnn');
    expect(loaded.net.ops.map((o) => o.name)).toEqual(['features.0', 'features.1', 'features.2', 'features.3', 'features.4', 'features.5', 'features.6']);
    // the ops as written, wired explicitly by the file's tensor names
    expect(loaded.net.ops.map(({ inputs: _i, output: _o, ...op }) => op)).toEqual(net.ops);
    expect(loaded.net.ops.map((o) => [o.inputs, o.output])).toEqual(net.ops.map((o, i) => [[i === 0 ? 'input' : `${net.ops[i - 1]!.name}_out`], `${o.name}_out`]));
    expect(loaded.weights.source).toMatchObject({ kind: 'onnx', file });
    for (const [name, w] of weights.layers) expect(Buffer.from(loaded.weights.layers.get(name)!.kernel.buffer).equals(Buffer.from(w.kernel.buffer))).toBe(true);
    const g = layerGeometry(loaded.net, convLayers(loaded.net), 64);
    expect(g.map((l) => [l.name, l.stride, l.rfSize])).toEqual([['features.0', 2, 7], ['features.3', 4, 7 + 2 * 2 + 4 * 4], ['features.5', 8, 27 + 2 * 4]]);
  });

  it('the rebuilt graph gives the file’s own centre units (run through ORT directly)', async () => {
    const size = 45;
    const pixels = new Float32Array(size * size * 3).map((_, i) => (i * 37) % 256);
    const nchw = new Float32Array(pixels.length);
    for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) nchw[c * size * size + p] = pixels[p * 3 + c];
    const raw = await ort.InferenceSession.create(readFileSync(file));
    const full = await raw.run({ input: new ort.Tensor('float32', nchw, [1, 3, size, size]) });
    const map = full[raw.outputNames[0]];
    const [, channels, fs] = map.dims as number[];
    const loaded = await loadOnnxFile(file);
    const layers = convLayers(loaded.net);
    const session = await ModelSession.create({ net: loaded.net, weights: loaded.weights, layers, inputSize: size }, {});
    const out = await session.run(pixels, 1);
    await session.release();
    const g = layerGeometry(loaded.net, layers, size);
    expect(g[2].featureSize).toBe(fs);
    const i = g[2].centreIndex;
    const data = map.data as Float32Array;
    for (let c = 0; c < channels; c++) expect(out['features.5'][c]).toBeCloseTo(data[(c * fs + i) * fs + i], 4);
  });

  it('an unsupported op names the file, the node and the op when a layer needs it', async () => {
    const model = decodeModel(readFileSync(file));
    const nodes = model.graph!.node!;
    nodes[1] = { ...nodes[1]!, opType: 'Erf', name: 'act1' };
    const bad = path.join(dir, 'erf.onnx');
    writeFileSync(bad, encodeModel(model));
    const { net: badNet } = await loadOnnxFile(bad);
    const err = (() => {
      try {
        return selectLayers(badNet, 'all');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/erf\.onnx cannot be analysed: node 'act1' \(Erf\) is an op revcor does not read \('Erf'\)/);
    // the layer before it is still analysable
    expect(selectLayers(badNet, ['features.0_out']).map((l) => l.name)).toEqual(['features.0_out']);
  });

  it('a non-ONNX file and a missing file are user errors', async () => {
    const bad = path.join(dir, 'text.onnx');
    writeFileSync(bad, 'definitely not protobuf\n');
    await expect(loadOnnxFile(bad)).rejects.toThrow(/text\.onnx (is not an ONNX model|holds no ONNX graph)/);
    await expect(loadOnnxFile(path.join(dir, 'nope.onnx'))).rejects.toThrow(/nope\.onnx does not exist/);
  });
});

describe('graphs that are not feed-forward convolution: one-line refusals naming node and op', () => {
  /** A stem conv + ReLU, then `tail` (given the ReLU output), written to a file and loaded. */
  async function graph(tag: string, tail: (b: OnnxGraphBuilder, x: string) => string) {
    const b = new OnnxGraphBuilder(tag, 7);
    const x = b.relu('stem/relu', b.conv('stem/conv', b.input, 3, 4, 3, { pads: 1 }));
    const out = tail(b, x);
    const f = path.join(dir, `${tag}.onnx`);
    writeFileSync(f, onnxBytes(b.model([out])));
    return (await loadOnnxFile(f, 'none', 32)).net;
  }
  const refusal = (net: Network, layers: 'all' | string[]) => {
    try {
      selectLayers(net, layers);
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('recurrence, attention, resampling, data-dependent shapes', async () => {
    const lstm = await graph('lstm', (b, x) => b.relu('after', b.node('LSTM', 'rnn', [x])));
    expect(refusal(lstm, 'all')).toMatch(/^model\.layers: all: tensor '\/after\/Relu_output_0' of .*lstm\.onnx cannot be analysed: node '\/rnn\/LSTM' \(LSTM\) is recurrent: not a feed-forward convolution\. Expected/);
    const attention = await graph('attention', (b, x) => b.relu('after', b.node('MatMul', 'attn', [x, x])));
    expect(refusal(attention, 'all')).toMatch(/node '\/attn\/MatMul' \(MatMul\) is attention/);
    const resize = await graph('resize', (b, x) => b.relu('after', b.node('Resize', 'up', [x])));
    expect(refusal(resize, ['/after/Relu_output_0'])).toMatch(/tensor '\/after\/Relu_output_0' of .*resize\.onnx cannot be analysed: node '\/up\/Resize' \(Resize\) resamples feature maps/);
    const shape = await graph('shape', (b, x) => b.relu('after', b.node('Reshape', 'view', [x, b.node('Shape', 'shape', [x])])));
    expect(refusal(shape, ['/after/Relu_output_0'])).toMatch(/node '\/shape\/Shape' \(Shape\) slices, gathers or shapes tensors from data \(data-dependent shapes\)/);
    // layers before the refused node stay analysable
    expect(selectLayers(lstm, ['/stem/relu/Relu_output_0']).map((l) => l.name)).toEqual(['stem.relu.Relu']);
  });

  it('squeeze-and-excitation (a global value gating a feature map) and a position-dependent constant', async () => {
    const se = await graph('se', (b, x) => {
      const s = b.node('Sigmoid', 'se/gate', [b.conv('se/fc', b.node('GlobalAveragePool', 'se/pool', [x]), 4, 4, 1)]);
      return b.relu('after', b.node('Mul', 'se', [x, s]));
    });
    expect(refusal(se, 'all')).toMatch(/node '\/se\/Mul' \(Mul\) combines a feature map with a value computed after node '\/se\/pool\/GlobalAveragePool' \(GlobalAveragePool\): units would depend on the whole image/);
    const positional = await graph('positional', (b, x) => b.relu('after', b.node('Add', 'pos', [x, b.param('pos.embedding', [1, 4, 32, 32], new Array(4 * 32 * 32).fill(0.5))])));
    expect(refusal(positional, ['/after/Relu_output_0'])).toMatch(/node '\/pos\/Add' \(Add\) uses a constant that varies over positions \(\[1,4,32,32\]\): units would not be translated copies of each other/);
    const reflect = await graph('reflect', (b, x) => {
      b.inits.push(i64('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1]));
      return b.relu('after', b.node('Pad', 'pad', [x, 'pads'], [str('mode', 'reflect')]));
    });
    expect(refusal(reflect, 'all')).toMatch(/node '\/pad\/Pad' \(Pad\) pads in mode 'reflect': expected constant padding/);
  });

  it('paths of different strides into one Add are refused by the geometry, naming the node', async () => {
    const net = await graph('strides', (b, x) => {
      const a = b.conv('a', x, 4, 4, 3, { stride: 2, pads: 1 }); // 32 → 16, stride 2
      const c = b.conv('c', x, 4, 4, 17); // 32 → 16, stride 1
      return b.relu('after', b.node('Add', 'merge', [a, c]));
    });
    const layers = selectLayers(net, 'all');
    expect(() => layerGeometry(net, layers, 32)).toThrow(/node '\/merge\/Add' joins paths of cumulative strides 2 and 1\. Expected every path into it to have one stride/);
  });

  it('a classifier head is ignored by all and refused by name; names: tensor, layer name, unknown', async () => {
    const net = await graph('head', (b, x) => b.relu('classifier/relu', b.node('Flatten', '', [b.node('GlobalAveragePool', 'pool', [x])])));
    expect(selectLayers(net, 'all').map((l) => [l.name, l.source])).toEqual([['stem.relu.Relu', '/stem/relu/Relu_output_0']]);
    expect(refusal(net, ['/classifier/relu/Relu_output_0'])).toMatch(/cannot be analysed: node '\/pool\/GlobalAveragePool' \(GlobalAveragePool\) pools over all positions/);
    // a tensor name and its layer name select the same layer, under the layer name
    expect(selectLayers(net, ['stem.relu.Relu', '/stem/relu/Relu_output_0']).map((l) => l.name)).toEqual(['stem.relu.Relu']);
    expect(selectLayers(net, ['/stem/conv/Conv_output_0'])[0]).toMatchObject({ name: 'stem.conv.Conv', relu: false, channels: 4 });
    expect(refusal(net, ['relu3'])).toMatch(/^model\.layers: unknown layer 'relu3' for .*head\.onnx\. Expected an output tensor name \(or its layer name\) such as \/stem\/relu\/Relu_output_0\.$/);
  });
});

describe('pooling stage of a layer (from the graph, never from its name)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'revcor-stage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is 1 + the pooling ops on the longest path into the layer; for VGG it is the block number', async () => {
    const stages = async (fx: ReturnType<typeof inceptionModule>) => {
      const file = path.join(dir, `${fx.name}.onnx`);
      writeFileSync(file, onnxBytes(fx.model));
      const { net } = await loadOnnxFile(file, 'caffe', fx.inputSize);
      return Object.fromEntries(selectLayers(net, 'all').map((l) => [l.name, l.poolStage]));
    };
    expect(await stages(alexnetFeatures())).toEqual({ 'features.features.1.Relu': 1, 'features.features.5.Relu': 2, 'features.features.9.Relu': 3 });
    // the avg-pool branch of the Inception module is one pool deeper; the Concat takes the longest path
    const inception = await stages(inceptionModule());
    expect(inception['conv1.Relu']).toBe(1);
    expect(inception['inception3a.branch1.Relu']).toBe(2);
    expect(inception['inception3a.branch4.branch4.1.Relu']).toBe(3);
    expect(inception['inception3a.Concat']).toBe(3);
    const vgg = convLayers(vggNetwork('vgg19'));
    expect(vgg.map((l) => l.poolStage)).toEqual(vgg.map((l) => Number(/^block(\d)_/.exec(l.name)![1])));
  });
});

describe('layerName', () => {
  it('makes tensor names file-safe, readable and idempotent', () => {
    expect(layerName('/layer1/layer1.0/relu_1/Relu_output_0')).toBe('layer1.layer1.0.relu_1.Relu');
    expect(layerName('model/block1_relu/Relu:0')).toBe('model.block1_relu.Relu_0');
    expect(layerName('relu3')).toBe('relu3');
    expect(layerName('-x')).toBe('_-x');
    for (const t of ['/a/b/C_output_0_output_0', 'x y:0', '.hidden', '/layer4/layer4.1/Add_output_0']) {
      expect(layerName(layerName(t))).toBe(layerName(t));
      expect(layerName(t)).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
    }
  });
});
