// What a stimulus set is to the pipeline: how the stimuli stage describes it (one shard, its table), how many
// stimuli the activations stage shards it into, at which input size and readout the network sees it, and how its
// rows become pixels. A new stimulus type is one file implementing StimulusSet plus its line in stages/sets/index.ts.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../../config/schema.ts';
import type { GridReadout, Readout } from '../../model/graph.ts';
import type { LoadedModel } from '../../model/load.ts';
import type { Shard, StageContext } from '../../pipeline/stage.ts';

/** How the network sees a set: input side, crop origin in the full image, readout, and the shard's extra metadata. */
export interface SetLayout {
  side: number;
  x0: number;
  y0: number;
  readout: Readout;
  unitIndex?: Record<string, number>;
  grid?: Record<string, GridReadout>;
  /** Schema metadata the activations shard records for this set (canvas, noise parameters, position plan). */
  metadata: Record<string, string>;
}

/** The rows [start, end) of a set: descriptor columns (as its activations declaration names them) and pixels. */
export interface SetRows {
  stimulus: Int32Array;
  columns: Record<string, Float64Array | Int32Array | string[]>;
  /** Writes row r's pixels (HWC RGB 0–255, side × side) into out at offset. */
  fill(out: Float32Array, offset: number, row: number): Promise<void> | void;
}

/** One stimulus set. */
export interface StimulusSet {
  /** The set's name: stimuli shard id, activations shard prefix, `params.set`. */
  name: string;
  /** The config key that turns it on (for messages). */
  enabledKey: string;
  enabled(config: Experiment): boolean;
  /** The stimuli stage's shard of this set (its params carry the set's own config, so a change reruns only it). */
  stimuliShard(config: Experiment): Promise<Shard>;
  /** The stimuli stage's table of this set. */
  stimuliTable(config: Experiment, ctx: Pick<StageContext<Experiment>, 'signal' | 'progress' | 'log'>): Promise<Table>;
  /** Stimuli the activations stage runs (null: none now, e.g. a skipped image folder). */
  count(config: Experiment): Promise<number | null>;
  /** Side of the images the network sees for this set, for the cost estimate (canvasSide: the noise canvas). */
  networkSide(config: Experiment, canvasSide: number): Promise<number>;
  /** How the network sees it in a run. */
  layout(config: Experiment, model: LoadedModel): Promise<SetLayout>;
  /** The rows [start, end) of the stimuli table, with their pixel generator. */
  rows(table: Table, range: { start: number; end: number }, config: Experiment, layout: SetLayout): SetRows;
}
