// The order every per-layer output is shown in (summary, report, atlas, status): the network's graph order, never an
// order parsed from layer names. Tested in test/results/layer-order.test.ts.
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';

/**
 * The analysed layers of a config in graph order (the network's own order of its analysed outputs), or null when
 * the network cannot be read now (e.g. an ONNX file that moved since the run).
 */
export async function graphOrder(config: Experiment): Promise<string[] | null> {
  try {
    return (await loadNetwork(config.model)).layers.map((l) => l.name);
  } catch {
    return null;
  }
}

/** `found` layers sorted by graph order; layers the order does not know keep their relative order, after the rest. */
export function inGraphOrder(found: readonly string[], order: readonly string[] | null): string[] {
  if (!order) return [...found];
  const rank = new Map(order.map((l, i) => [l, i]));
  return found
    .map((l, i) => ({ l, i, r: rank.get(l) ?? order.length }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.l);
}
