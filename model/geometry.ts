// Receptive-field geometry computed from the architecture (docs/method.md §1, §6): cumulative stride, RF size (through
// every path of a graph: the union of the paths' RFs), the centre unit's RF and its crop clipped to the image,
// and the noise canvas shared by all layers.
import { ModelError } from '../pipeline/errors.ts';
import { ancestorsOf, inputOps, isWindowOp, tensorShapes } from './dag.ts';
import type { AnalysedLayer, Network } from './network.ts';

/** Geometry of one analysed layer's centre unit for a square input (all coordinates in input pixels). */
export interface LayerGeometry {
  name: string;
  /** Pooling stage (1 + pools before the layer; VGG's block number). */
  poolStage: number;
  channels: number;
  /** Cumulative stride j: input pixels per feature-map step. */
  stride: number;
  /** Theoretical RF size r (pixels per side). */
  rfSize: number;
  /** Feature-map side for this input size. */
  featureSize: number;
  /** The unit's position ⌊featureSize/2⌋ (both axes). */
  centreIndex: number;
  /** RF centre in input pixels: rfX0 + (r − 1)/2 (= j·i + (j − 1)/2 for VGG). */
  rfCentre: number;
  /** Top-left pixel of the theoretical RF; may be < 0 (the RF reaches into padding). */
  rfX0: number;
  rfY0: number;
  /** The RF clipped to the image: top-left and side (a square, since the centre unit sits on the diagonal). */
  cropX0: number;
  cropY0: number;
  cropSize: number;
  /** True when the theoretical RF reaches past the image: the unit also sees zero padding there. */
  clipped: boolean;
}

/** The stride-aligned crop holding every analysed centre unit's RF crop (docs/method.md §6). */
export interface NoiseCanvas {
  /** Top-left of the canvas in input-image pixels (multiples of `stride`). */
  x0: number;
  y0: number;
  /** Canvas side in pixels. */
  size: number;
  /** The cumulative stride the origin is aligned to (the deepest analysed layer's). */
  stride: number;
  /** Per layer: the centre unit's index in the feature map the network computes on the canvas. */
  centreIndex: Record<string, number>;
}

/** Per-op stride, RF size and the offset of unit 0's RF start, for one axis. */
interface OpGeometry {
  stride: number;
  rfSize: number;
  /** Input pixel where the RF of feature index 0 starts (negative when it starts in padding). */
  start: number;
}

/**
 * Cumulative stride, RF size and RF start of every op's output (both axes): through a window op j·s, r + (k_eff − 1)·j,
 * start − pad·j; through a pad, start − pad·j; ops that join paths (Add, Mul, Concat) need one stride on every path
 * (else a ModelError naming the op) and take the union of the paths' RFs (smallest start, largest end).
 */
export function opGeometries(net: Network): OpGeometry[] {
  const ins = inputOps(net);
  const input: OpGeometry = { stride: 1, rfSize: 1, start: 0 };
  const out: OpGeometry[] = [];
  net.ops.forEach((op, i) => {
    const args = ins[i]!.map((j) => (j < 0 ? input : out[j]!));
    let { stride, rfSize, start } = args[0]!;
    if (args.length > 1) {
      const strides = new Set(args.map((a) => a.stride));
      if (strides.size > 1) {
        throw new ModelError(`${net.graph ? `${net.graph.file}: node` : `${net.arch}: op`} '${op.name}' joins paths of cumulative strides ${[...strides].join(' and ')}. Expected every path into it to have one stride (units of different grids cannot be aligned).`);
      }
      start = Math.min(...args.map((a) => a.start));
      rfSize = Math.max(...args.map((a) => a.start + a.rfSize)) - start;
    }
    if (isWindowOp(op)) {
      const kEff = op.dilation * (op.kernel - 1) + 1;
      rfSize += (kEff - 1) * stride;
      start -= op.padBegin * stride;
      stride *= op.stride;
    } else if (op.op === 'pad') {
      start -= op.padBegin * stride;
    }
    out.push({ stride, rfSize, start });
  });
  return out;
}

/** Centre-unit geometry of each layer for a square input of side inputSize (docs/method.md §1). */
export function layerGeometry(net: Network, layers: readonly AnalysedLayer[], inputSize: number): LayerGeometry[] {
  const ops = opGeometries(net);
  const shapes = tensorShapes(net, inputSize, ancestorsOf(net, layers.map((l) => l.outputIndex)));
  return layers.map((layer) => {
    const g = ops[layer.outputIndex]!;
    const featureSize = shapes[layer.outputIndex]!.size;
    if (featureSize < 1) {
      throw new ModelError(`model.inputSize: ${inputSize} px is too small for layer ${layer.name} (its feature map would be empty). Expected a larger input size.`);
    }
    const centreIndex = Math.floor(featureSize / 2);
    const rfX0 = g.start + g.stride * centreIndex;
    const end = rfX0 + g.rfSize;
    const cropX0 = Math.max(0, rfX0);
    const cropEnd = Math.min(inputSize, end);
    return {
      name: layer.name,
      poolStage: layer.poolStage,
      channels: layer.channels,
      stride: g.stride,
      rfSize: g.rfSize,
      featureSize,
      centreIndex,
      rfCentre: rfX0 + (g.rfSize - 1) / 2,
      rfX0,
      rfY0: rfX0,
      cropX0,
      cropY0: cropX0,
      cropSize: cropEnd - cropX0,
      clipped: rfX0 < 0 || end > inputSize,
    };
  });
}

/**
 * The noise canvas: the smallest crop whose origin is a multiple of the deepest layer's cumulative stride
 * and which holds every layer's (clipped) RF crop, with each centre unit's index inside it (docs/method.md §6).
 */
export function noiseCanvas(layers: readonly LayerGeometry[]): NoiseCanvas {
  if (layers.length === 0) throw new ModelError('noise canvas: no analysed layers. Expected at least one layer.');
  const stride = Math.max(...layers.map((l) => l.stride));
  for (const l of layers) {
    if (stride % l.stride !== 0) {
      throw new ModelError(`noise canvas: layer ${l.name}'s stride ${l.stride} does not divide the deepest stride ${stride}. Expected strides that divide each other.`);
    }
  }
  const lo = Math.min(...layers.map((l) => l.cropX0));
  const hi = Math.max(...layers.map((l) => l.cropX0 + l.cropSize));
  const x0 = Math.floor(lo / stride) * stride;
  const centreIndex: Record<string, number> = {};
  for (const l of layers) centreIndex[l.name] = l.centreIndex - x0 / l.stride;
  return { x0, y0: x0, size: hi - x0, stride, centreIndex };
}

/** Format the geometry as a fixed-width table (for `revcor model info`; 'stage' = pooling stage, VGG's block number). */
export function geometryTable(layers: readonly LayerGeometry[]): string {
  const head = ['layer', 'stage', 'ch', 'j', 'r', 'size', 'i', 'centre', 'rf x0', 'crop x0', 'crop', 'clipped'];
  const rows = layers.map((l) => [
    l.name, String(l.poolStage), String(l.channels), String(l.stride), String(l.rfSize), String(l.featureSize), String(l.centreIndex),
    String(l.rfCentre), String(l.rfX0), String(l.cropX0), String(l.cropSize), l.clipped ? 'yes' : '',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => (c < 1 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}
