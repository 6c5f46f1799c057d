// Reading some columns of an Arrow IPC file (pipeline/arrow-columns.ts): the same values, nulls and schema metadata as
// a whole read, only the chosen columns' bytes read, and null (a whole read instead) where the file does not allow it.
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Bool, Dictionary, Field, FixedSizeList, Float32, Float64, Int32, List, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray,
} from 'apache-arrow';
import { readColumns } from '../../pipeline/arrow-columns.ts';
import { cleanup, tempDir } from './helpers.ts';

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(async () => cleanup(dir));

/** A table of every column kind the tests read, `rows` rows starting at `from`, with some nulls. */
function columns(from: number, rows: number): Table {
  const ids = Array.from({ length: rows }, (_, i) => from + i);
  return new Table({
    id: vectorFromArray(ids, new Int32()),
    x: vectorFromArray(ids.map((i) => (i % 3 === 0 ? null : i / 7)), new Float64()),
    name: vectorFromArray(ids.map((i) => (i % 4 === 1 ? null : `unit ${i} ${'é'.repeat(i % 5)}`)), new Utf8()),
    flag: vectorFromArray(ids.map((i) => i % 2 === 0), new Bool()),
    act: vectorFromArray(ids.map((i) => Float32Array.from({ length: 5 }, (_, c) => i * 10 + c)), new FixedSizeList(5, new Field('c', new Float32(), false))),
    seq: vectorFromArray(ids.map((i) => (i % 5 === 2 ? null : Int32Array.from({ length: i % 4 }, (_, k) => i - k))), new List(new Field('v', new Int32(), true))),
    pos: vectorFromArray(ids.map((i) => ({ dx: i % 3, dy: -i })), new Struct([new Field('dx', new Int32()), new Field('dy', new Int32())])),
  });
}

/** Writes a file-format table of three record batches (5, 0 and 7 rows) with schema metadata; returns its path. */
async function writeFixture(): Promise<{ path: string; whole: Table }> {
  const parts = [columns(0, 5), columns(5, 0), columns(5, 7)];
  const schema = new Schema(parts[0]!.schema.fields, new Map([['revcor.stage', 'activations'], ['geometry', '[1,2]']]));
  const whole = new Table(schema, parts.map((p) => new RecordBatch(schema, p.batches[0]!.data)));
  expect(whole.batches.map((b) => b.numRows)).toEqual([5, 0, 7]);
  const path = join(dir, 'mixed.arrow');
  await writeFile(path, tableToIPC(whole, 'file'));
  return { path, whole: tableFromIPC(tableToIPC(whole, 'file')) };
}

/** The column's values as JSON (nulls included). */
const values = (t: Table, name: string) => JSON.stringify([...t.getChild(name)!], (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v?.toArray ? Array.from(v.toArray()) : v));

/** An open file handle that counts the bytes its reads return. */
async function counted(path: string) {
  const fh = await open(path, 'r');
  const read = fh.read.bind(fh) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
  const counter = { bytes: 0 };
  (fh as unknown as { read: unknown }).read = async (...a: unknown[]) => {
    const r = await read(...a);
    counter.bytes += r.bytesRead;
    return r;
  };
  return { fh, counter };
}

describe('readColumns', () => {
  it('gives every column kind, alone or with others, in the asked order: the values and nulls of a whole read, with the schema metadata', async () => {
    const { path, whole } = await writeFixture();
    const names = whole.schema.fields.map((f) => f.name);
    for (const pick of [...names.map((n) => [n]), ['act', 'id'], ['pos', 'name', 'seq', 'x'], names]) {
      const fh = await open(path, 'r');
      try {
        const t = (await readColumns(fh, pick))!;
        expect(t.schema.fields.map((f) => f.name)).toEqual(pick);
        expect(t.numRows).toBe(12);
        expect(Object.fromEntries(t.schema.metadata)).toEqual({ 'revcor.stage': 'activations', geometry: '[1,2]' });
        for (const n of pick) {
          expect(String(t.schema.fields.find((f) => f.name === n)!.type)).toBe(String(whole.schema.fields.find((f) => f.name === n)!.type));
          expect(values(t, n)).toBe(values(whole, n));
          expect(t.getChild(n)!.nullCount).toBe(whole.getChild(n)!.nullCount);
        }
      } finally {
        await fh.close();
      }
    }
  });

  it('reads the bytes of the chosen columns and not the others', async () => {
    const rows = 4000;
    const wide = vectorFromArray(Array.from({ length: rows }, (_, i) => new Float32Array(256).fill(i)), new FixedSizeList(256, new Field('c', new Float32(), false)));
    const t = new Table({ id: vectorFromArray(Array.from({ length: rows }, (_, i) => i), new Int32()), wide });
    const path = join(dir, 'wide.arrow');
    const bytes = tableToIPC(t, 'file');
    await writeFile(path, bytes);
    const small = await counted(path);
    const ids = (await readColumns(small.fh, ['id']))!;
    await small.fh.close();
    expect(Array.from(ids.getChild('id')!.toArray())).toEqual(Array.from({ length: rows }, (_, i) => i));
    expect(small.counter.bytes).toBeLessThan(rows * 4 + 4096); // the id column, the footer and the batch header
    expect(bytes.byteLength).toBeGreaterThan(rows * 1024);
    const large = await counted(path);
    const w = (await readColumns(large.fh, ['wide']))!;
    await large.fh.close();
    expect(w.getChild('wide')!.get(3999)!.get(255)).toBe(3999);
    expect(large.counter.bytes).toBeGreaterThan(rows * 1024);
    expect(large.counter.bytes).toBeLessThan(rows * 1024 + 4096);
  });

  it('null, for a whole read instead: a name the file lacks, a dictionary column', async () => {
    const { path } = await writeFixture();
    const fh = await open(path, 'r');
    expect(await readColumns(fh, ['id', 'nope'])).toBeNull();
    await fh.close();
    const dict = new Table({ d: vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())), n: vectorFromArray([1, 2, 3], new Int32()) });
    const dpath = join(dir, 'dict.arrow');
    await writeFile(dpath, tableToIPC(dict, 'file'));
    const dh = await open(dpath, 'r');
    expect(await readColumns(dh, ['n'])).toBeNull();
    await dh.close();
  });

  it('leaves the caller\'s file handle open', async () => {
    const { path } = await writeFixture();
    const fh = await open(path, 'r');
    await readColumns(fh, ['id']);
    expect((await fh.stat()).size).toBeGreaterThan(0);
    await readColumns(fh, ['x']); // a second read through the same handle
    await fh.close();
  });
});
