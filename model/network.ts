// Network description: a feed-forward graph of operations on named tensors, in topological order. A sequential
// network (VGG16/VGG19 built here with their Keras layer names, test fixtures) leaves the wiring out: op i reads
// op i−1's output. ONNX files are translated into the same description with explicit wiring (model/onnx-file.ts).
// Tested in test/model/geometry.test.ts.
import { ModelError } from '../pipeline/errors.ts';
import { chainAnalysable, dagSelect } from './layers.ts';
import { ancestorsOf, inputOps, tensorShapes } from './dag.ts';

export { isActivation, isWindowOp, opOutputSize } from './dag.ts';

/** Where an op reads and writes. Both default to the chain: the previous op's output, or the network input. */
export interface Wiring {
  name: string;
  /** Data input tensors (parameters are held by the op or by NetworkWeights); default: the previous op's output. */
  inputs?: string[];
  /** Output tensor name; default `op<i>_<name>`. */
  output?: string;
}

/** A 2-D convolution (square kernel; pads may differ between the begin and end side; groups, incl. depthwise). */
export interface ConvOp extends Wiring {
  op: 'conv';
  kernel: number;
  stride: number;
  /** Zero padding before the first row/column. */
  padBegin: number;
  /** Zero padding after the last row/column. */
  padEnd: number;
  dilation: number;
  /** All input channels (the kernel holds inChannels / group per output channel). */
  inChannels: number;
  outChannels: number;
  /** Channel groups (default 1; = inChannels for a depthwise conv). */
  group?: number;
}

/** Elementwise max(x, 0). */
export interface ReluOp extends Wiring {
  op: 'relu';
}

/** Max pooling (square window). */
export interface MaxPoolOp extends Wiring {
  op: 'maxpool';
  kernel: number;
  stride: number;
  padBegin: number;
  padEnd: number;
  dilation: number;
  /** ONNX ceil_mode: output size rounds up instead of down. */
  ceilMode: boolean;
}

/** Average pooling (square window, no dilation). */
export interface AvgPoolOp extends Wiring {
  op: 'avgpool';
  kernel: number;
  stride: number;
  padBegin: number;
  padEnd: number;
  dilation: 1;
  ceilMode: boolean;
  /** ONNX count_include_pad: padding counts in the divisor. */
  countIncludePad: boolean;
}

/** Pointwise nonlinearities other than ReLU (ONNX semantics; clip bounds may be ±Infinity). */
export type ActivationOp =
  | (Wiring & { op: 'leakyrelu'; alpha: number })
  | (Wiring & { op: 'clip'; min: number; max: number })
  | (Wiring & { op: 'sigmoid' })
  | (Wiring & { op: 'hardsigmoid'; alpha: number; beta: number })
  | (Wiring & { op: 'hardswish' });

/** Inference-mode batch normalisation: (x − mean)/√(variance + ε)·scale + bias, per channel. */
export interface BatchNormOp extends Wiring {
  op: 'batchnorm';
  epsilon: number;
  scale: Float32Array;
  bias: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/** Local response normalisation across channels (ONNX LRN). */
export interface LrnOp extends Wiring {
  op: 'lrn';
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

/** Constant padding of both spatial axes (the same on rows and columns). */
export interface PadOp extends Wiring {
  op: 'pad';
  padBegin: number;
  padEnd: number;
  value: number;
}

/**
 * Elementwise arithmetic: of two feature maps (inputs.length = 2: residual Add, gating Mul), or of one feature map
 * and a constant that is the same at every position (one value, or one per channel).
 */
export interface ArithmeticOp extends Wiring {
  op: 'add' | 'sub' | 'mul' | 'div';
  constant?: Float32Array;
  /** The constant is the left operand (c − x, c / x). */
  constantFirst?: boolean;
}

/** Concatenation along channels. */
export interface ConcatOp extends Wiring {
  op: 'concat';
}

/** A no-op at inference (Identity, Dropout). */
export interface IdentityOp extends Wiring {
  op: 'identity';
}

export type NetworkOp = ConvOp | ReluOp | MaxPoolOp | AvgPoolOp | ActivationOp | BatchNormOp | LrnOp | PadOp | ArithmeticOp | ConcatOp | IdentityOp;

/** Ops with a spatial window (conv and pools): the ones that change stride, RF size and feature size. */
export type WindowOp = ConvOp | MaxPoolOp | AvgPoolOp;

/** Explicit input normalisation: x' = (pixel·scale − mean)/std, channels in `channelOrder` (mean, std in that order). */
export interface Normalisation {
  mean: [number, number, number];
  std: [number, number, number];
  scale: number;
  channelOrder: 'rgb' | 'bgr';
}

/** How 0–255 RGB pixels are turned into the network's input: a named convention or explicit values. */
export type Preprocessing = 'caffe' | 'torch' | 'none' | Normalisation;

/** Keras "caffe" convention: RGB→BGR, then subtract this BGR mean (docs/method.md §1). */
export const CAFFE_BGR_MEAN: readonly [number, number, number] = [103.939, 116.779, 123.68];

/** torchvision convention: RGB/255, then ImageNet mean and std. */
export const TORCH_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const TORCH_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** The explicit normalisation a preprocessing name stands for. */
export function normalisation(p: Preprocessing): Normalisation {
  if (p === 'caffe') return { mean: [...CAFFE_BGR_MEAN], std: [1, 1, 1], scale: 1, channelOrder: 'bgr' };
  if (p === 'torch') return { mean: [...TORCH_MEAN], std: [...TORCH_STD], scale: 1 / 255, channelOrder: 'rgb' };
  if (p === 'none') return { mean: [0, 0, 0], std: [1, 1, 1], scale: 1, channelOrder: 'rgb' };
  return p;
}

/** One output tensor of an ONNX graph that revcor can analyse (a spatial feature map before any global op). */
export interface AnalysableOutput {
  /** The tensor's name in the graph (what `model.layers` may name). */
  tensor: string;
  /** File-safe layer name used in outputs (columns, shard ids); `model.layers` accepts it too. */
  name: string;
  /** Index of the producing op in Network.ops. */
  opIndex: number;
  /** Part of `model.layers: all` (see layers.ts for the rule). */
  inAll: boolean;
}

/** A tensor of an ONNX graph that cannot be analysed, and why (named in refusals). */
export interface RefusedTensor {
  tensor: string;
  /** One sentence naming the node and op that makes it unanalysable. */
  reason: string;
  /** True after a global op (pooling, flatten, classifier): not a feature map, ignored by `all`. */
  head: boolean;
  /** Would be part of `all` by its op type. */
  candidate: boolean;
}

/** What a network read from a graph file knows beyond its ops: where it came from and which tensors it offers. */
export interface GraphInfo {
  file: string;
  /** The graph input's name in the file. */
  inputName: string;
  /** Layout of the file's input tensor (NHWC graphs open with a transpose to NCHW, absorbed here). */
  inputLayout: 'nchw' | 'nhwc';
  analysable: AnalysableOutput[];
  refused: RefusedTensor[];
  /** Node names of Conv ops, mapped to their op index (legacy layer names of sequential ONNX networks). */
  convNodes: Map<string, number>;
}

/** A feed-forward CNN: ops in topological order, from an input with `inputChannels` channels. */
export interface Network {
  /** 'vgg16', 'vgg19', or the ONNX graph's name. */
  arch: string;
  inputChannels: number;
  preprocessing: Preprocessing;
  ops: NetworkOp[];
  /** Name of the input tensor explicit wiring refers to (default 'input'). */
  input?: string;
  /** Networks read from a graph file (ONNX): analysable outputs and refusals. */
  graph?: GraphInfo;
}

/** One analysed layer: a tensor of the network whose centre unit (per channel) is read. */
export interface AnalysedLayer {
  /** File-safe name used in every output (the Keras layer name for VGG). */
  name: string;
  /** Where the name comes from: the graph tensor (ONNX) or the conv op (sequential networks). */
  source: string;
  /**
   * Pooling stage: 1 + the number of pooling ops on the longest path before the output (any graph; for VGG it is the
   * block number, block3_conv1 → 3). Nothing parses it from names.
   */
  poolStage: number;
  /** Position of the op whose output is the layer's output in `Network.ops`. */
  outputIndex: number;
  channels: number;
  /** Whether the output is post-nonlinearity. */
  relu: boolean;
}

const VGG_BLOCKS: Record<'vgg16' | 'vgg19', readonly [number, number][]> = {
  // [convs in block, channels]
  vgg16: [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]],
  vgg19: [[2, 64], [2, 128], [4, 256], [4, 512], [4, 512]],
};

/** VGG16 or VGG19 convolutional stack (no pool after block5: units are read from convs), Keras names. */
export function vggNetwork(variant: 'vgg16' | 'vgg19'): Network {
  const ops: NetworkOp[] = [];
  let inChannels = 3;
  VGG_BLOCKS[variant].forEach(([convs, channels], b) => {
    for (let c = 1; c <= convs; c++) {
      const name = `block${b + 1}_conv${c}`;
      ops.push({ op: 'conv', name, kernel: 3, stride: 1, padBegin: 1, padEnd: 1, dilation: 1, inChannels, outChannels: channels });
      ops.push({ op: 'relu', name: `${name}_relu` });
      inChannels = channels;
    }
    ops.push({ op: 'maxpool', name: `block${b + 1}_pool`, kernel: 2, stride: 2, padBegin: 0, padEnd: 0, dilation: 1, ceilMode: false });
  });
  return { arch: variant, inputChannels: 3, preprocessing: 'caffe', ops };
}

/**
 * Every conv layer of the network, in order, with its pooling stage and output op (the nonlinearity that is the conv
 * output's only consumer, else the conv itself). For VGG these are the analysed layers.
 */
export function convLayers(net: Network): AnalysedLayer[] {
  return chainAnalysable(net);
}

/** The analysed layers for a config value ('all' or a list of names); unknown names are a ModelError. */
export function selectLayers(net: Network, layers: 'all' | readonly string[], source = 'model.layers'): AnalysedLayer[] {
  if (net.graph) return dagSelect(net, layers, source);
  const all = convLayers(net);
  if (layers === 'all') return all;
  const byName = new Map(all.map((l) => [l.name, l]));
  for (const name of layers) {
    if (!byName.has(name)) {
      throw new ModelError(`${source}: unknown layer '${name}' for ${net.arch}. Expected one of ${all.map((l) => l.name).join(', ')}.`);
    }
  }
  const wanted = new Set(layers);
  return all.filter((l) => wanted.has(l.name));
}

/** Feature-map side of ops[index]'s output for an input side. */
export function featureSizeAt(net: Network, index: number, inputSize: number): number {
  return tensorShapes(net, inputSize, ancestorsOf(net, [index]))[index]!.size;
}

/** Multiply-accumulate count ×2 (FLOPs) of the conv ops that ops[lastIndex] depends on, for one square input. */
export function convFlops(net: Network, lastIndex: number, inputSize: number): number {
  return layerFlops(net, [lastIndex], inputSize);
}

/** FLOPs (2 × multiply-accumulates) of the conv ops any of the given ops depends on, for one square input. */
export function layerFlops(net: Network, outputIndices: readonly number[], inputSize: number): number {
  const needed = ancestorsOf(net, outputIndices);
  const shapes = tensorShapes(net, inputSize, needed);
  let flops = 0;
  for (const i of needed) {
    const op = net.ops[i]!;
    if (op.op !== 'conv') continue;
    const size = shapes[i]!.size;
    flops += (2 * size * size * op.outChannels * op.inChannels * op.kernel * op.kernel) / (op.group ?? 1);
  }
  return flops;
}

/**
 * Bytes one image's forward pass up to ops[lastIndex] holds at once, estimated: the largest op's inputs plus output
 * (float32), plus the largest tensor again when the graph merges paths (a skip connection keeps its input alive).
 */
export function forwardPeakBytes(net: Network, lastIndex: number, inputSize: number): number {
  const needed = ancestorsOf(net, [lastIndex]);
  const shapes = tensorShapes(net, inputSize, needed);
  const ins = inputOps(net);
  const bytes = (j: number) => {
    const t = j < 0 ? { channels: net.inputChannels, size: inputSize } : shapes[j]!;
    return 4 * t.channels * t.size * t.size;
  };
  let peak = bytes(-1);
  let largest = 0;
  let merges = false;
  for (const i of needed) {
    merges ||= ins[i]!.length > 1;
    largest = Math.max(largest, bytes(i));
    peak = Math.max(peak, ins[i]!.reduce((a, j) => a + bytes(j), 0) + bytes(i));
  }
  return peak + (merges ? largest : 0);
}

/** Float parameters of the conv ops ops[lastIndex] depends on (for memory estimates). */
export function parameterCountOf(net: Network, lastIndex: number): number {
  let n = 0;
  for (const i of ancestorsOf(net, [lastIndex])) {
    const op = net.ops[i]!;
    if (op.op === 'conv') n += op.outChannels * ((op.inChannels / (op.group ?? 1)) * op.kernel * op.kernel + 1);
  }
  return n;
}
