// Which weights a model config uses: auto → the Keras cache file when present, else seeded (said loudly).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelSchema } from '../../config/schema.ts';
import { writeKerasH5 } from '../../model/keras-h5.ts';
import { KERAS_WEIGHT_FILES, loadModel, resolvePreprocessing, resolveWeights } from '../../model/load.ts';
import { vggNetwork } from '../../model/network.ts';
import { sequentialOnnxBytes } from '../../model/onnx-file.ts';
import { seededWeights } from '../../model/seeded.ts';

const home = mkdtempSync(path.join(tmpdir(), 'revcor-keras-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { KERAS_HOME: home };

describe('model.weights resolution', () => {
  it('auto without a cache file → seeded, loudly', async () => {
    const cfg = ModelSchema.parse({ arch: 'vgg16', seed: 4, layers: ['block1_conv1'] });
    expect(resolveWeights(cfg, env).kind).toBe('seeded');
    const m = await loadModel(cfg, env);
    expect(m.weightsLabel).toBe('seeded:4');
    expect(m.notice).toMatch(/SEEDED He-normal weights \(model.seed = 4\).*no Keras cache file at .*vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
    expect(m.net.preprocessing).toBe('caffe');
  });

  it('auto with the Keras cache file → that file, with its sha256', async () => {
    mkdirSync(path.join(home, 'models'), { recursive: true });
    const file = path.join(home, 'models', KERAS_WEIGHT_FILES.vgg16);
    const net = vggNetwork('vgg16');
    await writeKerasH5(file, net, seededWeights(net, 8), 'keras1');
    const cfg = ModelSchema.parse({ arch: 'vgg16', layers: ['block2_conv1'] });
    const m = await loadModel(cfg, env);
    expect(m.weightsLabel).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} sha256:[0-9a-f]{64}$`));
    expect(m.notice).toContain('Keras ImageNet weights from the cache file');
    expect(m.weights.layers.get('block2_conv1')!.kernel).toEqual(seededWeights(net, 8).layers.get('block2_conv1')!.kernel);
    expect(m.geometry.map((g) => g.name)).toEqual(['block2_conv1']);
  });

  it('seeded, explicit files, and mistakes', async () => {
    expect(resolveWeights(ModelSchema.parse({ weights: 'seeded', seed: 3 }), env)).toMatchObject({ kind: 'seeded', seed: 3 });
    expect(() => resolveWeights(ModelSchema.parse({ weights: path.join(home, 'missing.h5') }), env)).toThrow(/missing\.h5 does not exist/);
    expect(() => resolveWeights(ModelSchema.parse({ arch: 'onnx' }), env)).toThrow(/arch 'onnx' needs an ONNX file/);
    await expect(loadModel(ModelSchema.parse({ arch: 'vgg16', layers: ['block9_conv1'], weights: 'seeded' }), env)).rejects.toThrow(/unknown layer 'block9_conv1'/);
    const onnx = path.join(home, 'v.onnx');
    const net = vggNetwork('vgg16');
    writeFileSync(onnx, sequentialOnnxBytes(net, seededWeights(net, 1)));
    await expect(loadModel(ModelSchema.parse({ arch: 'vgg16', weights: onnx }), env)).rejects.toThrow(/set|Expected model.arch: onnx/);
    const m = await loadModel(ModelSchema.parse({ arch: 'onnx', weights: onnx, layers: ['block1_conv1', 'block5_conv3'] }), env);
    expect(m.net.preprocessing).toBe('none');
    expect(m.geometry.map((g) => g.rfSize)).toEqual([3, 196]);
    expect(m.weightsLabel).toMatch(/v\.onnx sha256:/);
  });

  it('model.preprocessing: auto by arch, the named conventions, explicit values (3 per channel) and mistakes', () => {
    expect(resolvePreprocessing(ModelSchema.parse({ arch: 'vgg19' }))).toBe('caffe');
    expect(resolvePreprocessing(ModelSchema.parse({ arch: 'onnx' }))).toBe('none');
    expect(resolvePreprocessing(ModelSchema.parse({ arch: 'onnx', preprocessing: 'torch' }))).toBe('torch');
    expect(resolvePreprocessing(ModelSchema.parse({ arch: 'onnx', preprocessing: { scale: 0.5, mean: [1, 2, 3] } }))).toEqual({ mean: [1, 2, 3], std: [1, 1, 1], scale: 0.5, channelOrder: 'rgb' });
    expect(() => resolvePreprocessing(ModelSchema.parse({ arch: 'onnx', preprocessing: { mean: [1, 2] } }))).toThrow(/^model\.preprocessing\.mean: Expected 3 values \(one per channel, in channelOrder rgb\), got 2\.$/);
    expect(ModelSchema.safeParse({ preprocessing: { std: [0, 1, 1] } }).success).toBe(false);
    expect(ModelSchema.safeParse({ preprocessing: 'tf' }).success).toBe(false);
  });
});
