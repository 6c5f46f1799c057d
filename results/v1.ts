// The v1 stage's output (docs/v1-comparison.md): one row per unit — Brain-Score's V1 grating properties — declared
// from science/v1-catalogue.ts's V1_UNIT_COLUMNS with their units; the per-layer similarity rows (V1_LAYER_COLUMNS)
// travel in the schema metadata `revcor.v1.layers`. Built by stages/v1.ts, read by the summary and the report.
// Tested in test/report/v1.test.ts.
import type { Table } from 'apache-arrow';
import { V1_UNIT_COLUMNS, type V1LayerRow } from '../science/v1-catalogue.ts';
import { InputError } from '../pipeline/errors.ts';
import { defineTable, readColumns, type ColumnSpec } from './columns.ts';

/** Units of the per-unit V1 properties (by column name; the rest are dimensionless). */
const UNITS: Record<string, string> = {
  baseline: 'spikes/s',
  max_dc: 'spikes/s',
  min_dc: 'spikes/s',
  max_ac: 'spikes/s',
  ori_bandwidth: 'deg',
  peak_sf: 'cycles/deg',
  sf_bandwidth: '100·f_low/f_high',
  pref_theta_deg: 'deg',
  pref_sf: 'cycles/deg',
};

/** Columns of a v1 checkpoint, in table order. */
export const V1 = defineTable('v1', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'channel', type: 'int32', unit: '', meaning: 'channel of the unit' },
  { name: 'responsive', type: 'bool', unit: '', meaning: 'responsive as Brain-Score: mapped max mean response > mapped blank + 5 spikes/s (the verdict every consumer reads)' },
  ...V1_UNIT_COLUMNS.map((c): ColumnSpec => ({ name: c.name, type: 'float64', unit: UNITS[c.name] ?? '', meaning: c.meaning })),
]);

/** Schema-metadata keys of every v1 checkpoint. */
export const V1_META = {
  /** JSON V1LayerRow[]: one row of V1_LAYER_COLUMNS per layer of the shard. */
  layers: 'revcor.v1.layers',
  /** JSON [{name, meaning}]: V1_LAYER_COLUMNS, so a reader needs no code to know what a number is. */
  columns: 'revcor.v1.columns',
  /** JSON {dir, skipped?, properties: {name: {dataset, histogram, n, ceiling, median?}}}. */
  reference: 'revcor.v1.reference',
  /** JSON {pixelsPerDegree, bootstrap, seed, level}. */
  options: 'revcor.v1.options',
} as const;

/** A v1 checkpoint's per-unit columns (every property a Float64Array by column name). */
export function readV1Units(table: Table, source = 'v1 checkpoint'): { layer: (string | null)[]; channel: Int32Array; responsive: Uint8Array; values: Record<string, Float64Array> } {
  const cols = readColumns(V1, table, source) as unknown as Record<string, unknown>;
  const values: Record<string, Float64Array> = {};
  for (const c of V1_UNIT_COLUMNS) values[c.name] = cols[c.name] as Float64Array;
  return { layer: cols['layer'] as (string | null)[], channel: cols['channel'] as Int32Array, responsive: cols['responsive'] as Uint8Array, values };
}

/** Reads the per-layer rows (V1_LAYER_COLUMNS) of a v1 checkpoint back from its metadata. */
export function readV1Layers(table: Table): V1LayerRow[] {
  const text = table.schema.metadata.get(V1_META.layers);
  if (!text) throw new InputError(`v1: expected schema metadata '${V1_META.layers}' in a v1 checkpoint, got none (is this a v1 shard?)`);
  // NaN is written as null (JSON): restore it.
  return (JSON.parse(text) as Record<string, number | string | null>[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? NaN : v])) as V1LayerRow);
}
