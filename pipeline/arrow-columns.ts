// Reads some columns of an Arrow IPC file without reading the others: the awa and awc shards of one layer need one
// column of the noise activations (tens of MB) out of a checkpoint of hundreds. Arrow's own VectorLoader lays the
// record batch out over a body buffer that is allocated but left untouched (the kernel maps its pages only when
// written), and only the byte ranges the chosen columns' buffers cover are read into it.
// Tested in test/pipeline/arrow-columns.test.ts.
import type { FileHandle } from 'node:fs/promises';
import { Data, makeData, Message, RecordBatch, RecordBatchReader, Schema, Struct, Table, type Field } from 'apache-arrow';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';

/** A byte range [start, end) of a record batch body. */
type Range = [number, number];

/** Every typed-array buffer of a Data tree that views `body` (children included), as body byte ranges. */
function bodyRanges(data: Data, body: Uint8Array, out: Range[]): boolean {
  const views = [data.values, data.valueOffsets, data.nullBitmap, data.typeIds, ...(data.variadicBuffers ?? [])] as unknown[];
  for (const v of views) {
    if (!ArrayBuffer.isView(v) || v.byteLength === 0) continue;
    if (v.buffer !== body.buffer) return false; // copied by the loader (unaligned): its bytes were not read
    out.push([v.byteOffset - body.byteOffset, v.byteOffset - body.byteOffset + v.byteLength]);
  }
  if (data.dictionary) return false;
  return data.children.every((c) => bodyRanges(c, body, out));
}

/** Sorted ranges with overlapping or adjacent ones merged. */
function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Reads exactly `length` bytes at `position` of the file into `target` at `offset`. */
async function readFully(fh: FileHandle, target: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(target, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`Expected ${length} bytes at offset ${position}, got ${done} (file truncated)`);
    done += bytesRead;
  }
}

/** The metadata flatbuffer of a message at `offset` ([continuation] length, flatbuffer, padding). */
async function readMessageHeader(fh: FileHandle, offset: number, metaDataLength: number): Promise<Message> {
  const bytes = new Uint8Array(metaDataLength);
  await readFully(fh, bytes, 0, metaDataLength, offset);
  const view = new DataView(bytes.buffer);
  const continued = view.getInt32(0, true) === -1;
  const length = view.getInt32(continued ? 4 : 0, true);
  const start = continued ? 8 : 4;
  return Message.decode(bytes.subarray(start, start + length));
}

/**
 * The named columns of the Arrow IPC file open as `fh` (file format), with the schema's metadata, reading only their
 * bytes; null when the file cannot be read this way (dictionary columns, compressed bodies, unaligned buffers) or
 * lacks one of the names, so that the caller reads it whole.
 */
export async function readColumns(fh: FileHandle, names: readonly string[]): Promise<Table | null> {
  const reader = await RecordBatchReader.from(fh); // not cancelled: that would close the caller's handle
  await reader.open();
  const footer = reader.isFile() ? reader.footer : null;
  const schema = reader.schema;
  if (!footer || !schema || schema.dictionaries.size > 0) return null;
  const index = names.map((n) => schema.fields.findIndex((f) => f.name === n));
  if (index.some((i) => i < 0)) return null; // the whole table, for the caller's own error naming its columns
  const fields: Field[] = index.map((i) => schema.fields[i]!);
  const sub = new Schema(fields, schema.metadata);
  const batches: RecordBatch[] = [];
  for (let b = 0; b < footer.numRecordBatches; b++) {
    const block = footer.getRecordBatch(b)!;
    const message = await readMessageHeader(fh, block.offset, block.metaDataLength);
    if (!message.isRecordBatch()) return null;
    const header = message.header();
    if (header.compression != null) return null;
    const body = new Uint8Array(Number(message.bodyLength)); // untouched pages cost nothing until read into
    const all = new VectorLoader(body, header.nodes, header.buffers, new Map(), schema.metadataVersion, header.variadicBufferCounts).visitMany(schema.fields);
    const chosen = index.map((i) => all[i]!);
    const ranges: Range[] = [];
    if (!chosen.every((d) => bodyRanges(d, body, ranges))) return null;
    const bodyStart = block.offset + block.metaDataLength;
    for (const [s, e] of mergeRanges(ranges)) await readFully(fh, body, s, e - s, bodyStart + s);
    batches.push(new RecordBatch(sub, makeData({ type: new Struct(fields), length: header.length, children: chosen })));
  }
  return new Table(sub, batches);
}
