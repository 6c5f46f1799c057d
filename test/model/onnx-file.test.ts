// ONNX model files: a sequential Conv/Relu/MaxPool graph becomes the analysed network (names and geometry
// from the graph) and runs identically to the file itself; other graphs fail with a message naming the node.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { layerGeometry } from '../../model/geometry.ts';
import { convLayers, type Network } from '../../model/network.ts';
import { loadOnnxFile, sequentialOnnxBytes } from '../../model/onnx-file.ts';
import { decodeModel, encodeModel } from '../../model/onnx-proto.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';
import { ModelError } from '../../pipeline/errors.ts';

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
    expect(loaded.net.ops).toEqual(net.ops);
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

  it('an unsupported op names the file, the node and the op', async () => {
    const model = decodeModel(readFileSync(file));
    const nodes = model.graph!.node!;
    nodes[1] = { ...nodes[1], opType: 'Sigmoid', name: 'act1' };
    const bad = path.join(dir, 'sigmoid.onnx');
    writeFileSync(bad, encodeModel(model));
    const err = await loadOnnxFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/sigmoid\.onnx: node 'act1' \(Sigmoid\): unsupported op 'Sigmoid'/);
  });

  it('a non-ONNX file and a missing file are user errors', async () => {
    const bad = path.join(dir, 'text.onnx');
    writeFileSync(bad, 'definitely not protobuf\n');
    await expect(loadOnnxFile(bad)).rejects.toThrow(/text\.onnx (is not an ONNX model|holds no ONNX graph)/);
    await expect(loadOnnxFile(path.join(dir, 'nope.onnx'))).rejects.toThrow(/nope\.onnx does not exist/);
  });
});
