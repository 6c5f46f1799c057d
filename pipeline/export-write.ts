// The files `revcor export` writes, streamed shard by shard (a stage of several GB never sits in memory whole) into a
// temp file beside the target that is fsynced and renamed into place: Parquet through parquet-wasm (Apache Arrow's
// Rust Parquet writer compiled to WebAssembly, so Arrow types, fixed-size lists and field metadata carry over as
// Arrow's own C++/Rust readers expect them), and CSV with list cells as JSON text.
// Tested in test/pipeline/export.test.ts and test/cli/export.test.ts.
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataType, makeData, RecordBatch, Struct, Table, tableToIPC, type Schema } from 'apache-arrow';
import { fsyncDir, tempPathFor } from './atomic.ts';
import { OutputError } from './errors.ts';

/** A written export file. */
export interface WrittenFile {
  bytes: number;
  rows: number;
}

/** Parquet codecs the export can write. */
export type ParquetCompression = 'ZSTD' | 'SNAPPY';

/** Parquet compression of exported files (read by DuckDB, polars, pyarrow, R arrow and Spark ≥ 3 alike). */
export const PARQUET_COMPRESSION: ParquetCompression = 'ZSTD';

/** Largest row group, in bytes of Arrow data (bounds the writer's memory on stages of many GB). */
const MAX_ROW_GROUP_BYTES = 128 * 1024 * 1024;

/** Writes the chunks `produce` hands to `write` into `target` atomically (temp file, fsync, rename, fsync dir). */
async function writeStreamAtomic(target: string, produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<number>): Promise<WrittenFile> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  let fh: FileHandle | undefined;
  let bytes = 0;
  try {
    fh = await open(tmp, 'w');
    const handle = fh;
    const rows = await produce(async (chunk) => {
      let off = 0;
      while (off < chunk.byteLength) off += (await handle.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      bytes += chunk.byteLength;
    });
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, target);
    await fsyncDir(dirname(target));
    return { bytes, rows };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EROFS') {
      throw new OutputError(`Cannot write ${target}: expected a writable file system with free space, got ${code}`, { cause: e });
    }
    throw e;
  }
}

/**
 * Writes the tables `tables` yields (each under `schema`) as one Parquet file: the schema's field metadata and
 * fixed-size lists are kept in the file's Arrow schema, `metadata` is also written as Parquet key-value metadata.
 */
export async function writeParquet(target: string, schema: Schema, tables: AsyncIterable<Table>, metadata: Record<string, string>, compression = PARQUET_COMPRESSION): Promise<WrittenFile> {
  const pw = await import('parquet-wasm');
  return writeStreamAtomic(target, async (write) => {
    let rows = 0;
    const iter = tables[Symbol.asyncIterator]();
    const pending: import('parquet-wasm').RecordBatch[] = [];
    /** Converts source tables into parquet-wasm batches until one is pending (or the source is done). */
    const fill = async (): Promise<void> => {
      while (!pending.length) {
        const next = await iter.next();
        if (next.done) return;
        rows += next.value.numRows;
        if (next.value.numRows > 0) pending.push(...pw.Table.fromIPCStream(tableToIPC(next.value, 'stream')).recordBatches());
      }
    };
    // an error of the source (a corrupt checkpoint) ends parquet-wasm's input stream without failing its output:
    // kept here and thrown after the output, so the temp file is removed instead of renamed into place
    let failure: unknown;
    const input = new ReadableStream<import('parquet-wasm').RecordBatch>({
      async pull(controller) {
        try {
          await fill();
        } catch (e) {
          failure = e;
          return controller.error(e);
        }
        if (pending.length) controller.enqueue(pending.shift()!);
        else controller.close();
      },
    });
    // dictionaries only for text: on activations and RF maps they cost time and size (zstd alone: 31% smaller)
    let builder = new pw.WriterPropertiesBuilder().setDictionaryEnabled(false);
    for (const f of schema.fields) if (DataType.isUtf8(f.type)) builder = builder.setColumnDictionaryEnabled(f.name, true);
    const props = builder
      .setCompression(pw.Compression[compression])
      .setMaxRowGroupBytes(MAX_ROW_GROUP_BYTES)
      .setKeyValueMetadata(new Map(Object.entries(metadata)))
      .setCreatedBy('revcor export (parquet-wasm)')
      .build();
    await fill();
    if (!pending.length) {
      // no rows at all: parquet-wasm's stream never ends without a batch, so the empty table is written whole
      await write(pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(emptyTable(schema), 'stream')), props));
      return rows;
    }
    const output = await pw.transformParquetStream(input, props);
    try {
      for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) await write(chunk);
    } catch (e) {
      throw failure ?? e;
    }
    if (failure !== undefined) throw failure;
    return rows;
  });
}

/** A table of no rows under `schema` (an export of checkpoints that hold none keeps its columns). */
function emptyTable(schema: Schema): Table {
  const data = makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children: schema.fields.map((f) => makeData({ type: f.type, length: 0 } as never)) });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

/** One CSV cell: numbers in full precision (NaN/null empty), lists as JSON arrays, text quoted when needed. */
export function csvCell(v: unknown, type: DataType): string {
  if (v === null || v === undefined) return '';
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const items = Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), (x) => (typeof x === 'number' && !Number.isFinite(x) ? null : typeof x === 'bigint' ? Number(x) : x));
    return quote(JSON.stringify(items));
  }
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return quote(String(v));
}

/** A CSV field quoted when it holds a comma, quote or line break (RFC 4180). */
function quote(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes the tables (each under `schema`) as one CSV file with a header row (CRLF line ends, RFC 4180). */
export async function writeCsv(target: string, schema: Schema, tables: AsyncIterable<Table>): Promise<WrittenFile> {
  const enc = new TextEncoder();
  return writeStreamAtomic(target, async (write) => {
    await write(enc.encode(schema.fields.map((f) => quote(f.name)).join(',') + '\r\n'));
    let rows = 0;
    for await (const t of tables) {
      const cols = schema.fields.map((f) => t.getChild(f.name)!);
      const lines: string[] = [];
      for (let r = 0; r < t.numRows; r++) {
        lines.push(cols.map((c, i) => csvCell(c.get(r), schema.fields[i]!.type)).join(','));
        if (lines.length >= 256) await write(enc.encode(lines.splice(0).join('\r\n') + '\r\n'));
      }
      if (lines.length) await write(enc.encode(lines.join('\r\n') + '\r\n'));
      rows += t.numRows;
    }
    return rows;
  });
}
