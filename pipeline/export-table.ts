// Checkpoint tables as `revcor export` writes them: every shard of a table under one schema (the columns of its
// first shard, each with its meaning and unit as field metadata from results/, every column nullable, the run's
// identity as schema metadata instead of the shard's), split by layer for --partition layer (rows of a `layer`
// column, or the activations' per-layer columns as one `activation` column beside the stimulus columns).
// Tested in test/pipeline/export.test.ts.
import { Field, makeData, RecordBatch, Schema, Struct, Table, Utf8, type Data } from 'apache-arrow';
import { activationLayers, LAYER_COLUMNS } from '../results/activations.ts';
import { FIELD_META, typeMatches, type DynamicColumns, type TableSpec } from '../results/columns.ts';
import { DOCUMENTED } from '../results/docs.ts';
import { CheckpointError } from './errors.ts';

/** Name of the activations' per-layer column in a layer partition. */
export const ACTIVATION_COLUMN = 'activation';

/** Meaning and unit of one exported column. */
export interface ColumnMeaning {
  meaning: string;
  unit: string;
}

/** The declarations (results/) of a stage's tables. */
function stageSpecs(stage: string): TableSpec[] {
  return DOCUMENTED.filter((d) => d.title === stage || d.title.startsWith(`${stage}:`)).map((d) => d.spec);
}

/** A column's meaning and unit: its field metadata, else the stage's declaration (checkpoints of older versions). */
export function columnMeaning(stage: string, field: Field): ColumnMeaning | undefined {
  const meaning = field.metadata.get(FIELD_META.meaning);
  if (meaning !== undefined) return { meaning, unit: field.metadata.get(FIELD_META.unit) ?? '' };
  for (const spec of stageSpecs(stage)) {
    const c = spec.columns.find((x) => x.name === field.name);
    if (c) return { meaning: c.meaning, unit: c.unit };
    const dyn: DynamicColumns | undefined = spec.dynamic;
    if (dyn && typeMatches(field, dyn.type)) return { meaning: dyn.meaning, unit: dyn.unit };
  }
  return undefined;
}

/** The exported field of a checkpoint field: same name and type, nullable, with its meaning and unit. */
function exportField(stage: string, f: Field, name = f.name, meaning = columnMeaning(stage, f)): Field {
  const md = new Map<string, string>();
  if (meaning) {
    md.set(FIELD_META.meaning, meaning.meaning);
    md.set(FIELD_META.unit, meaning.unit);
  }
  return new Field(name, f.type, true, md);
}

/** The columns' meanings of an exported schema, by column name (the `revcor.columns` file metadata). */
export function schemaMeanings(schema: Schema): Record<string, ColumnMeaning> {
  const out: Record<string, ColumnMeaning> = {};
  for (const f of schema.fields) {
    const meaning = f.metadata.get(FIELD_META.meaning);
    if (meaning !== undefined) out[f.name] = { meaning, unit: f.metadata.get(FIELD_META.unit) ?? '' };
  }
  return out;
}

/** `table`'s batches under `schema`, each batch's columns picked by `children` (same order as the fields). */
function rebatch(table: Table, schema: Schema, children: (batch: RecordBatch) => Data[]): Table {
  const type = new Struct(schema.fields);
  const batches = table.batches.map((b) => new RecordBatch(schema, makeData({ type, length: b.numRows, nullCount: 0, children: children(b) })));
  return new Table(schema, batches);
}

/** Column signature of a table (names and Arrow types), for checking that shards of one table agree. */
function signature(schema: Schema): string {
  return schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(', ');
}

/**
 * A table's exported schema: its columns (field metadata from results/), nullable, and `metadata` as the schema's
 * (the run's identity, in place of the shard's own revcor.* keys).
 */
export function exportSchema(stage: string, table: Table, metadata: Record<string, string>): Schema {
  return new Schema(
    table.schema.fields.map((f) => exportField(stage, f)),
    new Map(Object.entries(metadata)),
  );
}

/** A shard's table under the exported schema; a shard with other columns than the table's first is a CheckpointError. */
export function conform(table: Table, schema: Schema, source: string): Table {
  if (signature(table.schema) !== signature(schema)) {
    throw new CheckpointError(`${source}: Expected the columns of the other checkpoints of its table (${signature(schema)}), got ${signature(table.schema)}`);
  }
  return rebatch(table, schema, (b) => b.data.children.slice());
}

/** The layers a table holds rows or columns of, in order of appearance ([] when it has none). */
export function tableLayers(stage: string, table: Table): string[] {
  const col = table.getChild('layer');
  if (col && col.type instanceof Utf8) {
    const seen = new Set<string>();
    for (let r = 0; r < col.length; r++) seen.add(String(col.get(r)));
    return [...seen];
  }
  return stage === 'activations' ? activationLayers(table) : [];
}

/** Contiguous row ranges [start, end) of a table whose `layer` column equals `layer`. */
function layerRanges(table: Table, layer: string): [number, number][] {
  const col = table.getChild('layer')!;
  const out: [number, number][] = [];
  for (let r = 0; r < col.length; r++) {
    if (String(col.get(r)) !== layer) continue;
    const last = out[out.length - 1];
    if (last && last[1] === r) last[1] = r + 1;
    else out.push([r, r + 1]);
  }
  return out;
}

/**
 * One layer's part of an exported table (the partition column `layer` left out, as Hive-style datasets do): the rows
 * of that layer, or for activations the stimulus columns and the layer's column as `activation`. Undefined when the
 * table has no such layer.
 */
export function layerPart(stage: string, table: Table, layer: string): Table | undefined {
  const names = table.schema.fields.map((f) => f.name);
  const col = table.getChild('layer');
  if (col && col.type instanceof Utf8) {
    const ranges = layerRanges(table, layer);
    if (!ranges.length) return undefined;
    const keep = names.filter((n) => n !== 'layer');
    const schema = new Schema(keep.map((n) => table.schema.fields[names.indexOf(n)]!), table.schema.metadata);
    const idx = keep.map((n) => names.indexOf(n));
    const parts = ranges.map(([a, b]) => rebatch(table.slice(a, b), schema, (batch) => idx.map((i) => batch.data.children[i]!)));
    return new Table(schema, parts.flatMap((p) => p.batches));
  }
  if (stage !== 'activations') return undefined;
  const layers = activationLayers(table);
  if (!layers.includes(layer)) return undefined;
  const keep = names.filter((n) => !layers.includes(n));
  const layerField = table.schema.fields[names.indexOf(layer)]!;
  const fields = [...keep.map((n) => table.schema.fields[names.indexOf(n)]!), exportField(stage, layerField, ACTIVATION_COLUMN, { meaning: LAYER_COLUMNS.meaning, unit: LAYER_COLUMNS.unit })];
  const schema = new Schema(fields, table.schema.metadata);
  const idx = [...keep, layer].map((n) => names.indexOf(n));
  return rebatch(table, schema, (b) => idx.map((i) => b.data.children[i]!));
}
