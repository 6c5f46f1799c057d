// Network description: a sequential stack of conv / relu / maxpool operations with their geometry
// (kernel, stride, padding, dilation). VGG16 and VGG19 are built here with their Keras layer names;
// ONNX files are translated into the same description (model/onnx-file.ts).
import { ModelError } from '../pipeline/errors.ts';

/** A 2-D convolution (square kernel; pads may differ between the begin and end side). */
export interface ConvOp {
  op: 'conv';
  name: string;
  kernel: number;
  stride: number;
  /** Zero padding before the first row/column. */
  padBegin: number;
  /** Zero padding after the last row/column. */
  padEnd: number;
  dilation: number;
  inChannels: number;
  outChannels: number;
}

/** Elementwise max(x, 0). */
export interface ReluOp {
  op: 'relu';
  name: string;
}

/** Max pooling (square window). */
export interface MaxPoolOp {
  op: 'maxpool';
  name: string;
  kernel: number;
  stride: number;
  padBegin: number;
  padEnd: number;
  dilation: number;
  /** ONNX ceil_mode: output size rounds up instead of down. */
  ceilMode: boolean;
}

export type NetworkOp = ConvOp | ReluOp | MaxPoolOp;

/** How 0–255 RGB pixels are turned into the network's input. */
export type Preprocessing = 'caffe' | 'none';

/** Keras "caffe" convention: RGB→BGR, then subtract this BGR mean (SPEC §1). */
export const CAFFE_BGR_MEAN: readonly [number, number, number] = [103.939, 116.779, 123.68];

/** A sequential CNN: ops in order, from an input with `inputChannels` channels. */
export interface Network {
  /** 'vgg16', 'vgg19', or the ONNX graph's name. */
  arch: string;
  inputChannels: number;
  preprocessing: Preprocessing;
  ops: NetworkOp[];
}

/** One analysed layer: a conv op and, when a ReLU follows it, the ReLU (the unit is read post-ReLU). */
export interface AnalysedLayer {
  name: string;
  /** 'block3' etc.: 1 + the number of pooling ops before this conv. */
  block: string;
  /** Position of the conv op in `Network.ops`. */
  convIndex: number;
  /** Position of the op whose output is the layer's output (the ReLU after the conv, or the conv). */
  outputIndex: number;
  channels: number;
  /** Whether the output is post-ReLU. */
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

/** Every conv layer of the network, in order, with its block and output op. */
export function convLayers(net: Network): AnalysedLayer[] {
  const out: AnalysedLayer[] = [];
  let pools = 0;
  net.ops.forEach((op, i) => {
    if (op.op === 'maxpool') pools++;
    if (op.op !== 'conv') return;
    const relu = net.ops[i + 1]?.op === 'relu';
    out.push({ name: op.name, block: `block${pools + 1}`, convIndex: i, outputIndex: relu ? i + 1 : i, channels: op.outChannels, relu });
  });
  return out;
}

/** The analysed layers for a config value ('all' or a list of names); unknown names are a ModelError. */
export function selectLayers(net: Network, layers: 'all' | readonly string[], source = 'model.layers'): AnalysedLayer[] {
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

/** Output side of a conv/pool op for an input side (ONNX/PyTorch formula, floor or ceil mode). */
export function opOutputSize(op: ConvOp | MaxPoolOp, inSize: number): number {
  const span = inSize + op.padBegin + op.padEnd - op.dilation * (op.kernel - 1) - 1;
  const ceil = op.op === 'maxpool' && op.ceilMode;
  let out = (ceil ? Math.ceil(span / op.stride) : Math.floor(span / op.stride)) + 1;
  // ceil mode: the last window must start inside the input or left padding (ONNX/PyTorch rule).
  if (ceil && (out - 1) * op.stride >= inSize + op.padBegin) out--;
  return out;
}

/** Feature-map side after ops[0..=lastIndex] for an input side. */
export function featureSizeAt(net: Network, lastIndex: number, inputSize: number): number {
  let size = inputSize;
  for (let i = 0; i <= lastIndex; i++) {
    const op = net.ops[i];
    if (op.op !== 'relu') size = opOutputSize(op, size);
  }
  return size;
}

/** Multiply-accumulate count ×2 (FLOPs) of the conv ops up to ops[lastIndex] for one square input. */
export function convFlops(net: Network, lastIndex: number, inputSize: number): number {
  let size = inputSize;
  let flops = 0;
  for (let i = 0; i <= lastIndex; i++) {
    const op = net.ops[i];
    if (op.op === 'relu') continue;
    size = opOutputSize(op, size);
    if (op.op === 'conv') flops += 2 * size * size * op.outChannels * op.inChannels * op.kernel * op.kernel;
  }
  return flops;
}

/** Largest bytes one image's forward pass holds at once up to ops[lastIndex]: an op's input plus output map (float32). */
export function forwardPeakBytes(net: Network, lastIndex: number, inputSize: number): number {
  let size = inputSize;
  let channels = net.inputChannels;
  let peak = 4 * channels * size * size;
  for (let i = 0; i <= lastIndex; i++) {
    const op = net.ops[i];
    if (op.op === 'relu') continue;
    const out = opOutputSize(op, size);
    const outChannels = op.op === 'conv' ? op.outChannels : channels;
    peak = Math.max(peak, 4 * (channels * size * size + outChannels * out * out));
    size = out;
    channels = outChannels;
  }
  return peak;
}

/** Float parameters of the conv ops up to ops[lastIndex] (for memory estimates). */
export function parameterCountOf(net: Network, lastIndex: number): number {
  let n = 0;
  for (let i = 0; i <= lastIndex; i++) {
    const op = net.ops[i];
    if (op.op === 'conv') n += op.outChannels * (op.inChannels * op.kernel * op.kernel + 1);
  }
  return n;
}
