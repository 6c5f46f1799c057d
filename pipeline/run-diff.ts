// Compares the data of two runs' checkpoints column by column (a refactor must not change them; a speed-up may
// only reorder float sums), and condenses a run's data into a small digest that a test can commit and compare.
// Schema metadata is ignored: a new version may add fields there.
import { DataType, makeVector, type Data, type Table } from 'apache-arrow';
import { sha256 } from './cache-key.ts';
import { OutputError } from './errors.ts';
import { readCurrentManifest, type ShardRecord } from './manifest.ts';
import { requireRunDir } from './rundir.ts';
import { readShardVerified } from './store.ts';

/** A column's values flattened: numbers (lists and fixed-size lists expanded, null = NaN) or text (anything else). */
export type FlatColumn = { kind: 'number'; values: Float64Array } | { kind: 'text'; values: string[] };

/** How one column of one shard differs between two runs. */
export interface ColumnDiff {
  column: string;
  /** Same Arrow type and same number of flattened values. */
  sameShape: boolean;
  typeA: string;
  typeB: string;
  /** Values compared (flattened). */
  values: number;
  /** Numbers: max |a − b| and max |a − b| / max(|a|, |b|) over finite pairs; text: 0. */
  maxAbs: number;
  maxRel: number;
  /** Positions where the values differ at all (NaN vs number, text, or any numeric difference). */
  differing: number;
}

/** How one shard differs (or is missing on one side). */
export interface ShardDiff {
  stage: string;
  shard: string;
  /** 'both' when each run has the shard; otherwise the run that lacks it. */
  presence: 'both' | 'missing-in-a' | 'missing-in-b';
  rowsA: number;
  rowsB: number;
  columns: ColumnDiff[];
  /** Columns present in only one run. */
  onlyInA: string[];
  onlyInB: string[];
}

/** Flattens an Arrow column (all its chunks) into numbers or strings. */
export function flattenColumn(chunks: readonly Data[]): FlatColumn {
  const type = chunks[0]?.type;
  if (type && isNumericLeaf(type)) {
    const out: number[] = [];
    for (const d of chunks) pushNumbers(d, 0, d.length, out);
    return { kind: 'number', values: Float64Array.from(out) };
  }
  const values: string[] = [];
  for (const d of chunks) {
    const v = makeVector(d);
    for (let i = 0; i < v.length; i++) values.push(cellText(v.get(i)));
  }
  return { kind: 'text', values };
}

/** Whether a type is a number, or a (fixed-size) list whose leaves are numbers. */
function isNumericLeaf(type: DataType): boolean {
  if (DataType.isFloat(type) || DataType.isInt(type)) return true;
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) return isNumericLeaf(type.children[0]!.type);
  return false;
}

/** Appends rows [from, to) of `d` (a numeric or list-of-numeric Data) to `out`, nulls as NaN. */
function pushNumbers(d: Data, from: number, to: number, out: number[]): void {
  const type = d.type;
  if (DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    const child = d.children[0]!;
    for (let r = from; r < to; r++) {
      if (!d.getValid(r)) for (let k = 0; k < size; k++) out.push(NaN);
      else pushNumbers(child, (d.offset + r) * size, (d.offset + r + 1) * size, out);
    }
    return;
  }
  if (DataType.isList(type)) {
    const offsets = d.valueOffsets as Int32Array;
    const child = d.children[0]!;
    for (let r = from; r < to; r++) if (d.getValid(r)) pushNumbers(child, offsets[d.offset + r]!, offsets[d.offset + r + 1]!, out);
    return;
  }
  const values = d.values as ArrayLike<number | bigint>;
  for (let r = from; r < to; r++) out.push(d.getValid(r) ? Number(values[d.offset + r]) : NaN);
}

/** A non-numeric cell as comparable text. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function') {
    return JSON.stringify(Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), (x) => (typeof x === 'bigint' ? String(x) : x)));
  }
  return typeof v === 'bigint' ? String(v) : String(v);
}

/** Compares one column of two tables. */
export function compareColumn(column: string, a: Table, b: Table): ColumnDiff {
  const va = a.getChild(column)!;
  const vb = b.getChild(column)!;
  const fa = flattenColumn(va.data);
  const fb = flattenColumn(vb.data);
  const typeA = String(va.type);
  const typeB = String(vb.type);
  const diff: ColumnDiff = { column, sameShape: typeA === typeB && fa.values.length === fb.values.length, typeA, typeB, values: fa.values.length, maxAbs: 0, maxRel: 0, differing: 0 };
  if (!diff.sameShape || fa.kind !== fb.kind) {
    diff.sameShape = false;
    diff.differing = Math.max(fa.values.length, fb.values.length);
    return diff;
  }
  if (fa.kind === 'text') {
    const tb = fb.values as string[];
    fa.values.forEach((v, i) => (diff.differing += +(v !== tb[i])));
    return diff;
  }
  const x = fa.values;
  const y = fb.values as Float64Array;
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (Object.is(p, q) || p === q) continue;
    diff.differing++;
    if (!Number.isFinite(p) || !Number.isFinite(q)) {
      diff.maxAbs = Infinity;
      diff.maxRel = Infinity;
      continue;
    }
    const abs = Math.abs(p - q);
    diff.maxAbs = Math.max(diff.maxAbs, abs);
    diff.maxRel = Math.max(diff.maxRel, abs / Math.max(Math.abs(p), Math.abs(q)));
  }
  return diff;
}

/** Compares two tables column by column (metadata ignored). */
export function compareTables(stage: string, shard: string, a: Table, b: Table): ShardDiff {
  const na = a.schema.fields.map((f) => f.name);
  const nb = b.schema.fields.map((f) => f.name);
  const common = na.filter((n) => nb.includes(n));
  return {
    stage,
    shard,
    presence: 'both',
    rowsA: a.numRows,
    rowsB: b.numRows,
    columns: common.map((c) => compareColumn(c, a, b)),
    onlyInA: na.filter((n) => !nb.includes(n)),
    onlyInB: nb.filter((n) => !na.includes(n)),
  };
}

/** The finished checkpoints of a run directory, as listed by its manifest. */
export async function manifestRecords(outDir: string): Promise<ShardRecord[]> {
  await requireRunDir(outDir);
  const manifest = await readCurrentManifest(outDir);
  if (!manifest) throw new OutputError(`${outDir}: Expected a run with a manifest of finished checkpoints, got none`);
  return Object.values(manifest.stages).flat() as ShardRecord[];
}

/** Compares every checkpoint of two run directories (optionally only some stages). */
export async function diffRuns(dirA: string, dirB: string, stages?: readonly string[]): Promise<ShardDiff[]> {
  const pick = (r: ShardRecord) => !stages?.length || stages.includes(r.stage);
  const a = (await manifestRecords(dirA)).filter(pick);
  const b = (await manifestRecords(dirB)).filter(pick);
  const key = (r: ShardRecord) => `${r.stage}/${r.shard}`;
  const bByKey = new Map(b.map((r) => [key(r), r]));
  const out: ShardDiff[] = [];
  for (const ra of a) {
    const rb = bByKey.get(key(ra));
    bByKey.delete(key(ra));
    if (!rb) {
      out.push({ stage: ra.stage, shard: ra.shard, presence: 'missing-in-b', rowsA: ra.rows, rowsB: 0, columns: [], onlyInA: [], onlyInB: [] });
      continue;
    }
    out.push(compareTables(ra.stage, ra.shard, await readShardVerified(dirA, ra), await readShardVerified(dirB, rb)));
  }
  for (const rb of bByKey.values()) out.push({ stage: rb.stage, shard: rb.shard, presence: 'missing-in-a', rowsA: 0, rowsB: rb.rows, columns: [], onlyInA: [], onlyInB: [] });
  return out;
}

/**
 * Whether a shard's data agree within `maxRel` (0 = identical), with the same shards, columns and rows; with
 * `allowAdded`, columns only B has (a newer version's additions) do not count as a difference.
 */
export function withinTolerance(d: ShardDiff, maxRel = 0, allowAdded = false): boolean {
  if (d.presence !== 'both' || d.rowsA !== d.rowsB || d.onlyInA.length || (d.onlyInB.length && !allowAdded)) return false;
  return d.columns.every((c) => c.sameShape && (c.differing === 0 || (c.maxRel <= maxRel && Number.isFinite(c.maxRel) && !(c.typeA === 'Utf8' || c.typeA === 'Bool'))));
}

/** A column condensed to a few statistics (robust to float reordering when compared with a tolerance). */
export interface ColumnDigest {
  type: string;
  values: number;
  /** Numbers: count of NaN, sum, sum of squares, min, max of the finite values. */
  nan?: number;
  sum?: number;
  sumSq?: number;
  min?: number;
  max?: number;
  /** Text: sha256 of the values joined by newlines. */
  sha256?: string;
}

/** Digest of a run: stage/shard → rows and column → digest. */
export type RunDigest = Record<string, { rows: number; columns: Record<string, ColumnDigest> }>;

/** Condenses one table's data into column digests. */
export function tableDigest(t: Table): { rows: number; columns: Record<string, ColumnDigest> } {
  const columns: Record<string, ColumnDigest> = {};
  for (const f of t.schema.fields) {
    const flat = flattenColumn(t.getChild(f.name)!.data);
    const d: ColumnDigest = { type: String(f.type), values: flat.values.length };
    if (flat.kind === 'text') d.sha256 = sha256(flat.values.join('\n'));
    else {
      let nan = 0, sum = 0, sumSq = 0, min = Infinity, max = -Infinity;
      for (const v of flat.values) {
        if (!Number.isFinite(v)) {
          nan++;
          continue;
        }
        sum += v;
        sumSq += v * v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      Object.assign(d, { nan, sum, sumSq, min: Number.isFinite(min) ? min : null, max: Number.isFinite(max) ? max : null });
    }
    columns[f.name] = d;
  }
  return { rows: t.numRows, columns };
}

/** Digest of every checkpoint of a run directory (reads each verified against its record). */
export async function runDigest(outDir: string): Promise<RunDigest> {
  const out: RunDigest = {};
  const records = (await manifestRecords(outDir)).sort((x, y) => `${x.stage}/${x.shard}`.localeCompare(`${y.stage}/${y.shard}`));
  for (const r of records) out[`${r.stage}/${r.shard}`] = tableDigest(await readShardVerified(outDir, r));
  return out;
}

/** Differences between two digests beyond a relative tolerance on the numeric statistics (empty = same data). */
export function compareDigests(expected: RunDigest, actual: RunDigest, rel = 1e-5): string[] {
  const problems: string[] = [];
  for (const k of Object.keys(expected)) if (!(k in actual)) problems.push(`${k}: missing`);
  for (const k of Object.keys(actual)) if (!(k in expected)) problems.push(`${k}: not in the expected digest`);
  for (const [k, e] of Object.entries(expected)) {
    const a = actual[k];
    if (!a) continue;
    if (a.rows !== e.rows) problems.push(`${k}: expected ${e.rows} rows, got ${a.rows}`);
    for (const [c, ec] of Object.entries(e.columns)) {
      const ac = a.columns[c];
      if (!ac) {
        problems.push(`${k}.${c}: missing column`);
        continue;
      }
      if (ac.type !== ec.type || ac.values !== ec.values) problems.push(`${k}.${c}: expected ${ec.type} × ${ec.values}, got ${ac.type} × ${ac.values}`);
      if (ec.sha256 !== undefined && ac.sha256 !== ec.sha256) problems.push(`${k}.${c}: text values differ`);
      for (const s of ['nan', 'sum', 'sumSq', 'min', 'max'] as const) {
        const x = ec[s];
        const y = ac[s];
        if (x === undefined || x === null || y === undefined || y === null) {
          if (x !== y) problems.push(`${k}.${c}.${s}: expected ${x}, got ${y}`);
          continue;
        }
        // a sum of n reordered terms moves by up to ~eps·√(n·Σv²): scale it by that, not by its own (cancelling) size
        const scale = Math.max(Math.abs(x), Math.abs(y), s === 'sum' ? Math.sqrt(Math.abs(ec.sumSq ?? 0) * ec.values) : 0, 1e-30);
        if (Math.abs(x - y) / scale > rel) problems.push(`${k}.${c}.${s}: expected ${x}, got ${y}`);
      }
    }
    for (const c of Object.keys(a.columns)) if (!(c in e.columns)) problems.push(`${k}.${c}: column not in the expected digest`);
  }
  return problems;
}
