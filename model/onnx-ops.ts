// One ONNX node → one revcor op (model/network.ts), or why its output cannot be analysed: a global op that ends
// the feature maps (pooling, flatten, classifier: ignored after the analysed layers), or a refusal naming what is
// not feed-forward convolution (recurrence, attention, data-dependent shapes, position-dependent constants).
// Tested in test/model/dag.test.ts.
import { ModelError } from '../pipeline/errors.ts';
import type { TensorShape } from './dag.ts';
import type { NetworkOp, WindowOp } from './network.ts';
import { DataType, int64, tensorFloats, tensorNumbers, type AttributeObject, type NodeObject, type TensorObject } from './onnx-proto.ts';
import type { ConvWeights } from './weights.ts';

/** What the translation of one node may look up. */
export interface NodeContext {
  file: string;
  /** Default-domain opset of the file. */
  opset: number;
  /** A constant tensor (initializer or Constant node output), by name. */
  constant(name: string): TensorObject | undefined;
  /** Channels and side of a feature-map tensor at the configured input size. */
  shape(name: string): TensorShape | undefined;
  /** True for the graph's input tensor. */
  isInput(name: string): boolean;
  /** Layout of the graph input. */
  inputLayout: 'nchw' | 'nhwc';
}

/** The result of translating a node: an op, an alias of its input, or why its output is not analysable. */
export type Translation =
  | { kind: 'op'; op: NetworkOp; weights?: ConvWeights }
  | { kind: 'alias'; of: string }
  | { kind: 'head'; reason: string }
  | { kind: 'refuse'; reason: string };

/** Input positions of a node that are parameters (must be constants); the other inputs are feature maps. */
export function parameterInputs(opType: string): number[] {
  switch (opType) {
    case 'Conv':
    case 'Clip':
    case 'Dropout':
      return [1, 2];
    case 'BatchNormalization':
      return [1, 2, 3, 4];
    case 'Pad':
      return [1, 2, 3];
    case 'Reshape':
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceSum':
      return [1];
    case 'Gemm':
      return [1, 2];
    default:
      return [];
  }
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN', 'Loop', 'Scan']);
const ATTENTION = new Set(['Attention', 'MultiHeadAttention', 'Einsum']);
const DATA_DEPENDENT = new Set(['Shape', 'Size', 'NonZero', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Where', 'If', 'TopK', 'Compress', 'Gather', 'GatherElements', 'GatherND', 'Slice', 'Split', 'ScatterND', 'Scatter', 'ScatterElements']);
const RESAMPLING = new Set(['Resize', 'Upsample', 'ConvTranspose', 'DepthToSpace', 'SpaceToDepth']);
const GLOBAL_POOL = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'ReduceMean', 'ReduceMax', 'ReduceSum', 'ReduceL2']);
const TO_VECTOR = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze']);
const CLASSIFIER = new Set(['Gemm', 'Softmax', 'LogSoftmax']);

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
function attrFloat(node: NodeObject, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.f !== undefined ? a.f : dflt;
}
function attrString(node: NodeObject, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : undefined;
}

/** How a node is named in messages: `node 'name' (OpType)`. */
export function nodeLabel(node: NodeObject): string {
  return `node '${node.name || node.output[0]}' (${node.opType})`;
}

/** The values of a constant tensor; a ModelError for data types revcor does not read. */
function constantValues(ctx: NodeContext, node: NodeObject, t: TensorObject, what: string): number[] {
  if (t.dataLocation === 1) throw new ModelError(`model.weights: ${ctx.file}: ${nodeLabel(node)}: its ${what} is stored as external data. Expected weights inside the .onnx file (export without external data).`);
  if (t.dataType === DataType.FLOAT16) throw new ModelError(`model.weights: ${ctx.file}: ${nodeLabel(node)}: its ${what} is float16. Expected float32 or float64 weights (export the model in float32).`);
  const v = tensorNumbers(t);
  if (v === null) throw new ModelError(`model.weights: ${ctx.file}: ${nodeLabel(node)}: its ${what} has data type ${t.dataType}. Expected float32, float64, int32 or int64.`);
  return v;
}

/** Float values of a parameter input, or undefined when the input is absent. */
function floatParam(ctx: NodeContext, node: NodeObject, k: number, what: string): Float32Array | undefined {
  const name = node.input[k];
  if (!name) return undefined;
  const t = ctx.constant(name)!;
  const float = t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE || t.dataType === undefined;
  // external data and float16 fall through to constantValues, which names them in its error
  return float && t.dataLocation !== 1 ? tensorFloats(t) : Float32Array.from(constantValues(ctx, node, t, what));
}

/** Square kernel/stride/pads/dilation of a Conv or pooling node (explicit pads, VALID or SAME_*), or a refusal. */
function windowGeometry(node: NodeObject, kernel: number, inSize: number): Pick<WindowOp, 'kernel' | 'stride' | 'padBegin' | 'padEnd' | 'dilation'> | string {
  const strides = attrInts(node, 'strides') ?? [1, 1];
  const dil = attrInts(node, 'dilations') ?? [1, 1];
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = attrString(node, 'auto_pad') ?? 'NOTSET';
  if (strides.length !== 2 || dil.length !== 2 || pads.length !== 4) return `is not a 2-D window (strides [${strides}], dilations [${dil}], pads [${pads}])`;
  if (strides[0] !== strides[1] || dil[0] !== dil[1]) return `has strides [${strides}] / dilations [${dil}] that differ between rows and columns: expected square geometry`;
  const [s, d] = [strides[0]!, dil[0]!];
  let [pb, pe] = [pads[0]!, pads[2]!];
  if (autoPad === 'VALID') [pb, pe] = [0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // ONNX: output ⌈in/s⌉, total padding (out − 1)·s + k_eff − in, the odd pixel at the end (UPPER) or start (LOWER);
    // with stride > 1 it depends on the input side: resolved at model.inputSize
    const total = Math.max(0, (Math.ceil(inSize / s) - 1) * s + d * (kernel - 1) + 1 - inSize);
    pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    pe = total - pb;
  } else if (autoPad !== 'NOTSET') return `has an unknown auto_pad '${autoPad}'`;
  else if (pads[0] !== pads[1] || pads[2] !== pads[3]) return `has pads [${pads}] that differ between rows and columns: expected square geometry (pads [t, l, b, r] with t = l, b = r)`;
  return { kernel, stride: s, padBegin: pb, padEnd: pe, dilation: d };
}

/** The per-channel (or single) value of a constant operand, or a refusal when it varies over positions or batch. */
function channelConstant(ctx: NodeContext, node: NodeObject, t: TensorObject, channels: number): Float32Array | string {
  const dims = (t.dims ?? []).map(int64);
  if (dims.length > 4) return `has a constant of rank ${dims.length}: expected one value or one per channel`;
  const d = [...new Array(4 - dims.length).fill(1), ...dims];
  if (d[2]! > 1 || d[3]! > 1) return `uses a constant that varies over positions ([${dims}]): units would not be translated copies of each other (position-dependent)`;
  if (d[0]! > 1 || (d[1]! !== 1 && d[1]! !== channels)) return `uses a constant of shape [${dims}] for ${channels} channels: expected one value or one per channel`;
  return Float32Array.from(constantValues(ctx, node, t, 'constant operand'));
}

/**
 * Translates one node whose feature-map inputs are all analysable (`name` = its unique op name, `inputs` =
 * its feature-map inputs after aliases). Broken files (shapes that cannot hold) are ModelErrors; everything
 * that is merely not analysable comes back as 'head' or 'refuse' with a phrase completing "node 'n' (Op) …".
 */
export function translateNode(node: NodeObject, name: string, inputs: string[], ctx: NodeContext): Translation {
  const op = node.opType;
  const x = inputs[0]!;
  const shape = (t: string) => ctx.shape(t)!;
  const wired = { name, inputs, output: node.output[0]! };
  const bad = (msg: string): never => {
    throw new ModelError(`model.weights: ${ctx.file}: ${nodeLabel(node)}: ${msg}`);
  };
  if (node.domain && node.domain !== 'ai.onnx') return { kind: 'refuse', reason: `is a custom op of domain '${node.domain}': expected standard ONNX ops` };
  if (ctx.inputLayout === 'nhwc' && inputs.some((t) => ctx.isInput(t)) && op !== 'Transpose') return { kind: 'refuse', reason: `reads the NHWC graph input directly: expected a Transpose to NCHW first` };
  if (RECURRENT.has(op)) return { kind: 'refuse', reason: 'is recurrent: not a feed-forward convolution' };
  if (ATTENTION.has(op)) return { kind: 'refuse', reason: 'is attention (products between activations): not a feed-forward convolution' };
  if (RESAMPLING.has(op)) return { kind: 'refuse', reason: 'resamples feature maps (upsampling or a transposed conv): not a feed-forward convolution' };
  if (DATA_DEPENDENT.has(op)) return { kind: 'refuse', reason: 'slices, gathers or shapes tensors from data (data-dependent shapes): not a feed-forward convolution' };
  if (GLOBAL_POOL.has(op)) return { kind: 'head', reason: 'pools over all positions' };
  if (TO_VECTOR.has(op)) return { kind: 'head', reason: 'turns feature maps into vectors' };
  if (CLASSIFIER.has(op)) return { kind: 'head', reason: 'is a classifier layer' };

  switch (op) {
    case 'Conv': {
      const w = ctx.constant(node.input[1]!)!;
      const dims = (w.dims ?? []).map(int64);
      if (dims.length !== 4) return { kind: 'refuse', reason: `has kernel shape [${dims}]: expected a 2-D convolution [out, in/groups, k, k]` };
      if (dims[2] !== dims[3]) return { kind: 'refuse', reason: `has a ${dims[2]}×${dims[3]} kernel: expected square kernels` };
      const [cout, perGroup, k] = dims as [number, number, number];
      const group = attrInt(node, 'group', 1);
      const ks = attrInts(node, 'kernel_shape');
      if (ks && (ks[0] !== k || ks[1] !== k)) bad(`kernel_shape [${ks}] disagrees with its weights [${dims}].`);
      const cin = shape(x).channels;
      if (perGroup * group !== cin || cout % group !== 0) bad(`kernel [${dims}] with group = ${group} expects ${perGroup * group} input channels, its input has ${cin}.`);
      const kernel = floatParam(ctx, node, 1, 'kernel')!;
      if (kernel.length !== cout * perGroup * k * k) bad(`kernel holds ${kernel.length} values, expected ${cout * perGroup * k * k} for shape [${dims}] (float32 or float64 data).`);
      const bias = floatParam(ctx, node, 2, 'bias') ?? new Float32Array(cout);
      if (bias.length !== cout) bad(`bias has ${bias.length} values, expected [${cout}].`);
      const geo = windowGeometry(node, k, shape(x).size);
      if (typeof geo === 'string') return { kind: 'refuse', reason: geo };
      return { kind: 'op', op: { op: 'conv', ...wired, ...geo, inChannels: cin, outChannels: cout, ...(group !== 1 ? { group } : {}) }, weights: { kernel, bias } };
    }
    case 'MaxPool':
    case 'AveragePool': {
      const ks = attrInts(node, 'kernel_shape') ?? [];
      if (ks.length !== 2 || ks[0] !== ks[1]) return { kind: 'refuse', reason: `has kernel_shape [${ks}]: expected a square 2-D window` };
      const geo = windowGeometry(node, ks[0]!, shape(x).size);
      if (typeof geo === 'string') return { kind: 'refuse', reason: geo };
      const ceilMode = attrInt(node, 'ceil_mode', 0) === 1;
      if (op === 'MaxPool') return { kind: 'op', op: { op: 'maxpool', ...wired, ...geo, ceilMode } };
      if (geo.dilation !== 1) return { kind: 'refuse', reason: `has dilations ${geo.dilation}: expected an undilated average pool` };
      return { kind: 'op', op: { op: 'avgpool', ...wired, ...geo, dilation: 1, ceilMode, countIncludePad: attrInt(node, 'count_include_pad', 0) === 1 } };
    }
    case 'BatchNormalization': {
      if (attrInt(node, 'training_mode', 0) === 1) return { kind: 'refuse', reason: 'is in training mode: expected an inference graph' };
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => floatParam(ctx, node, k, ['scale', 'bias', 'mean', 'variance'][k - 1]!));
      if (!scale || !bias || !mean || !variance) bad('expected scale, B, mean and var inputs.');
      return { kind: 'op', op: { op: 'batchnorm', ...wired, epsilon: attrFloat(node, 'epsilon', 1e-5), scale: scale!, bias: bias!, mean: mean!, variance: variance! } };
    }
    case 'Relu':
      return { kind: 'op', op: { op: 'relu', ...wired } };
    case 'Sigmoid':
      return { kind: 'op', op: { op: 'sigmoid', ...wired } };
    case 'HardSwish':
      return { kind: 'op', op: { op: 'hardswish', ...wired } };
    case 'LeakyRelu':
      return { kind: 'op', op: { op: 'leakyrelu', ...wired, alpha: attrFloat(node, 'alpha', 0.01) } };
    case 'HardSigmoid':
      return { kind: 'op', op: { op: 'hardsigmoid', ...wired, alpha: attrFloat(node, 'alpha', 0.2), beta: attrFloat(node, 'beta', 0.5) } };
    case 'Clip': {
      let [min, max] = [-Infinity, Infinity];
      if (ctx.opset < 11) [min, max] = [attrFloat(node, 'min', -Infinity), attrFloat(node, 'max', Infinity)];
      else {
        const lo = floatParam(ctx, node, 1, 'min');
        const hi = floatParam(ctx, node, 2, 'max');
        if ((lo && lo.length !== 1) || (hi && hi.length !== 1)) bad('expected scalar min and max.');
        if (lo) min = lo[0]!;
        if (hi) max = hi[0]!;
      }
      return { kind: 'op', op: { op: 'clip', ...wired, min, max } };
    }
    case 'LRN':
      return { kind: 'op', op: { op: 'lrn', ...wired, size: attrInt(node, 'size', 0) || bad('LRN without a size.'), alpha: attrFloat(node, 'alpha', 1e-4), beta: attrFloat(node, 'beta', 0.75), bias: attrFloat(node, 'bias', 1) } };
    case 'Pad': {
      const mode = attrString(node, 'mode') ?? 'constant';
      if (mode !== 'constant') return { kind: 'refuse', reason: `pads in mode '${mode}': expected constant padding (translated copies need it)` };
      const raw = ctx.opset < 11 ? attrInts(node, 'pads') : node.input[1] ? constantValues(ctx, node, ctx.constant(node.input[1])!, 'pads') : undefined;
      if (!raw) bad('no pads.');
      const axes = node.input[3] ? constantValues(ctx, node, ctx.constant(node.input[3])!, 'axes').map((a) => (a < 0 ? a + 4 : a)) : [0, 1, 2, 3];
      if (raw!.length !== 2 * axes.length) bad(`${raw!.length} pads for ${axes.length} axes.`);
      const begin = [0, 0, 0, 0];
      const end = [0, 0, 0, 0];
      axes.forEach((a, k) => {
        begin[a] = raw![k]!;
        end[a] = raw![k + axes.length]!;
      });
      if (begin[0] || begin[1] || end[0] || end[1]) return { kind: 'refuse', reason: `pads the batch or channel axis (pads [${raw}]): expected spatial padding` };
      if (begin[2] !== begin[3] || end[2] !== end[3]) return { kind: 'refuse', reason: `has pads [${raw}] that differ between rows and columns: expected square geometry` };
      if (begin[2]! < 0 || end[2]! < 0) return { kind: 'refuse', reason: `has negative pads [${raw}] (a crop): expected padding` };
      const value = ctx.opset < 11 ? attrFloat(node, 'value', 0) : (floatParam(ctx, node, 2, 'constant_value')?.[0] ?? 0);
      return { kind: 'op', op: { op: 'pad', ...wired, padBegin: begin[2]!, padEnd: end[2]!, value } };
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const kind = op.toLowerCase() as 'add' | 'sub' | 'mul' | 'div';
      if (inputs.length === 2) return { kind: 'op', op: { op: kind, ...wired } };
      const k = node.input.findIndex((t) => ctx.constant(t) !== undefined);
      const c = channelConstant(ctx, node, ctx.constant(node.input[k]!)!, shape(x).channels);
      if (typeof c === 'string') return { kind: 'refuse', reason: c };
      return { kind: 'op', op: { op: kind, ...wired, constant: c, ...(k === 0 ? { constantFirst: true } : {}) } };
    }
    case 'Concat': {
      const axis = attrInt(node, 'axis', 1);
      if (axis !== 1 && axis !== -3) return { kind: 'refuse', reason: `concatenates along axis ${axis}: expected channels (axis 1)` };
      return { kind: 'op', op: { op: 'concat', ...wired } };
    }
    case 'Identity':
    case 'Dropout':
      return { kind: 'op', op: { op: 'identity', ...wired } };
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? [];
      if (ctx.isInput(x) && ctx.inputLayout === 'nhwc' && perm.join() === '0,3,1,2') return { kind: 'alias', of: x };
      return { kind: 'refuse', reason: `transposes feature maps (perm [${perm}]): expected NCHW feature maps throughout` };
    }
    case 'MatMul':
      if (inputs.length === 2) return { kind: 'refuse', reason: 'is attention (a product of two activations): not a feed-forward convolution' };
      return { kind: 'head', reason: 'is a matrix product (a fully connected layer)' };
    default:
      return { kind: 'refuse', reason: `is an op revcor does not read ('${op}'): expected Conv, BatchNormalization, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, MaxPool, AveragePool, LRN, Pad, Add, Sub, Mul, Div, Concat, Identity, Dropout` };
  }
}
