// Keras .h5 weight files: both naming styles round-trip exactly; wrong files fail with file, layer and shapes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFloats, hdf5Reason, isHdf5, loadKerasH5, writeKerasH5 } from '../../model/keras-h5.ts';
import { vggNetwork, type Network } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelError } from '../../pipeline/errors.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-h5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Keras .h5 weights (VGG16 layout fixtures)', () => {
  const net = vggNetwork('vgg16');
  const weights = seededWeights(net, 5);

  for (const style of ['keras2', 'keras1'] as const) {
    it(`reads the ${style} naming style bit-exactly, kernels transposed from kH × kW × in × out`, async () => {
      const file = path.join(dir, `vgg16-${style}.h5`);
      await writeKerasH5(file, net, weights, style);
      expect(isHdf5(file)).toBe(true);
      // The fixture really is in the Keras layout: names and HWIO shapes as keras.applications writes them.
      await h5wasm.ready;
      const h5 = new h5wasm.File(file, 'r');
      const names = h5.attrs.layer_names.value as string[];
      expect(names.slice(0, 4)).toEqual(['input_1', 'block1_conv1', 'block1_conv2', 'block1_pool']);
      const wn = (h5.get('block3_conv2') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value as string[];
      expect(wn[0]).toBe(style === 'keras2' ? 'block3_conv2/kernel:0' : 'block3_conv2_W_1:0');
      const kernel = h5.get(`block3_conv2/${wn[0]}`) as InstanceType<typeof h5wasm.Dataset>;
      expect(kernel.shape).toEqual([3, 3, 256, 256]);
      // HWIO element [y=1][x=2][in=5][out=7] equals OIHW element [7][5][1][2].
      const hwio = kernel.value as Float32Array;
      expect(hwio[((1 * 3 + 2) * 256 + 5) * 256 + 7]).toBe(weights.layers.get('block3_conv2')!.kernel[((7 * 256 + 5) * 3 + 1) * 3 + 2]);
      h5.close();

      const loaded = await loadKerasH5(file, net);
      expect(loaded.source).toMatchObject({ kind: 'keras-h5', file });
      expect(loaded.source.kind === 'keras-h5' && loaded.source.sha256).toMatch(/^[0-9a-f]{64}$/);
      for (const [name, w] of weights.layers) {
        expect(Buffer.from(loaded.layers.get(name)!.kernel.buffer).equals(Buffer.from(w.kernel.buffer)), name).toBe(true);
        expect([...loaded.layers.get(name)!.bias]).toEqual([...w.bias]);
      }
    });
  }

  it('a wrong kernel shape names the file, the layer, expected and found shapes', async () => {
    const wrong: Network = structuredClone(net);
    const op = wrong.ops.find((o) => o.name === 'block3_conv2');
    if (op?.op === 'conv') op.inChannels = 128;
    const file = path.join(dir, 'wrong-shape.h5');
    await writeKerasH5(file, wrong, seededWeights(wrong, 1));
    const err = await loadKerasH5(file, net).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain("'block3_conv2'");
    expect((err as Error).message).toContain('[3, 3, 128, 256]');
    expect((err as Error).message).toContain('expected [3, 3, 256, 256]');
  });

  it('a missing layer names the file and the layer', async () => {
    const vgg19 = vggNetwork('vgg19'); // VGG16's file has no block3_conv4
    const file = path.join(dir, 'vgg16-keras2.h5');
    const err = await loadKerasH5(file, vgg19).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/vgg16-keras2\.h5 has no layer 'block3_conv4'.*Expected kernel \[3, 3, 256, 256\]/);
  });

  it('a non-HDF5 file and a missing file are user errors naming the file', async () => {
    const file = path.join(dir, 'not-hdf5.h5');
    writeFileSync(file, 'this is not an HDF5 file, just text\n'.repeat(100));
    expect(isHdf5(file)).toBe(false);
    await expect(loadKerasH5(file, net)).rejects.toThrow(/not-hdf5\.h5 is not an HDF5 file/);
    await expect(loadKerasH5(path.join(dir, 'absent.h5'), net)).rejects.toThrow(/absent\.h5 does not exist/);
  });

  it('a float16 dataset, an unreadable one and a non-float one are ModelErrors naming the layer and weight', () => {
    const f16 = { metadata: { type: 1, size: 2 }, get value(): unknown { throw new Error('Float16 not supported'); } };
    expect(() => datasetFloats('w.h5', 'block1_conv1', 'kernel:0', f16)).toThrow(/w\.h5: layer 'block1_conv1' weight 'kernel:0' is float16\. Expected float32 or float64/);
    const broken = { metadata: { type: 1, size: 4 }, get value(): unknown { throw new Error('HDF5-DIAG: Error detected\n  #000: x.c line 1 in H5Dread(): can\'t read data'); } };
    expect(() => datasetFloats('w.h5', 'b', 'k', broken)).toThrow(/weight 'k' could not be read: can't read data\./);
    expect(() => datasetFloats('w.h5', 'b', 'k', { metadata: { type: 0, size: 4 }, value: Int32Array.from([1]) })).toThrow(/is not a float array \(got Int32Array\)/);
    expect(datasetFloats('w.h5', 'b', 'k', { metadata: { type: 1, size: 8 }, value: Float64Array.from([1.5]) })).toEqual(Float32Array.from([1.5]));
  });

  it('an HDF5 error trace is summarised by its innermost entry; a truncation says how much is there', () => {
    const trace = 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: a.c line 1 in H5Fopen(): unable to open file\n    major: x\n  #006: H5Fsuper.c line 577 in H5F__super_read(): truncated file: eof = 20000000, sblock->base_addr = 0, stored_eof = 80155320\n';
    expect(hdf5Reason(new Error(trace))).toBe('truncated file (20,000,000 of 80,155,320 bytes)');
    expect(hdf5Reason(new Error('plain failure'))).toBe('plain failure');
  });

  it('an HDF5 file without layer_names is rejected', async () => {
    await h5wasm.ready;
    const file = path.join(dir, 'no-layer-names.h5');
    const h5 = new h5wasm.File(file, 'w');
    h5.create_group('block1_conv1');
    h5.close();
    await expect(loadKerasH5(file, net)).rejects.toThrow(/no root attribute 'layer_names'/);
  });
});

describe('seeded He-normal weights', () => {
  it('are deterministic per seed, differ across seeds, have SD √(2 / fan_in) and zero bias', () => {
    const net = vggNetwork('vgg16');
    const a = seededWeights(net, 1).layers.get('block2_conv1')!;
    const b = seededWeights(net, 1).layers.get('block2_conv1')!;
    const c = seededWeights(net, 2).layers.get('block2_conv1')!;
    expect(Buffer.from(a.kernel.buffer).equals(Buffer.from(b.kernel.buffer))).toBe(true);
    expect(Buffer.from(a.kernel.buffer).equals(Buffer.from(c.kernel.buffer))).toBe(false);
    const n = a.kernel.length;
    const mean = a.kernel.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(a.kernel.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    const expected = Math.sqrt(2 / (64 * 9));
    expect(Math.abs(mean)).toBeLessThan(4 * expected / Math.sqrt(n));
    expect(Math.abs(sd / expected - 1)).toBeLessThan(0.02);
    expect(a.bias.every((v) => v === 0)).toBe(true);
  });
});
