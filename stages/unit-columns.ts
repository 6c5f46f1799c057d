// Arrow helpers for the per-unit analysis stages (tuning, category): read the activations stage's
// FixedSizeList<Float32>(channels) layer columns into [stimulus × unit] matrices, and build per-unit
// tables from typed-array columns (scalars, booleans, strings, fixed-width lists).
import {
  Bool,
  Field,
  FixedSizeList,
  Float,
  Float32,
  Int32,
  List,
  makeData,
  makeVector,
  Precision,
  RecordBatch,
  Schema,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { InputError } from '../pipeline/errors.ts';

/** Names of the columns of a table whose type is FixedSizeList<Float32> (the activations stage's layer columns). */
export function layerColumns(table: Table): string[] {
  // a table read from IPC types the list items as Float (precision SINGLE), not as the Float32 subclass
  return table.schema.fields
    .filter((f) => f.type instanceof FixedSizeList && f.type.children[0]?.type instanceof Float && (f.type.children[0].type as Float).precision === Precision.SINGLE)
    .map((f) => f.name);
}

/** Stacks a FixedSizeList<Float32>(channels) column of several tables into one [row × channel] matrix. */
export function readLayerMatrix(tables: readonly Table[], column: string, source = 'activations'): { matrix: Float32Array; channels: number } {
  let channels = -1;
  let rows = 0;
  for (const t of tables) {
    const f = t.schema.fields.find((x) => x.name === column);
    if (!f || !(f.type instanceof FixedSizeList)) {
      throw new InputError(`${source}: expected a FixedSizeList<Float32> column '${column}', got ${f ? String(f.type) : 'no such column'}`);
    }
    if (channels >= 0 && f.type.listSize !== channels) {
      throw new InputError(`${source}: column '${column}' has ${f.type.listSize} channels in one shard and ${channels} in another`);
    }
    channels = f.type.listSize;
    rows += t.numRows;
  }
  const matrix = new Float32Array(rows * Math.max(channels, 0));
  let at = 0;
  for (const t of tables) {
    for (const d of t.getChild(column)!.data) {
      const child = d.children[0]!;
      const values = child.values as Float32Array;
      const start = child.offset + d.offset * channels;
      matrix.set(values.subarray(start, start + d.length * channels), at);
      at += d.length * channels;
    }
  }
  return { matrix, channels };
}

/** Reads a numeric column of several tables into one Float64Array. */
export function readNumbers(tables: readonly Table[], column: string, source = 'activations'): Float64Array {
  const out: number[] = [];
  for (const t of tables) {
    const v = t.getChild(column);
    if (!v) throw new InputError(`${source}: expected a column '${column}', got none`);
    const arr = v.toArray() as ArrayLike<number | bigint>;
    for (let i = 0; i < arr.length; i++) out.push(Number(arr[i]));
  }
  return Float64Array.from(out);
}

/** Reads a Utf8 column of several tables into one string array. */
export function readStrings(tables: readonly Table[], column: string, source = 'activations'): string[] {
  const out: string[] = [];
  for (const t of tables) {
    const v = t.getChild(column);
    if (!v) throw new InputError(`${source}: expected a column '${column}', got none`);
    for (const x of v) out.push(String(x));
  }
  return out;
}

/** A List<Float32> vector of `rows` lists of `width` values each, from a row-major [row × width] array. */
export function floatListVector(values: Float32Array, width: number): Vector {
  const rows = width === 0 ? 0 : values.length / width;
  const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * width);
  const child = makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
  return makeVector(makeData({ type: new List(new Field('item', new Float32(), false)), length: rows, nullCount: 0, valueOffsets: offsets, child }));
}

/** A List<Int32> vector of fixed-width rows from a row-major [row × width] array. */
export function intListVector(values: Int32Array, width: number): Vector {
  const rows = width === 0 ? 0 : values.length / width;
  const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * width);
  const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
  return makeVector(makeData({ type: new List(new Field('item', new Int32(), false)), length: rows, nullCount: 0, valueOffsets: offsets, child }));
}

/** A List<Utf8> vector of fixed-width rows of strings. */
export function stringListVector(values: readonly string[], width: number): Vector {
  const rows = width === 0 ? 0 : values.length / width;
  const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * width);
  const child = vectorFromArray(values as string[], new Utf8()).data[0]!;
  return makeVector(makeData({ type: new List(new Field('item', new Utf8(), false)), length: rows, nullCount: 0, valueOffsets: offsets, child }));
}

/** A Bool vector from 0/1 flags. */
export function boolVector(flags: Uint8Array): Vector {
  return vectorFromArray(Array.from(flags, (x) => x !== 0), new Bool());
}

/** A Utf8 vector. */
export function stringVector(values: readonly string[]): Vector {
  return vectorFromArray(values as string[], new Utf8());
}

/** A numeric vector (Int32, Float32 or Float64 by the array's type). */
export function numberVector(values: Int32Array | Float32Array | Float64Array): Vector {
  return makeVector(values);
}

/** A table from named equal-length vectors, with string schema metadata. */
export function tableWithMetadata(columns: Record<string, Vector>, metadata: Record<string, string>): Table {
  const t = new Table(columns as Record<string, Vector<DataType>>);
  const schema = new Schema(t.schema.fields, new Map(Object.entries(metadata)));
  return new Table(schema, t.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** Concatenates tables with the same schema (row-wise), keeping the first table's metadata. */
export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 1) return tables[0]!;
  const schema = tables[0]!.schema;
  return new Table(schema, tables.flatMap((t) => t.batches.map((b) => new RecordBatch(schema, b.data))));
}
