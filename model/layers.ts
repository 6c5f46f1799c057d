// Which tensors of a network are analysed layers, and what they are called: conv layers of sequential networks
// (VGG), any analysable output of an ONNX graph by tensor name, the `model.layers: all` rule, and the file-safe
// layer names every output (columns, shard ids) uses.
// Tested in test/model/onnx-file.test.ts.
import { ModelError } from '../pipeline/errors.ts';
import { consumers, inputOps, isActivation, tensorShapes, wiring } from './dag.ts';
import type { AnalysedLayer, AnalysableOutput, Network } from './network.ts';

/**
 * The file-safe layer name of a graph tensor: leading '/' dropped, '/' → '.', other characters outside
 * [A-Za-z0-9_.-] → '_', PyTorch's `_output_0` suffix dropped (`/layer1/layer1.0/relu/Relu_output_0` →
 * `layer1.layer1.0.relu.Relu`). Idempotent, so a layer name given back as `model.layers` maps to itself.
 */
export function layerName(tensor: string): string {
  let s = tensor.replace(/^\/+/, '').replace(/\//g, '.').replace(/[^A-Za-z0-9_.-]/g, '_');
  while (s.endsWith('_output_0')) s = s.slice(0, -'_output_0'.length);
  if (!/^[A-Za-z0-9_]/.test(s)) s = `_${s}`;
  return s;
}

/** 1 + the number of pooling ops on the longest path into each op (the op itself not counted), per op. */
function poolDepths(net: Network): number[] {
  const ins = inputOps(net);
  const through: number[] = [];
  const before: number[] = [];
  net.ops.forEach((op, i) => {
    before[i] = Math.max(0, ...ins[i]!.map((j) => (j < 0 ? 0 : through[j]!)));
    through[i] = before[i]! + (op.op === 'maxpool' || op.op === 'avgpool' ? 1 : 0);
  });
  return before.map((p) => p + 1);
}

/**
 * Every conv op with its output op: the ReLU that is the conv output's only consumer, else the conv itself
 * (the analysed layers of sequential networks, named by the conv).
 */
export function chainAnalysable(net: Network): AnalysedLayer[] {
  const next = consumers(net);
  const stages = poolDepths(net);
  const out: AnalysedLayer[] = [];
  net.ops.forEach((op, i) => {
    if (op.op !== 'conv') return;
    const after = next[i]!;
    const relu = after.length === 1 && net.ops[after[0]!]!.op === 'relu';
    out.push({ name: op.name, source: op.name, poolStage: stages[i]!, outputIndex: relu ? after[0]! : i, channels: op.outChannels, relu });
  });
  return out;
}

/**
 * Whether op i's output belongs to `model.layers: all` on a graph: every nonlinearity output, except one that
 * only gates a product with its own input (x·σ(x): SiLU, a written-out HardSwish), where that product is taken
 * instead; plus every Add and Concat whose output does not go straight into a nonlinearity (block outputs of
 * networks without a nonlinearity after the merge).
 */
export function inAllRule(net: Network): boolean[] {
  const wired = wiring(net);
  const next = consumers(net, wired);
  const isGate = (i: number) =>
    next[i]!.length > 0 &&
    next[i]!.every((k) => {
      const c = net.ops[k]!;
      const ins = wired[k]!.inputs;
      return c.op === 'mul' && ins.length === 2 && ins.includes(wired[i]!.output) && ins.includes(wired[i]!.inputs[0]!);
    });
  return net.ops.map((op, i) => {
    if (isActivation(op)) return !isGate(i);
    if (op.op === 'mul' && wired[i]!.inputs.length === 2) {
      return wired[i]!.inputs.some((t) => {
        const k = wired.findIndex((w) => w.output === t);
        return k >= 0 && isActivation(net.ops[k]!) && isGate(k);
      });
    }
    if ((op.op === 'add' && wired[i]!.inputs.length === 2) || op.op === 'concat') {
      return !(next[i]!.length === 1 && isActivation(net.ops[next[i]![0]!]!));
    }
    return false;
  });
}

/** A shortened list of names for messages. */
function someNames(names: readonly string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length} in all; \`revcor model info\` lists them)`;
}

/**
 * The analysed layers of a graph network for a config value: 'all' (the rule above), or names — a tensor name,
 * its layer name, or (sequential ONNX files of earlier revcor versions) a Conv node name, read after the ReLU
 * that follows it. Layers come in graph order. Unknown names, tensors that cannot be analysed and clashing layer
 * names are ModelErrors naming the key.
 */
export function dagSelect(net: Network, layers: 'all' | readonly string[], source: string): AnalysedLayer[] {
  const graph = net.graph!;
  const channels = tensorShapes(net, null);
  const stages = poolDepths(net);
  const layer = (opIndex: number, name: string, from: string): AnalysedLayer => ({
    name, source: from, poolStage: stages[opIndex]!, outputIndex: opIndex, channels: channels[opIndex]!.channels, relu: isActivation(net.ops[opIndex]!),
  });
  let chosen: AnalysedLayer[];
  if (layers === 'all') {
    const blocked = graph.refused.find((r) => r.candidate && !r.head);
    if (blocked) throw new ModelError(`${source}: all: tensor '${blocked.tensor}' of ${graph.file} cannot be analysed: ${blocked.reason}. Expected a feed-forward convolutional graph, or model.layers listing outputs before that node.`);
    chosen = graph.analysable.filter((a) => a.inAll).map((a) => layer(a.opIndex, a.name, a.tensor));
    if (chosen.length === 0) {
      const first = graph.refused[0];
      throw new ModelError(`${source}: all: ${graph.file} has no nonlinearity or merge output before any global op${first ? ` (${first.reason})` : ''}. Expected a convolutional graph, or model.layers naming output tensors.`);
    }
  } else {
    const byTensor = new Map(graph.analysable.map((a) => [a.tensor, a]));
    const byName = new Map<string, AnalysableOutput[]>();
    for (const a of graph.analysable) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
    const refused = new Map(graph.refused.map((r) => [r.tensor, r]));
    const refusedByName = new Map(graph.refused.map((r) => [layerName(r.tensor), r]));
    const next = consumers(net);
    chosen = layers.map((entry) => {
      const hit = byTensor.get(entry) ?? (byName.get(entry)?.length === 1 ? byName.get(entry)![0] : undefined);
      if (hit) return layer(hit.opIndex, layerName(entry), hit.tensor);
      const bad = refused.get(entry) ?? refusedByName.get(entry);
      if (bad) throw new ModelError(`${source}: tensor '${bad.tensor}' of ${graph.file} cannot be analysed: ${bad.reason}. Expected a feature map before any such node.`);
      const conv = graph.convNodes.get(entry);
      if (conv !== undefined) {
        const after = next[conv]!;
        const out = after.length === 1 && net.ops[after[0]!]!.op === 'relu' ? after[0]! : conv;
        return layer(out, layerName(entry), entry);
      }
      if (byName.has(entry)) throw new ModelError(`${source}: '${entry}' names ${byName.get(entry)!.length} tensors (${byName.get(entry)!.map((a) => a.tensor).join(', ')}). Expected the tensor name.`);
      throw new ModelError(`${source}: unknown layer '${entry}' for ${graph.file}. Expected an output tensor name (or its layer name) such as ${someNames(graph.analysable.filter((a) => a.inAll).map((a) => a.tensor))}.`);
    });
  }
  const byName = new Map<string, AnalysedLayer>();
  for (const l of chosen) {
    const seen = byName.get(l.name);
    if (seen && seen.outputIndex !== l.outputIndex) {
      throw new ModelError(`${source}: tensors '${seen.source}' and '${l.source}' share the layer name '${l.name}'. Expected layers whose names differ in more than '/', ':' and other characters outside [A-Za-z0-9_.-].`);
    }
    byName.set(l.name, l);
  }
  return [...byName.values()].sort((a, b) => a.outputIndex - b.outputIndex);
}

/** The op kinds of ONNX that `all` counts by type (for tensors the loader refused). */
export function isAllCandidateOpType(opType: string): boolean {
  return ['Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Add', 'Concat'].includes(opType);
}
