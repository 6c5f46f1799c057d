// The analysable outputs of a graph network with their geometry, for `revcor model info`: what a user can copy
// into `model.layers` (tensor names), with channels, feature size, stride, RF size and centre at the input size.
// Tested in test/model/graph.test.ts.
import { layerGeometry } from './geometry.ts';
import { dagSelect } from './layers.ts';
import { normalisation, type Network, type Preprocessing } from './network.ts';

/** One analysable output: its names, op, membership of `all` and geometry (or why geometry fails at this size). */
export interface OutputRow {
  tensor: string;
  layer: string;
  op: string;
  inAll: boolean;
  channels: number;
  featureSize?: number;
  stride?: number;
  rfSize?: number;
  rfCentre?: number;
  clipped?: boolean;
  /** Why the geometry cannot be computed at this input size (a ModelError message). */
  error?: string;
}

/** Every analysable output of a graph network at an input side, in graph order (empty for built-in networks). */
export function analysableOutputs(net: Network, inputSize: number): OutputRow[] {
  if (!net.graph) return [];
  return net.graph.analysable.map((a) => {
    const [layer] = dagSelect(net, [a.tensor], 'model.layers');
    const row: OutputRow = { tensor: a.tensor, layer: a.name, op: net.ops[a.opIndex]!.op, inAll: a.inAll, channels: layer!.channels };
    try {
      const [g] = layerGeometry(net, [layer!], inputSize);
      Object.assign(row, { featureSize: g!.featureSize, stride: g!.stride, rfSize: g!.rfSize, rfCentre: g!.rfCentre, clipped: g!.clipped });
    } catch (err) {
      row.error = (err as Error).message;
    }
    return row;
  });
}

/** The rows as a fixed-width table (`*` marks the outputs of `model.layers: all`). */
export function outputsTable(rows: readonly OutputRow[]): string {
  const head = ['', 'tensor', 'layer name', 'op', 'ch', 'size', 'j', 'r', 'centre'];
  const cells = rows.map((r) => [
    r.inAll ? '*' : '', r.tensor, r.layer === r.tensor ? '=' : r.layer, r.op, String(r.channels),
    ...(r.error ? ['—', '—', '—', r.error.replace(/^model\.inputSize: /, '')] : [String(r.featureSize), String(r.stride), String(r.rfSize), `${r.rfCentre}${r.clipped ? ' (clipped)' : ''}`]),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => (c === 8 && r[5] === '—' ? 0 : r[c]!.length))));
  const fmt = (r: string[]) => r.map((v, c) => (c < 4 ? v.padEnd(widths[c]!) : c === 8 ? v : v.padStart(widths[c]!))).join('  ').trimEnd();
  return [fmt(head), ...cells.map(fmt)].join('\n');
}

/** A preprocessing setting in words. */
export function preprocessingText(p: Preprocessing): string {
  if (typeof p === 'string') return p;
  const n = normalisation(p);
  return `(pixel·${n.scale} − [${n.mean.join(', ')}]) / [${n.std.join(', ')}], ${n.channelOrder.toUpperCase()}`;
}
