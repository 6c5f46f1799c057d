// Builds the ONNX graph revcor runs: preprocessing, the ops the analysed layers depend on (nothing after them),
// and outputs that are only the values the pipeline needs — each analysed layer's centre unit of every channel
// (post-ReLU), sliced inside the graph — or the spatial max / mean of each channel.
import { ModelError } from '../pipeline/errors.ts';
import { ancestorsOf, inputTensor, wiring } from './dag.ts';
import { layerGeometry } from './geometry.ts';
import { emitOp, int, ints } from './graph-ops.ts';
import { normalisation, type AnalysedLayer, type Network } from './network.ts';
import { DataType, encodeModel, floatTensor, int64Tensor, type NodeObject, type TensorObject } from './onnx-proto.ts';
import type { NetworkWeights } from './weights.ts';

/**
 * What each layer output holds: the centre unit (or a given position), a spatial reduction per channel, or a
 * g×g grid of positions (interior sampling, docs/method.md §6) laid out position-major: (row, column, channel).
 */
export type Readout = 'centre' | 'max' | 'mean' | 'grid';

/** A square grid of feature-map positions: indices first, first + step, … (count per axis). */
export interface GridReadout {
  first: number;
  step: number;
  count: number;
}

/** Everything that determines a forward graph. */
export interface GraphSpec {
  net: Network;
  weights: NetworkWeights;
  /** Analysed layers (from selectLayers); the graph stops after the deepest. */
  layers: readonly AnalysedLayer[];
  /** Input side in pixels (square): the full image or a noise canvas. */
  inputSize: number;
  readout?: Readout;
  /** Per layer, the feature-map position read when readout = centre; default ⌊featureSize/2⌋ for inputSize. */
  unitIndex?: Record<string, number>;
  /** Per layer, the positions read when readout = grid (required then). */
  grid?: Record<string, GridReadout>;
  /** Keep the first N channels of each layer ('all' by default). */
  channels?: number | 'all';
  /** Layout of the `pixels` input: nhwc (revcor's HWC pixel arrays, transposed in the graph) or nchw. */
  inputLayout?: 'nhwc' | 'nchw';
  /** Centre readout through a strided 1×1 max-pool before the Slice (default true; false = plain Slice, for benches). */
  subsample?: boolean;
}

/** One graph output: the layer it reads, its channels kept and its values per image (channels × positions). */
export interface GraphOutput {
  name: string;
  channels: number;
  /** Values per image: channels, or channels × g² for a grid readout. */
  width: number;
}

/** The serialised model plus its input/output names. */
export interface BuiltGraph {
  bytes: Uint8Array;
  input: string;
  /** Layout of the input tensor: nhwc [N, S, S, C] or nchw [N, C, S, S]. */
  inputLayout: 'nhwc' | 'nchw';
  outputs: GraphOutput[];
}

const INPUT = 'pixels';

/** Builds the ONNX model for a spec (opset 17). Input `pixels` [N, H, W, 3] (or NCHW), 0–255 RGB. */
export function buildGraph(spec: GraphSpec): BuiltGraph {
  const { net, weights, layers, inputSize } = spec;
  const readout = spec.readout ?? 'centre';
  const layout = spec.inputLayout ?? 'nhwc';
  if (layers.length === 0) throw new ModelError('model.layers: no analysed layers. Expected at least one conv layer.');
  const geometry = layerGeometry(net, layers, inputSize);
  const needed = ancestorsOf(net, layers.map((l) => l.outputIndex));
  const nodes: NodeObject[] = [];
  const inits: TensorObject[] = [];
  const c = net.inputChannels;

  let x = preprocess(net, layout, nodes, inits);
  const wired = wiring(net);
  const netInput = inputTensor(net);
  // RGB→BGR: folded into the kernels when only plain convs read the input (exact), else a channel Gather.
  let foldBgr = false;
  if (normalisation(net.preprocessing).channelOrder === 'bgr') {
    const readers = needed.filter((i) => wired[i]!.inputs.includes(netInput)).map((i) => net.ops[i]!);
    foldBgr = readers.every((op) => op.op === 'conv' && (op.group ?? 1) === 1);
    if (!foldBgr) {
      inits.push(int64Tensor('bgr_order', [3], [2, 1, 0]));
      nodes.push({ name: 'to_bgr', opType: 'Gather', input: [x, 'bgr_order'], output: ['bgr'], attribute: [int('axis', 1)] });
      x = 'bgr';
    }
  }

  const emitted = new Map<string, string>([[netInput, x]]);
  const outputOf = new Map<number, string>();
  for (const i of needed) {
    const op = net.ops[i]!;
    const y = `op${i}_${op.name}`;
    const inputs = wired[i]!.inputs.map((t) => emitted.get(t)!);
    let kernel: Float32Array | undefined;
    if (foldBgr && op.op === 'conv' && wired[i]!.inputs.includes(netInput)) {
      const w = weights.layers.get(op.name);
      if (w) kernel = reverseInputChannels(w.kernel, op.outChannels, op.inChannels, op.kernel * op.kernel);
    }
    const part = emitOp(op, inputs, y, weights, kernel);
    nodes.push(...part.nodes);
    inits.push(...part.inits);
    emitted.set(wired[i]!.output, y);
    outputOf.set(i, y);
  }

  const outputs: GraphOutput[] = [];
  layers.forEach((layer, li) => {
    const src = outputOf.get(layer.outputIndex)!;
    const kept = spec.channels === undefined || spec.channels === 'all' ? layer.channels : Math.min(spec.channels, layer.channels);
    let t = src;
    if (readout === 'grid') {
      const g = spec.grid?.[layer.name];
      const size = geometry[li].featureSize;
      if (!g) throw new ModelError(`layer ${layer.name}: a grid readout needs its positions, got none.`);
      const end = g.first + (g.count - 1) * g.step;
      if (!(g.count >= 1 && g.step >= 1 && g.first >= 0 && end < size)) {
        throw new ModelError(`layer ${layer.name}: grid positions ${g.first}…${end} (step ${g.step}) are outside its ${size}×${size} feature map for a ${inputSize}-px input.`);
      }
      const [starts, ends, axes, steps] = [[0, g.first, g.first], [kept, end + 1, end + 1], [1, 2, 3], [1, g.step, g.step]];
      inits.push(
        int64Tensor(`${layer.name}_starts`, [3], starts),
        int64Tensor(`${layer.name}_ends`, [3], ends),
        int64Tensor(`${layer.name}_axes`, [3], axes),
        int64Tensor(`${layer.name}_steps`, [3], steps),
      );
      nodes.push({ name: `${layer.name}_slice`, opType: 'Slice', input: [t, `${layer.name}_starts`, `${layer.name}_ends`, `${layer.name}_axes`, `${layer.name}_steps`], output: [`${layer.name}_sliced`] });
      // [N, C, g, g] → [N, g, g, C]: each position's channels contiguous
      nodes.push({ name: `${layer.name}_nhwc`, opType: 'Transpose', input: [`${layer.name}_sliced`], output: [`${layer.name}_grid`], attribute: [ints('perm', [0, 2, 3, 1])] });
      nodes.push({ name: `${layer.name}_flatten`, opType: 'Flatten', input: [`${layer.name}_grid`], output: [layer.name], attribute: [int('axis', 1)] });
      outputs.push({ name: layer.name, channels: kept, width: kept * g.count * g.count });
      return;
    }
    if (kept < layer.channels || readout === 'centre') {
      // Slice channels [0, kept) and, for the centre readout, the single position (u, u).
      let u = spec.unitIndex?.[layer.name] ?? geometry[li].centreIndex;
      const size = geometry[li].featureSize;
      if (readout === 'centre' && (u < 0 || u >= size)) {
        throw new ModelError(`layer ${layer.name}: unit index ${u} is outside its ${size}×${size} feature map for a ${inputSize}-px input.`);
      }
      if (readout === 'centre' && u >= 1 && (spec.subsample ?? true)) {
        // A 1×1 max-pool with stride u keeps positions 0, u, 2u, … (u at index 1). ORT runs it in its blocked
        // NCHWc layout, so only a ≤ 3×3 map is reordered to NCHW for the Slice instead of the whole feature map.
        nodes.push({ name: `${layer.name}_subsample`, opType: 'MaxPool', input: [t], output: [`${layer.name}_subsampled`], attribute: [ints('kernel_shape', [1, 1]), ints('strides', [u, u])] });
        t = `${layer.name}_subsampled`;
        u = 1;
      }
      const [starts, ends, axes] = readout === 'centre' ? [[0, u, u], [kept, u + 1, u + 1], [1, 2, 3]] : [[0], [kept], [1]];
      inits.push(int64Tensor(`${layer.name}_starts`, [starts.length], starts), int64Tensor(`${layer.name}_ends`, [ends.length], ends), int64Tensor(`${layer.name}_axes`, [axes.length], axes));
      nodes.push({ name: `${layer.name}_slice`, opType: 'Slice', input: [t, `${layer.name}_starts`, `${layer.name}_ends`, `${layer.name}_axes`], output: [`${layer.name}_sliced`] });
      t = `${layer.name}_sliced`;
    }
    if (readout !== 'centre') {
      nodes.push({ name: `${layer.name}_${readout}`, opType: readout === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool', input: [t], output: [`${layer.name}_pooled`] });
      t = `${layer.name}_pooled`;
    }
    nodes.push({ name: `${layer.name}_flatten`, opType: 'Flatten', input: [t], output: [layer.name], attribute: [int('axis', 1)] });
    outputs.push({ name: layer.name, channels: kept, width: kept });
  });

  const written = nodes.flatMap((n) => n.output);
  if (new Set(written).size !== written.length) throw new Error(`buildGraph: two nodes write one tensor name (${written.find((t, k) => written.indexOf(t) !== k)}); layer names clash with internal names`);
  const inputShape = layout === 'nhwc' ? [null, inputSize, inputSize, c] : [null, c, inputSize, inputSize];
  const bytes = encodeModel({
    irVersion: 8,
    producerName: 'revcor',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: `${net.arch}_${readout}_${inputSize}`,
      node: nodes,
      initializer: inits,
      input: [{ name: INPUT, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: inputShape.map((d) => (d === null ? { dimParam: 'N' } : { dimValue: d })) } } } }],
      output: outputs.map((o) => ({ name: o.name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: o.width }] } } } })),
    },
  });
  return { bytes, input: INPUT, inputLayout: layout, outputs };
}

/**
 * Input normalisation inside the graph, in the pixel domain: (x·scale − mean)/std = (x − mean/scale)·(scale/std),
 * per RGB channel (a Sub and a Mul, each left out when it is the identity), then NHWC → NCHW. Returns the tensor
 * the network reads. The Keras "caffe" mean becomes `caffe_mean` (RGB order; the BGR swap is done afterwards).
 */
function preprocess(net: Network, layout: 'nhwc' | 'nchw', nodes: NodeObject[], inits: TensorObject[]): string {
  const norm = normalisation(net.preprocessing);
  const label = typeof net.preprocessing === 'string' ? net.preprocessing : 'preprocess';
  const rgb = (v: readonly number[]) => (norm.channelOrder === 'bgr' ? [v[2]!, v[1]!, v[0]!] : [...v]);
  const mean = rgb(norm.mean.map((m) => m / norm.scale));
  const factor = rgb(norm.std.map((s) => norm.scale / s));
  const c = net.inputChannels;
  let x = INPUT;
  const affine = mean.some((v) => v !== 0) || factor.some((v) => v !== 1);
  if ((affine || norm.channelOrder === 'bgr') && c !== 3) {
    throw new ModelError(`${typeof net.preprocessing === 'string' ? net.preprocessing : 'explicit'} preprocessing needs 3 input channels, the network has ${c}.`);
  }
  const shape = layout === 'nhwc' ? [3] : [3, 1, 1];
  if (mean.some((v) => v !== 0)) {
    inits.push(floatTensor(`${label}_mean`, shape, Float32Array.from(mean)));
    nodes.push({ name: 'preprocess_sub_mean', opType: 'Sub', input: [x, `${label}_mean`], output: ['centred'] });
    x = 'centred';
  }
  if (factor.some((v) => v !== 1)) {
    inits.push(floatTensor(`${label}_factor`, shape, Float32Array.from(factor)));
    nodes.push({ name: 'preprocess_scale', opType: 'Mul', input: [x, `${label}_factor`], output: ['scaled'] });
    x = 'scaled';
  }
  if (layout === 'nhwc') {
    nodes.push({ name: 'to_nchw', opType: 'Transpose', input: [x], output: ['nchw'], attribute: [ints('perm', [0, 3, 1, 2])] });
    x = 'nchw';
  }
  return x;
}

/** Kernel with its input-channel axis reversed (RGB→BGR folded into the first conv). */
function reverseInputChannels(kernel: Float32Array, cout: number, cin: number, area: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++) out.set(kernel.subarray((o * cin + i) * area, (o * cin + i + 1) * area), (o * cin + (cin - 1 - i)) * area);
  return out;
}
