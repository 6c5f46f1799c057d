// ONNX model files of any feed-forward CNN: read into a Network (ops wired by tensor name, geometry from the node
// attributes, analysable outputs and refusals recorded) plus conv weights; and sequential ones written (fixtures).
import { existsSync, readFileSync } from 'node:fs';
import { InputError, ModelError } from '../pipeline/errors.ts';
import { sha256File } from '../pipeline/cache-key.ts';
import { ancestorsOf, inputTensor, tensorShapes, wiring, type TensorShape } from './dag.ts';
import { emitOp } from './graph-ops.ts';
import { inAllRule, isAllCandidateOpType, layerName } from './layers.ts';
import type { GraphInfo, Network, NetworkOp, Preprocessing } from './network.ts';
import { nodeLabel, parameterInputs, translateNode, type NodeContext } from './onnx-ops.ts';
import {
  DataType, decodeModel, encodeModel, floatTensor, int64,
  type ModelObject, type NodeObject, type TensorObject, type ValueInfoObject,
} from './onnx-proto.ts';
import type { ConvWeights, NetworkWeights } from './weights.ts';

/** A network read from an ONNX file, with its conv weights. */
export interface OnnxNetwork {
  net: Network;
  weights: NetworkWeights;
}

/** Why a tensor of the file cannot be analysed: after a global op (head), or refused. */
interface Taint {
  head: boolean;
  reason: string;
}

/** Nodes in an order where every node comes after the producers of its inputs; a ModelError for dangling inputs or cycles. */
function topologicalOrder(file: string, nodes: readonly NodeObject[], available: Set<string>): NodeObject[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const missing = new Map<number, number>();
  const waiting = new Map<string, number[]>();
  const ready: number[] = [];
  nodes.forEach((n, i) => {
    const need = [...new Set(n.input.filter((t) => t && !available.has(t)))];
    for (const t of need) {
      if (!producer.has(t)) throw new ModelError(`model.weights: ${file}: node '${n.name || n.output[0]}' (${n.opType}) reads tensor '${t}', which no node, initializer or input provides. Expected a complete ONNX graph.`);
      waiting.set(t, [...(waiting.get(t) ?? []), i]);
    }
    missing.set(i, need.length);
    if (need.length === 0) ready.push(i);
  });
  // Kahn's algorithm taking the earliest ready node first: a file already in topological order keeps its order
  const order: NodeObject[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(nodes[i]!);
    for (const o of nodes[i]!.output) {
      for (const j of waiting.get(o) ?? []) {
        missing.set(j, missing.get(j)! - 1);
        if (missing.get(j) === 0) ready.push(j);
      }
      waiting.delete(o);
    }
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => missing.get(i)! > 0)!;
    throw new ModelError(`model.weights: ${file}: node '${stuck.name || stuck.output[0]}' (${stuck.opType}) is part of a cycle. Expected a feed-forward (acyclic) graph.`);
  }
  return order;
}

/** The tensor a Constant node holds (value, value_float(s), value_int(s)). */
function constantNodeTensor(node: NodeObject): TensorObject | undefined {
  for (const a of node.attribute ?? []) {
    if (a.name === 'value' && a.t) return a.t;
    if (a.name === 'value_float') return { dims: [], dataType: DataType.FLOAT, floatData: [a.f ?? 0] };
    if (a.name === 'value_floats') return { dims: [a.floats?.length ?? 0], dataType: DataType.FLOAT, floatData: a.floats ?? [] };
    if (a.name === 'value_int') return { dims: [], dataType: DataType.INT64, int64Data: [a.i ?? 0] };
    if (a.name === 'value_ints') return { dims: [a.ints?.length ?? 0], dataType: DataType.INT64, int64Data: a.ints ?? [] };
  }
  return undefined;
}

/** The graph input's declared dimensions (null where symbolic or absent). */
function inputDims(v: ValueInfoObject): (number | null)[] | null {
  const dim = v.type?.tensorType?.shape?.dim;
  return dim ? dim.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? int64(d.dimValue) : null)) : null;
}

/**
 * Reads a feed-forward convolutional ONNX graph into a Network (explicit wiring, pads resolved at `inputSize`)
 * and its conv weights. Every node whose inputs are feature maps is translated (model/onnx-ops.ts); tensors after
 * a global op (classifier heads) and tensors that depend on a refused node are recorded with the reason, and only
 * refused when a layer needs them. Broken files are a ModelError naming the file and node.
 */
export async function loadOnnxFile(file: string, preprocessing: Preprocessing = 'none', inputSize = 224): Promise<OnnxNetwork> {
  if (!existsSync(file)) throw new InputError(`model.weights: ${file} does not exist. Expected an ONNX model file.`);
  let model: ModelObject;
  try {
    model = decodeModel(readFileSync(file));
  } catch (err) {
    throw new ModelError(`model.weights: ${file} is not an ONNX model (${(err as Error).message}). Expected an ONNX protobuf file.`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new ModelError(`model.weights: ${file} holds no ONNX graph. Expected an ONNX model with Conv nodes.`);
  const opset = int64(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version) || 13;
  const constants = new Map<string, TensorObject>((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = (graph.input ?? []).filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) throw new ModelError(`model.weights: ${file}: expected one graph input besides initializers, found ${inputs.length} (${inputs.map((v) => v.name).join(', ')}).`);
  const inputName = inputs[0]!.name;
  const dims = inputDims(inputs[0]!);
  const nhwc = dims?.length === 4 && dims[3] === 3 && dims[1] !== 3;
  const inputLayout = nhwc ? 'nhwc' : 'nchw';
  const order = topologicalOrder(file, graph.node, new Set([...constants.keys(), inputName]));
  let inputChannels = dims?.length === 4 ? (nhwc ? dims[3] : dims[1]) ?? undefined : undefined;
  if (inputChannels === undefined) {
    // symbolic channel dimension: the first conv reading the input (through an NHWC transpose) tells
    const readers = new Set([inputName, ...order.filter((n) => n.opType === 'Transpose' && n.input[0] === inputName).map((n) => n.output[0])]);
    const conv = order.find((n) => n.opType === 'Conv' && readers.has(n.input[0]!));
    const w = conv && constants.get(conv.input[1]!);
    inputChannels = w?.dims?.length === 4 ? int64(w.dims[1]) * (int64(conv!.attribute?.find((a) => a.name === 'group')?.i) || 1) : 3;
  }

  const names = new Set<string>();
  const ops: NetworkOp[] = [];
  const layers = new Map<string, ConvWeights>();
  const convNodes = new Map<string, number>();
  // the tensor the network reads: the input itself (NCHW), or the output of the transpose an NHWC graph opens with
  let netInput: string | undefined = nhwc ? undefined : inputName;
  const inputShape: TensorShape = { channels: inputChannels, size: inputSize };
  const shapes = new Map<string, TensorShape>(nhwc ? [] : [[inputName, inputShape]]);
  const aliases = new Map<string, string>();
  const taints = new Map<string, Taint>();
  const producers = new Map<string, string>();
  const info: GraphInfo = { file, inputName, inputLayout, analysable: [], refused: [], convNodes };
  const net: Network = { arch: graph.name || 'onnx', inputChannels, preprocessing, ops, input: inputName, graph: info };
  const ctx: NodeContext = {
    file, opset, inputLayout,
    constant: (t) => constants.get(t),
    shape: (t) => shapes.get(t),
    isInput: (t) => t === inputName,
  };
  const resolve = (t: string) => aliases.get(t) ?? t;
  const taintOutputs = (node: NodeObject, taint: Taint) => node.output.forEach((o) => o && taints.set(o, taint));

  for (const node of order) {
    const label = nodeLabel(node);
    node.output.forEach((o) => o && producers.set(o, node.opType));
    if (node.opType === 'Constant') {
      const t = constantNodeTensor(node);
      if (t) constants.set(node.output[0]!, { ...t, name: node.output[0] });
      else taintOutputs(node, { head: true, reason: `${label} holds a constant revcor does not read` });
      continue;
    }
    const params = parameterInputs(node.opType);
    const data = node.input.map(resolve).filter((t, k) => t && !params.includes(k) && !constants.has(t));
    if (data.length === 0) {
      // a node of constants only: Identity passes a constant on; anything else computes shapes or parameters
      if ((node.opType === 'Identity' || node.opType === 'Dropout') && constants.has(node.input[0]!)) constants.set(node.output[0]!, constants.get(node.input[0]!)!);
      else taintOutputs(node, { head: true, reason: `${label} computes a value from constants` });
      continue;
    }
    const computedParam = node.input.find((t, k) => t && params.includes(k) && !constants.has(resolve(t)));
    const paramRefused = computedParam ? taints.get(resolve(computedParam)) : undefined;
    const tainted = data.map((t) => taints.get(t)).filter((t): t is Taint => t !== undefined);
    const refused = tainted.find((t) => !t.head);
    let taint: Taint | undefined;
    if (refused) taint = refused;
    else if (tainted.length === data.length) taint = tainted[0];
    else if (tainted.length > 0) {
      taint = { head: false, reason: `${label} combines a feature map with a value computed after ${tainted[0]!.reason.replace(/ (pools|turns|is|computes|holds) .*$/, '')}: units would depend on the whole image (as in squeeze-and-excitation)` };
    } else if (paramRefused && !paramRefused.head) {
      taint = paramRefused;
    } else if (computedParam) {
      taint = { head: false, reason: `${label} takes its parameter '${computedParam}' from the graph (data-dependent)` };
    }
    if (taint) {
      taintOutputs(node, taint);
      continue;
    }
    const name = uniqueName(node.name || node.output[0] || `${node.opType}_${ops.length}`, names);
    const t = translateNode(node, name, data, ctx);
    if (t.kind === 'alias') {
      // the NHWC → NCHW transpose of the input: its output is the network input
      if (netInput === undefined) {
        netInput = node.output[0]!;
        net.input = netInput;
        shapes.set(netInput, inputShape);
      } else aliases.set(node.output[0]!, netInput);
      continue;
    }
    if (t.kind === 'head' || t.kind === 'refuse') {
      taintOutputs(node, { head: t.kind === 'head', reason: `${label} ${t.reason}` });
      continue;
    }
    ops.push(t.op);
    try {
      const i = ops.length - 1;
      shapes.set(t.op.output!, tensorShapes(net, inputSize, ancestorsOf(net, [i]))[i]!);
    } catch (err) {
      ops.pop();
      if (!(err instanceof ModelError)) throw err;
      taintOutputs(node, { head: false, reason: `${label} cannot be computed at model.inputSize ${inputSize} px (${err.message.replace(/^model\.inputSize: /, '')})` });
      continue;
    }
    if (t.weights) layers.set(name, t.weights);
    if (t.op.op === 'conv') {
      // legacy layer names: the node name, as written and as earlier versions made it file-safe
      convNodes.set(name, ops.length - 1);
      if (!convNodes.has(name.replace(/[^A-Za-z0-9_.-]/g, '_'))) convNodes.set(name.replace(/[^A-Za-z0-9_.-]/g, '_'), ops.length - 1);
    }
    node.output.slice(1).forEach((o) => o && taints.set(o, { head: false, reason: `${label}: its output '${o}' (not the first) is not a feature map revcor reads` }));
  }
  if (convNodes.size === 0) throw new ModelError(`model.weights: ${file} has no Conv node revcor can read${taints.size ? ` (${[...taints.values()][0]!.reason})` : ''}. Expected at least one Conv layer.`);
  const all = inAllRule(net);
  info.analysable = ops.map((op, i) => ({ tensor: op.output!, name: layerName(op.output!), opIndex: i, inAll: all[i]! }));
  info.refused = [...taints].map(([tensor, t]) => ({ tensor, reason: t.reason, head: t.head, candidate: isAllCandidateOpType(producers.get(tensor) ?? '') }));
  return { net, weights: { source: { kind: 'onnx', file, sha256: await sha256File(file) }, layers } };
}

/** The node's name, made unique among the ops (it keys the conv weights and names the emitted nodes). */
function uniqueName(base: string, seen: Set<string>): string {
  let name = base;
  for (let i = 2; seen.has(name); i++) name = `${base}_${i}`;
  seen.add(name);
  return name;
}

/**
 * Writes a network as a plain NCHW ONNX file (input `input` [N, C, H, W], output = the last op's full feature map):
 * explicit wiring is kept, chain tensors are named `<op>_out`. For fixtures and exports.
 */
export function sequentialOnnxBytes(net: Network, weights: NetworkWeights): Uint8Array {
  const nodes: NodeObject[] = [];
  const inits: TensorObject[] = [];
  const wired = wiring(net);
  const names = new Map<string, string>([[inputTensor(net), 'input']]);
  net.ops.forEach((op, i) => {
    const out = op.output ?? `${op.name}_out`;
    const part = emitOp(op, wired[i]!.inputs.map((t) => names.get(t)!), out, weights);
    nodes.push(...part.nodes);
    inits.push(...part.inits);
    names.set(wired[i]!.output, out);
  });
  const last = names.get(wired.at(-1)!.output)!;
  const dims = (d: (number | string)[]) => ({ dim: d.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) });
  return encodeModel({
    irVersion: 8, producerName: 'revcor', opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: net.arch, node: nodes, initializer: inits,
      input: [{ name: 'input', type: { tensorType: { elemType: DataType.FLOAT, shape: dims(['N', net.inputChannels, 'H', 'W']) } } }],
      output: [{ name: last, type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  });
}
