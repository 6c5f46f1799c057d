// Arrow helpers for the per-unit analysis stages (tuning, category, awa, awc, v1): read the activations stage's
// FixedSizeList<Float32>(channels) layer columns into [stimulus × unit] matrices and other columns as arrays, and
// concatenate shard tables (stage tables themselves are built from their declarations: results/columns.ts).
import { FixedSizeList, Float, Precision, RecordBatch, Table } from 'apache-arrow';
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

/** Concatenates tables with the same schema (row-wise), keeping the first table's metadata. */
export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 1) return tables[0]!;
  const schema = tables[0]!.schema;
  return new Table(schema, tables.flatMap((t) => t.batches.map((b) => new RecordBatch(schema, b.data))));
}
