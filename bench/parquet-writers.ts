// `npx tsx bench/parquet-writers.ts RUN_DIR [--rounds N] [--stage S …]`: the Parquet writers compared for `revcor
// export` (docs/analysis.md): parquet-wasm (Arrow's Rust writer in WebAssembly; what the export uses) with ZSTD and
// with Snappy, and hyparquet-writer (pure JavaScript, Snappy: its only built-in codec), each writing every table of
// the run's chosen stages (default activations, awc) from the verified checkpoints, one checkpoint at a time. Rounds
// are interleaved (every writer once per round); prints the median and range of wall time and the bytes written.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataType, type Field, type Table } from 'apache-arrow';
import { ParquetWriter } from 'hyparquet-writer';
import { fileWriter } from 'hyparquet-writer/src/node.js';
import { exportUnits, runSources, type ExportUnit } from '../pipeline/export-plan.ts';
import { conform, exportSchema } from '../pipeline/export-table.ts';
import { writeParquet, type ParquetCompression } from '../pipeline/export-write.ts';
import type { ShardRecord } from '../pipeline/manifest.ts';
import { readShardVerified } from '../pipeline/store.ts';

type Writer = (unit: ExportUnit, target: string) => Promise<void>;

/** Verified checkpoints of a unit under one schema, one at a time. */
async function* tablesOf(run: string, unit: ExportUnit): AsyncGenerator<Table> {
  let schema;
  for (const s of unit.sources) {
    const t = await readShardVerified(run, s as ShardRecord);
    schema ??= exportSchema(unit.stage, t, {});
    yield conform(t, schema, s.shard);
  }
}

/** parquet-wasm through the export's own writer. */
function parquetWasm(run: string, compression: ParquetCompression): Writer {
  return async (unit, target) => {
    const first = await readShardVerified(run, unit.sources[0] as ShardRecord);
    await writeParquet(target, exportSchema(unit.stage, first, {}), tablesOf(run, unit), {}, compression);
  };
}

/** A hyparquet-writer schema element list for Arrow fields (lists as 3-level LIST groups). */
function hyparquetSchema(fields: readonly Field[]) {
  const leaf = (t: DataType, name: string, rep: 'OPTIONAL' | 'REQUIRED') => {
    if (DataType.isUtf8(t)) return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: rep };
    if (DataType.isBool(t)) return { name, type: 'BOOLEAN', repetition_type: rep };
    if (DataType.isInt(t)) return { name, type: 'INT32', repetition_type: rep };
    if (DataType.isFloat(t)) return { name, type: (t as { precision: number }).precision === 1 ? 'FLOAT' : 'DOUBLE', repetition_type: rep };
    throw new Error(`unsupported ${String(t)}`);
  };
  const out: object[] = [{ name: 'root', num_children: fields.length }];
  for (const f of fields) {
    if (DataType.isList(f.type) || DataType.isFixedSizeList(f.type)) {
      out.push({ name: f.name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, leaf(f.type.children[0]!.type, 'element', 'REQUIRED'));
    } else out.push(leaf(f.type, f.name, 'OPTIONAL'));
  }
  return out;
}

/** A column as hyparquet-writer takes it (typed arrays for numbers, arrays of arrays for lists). */
function columnData(t: Table, f: Field): unknown {
  const v = t.getChild(f.name)!;
  if (DataType.isList(f.type) || DataType.isFixedSizeList(f.type)) return Array.from({ length: v.length }, (_, r) => Array.from((v.get(r) as { toArray(): ArrayLike<number> }).toArray()));
  if (DataType.isUtf8(f.type) || DataType.isBool(f.type)) return Array.from({ length: v.length }, (_, r) => v.get(r));
  return v.toArray();
}

/** hyparquet-writer, Snappy, one row group per checkpoint. */
function hyparquet(run: string): Writer {
  return async (unit, target) => {
    let w: ParquetWriter | undefined;
    for await (const t of tablesOf(run, unit)) {
      w ??= new ParquetWriter({ writer: fileWriter(target), schema: hyparquetSchema(t.schema.fields) as never, codec: 'SNAPPY' });
      await w.write({ columnData: t.schema.fields.map((f) => ({ name: f.name, data: columnData(t, f) as never })), rowGroupSize: t.numRows });
    }
    await w?.finish();
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const args = process.argv.slice(2);
const run = args[0]!;
const rounds = Number(args[args.indexOf('--rounds') + 1] || 3) || 3;
const stages = args.flatMap((a, i) => (args[i - 1] === '--stage' ? [a] : []));
const sources = await runSources(run);
const units = exportUnits(sources, stages.length ? stages : ['activations', 'awc'].filter((s) => sources.has(s)));
const scratch = mkdtempSync(join(tmpdir(), 'revcor-pq-'));
const writers: Record<string, Writer> = {
  'parquet-wasm (ZSTD)': parquetWasm(run, 'ZSTD'),
  'parquet-wasm (Snappy)': parquetWasm(run, 'SNAPPY'),
  'hyparquet-writer (Snappy)': hyparquet(run),
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(writers).map((k) => [k, []]));
const sizes: Record<string, number> = {};
const inputBytes = units.flatMap((u) => u.sources).reduce((a, s) => a + s.bytes, 0);
console.log(`${run}: ${units.map((u) => `${u.name} (${u.sources.length} checkpoints)`).join(', ')}; ${(inputBytes / 1e6).toFixed(1)} MB of Arrow IPC; ${rounds} rounds`);
for (let r = 0; r < rounds; r++) {
  for (const [name, write] of Object.entries(writers)) {
    const t0 = performance.now();
    let bytes = 0;
    for (const u of units) {
      const target = join(scratch, `${u.name}.parquet`);
      await write(u, target);
      bytes += statSync(target).size;
      rmSync(target);
    }
    times[name]!.push((performance.now() - t0) / 1000);
    sizes[name] = bytes;
  }
}
rmSync(scratch, { recursive: true, force: true });
const base = median(times['parquet-wasm (ZSTD)']!);
for (const [name, ts] of Object.entries(times)) {
  console.log(`${name.padEnd(28)} median ${median(ts).toFixed(2)} s (range ${Math.min(...ts).toFixed(2)}–${Math.max(...ts).toFixed(2)}, n=${ts.length}), ×${(median(ts) / base).toFixed(2)}; ${(sizes[name]! / 1e6).toFixed(1)} MB (${((100 * sizes[name]!) / inputBytes).toFixed(0)}% of the Arrow IPC)`);
}
