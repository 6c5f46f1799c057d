// ONNX model files of any sequential CNN built from Conv / Relu / MaxPool: read into a Network (conv layers
// named from the graph, geometry from the node attributes) plus weights; and written from one (export, fixtures).
import { existsSync, readFileSync } from 'node:fs';
import { InputError, ModelError } from '../pipeline/errors.ts';
import { sha256File } from './file-hash.ts';
import type { ConvOp, MaxPoolOp, Network, NetworkOp, Preprocessing } from './network.ts';
import {
  AttributeType, DataType, decodeModel, encodeModel, floatTensor, int64, tensorFloats,
  type AttributeObject, type ModelObject, type NodeObject, type TensorObject,
} from './onnx-proto.ts';
import type { ConvWeights, NetworkWeights } from './weights.ts';

/** A network read from an ONNX file, with its weights. */
export interface OnnxNetwork {
  net: Network;
  weights: NetworkWeights;
}

function attr(node: NodeObject, name: string): AttributeObject | undefined {
  return node.attribute?.find((a) => a.name === name);
}
function attrInts(node: NodeObject, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints ? a.ints.map(int64) : undefined;
}
function attrInt(node: NodeObject, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.i !== undefined ? int64(a.i) : dflt;
}
function attrString(node: NodeObject, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : undefined;
}

/** Reads a sequential Conv/Relu/MaxPool ONNX model; anything else is a ModelError naming the file and node. */
export async function loadOnnxFile(file: string, preprocessing: Preprocessing = 'none'): Promise<OnnxNetwork> {
  if (!existsSync(file)) throw new InputError(`model.weights: ${file} does not exist. Expected an ONNX model file.`);
  let model: ModelObject;
  try {
    model = decodeModel(readFileSync(file));
  } catch (err) {
    throw new ModelError(`model.weights: ${file} is not an ONNX model (${(err as Error).message}). Expected an ONNX protobuf file.`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new ModelError(`model.weights: ${file} holds no ONNX graph. Expected an ONNX model with Conv/Relu/MaxPool nodes.`);
  const inits = new Map<string, TensorObject>((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = (graph.input ?? []).filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) throw new ModelError(`model.weights: ${file}: expected one graph input besides initializers, found ${inputs.length} (${inputs.map((v) => v.name).join(', ')}).`);
  const where = (n: NodeObject) => `${file}: node '${n.name || n.output[0]}' (${n.opType})`;

  // Walk the chain from the input: each node must consume the previous node's output.
  const consumers = new Map<string, NodeObject[]>();
  for (const n of graph.node) for (const i of n.input) if (!inits.has(i)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const ops: NetworkOp[] = [];
  const layers = new Map<string, ConvWeights>();
  const names = new Set<string>();
  let tensor = inputs[0].name;
  let channels: number | undefined;
  let inputChannels: number | undefined;
  for (;;) {
    const next = consumers.get(tensor) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) throw new ModelError(`model.weights: ${file}: tensor '${tensor}' feeds ${next.length} nodes. Expected a sequential network (one chain of Conv/Relu/MaxPool).`);
    const node = next[0];
    const name = uniqueName(node.name || node.output[0] || `${node.opType}_${ops.length}`, names);
    if (node.domain && node.domain !== 'ai.onnx') throw new ModelError(`model.weights: ${where(node)} is in domain '${node.domain}'. Expected standard ONNX ops.`);
    if (node.opType === 'Conv') {
      const w = inits.get(node.input[1]);
      if (!w) throw new ModelError(`model.weights: ${where(node)}: its kernel '${node.input[1]}' is not an initializer. Expected constant weights.`);
      const dims = (w.dims ?? []).map(int64);
      if (dims.length !== 4 || dims[2] !== dims[3]) throw new ModelError(`model.weights: ${where(node)}: kernel shape [${dims.join(', ')}], expected [out, in, k, k] (square 2-D kernel).`);
      const [cout, cin, k] = dims;
      if (channels !== undefined && cin !== channels) throw new ModelError(`model.weights: ${where(node)}: kernel expects ${cin} input channels, the previous layer gives ${channels}.`);
      if (attrInt(node, 'group', 1) !== 1) throw new ModelError(`model.weights: ${where(node)}: group = ${attrInt(node, 'group', 1)}. Expected group = 1.`);
      if (w.dataLocation === 1) throw new ModelError(`model.weights: ${where(node)}: weights stored as external data. Expected weights inside the .onnx file.`);
      if (w.dataType !== DataType.FLOAT && w.dataType !== DataType.DOUBLE) throw new ModelError(`model.weights: ${where(node)}: kernel data type ${w.dataType}. Expected float32 (1) or float64 (11).`);
      const kernel = tensorFloats(w);
      if (kernel.length !== cout * cin * k * k) throw new ModelError(`model.weights: ${where(node)}: kernel holds ${kernel.length} values, expected ${cout * cin * k * k} for shape [${dims.join(', ')}] (float32 or float64 data).`);
      let bias: Float32Array = new Float32Array(cout);
      if (node.input[2]) {
        const b = inits.get(node.input[2]);
        if (!b) throw new ModelError(`model.weights: ${where(node)}: bias '${node.input[2]}' is not an initializer.`);
        bias = tensorFloats(b);
        if (bias.length !== cout) throw new ModelError(`model.weights: ${where(node)}: bias has ${bias.length} values, expected [${cout}].`);
      }
      const geo = windowGeometry(node, where(node), k);
      ops.push({ op: 'conv', name, ...geo, inChannels: cin, outChannels: cout } satisfies ConvOp);
      layers.set(name, { kernel, bias });
      inputChannels ??= cin;
      channels = cout;
    } else if (node.opType === 'Relu') {
      ops.push({ op: 'relu', name });
    } else if (node.opType === 'MaxPool') {
      if (node.output.length > 1 && node.output[1]) throw new ModelError(`model.weights: ${where(node)}: MaxPool with an Indices output. Expected one output.`);
      const ks = attrInts(node, 'kernel_shape') ?? [];
      if (ks.length !== 2 || ks[0] !== ks[1]) throw new ModelError(`model.weights: ${where(node)}: kernel_shape [${ks.join(', ')}], expected a square 2-D window.`);
      const geo = windowGeometry(node, where(node), ks[0]);
      ops.push({ op: 'maxpool', name, ...geo, ceilMode: attrInt(node, 'ceil_mode', 0) === 1 } satisfies MaxPoolOp);
    } else if (node.opType === 'Identity' || node.opType === 'Dropout') {
      // No-ops at inference time.
    } else {
      throw new ModelError(`model.weights: ${where(node)}: unsupported op '${node.opType}'. Expected a sequential network of Conv, Relu and MaxPool.`);
    }
    tensor = node.output[0];
  }
  if (inputChannels === undefined) throw new ModelError(`model.weights: ${file} has no Conv node. Expected at least one Conv layer.`);
  return {
    net: { arch: graph.name || 'onnx', inputChannels, preprocessing, ops },
    weights: { source: { kind: 'onnx', file, sha256: await sha256File(file) }, layers },
  };
}

function uniqueName(raw: string, seen: Set<string>): string {
  const base = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
  let name = base;
  for (let i = 2; seen.has(name); i++) name = `${base}_${i}`;
  seen.add(name);
  return name;
}

/** Square kernel/stride/pads/dilation of a Conv or MaxPool node (explicit pads, VALID, or SAME at stride 1). */
function windowGeometry(node: NodeObject, where: string, kernel: number): Pick<ConvOp, 'kernel' | 'stride' | 'padBegin' | 'padEnd' | 'dilation'> {
  const strides = attrInts(node, 'strides') ?? [1, 1];
  const dil = attrInts(node, 'dilations') ?? [1, 1];
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = attrString(node, 'auto_pad') ?? 'NOTSET';
  if (strides[0] !== strides[1] || dil[0] !== dil[1]) throw new ModelError(`model.weights: ${where}: strides [${strides}] / dilations [${dil}] differ between axes. Expected square geometry.`);
  let [pb, pe] = [pads[0], pads[2]];
  if (pads[0] !== pads[1] || pads[2] !== pads[3]) throw new ModelError(`model.weights: ${where}: pads [${pads}] differ between axes. Expected square geometry (pads [t, l, b, r] with t = l, b = r).`);
  if (autoPad === 'VALID') [pb, pe] = [0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (strides[0] !== 1) throw new ModelError(`model.weights: ${where}: auto_pad ${autoPad} with stride ${strides[0]} depends on the input size. Expected explicit pads.`);
    const total = dil[0] * (kernel - 1);
    pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    pe = total - pb;
  } else if (autoPad !== 'NOTSET') throw new ModelError(`model.weights: ${where}: unknown auto_pad '${autoPad}'.`);
  return { kernel, stride: strides[0], padBegin: pb, padEnd: pe, dilation: dil[0] };
}

/** Writes a network as a plain NCHW ONNX file (Conv/Relu/MaxPool chain, output = last op's full feature map). */
export function sequentialOnnxBytes(net: Network, weights: NetworkWeights): Uint8Array {
  const nodes: NodeObject[] = [];
  const inits: TensorObject[] = [];
  let x = 'input';
  const ints = (name: string, v: number[]): AttributeObject => ({ name, type: AttributeType.INTS, ints: v });
  for (const op of net.ops) {
    const y = `${op.name}_out`;
    if (op.op === 'conv') {
      const w = weights.layers.get(op.name);
      if (!w) throw new ModelError(`sequentialOnnxBytes: no weights for '${op.name}'.`);
      inits.push(floatTensor(`${op.name}.weight`, [op.outChannels, op.inChannels, op.kernel, op.kernel], w.kernel), floatTensor(`${op.name}.bias`, [op.outChannels], w.bias));
      nodes.push({ name: op.name, opType: 'Conv', input: [x, `${op.name}.weight`, `${op.name}.bias`], output: [y], attribute: [ints('kernel_shape', [op.kernel, op.kernel]), ints('strides', [op.stride, op.stride]), ints('pads', [op.padBegin, op.padBegin, op.padEnd, op.padEnd]), ints('dilations', [op.dilation, op.dilation])] });
    } else if (op.op === 'relu') {
      nodes.push({ name: op.name, opType: 'Relu', input: [x], output: [y] });
    } else {
      nodes.push({ name: op.name, opType: 'MaxPool', input: [x], output: [y], attribute: [ints('kernel_shape', [op.kernel, op.kernel]), ints('strides', [op.stride, op.stride]), ints('pads', [op.padBegin, op.padBegin, op.padEnd, op.padEnd]), ints('dilations', [op.dilation, op.dilation]), { name: 'ceil_mode', type: AttributeType.INT, i: op.ceilMode ? 1 : 0 }] });
    }
    x = y;
  }
  const dims = (d: (number | string)[]) => ({ dim: d.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) });
  return encodeModel({
    irVersion: 8, producerName: 'revcor', opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: net.arch, node: nodes, initializer: inits,
      input: [{ name: 'input', type: { tensorType: { elemType: DataType.FLOAT, shape: dims(['N', net.inputChannels, 'H', 'W']) } } }],
      output: [{ name: x, type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  });
}
