// Keras .h5 weight files read the way Keras reads them (docs/method.md §1): the root attribute `layer_names`, each layer
// group's `weight_names` (any naming style), kernels kH × kW × in × out. Also writes such files (test fixtures).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { InputError, ModelError } from '../pipeline/errors.ts';
import { sha256File } from '../pipeline/cache-key.ts';
import type { ConvOp, Network } from './network.ts';
import { hwioToOihw, oihwToHwio, type ConvWeights, type NetworkWeights } from './weights.ts';

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the file carries the HDF5 signature at one of the offsets HDF5 allows (0, 512, 1024, …). */
export function isHdf5(file: string): boolean {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size && offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buf, 0, 8, offset);
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  return list.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v)).replace(/\0+$/, ''));
}

function shapeText(shape: readonly number[] | null | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '(scalar)';
}

/** Reads every conv layer of `net` from a Keras .h5 weight file; any mismatch is a ModelError naming file and layer. */
export async function loadKerasH5(file: string, net: Network): Promise<NetworkWeights> {
  if (!existsSync(file)) throw new InputError(`model.weights: ${file} does not exist. Expected a Keras .h5 weight file.`);
  if (!isHdf5(file)) throw new ModelError(`model.weights: ${file} is not an HDF5 file (no HDF5 signature). Expected a Keras .h5 weight file.`);
  const sha256 = await sha256File(file);
  await readyThrowing();
  let h5: InstanceType<typeof h5wasm.File>;
  try {
    h5 = new h5wasm.File(file, 'r');
  } catch (err) {
    throw new ModelError(`model.weights: ${file} could not be opened as HDF5: ${hdf5Reason(err)}. Expected a complete Keras .h5 weight file (a partial download? fetch it again).`);
  }
  try {
    // Keras weight files keep layer groups at the root; full-model saves keep them under /model_weights.
    let root: InstanceType<typeof h5wasm.Group> = h5;
    if (!('layer_names' in h5.attrs) && h5.get('model_weights') instanceof h5wasm.Group) root = h5.get('model_weights') as InstanceType<typeof h5wasm.Group>;
    if (!('layer_names' in root.attrs)) {
      throw new ModelError(`model.weights: ${file} has no root attribute 'layer_names'. Expected a Keras weight file (model.save_weights or keras.applications).`);
    }
    const layerNames = new Set(strings(root.attrs.layer_names.value));
    const layers = new Map<string, ConvWeights>();
    for (const op of net.ops) {
      if (op.op !== 'conv') continue;
      layers.set(op.name, readConv(file, root, op, layerNames));
    }
    return { source: { kind: 'keras-h5', file, sha256 }, layers };
  } finally {
    h5.close();
  }
}

function readConv(file: string, root: InstanceType<typeof h5wasm.Group>, op: ConvOp, layerNames: Set<string>): ConvWeights {
  const expectedKernel = [op.kernel, op.kernel, op.inChannels, op.outChannels];
  if (!layerNames.has(op.name)) {
    throw new ModelError(`model.weights: ${file} has no layer '${op.name}' in layer_names. Expected kernel ${shapeText(expectedKernel)}; found layers ${[...layerNames].join(', ') || '(none)'}.`);
  }
  const group = root.get(op.name);
  if (!(group instanceof h5wasm.Group)) throw new ModelError(`model.weights: ${file}: layer '${op.name}' is listed but has no group. Expected a group holding its weights.`);
  const weightNames = 'weight_names' in group.attrs ? strings(group.attrs.weight_names.value) : [];
  const tensors = weightNames.map((name) => {
    const ds = group.get(name);
    if (!(ds instanceof h5wasm.Dataset)) throw new ModelError(`model.weights: ${file}: layer '${op.name}' lists weight '${name}' but holds no such dataset.`);
    return { name, ds, shape: ds.shape ?? [] };
  });
  const kernel = tensors.find((t) => t.shape.length === 4);
  const bias = tensors.find((t) => t.shape.length === 1);
  if (!kernel || !bias) {
    const found = tensors.map((t) => `${t.name} ${shapeText(t.shape)}`).join(', ') || '(no weights)';
    throw new ModelError(`model.weights: ${file}: layer '${op.name}' expected kernel ${shapeText(expectedKernel)} and bias [${op.outChannels}], found ${found}.`);
  }
  if (kernel.shape.join() !== expectedKernel.join()) {
    throw new ModelError(`model.weights: ${file}: layer '${op.name}' kernel '${kernel.name}' has shape ${shapeText(kernel.shape)}, expected ${shapeText(expectedKernel)} (kH × kW × in × out).`);
  }
  if (bias.shape[0] !== op.outChannels) {
    throw new ModelError(`model.weights: ${file}: layer '${op.name}' bias '${bias.name}' has shape ${shapeText(bias.shape)}, expected [${op.outChannels}].`);
  }
  const kernelValues = datasetFloats(file, op.name, kernel.name, kernel.ds);
  return {
    kernel: hwioToOihw(kernelValues, op.kernel, op.kernel, op.inChannels, op.outChannels),
    bias: datasetFloats(file, op.name, bias.name, bias.ds),
  };
}

/** What datasetFloats needs of an h5wasm dataset: its type metadata (read first) and its values. */
export interface FloatDataset {
  metadata?: { type?: number; size?: number } | null;
  readonly value: unknown;
}

/** H5T_FLOAT, the HDF5 datatype class of floating-point numbers. */
const H5T_FLOAT = 1;

/** A weight dataset's values as float32; float16, non-float and unreadable datasets are ModelErrors naming the layer. */
export function datasetFloats(file: string, layer: string, name: string, ds: FloatDataset): Float32Array {
  const where = `model.weights: ${file}: layer '${layer}' weight '${name}'`;
  const meta = ds.metadata;
  if (meta && meta.type === H5T_FLOAT && meta.size === 2) throw new ModelError(`${where} is float16. Expected float32 or float64 (convert the file, e.g. with h5py: dataset.astype('float32')).`);
  let value: unknown;
  try {
    value = ds.value;
  } catch (err) {
    throw new ModelError(`${where} could not be read: ${hdf5Reason(err)}. Expected float32 or float64 values.`);
  }
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array) return Float32Array.from(value);
  throw new ModelError(`${where} is not a float array (got ${(value as object)?.constructor?.name ?? typeof value}). Expected float32.`);
}

/** h5wasm, with HDF5's errors thrown as JS errors instead of printed as HDF5-DIAG traces. */
async function readyThrowing(): Promise<void> {
  const module = (await h5wasm.ready) as unknown as { activate_throwing_error_handler?: () => number };
  module.activate_throwing_error_handler?.();
}

/** The one line of an HDF5 error trace that says what is wrong (the innermost entry), e.g. "truncated file: eof = …". */
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const entries = [...text.matchAll(/#\d+: .*? in [\w:]+\(\): (.*)/g)].map((m) => m[1]!.trim());
  const last = entries.at(-1) ?? text.split('\n')[0]!.trim();
  const truncated = /truncated file: eof = (\d+).*stored_eof = (\d+)/.exec(last);
  if (truncated) return `truncated file (${Number(truncated[1]).toLocaleString('en-US')} of ${Number(truncated[2]).toLocaleString('en-US')} bytes)`;
  return last;
}

/** Naming styles Keras has used for weight datasets: Keras 2 (`block1_conv1/kernel:0`) and Keras 1 (`block1_conv1_W_1:0`). */
export type KerasNamingStyle = 'keras2' | 'keras1';

/** Writes `weights` as a Keras weight file in the keras.applications layout (fixtures, and converting weights). */
export async function writeKerasH5(file: string, net: Network, weights: NetworkWeights, style: KerasNamingStyle = 'keras2'): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'w');
  try {
    const names = ['input_1'];
    for (const op of net.ops) if (op.op !== 'relu') names.push(op.name);
    h5.create_attribute('layer_names', names);
    h5.create_attribute('backend', 'tensorflow');
    h5.create_attribute('keras_version', '2.2.4');
    h5.create_group('input_1').create_attribute('weight_names', [] as string[]);
    for (const op of net.ops) {
      if (op.op === 'relu') continue;
      const group = h5.create_group(op.name);
      if (op.op !== 'conv') {
        group.create_attribute('weight_names', [] as string[]);
        continue;
      }
      const w = weights.layers.get(op.name);
      if (!w) throw new ModelError(`writeKerasH5: no weights for layer '${op.name}'.`);
      const [kName, bName] = style === 'keras2' ? [`${op.name}/kernel:0`, `${op.name}/bias:0`] : [`${op.name}_W_1:0`, `${op.name}_b_1:0`];
      group.create_attribute('weight_names', [kName, bName]);
      // Keras 2 names contain a '/': the dataset sits in a sub-group (`block1_conv1/block1_conv1/kernel:0`).
      const holder = style === 'keras2' ? group.create_group(op.name) : group;
      const leaf = (n: string) => n.slice(n.lastIndexOf('/') + 1);
      holder.create_dataset({ name: leaf(kName), data: oihwToHwio(w.kernel, op.kernel, op.kernel, op.inChannels, op.outChannels), shape: [op.kernel, op.kernel, op.inChannels, op.outChannels], dtype: '<f' });
      holder.create_dataset({ name: leaf(bName), data: w.bias, shape: [op.outChannels], dtype: '<f' });
    }
  } finally {
    h5.close();
  }
}
