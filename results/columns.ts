// The results layer's core: a checkpoint's columns declared once (name, Arrow type, unit, one-line meaning, the
// report's short key), a builder that makes a producer's Arrow table from exactly those columns (a missing, extra or
// mis-typed column throws at build time) and writes each column's meaning and unit into its Arrow field metadata, and
// a typed reader that gives consumers the columns as typed arrays. Tested in test/results/columns.test.ts.
import {
  Bool,
  Field,
  FixedSizeList,
  Float,
  Float32,
  Float64,
  Int,
  Int32,
  List,
  makeData,
  makeVector,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { InputError } from '../pipeline/errors.ts';

/** The Arrow types a declared column can have. */
export type ColumnType = 'utf8' | 'int32' | 'float32' | 'float64' | 'bool' | 'list<float32>' | 'list<int32>' | 'list<utf8>' | 'fixedlist<float32>';

/** One declared column. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Unit of the values ('' for dimensionless numbers, flags and text). */
  unit: string;
  /** One line: what the value is. */
  meaning: string;
  /** The report's short key of the column in its per-unit JSON (report/units.ts, report/client.js). */
  key?: string;
  /** May be absent: written only under some settings (e.g. no suppressive eigenpairs), or by older checkpoints. */
  optional?: boolean;
  /** Cells may be null (utf8: e.g. "not excluded"). */
  nullable?: boolean;
  /** The field of the producer's science result the column is filled from (valuesFrom), when it is one. */
  source?: string;
}

/** Columns not known by name in advance (the activations stage's layer columns): their shared type and meaning. */
export interface DynamicColumns {
  type: ColumnType;
  unit: string;
  meaning: string;
}

/** A checkpoint's declared columns. */
export interface TableSpec<C extends readonly ColumnSpec[] = readonly ColumnSpec[]> {
  /** Stage (and table, when a stage writes several kinds) the declaration belongs to, for messages. */
  name: string;
  columns: C;
  dynamic?: DynamicColumns;
}

/** Field-metadata keys of every declared column. */
export const FIELD_META = { meaning: 'revcor.meaning', unit: 'revcor.unit' } as const;

/** Declares a table (types inferred from the literal, so builders and readers are typed by column name). */
export function defineTable<const C extends readonly ColumnSpec[]>(name: string, columns: C, dynamic?: DynamicColumns): TableSpec<C> {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new Error(`results ${name}: column '${c.name}' declared twice`);
    seen.add(c.name);
  }
  return dynamic ? { name, columns, dynamic } : { name, columns };
}

/** A fixed-width list column's values: row-major [row × width]. */
export interface ListValues<T> {
  values: T;
  width: number;
}

/** What a producer passes for a column of a type. */
export type BuildValue<T extends ColumnType> = T extends 'utf8'
  ? readonly (string | null)[]
  : T extends 'int32'
    ? Int32Array
    : T extends 'float32'
      ? Float32Array
      : T extends 'float64'
        ? Float64Array
        : T extends 'bool'
          ? Uint8Array
          : T extends 'list<float32>'
            ? ListValues<Float32Array>
            : T extends 'list<int32>'
              ? ListValues<Int32Array>
              : T extends 'list<utf8>'
                ? ListValues<readonly string[]>
                : ListValues<Float32Array>;

/** The values a producer passes to build a table of spec C (optional columns may be left out). */
export type BuildValues<C extends readonly ColumnSpec[]> = { [K in C[number] as K extends { optional: true } ? never : K['name']]: BuildValue<K['type']> } & {
  [K in C[number] as K extends { optional: true } ? K['name'] : never]?: BuildValue<K['type']>;
};

/** A list column as a consumer reads it: one typed array per row. */
export interface ListColumn<T> {
  readonly length: number;
  get(row: number): T;
}

/** What a consumer reads for a column of a type (flags 0/1; numbers NaN where null). */
export type ReadValue<T extends ColumnType> = T extends 'utf8'
  ? (string | null)[]
  : T extends 'int32'
    ? Int32Array
    : T extends 'float32' | 'float64'
      ? Float64Array
      : T extends 'bool'
        ? Uint8Array
        : T extends 'list<float32>' | 'fixedlist<float32>'
          ? ListColumn<Float32Array>
          : T extends 'list<int32>'
            ? ListColumn<Int32Array>
            : ListColumn<string[]>;

/** The columns of a table of spec C as a consumer reads them (optional ones undefined when absent). */
export type ReadColumns<C extends readonly ColumnSpec[]> = { [K in C[number] as K extends { optional: true } ? never : K['name']]: ReadValue<K['type']> } & {
  [K in C[number] as K extends { optional: true } ? K['name'] : never]?: ReadValue<K['type']>;
};

/** The Arrow type of a declared column (fixed lists need their width). */
function arrowType(type: ColumnType, width = 0): DataType {
  switch (type) {
    case 'utf8':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'list<float32>':
      return new List(new Field('item', new Float32(), false));
    case 'list<int32>':
      return new List(new Field('item', new Int32(), false));
    case 'list<utf8>':
      return new List(new Field('item', new Utf8(), false));
    case 'fixedlist<float32>':
      return new FixedSizeList(width, new Field('item', new Float32(), false));
  }
}

/** Whether a field's Arrow type is the declared one (a table read from IPC types Float32 as Float(SINGLE)). */
export function typeMatches(field: Field, type: ColumnType): boolean {
  const t = field.type;
  const float = (x: DataType, p: Precision) => x instanceof Float && x.precision === p;
  const int32 = (x: DataType) => x instanceof Int && x.bitWidth === 32 && x.isSigned;
  const item = (x: DataType) => (x as List).children?.[0]?.type;
  switch (type) {
    case 'utf8':
      return t instanceof Utf8;
    case 'int32':
      return int32(t);
    case 'float32':
      return float(t, Precision.SINGLE);
    case 'float64':
      return float(t, Precision.DOUBLE);
    case 'bool':
      return t instanceof Bool;
    case 'list<float32>':
      return t instanceof List && float(item(t)!, Precision.SINGLE);
    case 'list<int32>':
      return t instanceof List && int32(item(t)!);
    case 'list<utf8>':
      return t instanceof List && item(t) instanceof Utf8;
    case 'fixedlist<float32>':
      return t instanceof FixedSizeList && float(item(t)!, Precision.SINGLE);
  }
}

/** A fixed-width list vector of `width` items per row (List, or FixedSizeList for 'fixedlist<float32>'). */
function listVector(type: ColumnType, values: Float32Array | Int32Array | readonly string[], width: number): Vector {
  const rows = width === 0 ? 0 : values.length / width;
  const child =
    type === 'list<utf8>'
      ? vectorFromArray(values as string[], new Utf8()).data[0]!
      : type === 'list<int32>'
        ? makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values as Int32Array })
        : makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values as Float32Array });
  if (type === 'fixedlist<float32>') return makeVector(makeData({ type: arrowType(type, width) as FixedSizeList, length: rows, nullCount: 0, child }));
  const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * width);
  return makeVector(makeData({ type: arrowType(type) as List, length: rows, nullCount: 0, valueOffsets: offsets, child }));
}

/** Whether a value has the class a column type needs. */
function valueFits(type: ColumnType, v: unknown): boolean {
  switch (type) {
    case 'utf8':
      return Array.isArray(v) && v.every((x) => x === null || typeof x === 'string');
    case 'int32':
      return v instanceof Int32Array;
    case 'float32':
      return v instanceof Float32Array;
    case 'float64':
      return v instanceof Float64Array;
    case 'bool':
      return v instanceof Uint8Array;
    case 'list<float32>':
    case 'fixedlist<float32>':
      return typeof v === 'object' && v !== null && (v as ListValues<unknown>).values instanceof Float32Array && Number.isInteger((v as ListValues<unknown>).width);
    case 'list<int32>':
      return typeof v === 'object' && v !== null && (v as ListValues<unknown>).values instanceof Int32Array && Number.isInteger((v as ListValues<unknown>).width);
    case 'list<utf8>':
      return typeof v === 'object' && v !== null && Array.isArray((v as ListValues<unknown>).values) && Number.isInteger((v as ListValues<unknown>).width);
  }
}

/** The Arrow vector of one column's values of a declared type (lists as {values, width}). */
export function columnVector(type: ColumnType, v: unknown): Vector {
  switch (type) {
    case 'utf8':
      return vectorFromArray(v as string[], new Utf8());
    case 'bool':
      return vectorFromArray(Array.from(v as Uint8Array, (x) => x !== 0), new Bool());
    case 'int32':
    case 'float32':
    case 'float64':
      return makeVector(v as Float64Array);
    default: {
      const l = v as ListValues<Float32Array>;
      return listVector(type, l.values, l.width);
    }
  }
}

/** The field metadata of a declared column. */
function fieldMetadata(c: { meaning: string; unit: string }): Map<string, string> {
  return new Map([
    [FIELD_META.meaning, c.meaning],
    [FIELD_META.unit, c.unit],
  ]);
}

/** Thrown when a producer's columns do not match its declaration (a bug in revcor, not a user mistake). */
export class SchemaMismatch extends Error {}

/**
 * A producer's table from its declared columns, in declaration order (dynamic columns after them, in the order
 * given), with each column's meaning and unit as field metadata and `metadata` as schema metadata. Throws
 * SchemaMismatch for a missing required column, an undeclared column or a value of the wrong type or length.
 */
export function buildTable<C extends readonly ColumnSpec[]>(
  spec: TableSpec<C>,
  values: BuildValues<C>,
  metadata: Record<string, string> = {},
  dynamic: Record<string, ListValues<Float32Array>> = {},
): Table {
  const given = values as Record<string, unknown>;
  const declared = new Set(spec.columns.map((c) => c.name));
  const extra = Object.keys(given).filter((k) => !declared.has(k) && given[k] !== undefined);
  if (extra.length) throw new SchemaMismatch(`${spec.name}: column${extra.length > 1 ? 's' : ''} ${extra.join(', ')} not declared in results/ (declare ${extra.length > 1 ? 'them' : 'it'} first)`);
  if (Object.keys(dynamic).length && !spec.dynamic) throw new SchemaMismatch(`${spec.name}: columns ${Object.keys(dynamic).join(', ')} given as dynamic, but the declaration has no dynamic columns`);
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  let rows = -1;
  const add = (name: string, c: { type: ColumnType; meaning: string; unit: string; nullable?: boolean }, v: unknown) => {
    if (!valueFits(c.type, v)) throw new SchemaMismatch(`${spec.name}: column '${name}' is declared ${c.type}, got ${describe(v)}`);
    const vec = columnVector(c.type, v);
    if (rows >= 0 && vec.length !== rows) throw new SchemaMismatch(`${spec.name}: column '${name}' has ${vec.length} rows, the columns before it ${rows}`);
    if (!c.nullable && vec.nullCount > 0) throw new SchemaMismatch(`${spec.name}: column '${name}' is not nullable, got ${vec.nullCount} nulls`);
    rows = vec.length;
    fields.push(new Field(name, vec.type, vec.nullable, fieldMetadata(c)));
    vectors.push(vec);
  };
  for (const c of spec.columns) {
    const v = given[c.name];
    if (v === undefined) {
      if (c.optional) continue;
      throw new SchemaMismatch(`${spec.name}: declared column '${c.name}' (${c.type}) was not given`);
    }
    add(c.name, c, v);
  }
  for (const [name, v] of Object.entries(dynamic)) {
    if (declared.has(name)) throw new SchemaMismatch(`${spec.name}: dynamic column '${name}' has the name of a declared column`);
    add(name, spec.dynamic!, v);
  }
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const children = vectors.map((v, i) => {
    if (v.data.length !== 1) throw new SchemaMismatch(`${spec.name}: column '${fields[i]!.name}' came out in ${v.data.length} chunks, expected 1`);
    return v.data[0]!;
  });
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: Math.max(rows, 0), nullCount: 0, children }))]);
}

/** A short description of a value's type for messages. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return `an array of ${[...new Set(v.map((x) => (x === null ? 'null' : typeof x)))].join('/') || 'nothing'}`;
  if (typeof v === 'object' && 'values' in (v as object)) return `a list of ${describe((v as ListValues<unknown>).values)}`;
  return typeof v;
}

/** A numeric cell as a number: booleans 0/1, null NaN. */
export function cellNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number(v);
}

/** A list cell as a typed array (a copy only when the cell is not already one). */
function listCell<T>(v: unknown, make: (x: ArrayLike<number>) => T): T {
  if (v === null || v === undefined) return make([]);
  const a = typeof (v as { toArray?: unknown }).toArray === 'function' ? (v as { toArray(): ArrayLike<number> }).toArray() : (v as ArrayLike<number>);
  return make(a);
}

/** One column of a table read as its declared type. */
function readColumn(vec: Vector, type: ColumnType): unknown {
  const n = vec.length;
  switch (type) {
    case 'utf8':
      return Array.from({ length: n }, (_, r) => {
        const v = vec.get(r) as string | null;
        return v === null || v === undefined ? null : String(v);
      });
    case 'int32':
      return Int32Array.from({ length: n }, (_, r) => cellNumber(vec.get(r)));
    case 'float32':
    case 'float64':
      return Float64Array.from({ length: n }, (_, r) => cellNumber(vec.get(r)));
    case 'bool':
      return Uint8Array.from({ length: n }, (_, r) => (vec.get(r) ? 1 : 0));
    case 'list<float32>':
    case 'fixedlist<float32>':
      return { length: n, get: (r: number) => listCell(vec.get(r), (a) => (a instanceof Float32Array ? a : Float32Array.from(a))) };
    case 'list<int32>':
      return { length: n, get: (r: number) => listCell(vec.get(r), (a) => (a instanceof Int32Array ? a : Int32Array.from(a))) };
    case 'list<utf8>':
      return { length: n, get: (r: number) => (vec.get(r) === null ? [] : Array.from(vec.get(r) as Iterable<string | null>, (x) => String(x ?? ''))) };
  }
}

/**
 * The declared columns of a checkpoint as typed arrays (list columns as per-row accessors). A required column that
 * is missing or has another Arrow type is an InputError naming `source` (the checkpoint); an optional one that is
 * missing reads as undefined.
 */
export function readColumns<C extends readonly ColumnSpec[]>(spec: TableSpec<C>, table: Table, source: string): ReadColumns<C> {
  const out: Record<string, unknown> = {};
  for (const c of spec.columns) {
    const field = table.schema.fields.find((f) => f.name === c.name);
    if (!field) {
      if (c.optional) continue;
      throw new InputError(`${source}: Expected a column '${c.name}' (${c.type}, the ${spec.name} output), got none. Is this a ${spec.name} checkpoint of this revcor version?`);
    }
    if (!typeMatches(field, c.type)) throw new InputError(`${source}: column '${c.name}': Expected ${c.type}, got ${String(field.type)}`);
    out[c.name] = readColumn(table.getChild(c.name)!, c.type);
  }
  return out as ReadColumns<C>;
}

/** Names of a table's dynamic columns: fields of the declaration's dynamic type that are not declared by name. */
export function dynamicColumns(spec: TableSpec, table: Table): string[] {
  if (!spec.dynamic) return [];
  const declared = new Set(spec.columns.map((c) => c.name));
  return table.schema.fields.filter((f) => !declared.has(f.name) && typeMatches(f, spec.dynamic!.type)).map((f) => f.name);
}

/** The declared column of a spec by name (throws for an undeclared name: a bug). */
export function columnSpec(spec: TableSpec, name: string): ColumnSpec {
  const c = spec.columns.find((x) => x.name === name);
  if (!c) throw new Error(`results ${spec.name}: no declared column '${name}'`);
  return c;
}

/** The same table with `metadata` added to its schema metadata (fields and their metadata kept). */
export function withSchemaMetadata(table: Table, metadata: Record<string, string>): Table {
  const schema = new Schema(table.schema.fields, new Map([...table.schema.metadata, ...Object.entries(metadata)]));
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** The values of every column declared with a `source`, taken from the producer's result object by that field. */
export function valuesFrom(spec: TableSpec, result: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of spec.columns) {
    if (!c.source) continue;
    const v = (result as Record<string, unknown>)[c.source];
    if (v === undefined) throw new SchemaMismatch(`${spec.name}: column '${c.name}' is declared from '${c.source}', which the result does not have`);
    out[c.name] = v;
  }
  return out;
}
