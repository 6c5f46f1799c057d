// How consumers reach finished checkpoints: a running shard's upstream views, or a run directory's records, behind
// one interface; and the per-layer shard layout of the analysis stages (one shard per layer, or one for all).
// Tested in test/stages/summary.test.ts.
import type { Table } from 'apache-arrow';

/** Read access to finished shards of other stages (a stage's upstream views, or a run directory's checkpoints). */
export interface UpstreamReader {
  /** Finished shard ids of a stage (empty when the stage did not run). */
  shards(stage: string): readonly string[];
  read(stage: string, id: string): Promise<Table>;
}

/** Shard id of the per-layer stages (tuning, category, awa, v1) when every layer is in one shard. */
export const ALL_LAYERS = 'all-layers';

/** Every finished shard of a stage, read in id order. */
export async function readAll(up: UpstreamReader, stage: string): Promise<{ id: string; table: Table }[]> {
  const out: { id: string; table: Table }[] = [];
  for (const id of up.shards(stage)) out.push({ id, table: await up.read(stage, id) });
  return out;
}

/** The shard of a per-layer stage that holds `layer` (its own, or the all-layers shard), or null. */
export function layerShardId(up: UpstreamReader, stage: string, layer: string): string | null {
  const ids = up.shards(stage);
  return ids.includes(layer) ? layer : ids.includes(ALL_LAYERS) ? ALL_LAYERS : null;
}
