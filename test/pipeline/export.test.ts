// `revcor export` read back by readers that share no code with the writer (parquet-wasm, Arrow's Rust writer): DuckDB
// (its own C++ Parquet reader, through @duckdb/node-api) and hyparquet (pure JavaScript). On a real smoke run
// (config/smoke.yaml, every stage): every value of every exported column equals the checkpoints', list columns are
// LIST columns, each column's meaning survives (as Arrow field metadata and as the revcor.columns key), the Hive
// partitions by layer hold each layer's rows, and CSV cells read back as the same values.
// Tested files: pipeline/export.ts, pipeline/export-plan.ts, pipeline/export-table.ts, pipeline/export-write.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { tableFromIPC, type Table } from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRun, EXPORT_META, type ExportedFile } from '../../pipeline/export.ts';
import { exportUnits, runSources, type ExportUnit } from '../../pipeline/export-plan.ts';
import type { ShardRecord } from '../../pipeline/manifest.ts';
import { flattenColumn } from '../../pipeline/run-diff.ts';
import { readShardVerified } from '../../pipeline/store.ts';
import { FIELD_META } from '../../results/columns.ts';
import { allStages } from '../../stages/index.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { cleanup, tempDir } from './helpers.ts';

const FLOC = join(REPO, '..', 'shared', 'datasets', 'floc');

/** A reader's cell flattened like run-diff's flattenColumn: numbers (lists expanded, null NaN) or text. */
function flatCell(v: unknown, text: boolean, out: (number | string)[]): void {
  if (text) {
    const items = v !== null && typeof v === 'object' && 'items' in (v as object) ? (v as { items: unknown[] }).items : v;
    out.push(v === null || v === undefined ? 'null' : Array.isArray(items) ? JSON.stringify(items) : String(items));
    return;
  }
  if (v === null || v === undefined) return void out.push(NaN);
  if (typeof v === 'object' && 'items' in (v as object)) return flatCell((v as { items: unknown[] }).items, false, out);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    for (const x of Array.from(v as ArrayLike<unknown>)) flatCell(x, false, out);
    return;
  }
  out.push(Number(v));
}

/** Whether two flattened columns hold the same values (NaN equal to NaN). */
function sameValues(a: ArrayLike<number | string>, b: ArrayLike<number | string>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) return false;
  return true;
}

/** The checkpoints of a unit, in export order. */
async function checkpoints(run: string, unit: ExportUnit): Promise<Table[]> {
  return Promise.all(unit.sources.map((s) => readShardVerified(run, s as ShardRecord)));
}

/** Every value of column `name` over the checkpoints, flattened. */
function expected(tables: Table[], name: string): { kind: 'number' | 'text'; values: (number | string)[] } {
  const flat = tables.map((t) => flattenColumn(t.getChild(name)!.data));
  return { kind: flat[0]!.kind, values: flat.flatMap((f) => Array.from(f.values as ArrayLike<number | string>)) };
}

describe('revcor export: readable by DuckDB and hyparquet, values and meanings intact', () => {
  let dir: string;
  let run: string;
  let units: ExportUnit[];
  let files: ExportedFile[];
  let db: DuckDBConnection;
  const q = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjects();

  beforeAll(async () => {
    dir = await tempDir('revcor-export-');
    run = join(dir, 'run');
    const images = existsSync(FLOC) ? ['--set', `stimuli.images.dir=${FLOC}`] : [];
    const r = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', run, '--quiet', '--offline', ...images], allStages);
    if (r.code !== 0) throw new Error(`smoke run failed (${r.code}): ${r.stderr}`);
    units = exportUnits(await runSources(run));
    files = (await exportRun(run, { out: join(dir, 'pq') })).files;
    await exportRun(run, { out: join(dir, 'hive'), partition: 'layer' });
    await exportRun(run, { out: join(dir, 'csv'), format: 'csv' });
    db = await (await DuckDBInstance.create(':memory:')).connect();
  }, 240_000);
  afterAll(async () => {
    db?.closeSync();
    await cleanup(dir);
  });

  it('exports every table of every stage, one file each', () => {
    expect(units.map((u) => u.stage)).toEqual(expect.arrayContaining(['stimuli', 'activations', 'tuning', 'awa', 'awc', 'summary']));
    expect(files.map((f) => f.path).sort()).toEqual(units.map((u) => `${u.name}.parquet`).sort());
    expect(files.every((f) => f.action === 'written' && f.bytes > 0)).toBe(true);
  });

  it('DuckDB read_parquet: every value of every column equals the checkpoints; list columns are LIST columns', async () => {
    let lists = 0;
    for (const unit of units) {
      const tables = await checkpoints(run, unit);
      const path = join(dir, 'pq', `${unit.name}.parquet`);
      const types = new Map((await q(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).map((r) => [String(r['column_name']), String(r['column_type'])]));
      expect([...types.keys()]).toEqual(tables[0]!.schema.fields.map((f) => f.name));
      for (const f of tables[0]!.schema.fields) {
        const want = expected(tables, f.name);
        if (String(f.type).startsWith('FixedSizeList') || String(f.type).startsWith('List')) {
          expect(types.get(f.name), `${unit.name}.${f.name}`).toMatch(/\[\d*\]$/);
          lists++;
        }
        const got: (number | string)[] = [];
        for (const row of await q(`SELECT "${f.name}" AS v FROM read_parquet('${path}')`)) flatCell(row['v'], want.kind === 'text', got);
        expect(sameValues(got, want.values), `${unit.name}.${f.name}`).toBe(true);
      }
    }
    expect(lists).toBeGreaterThan(5);
  }, 120_000);

  it('hyparquet: every value of every column equals the checkpoints', async () => {
    for (const unit of units) {
      const tables = await checkpoints(run, unit);
      const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(dir, 'pq', `${unit.name}.parquet`)), compressors });
      expect(rows.length).toBe(tables.reduce((a, t) => a + t.numRows, 0));
      for (const f of tables[0]!.schema.fields) {
        const want = expected(tables, f.name);
        const got: (number | string)[] = [];
        for (const row of rows) flatCell(row[f.name], want.kind === 'text', got);
        expect(sameValues(got, want.values), `${unit.name}.${f.name}`).toBe(true);
      }
    }
  }, 120_000);

  it("each column's meaning and unit survive: Arrow field metadata (hyparquet + the file's ARROW:schema) and revcor.columns (DuckDB)", async () => {
    for (const unit of units) {
      const [first] = await checkpoints(run, unit);
      const path = join(dir, 'pq', `${unit.name}.parquet`);
      const md = await parquetMetadataAsync(await asyncBufferFromFile(path));
      const arrowSchema = tableFromIPC(Buffer.from(md.key_value_metadata!.find((k) => k.key === 'ARROW:schema')!.value!, 'base64')).schema;
      const kv = new Map((await q(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}')`)).map((r) => [String(r['k']), String(r['v'])]));
      const columns = JSON.parse(kv.get(EXPORT_META.columns)!) as Record<string, { meaning: string; unit: string }>;
      for (const f of first!.schema.fields) {
        const meaning = f.metadata.get(FIELD_META.meaning);
        expect(meaning, `${unit.name}.${f.name} declared`).toBeTruthy();
        const af = arrowSchema.fields.find((x) => x.name === f.name)!;
        expect(af.metadata.get(FIELD_META.meaning)).toBe(meaning);
        expect(af.metadata.get(FIELD_META.unit)).toBe(f.metadata.get(FIELD_META.unit));
        expect(String(af.type)).toBe(String(f.type)); // fixed-size lists stay fixed-size for Arrow readers
        expect(columns[f.name]).toEqual({ meaning, unit: f.metadata.get(FIELD_META.unit) });
      }
      expect(kv.get(EXPORT_META.stage)).toBe(unit.stage);
      expect(kv.get(EXPORT_META.run)).toBe('smoke');
      expect(kv.get(EXPORT_META.configSha256)).toMatch(/^[0-9a-f]{64}$/);
      expect(kv.get(EXPORT_META.codeVersion)).toMatch(new RegExp(`^${unit.stage}@`));
      expect(JSON.parse(kv.get(EXPORT_META.sources)!)).toEqual(Object.fromEntries(unit.sources.map((s) => [s.shard, s.sha256])));
    }
  }, 120_000);

  it('--partition layer: DuckDB reads the Hive partitions with a layer column; each partition holds that layer’s rows (hyparquet)', async () => {
    const tuning = units.find((u) => u.name === 'tuning')!;
    const tables = await checkpoints(run, tuning);
    const layers = [...new Set(tables.flatMap((t) => expected([t], 'layer').values as string[]))];
    expect(layers.length).toBe(2);
    const counts = await q(`SELECT layer, count(*) AS n FROM read_parquet('${join(dir, 'hive', 'tuning', '*', '*.parquet')}', hive_partitioning = true) GROUP BY layer ORDER BY layer`);
    expect(counts.map((r) => [r['layer'], Number(r['n'])])).toEqual(layers.sort().map((l) => [l, expected(tables, 'layer').values.filter((x) => x === l).length]));
    for (const layer of layers) {
      const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(dir, 'hive', 'tuning', `layer=${layer}`, 'part-0.parquet')), compressors });
      const mine = tables.filter((t) => t.getChild('layer')!.get(0) === layer);
      expect(Object.keys(rows[0]!)).not.toContain('layer');
      for (const f of mine[0]!.schema.fields.filter((x) => x.name !== 'layer')) {
        const want = expected(mine, f.name);
        const got: (number | string)[] = [];
        for (const row of rows) flatCell(row[f.name], want.kind === 'text', got);
        expect(sameValues(got, want.values), `tuning ${layer}.${f.name}`).toBe(true);
      }
    }
    // activations: the layer's column as `activation` beside the stimulus columns
    const noise = units.find((u) => u.name === 'activations-noise')!;
    const acts = await checkpoints(run, noise);
    for (const layer of ['block1_conv1', 'block2_conv1']) {
      const rows = await q(`SELECT noise_index, activation FROM read_parquet('${join(dir, 'hive', 'activations-noise', `layer=${layer}`, 'part-0.parquet')}')`);
      const got: (number | string)[] = [];
      for (const r of rows) flatCell(r['activation'], false, got);
      expect(sameValues(got, expected(acts, layer).values), `activations-noise ${layer}`).toBe(true);
      expect(rows.map((r) => Number(r['noise_index']))).toEqual(expected(acts, 'noise_index').values);
    }
  }, 120_000);

  it('CSV: one file per table; DuckDB read_csv gives the same numbers, list cells are JSON arrays of the same values', async () => {
    const awa = units.find((u) => u.name === 'awa')!;
    const tables = await checkpoints(run, awa);
    const rows = await q(`SELECT * FROM read_csv('${join(dir, 'csv', 'awa.csv')}', header = true, all_varchar = true)`);
    expect(rows.length).toBe(tables.reduce((a, t) => a + t.numRows, 0));
    for (const f of tables[0]!.schema.fields) {
      const want = expected(tables, f.name);
      const got: (number | string)[] = [];
      for (const r of rows) {
        const cell = r[f.name] === null ? '' : String(r[f.name]);
        if (want.kind === 'text') got.push(cell === '' ? 'null' : cell);
        else if (cell.startsWith('[')) for (const x of JSON.parse(cell) as (number | null)[]) got.push(x === null ? NaN : x);
        else got.push(cell === '' ? NaN : Number(cell));
      }
      expect(sameValues(got, want.values), `awa.csv ${f.name}`).toBe(true);
    }
  }, 120_000);
});
