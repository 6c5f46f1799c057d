// The graph of a network's ops: which tensors each op reads and writes (chain defaults filled in), ancestors
// of chosen outputs, and shape inference (channels and feature-map side of every op's output for an input side).
import { ModelError } from '../pipeline/errors.ts';
import type { Network, NetworkOp, WindowOp } from './network.ts';

/** The input tensor name explicit wiring refers to when Network.input is not set. */
export const DEFAULT_INPUT = 'input';

/** Resolved wiring of one op. */
export interface OpWiring {
  inputs: string[];
  output: string;
}

/** True for ops with a spatial window (conv, max/average pool). */
export function isWindowOp(op: NetworkOp): op is WindowOp {
  return op.op === 'conv' || op.op === 'maxpool' || op.op === 'avgpool';
}

/** True for pointwise nonlinearities. */
export function isActivation(op: NetworkOp): boolean {
  return op.op === 'relu' || op.op === 'leakyrelu' || op.op === 'clip' || op.op === 'sigmoid' || op.op === 'hardsigmoid' || op.op === 'hardswish';
}

/** The network's input tensor name. */
export function inputTensor(net: Network): string {
  return net.input ?? DEFAULT_INPUT;
}

/** Input and output tensors of every op: explicit wiring, else the chain (previous op's output, `op<i>_<name>`). */
export function wiring(net: Network): OpWiring[] {
  const input = inputTensor(net);
  const produced = new Set<string>([input]);
  let previous = input;
  return net.ops.map((op, i) => {
    const inputs = op.inputs ?? [previous];
    const output = op.output ?? `op${i}_${op.name}`;
    for (const t of inputs) {
      if (!produced.has(t)) throw new ModelError(`network ${net.arch}: op '${op.name}' reads tensor '${t}', which no earlier op produces. Expected ops in topological order.`);
    }
    if (produced.has(output)) throw new ModelError(`network ${net.arch}: op '${op.name}' writes tensor '${output}', which already exists. Expected every tensor written once.`);
    produced.add(output);
    previous = output;
    return { inputs, output };
  });
}

/** Per op, the indices of its input ops (−1 = the network input). */
export function inputOps(net: Network, wired: readonly OpWiring[] = wiring(net)): number[][] {
  const producer = new Map<string, number>([[inputTensor(net), -1]]);
  wired.forEach((w, i) => producer.set(w.output, i));
  return wired.map((w) => w.inputs.map((t) => producer.get(t)!));
}

/** Per op, the indices of the ops reading its output. */
export function consumers(net: Network, wired: readonly OpWiring[] = wiring(net)): number[][] {
  const out: number[][] = net.ops.map(() => []);
  inputOps(net, wired).forEach((ins, i) => {
    for (const j of ins) if (j >= 0 && !out[j]!.includes(i)) out[j]!.push(i);
  });
  return out;
}

/** The given ops and every op they depend on, as ascending op indices. */
export function ancestorsOf(net: Network, indices: readonly number[]): number[] {
  const ins = inputOps(net);
  const seen = new Set<number>();
  const stack = [...indices];
  while (stack.length) {
    const i = stack.pop()!;
    if (i < 0 || seen.has(i)) continue;
    if (i >= net.ops.length) throw new RangeError(`op index ${i} outside the network's ${net.ops.length} ops`);
    seen.add(i);
    stack.push(...ins[i]!);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Channels and feature-map side (square) of one tensor. */
export interface TensorShape {
  channels: number;
  /** NaN when shapes are inferred without an input size. */
  size: number;
}

function describe(net: Network, op: NetworkOp): string {
  return `${net.graph ? `${net.graph.file}: node` : `${net.arch}: op`} '${op.name}'`;
}

/**
 * Shape of every op's output for a square input of side inputSize (null: channels only), computed for the ops in
 * `only` (ascending, closed under ancestors; default all). Inconsistent shapes are a ModelError naming the op.
 */
export function tensorShapes(net: Network, inputSize: number | null, only?: readonly number[]): (TensorShape | undefined)[] {
  const ins = inputOps(net);
  const shapes: (TensorShape | undefined)[] = new Array(net.ops.length);
  const input: TensorShape = { channels: net.inputChannels, size: inputSize ?? NaN };
  const sized = inputSize !== null;
  for (const i of only ?? net.ops.map((_, k) => k)) {
    const op = net.ops[i]!;
    const args = ins[i]!.map((j) => (j < 0 ? input : shapes[j]));
    if (args.some((a) => a === undefined)) throw new RangeError(`tensorShapes: op ${i} needs an op outside the requested set`);
    const [x] = args as TensorShape[];
    let out: TensorShape;
    if (op.op === 'conv') {
      const group = op.group ?? 1;
      if (x.channels !== op.inChannels || op.inChannels % group !== 0 || op.outChannels % group !== 0) {
        throw new ModelError(`${describe(net, op)} (Conv) expects ${op.inChannels} input channels in ${group} group(s) and ${op.outChannels} outputs; its input has ${x.channels} channels.`);
      }
      out = { channels: op.outChannels, size: sized ? opOutputSize(op, x.size) : NaN };
    } else if (op.op === 'maxpool' || op.op === 'avgpool') {
      out = { channels: x.channels, size: sized ? opOutputSize(op, x.size) : NaN };
    } else if (op.op === 'pad') {
      out = { channels: x.channels, size: x.size + op.padBegin + op.padEnd };
    } else if (op.op === 'concat') {
      const sizes = new Set(args.map((a) => a!.size));
      if (sized && sizes.size > 1) throw new ModelError(`${describe(net, op)} (Concat) joins feature maps of different sides (${[...sizes].join(', ')} px) at a ${inputSize}-px input. Expected equal sides.`);
      out = { channels: args.reduce((n, a) => n + a!.channels, 0), size: x.size };
    } else if (op.op === 'add' || op.op === 'sub' || op.op === 'mul' || op.op === 'div') {
      if (args.length === 2) {
        const [a, b] = args as TensorShape[];
        if (sized && a.size !== b.size) throw new ModelError(`${describe(net, op)} combines feature maps of ${a.size}×${a.size} and ${b.size}×${b.size} at a ${inputSize}-px input. Expected equal sides (paths of one stride).`);
        if (a.channels !== b.channels && a.channels !== 1 && b.channels !== 1) throw new ModelError(`${describe(net, op)} combines ${a.channels} and ${b.channels} channels. Expected equal channel counts.`);
        out = { channels: Math.max(a.channels, b.channels), size: a.size };
      } else {
        const n = op.constant?.length ?? 0;
        if (n !== 1 && n !== x.channels) throw new ModelError(`${describe(net, op)} has a constant of ${n} values for ${x.channels} channels. Expected one value or one per channel.`);
        out = { ...x };
      }
    } else {
      if (op.op === 'batchnorm' && op.scale.length !== x.channels) {
        throw new ModelError(`${describe(net, op)} (BatchNormalization) has ${op.scale.length} channels of parameters for ${x.channels} input channels.`);
      }
      out = { ...x };
    }
    if (sized && !(out.size >= 1)) {
      throw new ModelError(`model.inputSize: ${inputSize} px is too small for ${describe(net, op)} (its feature map would be empty). Expected a larger input size.`);
    }
    shapes[i] = out;
  }
  return shapes;
}

/** Output side of a conv/pool op for an input side (ONNX/PyTorch formula, floor or ceil mode). */
export function opOutputSize(op: WindowOp, inSize: number): number {
  const span = inSize + op.padBegin + op.padEnd - op.dilation * (op.kernel - 1) - 1;
  const ceil = op.op !== 'conv' && op.ceilMode;
  let out = (ceil ? Math.ceil(span / op.stride) : Math.floor(span / op.stride)) + 1;
  // ceil mode: the last window must start inside the input or left padding (ONNX/PyTorch rule).
  if (ceil && (out - 1) * op.stride >= inSize + op.padBegin) out--;
  return out;
}
