// Conv weights as the graph builder consumes them (ONNX layout: kernel out × in × kH × kW), and where they came from.
// Tested in test/model/load.test.ts.
import { ModelError } from '../pipeline/errors.ts';
import type { Network } from './network.ts';

/** One conv layer's parameters: kernel in OIHW order (out, in, row, column) and bias (out). */
export interface ConvWeights {
  kernel: Float32Array;
  bias: Float32Array;
}

/** Where a set of weights came from: a file (with its content hash) or the seeded initialisation. */
export type WeightsSource =
  | { kind: 'keras-h5'; file: string; sha256: string }
  | { kind: 'onnx'; file: string; sha256: string }
  | { kind: 'seeded'; seed: number };

/** A network's conv weights by layer name, plus their origin. */
export interface NetworkWeights {
  source: WeightsSource;
  layers: Map<string, ConvWeights>;
}

/** The one-line label recorded in outputs: `<file> sha256:<hex>` or `seeded:<seed>`. */
export function weightsLabel(source: WeightsSource): string {
  return source.kind === 'seeded' ? `seeded:${source.seed}` : `${source.file} sha256:${source.sha256}`;
}

/** Keras kernel (kH × kW × in × out) → ONNX kernel (out × in × kH × kW). */
export function hwioToOihw(hwio: ArrayLike<number>, kH: number, kW: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kH * kW * cin * cout);
  for (let y = 0; y < kH; y++)
    for (let x = 0; x < kW; x++)
      for (let i = 0; i < cin; i++) {
        const src = ((y * kW + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kH + y) * kW + x] = hwio[src + o];
      }
  return out;
}

/** ONNX kernel (out × in × kH × kW) → Keras kernel (kH × kW × in × out); used to write .h5 fixtures. */
export function oihwToHwio(oihw: ArrayLike<number>, kH: number, kW: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kH * kW * cin * cout);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let y = 0; y < kH; y++)
        for (let x = 0; x < kW; x++) out[((y * kW + x) * cin + i) * cout + o] = oihw[((o * cin + i) * kH + y) * kW + x];
  return out;
}

/** Number of learned float parameters of the network's convs and batch norms (for messages and benches). */
export function parameterCount(net: Network): number {
  let n = 0;
  for (const op of net.ops) {
    if (op.op === 'conv') n += op.outChannels * ((op.inChannels / (op.group ?? 1)) * op.kernel * op.kernel + 1);
    else if (op.op === 'batchnorm') n += 2 * op.scale.length;
  }
  return n;
}

/** Refuses weights holding NaN or ±Infinity (they would silently make every unit of a layer NaN), naming the layer. */
export function checkFiniteWeights(weights: NetworkWeights, origin: string): void {
  for (const [layer, w] of weights.layers) {
    for (const [part, values] of [['kernel', w.kernel], ['bias', w.bias]] as const) {
      let bad = 0;
      let first = 0;
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]!)) {
          if (bad++ === 0) first = values[i]!;
        }
      }
      if (bad > 0) {
        throw new ModelError(`model.weights: ${origin}: layer '${layer}' ${part} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (first: ${first}). Expected finite weights in every layer.`);
      }
    }
  }
}
