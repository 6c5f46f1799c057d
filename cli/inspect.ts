// `revcor inspect FILE.arrow`: schema, metadata (revcor.* and the stage's own), manifest check and first rows.
// Tested in test/cli/cli.test.ts.
import { basename, dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Table } from 'apache-arrow';
import { sha256 } from '../pipeline/cache-key.ts';
import { CheckpointError, InputError } from '../pipeline/errors.ts';
import { readRecord } from '../pipeline/manifest.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { readArrowFile } from '../pipeline/store.ts';
import { println, type CliDeps } from './deps.ts';

interface InspectArgs {
  file: string;
  rows: number;
  full: boolean;
}

/** Whether bytes start like an Arrow IPC file ("ARROW1") or stream (a continuation marker or a message length). */
export function isArrowIpc(bytes: Uint8Array): boolean {
  if (bytes.byteLength >= 6 && Buffer.from(bytes.subarray(0, 6)).toString('latin1') === 'ARROW1') return true;
  return bytes.byteLength >= 8 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff;
}

/** One cell as short text: numbers to 6 significant digits, vectors as their first items and length. */
export function formatCell(v: unknown, full = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return full || v.length <= 40 ? v : `${v.slice(0, 37)}…`;
  const arr = typeof (v as { toArray?: unknown }).toArray === 'function' ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray()) : undefined;
  if (arr) {
    const shown = (full ? arr : arr.slice(0, 4)).map((x) => formatCell(x));
    return `[${shown.join(', ')}${arr.length > shown.length ? `, … (${arr.length})` : ''}]`;
  }
  return JSON.stringify(v);
}

/** Text view of a table: rows × columns, each cell shortened. */
export function formatRows(table: Table, rows: number, full = false): string[] {
  const names = table.schema.fields.map((f) => f.name);
  const n = Math.min(rows, table.numRows);
  const cells = [names];
  for (let i = 0; i < n; i++) cells.push(names.map((name) => formatCell(table.getChild(name)!.get(i), full)));
  const widths = names.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
  return cells.map((r) => r.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd());
}

/** Metadata values: JSON pretty-printed when it parses, shortened unless `full`. */
function formatMeta(value: string, full: boolean): string {
  let text = value;
  try {
    const parsed = JSON.parse(value);
    if (typeof parsed === 'object' && parsed !== null) text = JSON.stringify(parsed);
  } catch {
    /* plain string */
  }
  return full || text.length <= 160 ? text : `${text.slice(0, 157)}… (${text.length} chars; --full shows all)`;
}

/** The `inspect` command. */
export function inspectCommand(deps: CliDeps): CommandModule<object, InspectArgs> {
  return {
    command: 'inspect <file>',
    describe: 'Show an Arrow checkpoint: schema, metadata, manifest check and the first rows',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'An .arrow file' })
        .option('rows', { type: 'number', default: 5, describe: 'Rows to show' })
        .option('full', { type: 'boolean', default: false, describe: 'Do not shorten metadata and vectors' })
        .example('$0 inspect artifacts/default/awc/block3_conv1-000-064.arrow', 'Columns, metadata and first rows') as unknown as Argv<InspectArgs>,
    handler: async (args) => {
      const file = resolve(args.file);
      let loaded;
      try {
        loaded = await readArrowFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new InputError(`${file}: Expected an Arrow IPC file, got ${code ? `${code} (cannot read it)` : `unreadable data: ${(e as Error).message}`}`);
      }
      const { table, bytes } = loaded;
      if (!isArrowIpc(bytes) || table.numCols === 0) {
        throw new InputError(`${file}: Expected an Arrow IPC file (file or stream format), got ${bytes.byteLength} bytes that are not one`);
      }
      const out: string[] = [`${file}: ${table.numRows} rows, ${table.numCols} columns, ${table.batches.length} record batches, ${formatBytes(bytes.byteLength)}`];
      const record = await readRecord(dirname(dirname(file)), basename(dirname(file)), basename(file, '.arrow'));
      if (record) {
        const ok = record.sha256 === sha256(bytes);
        out.push(ok ? `Manifest: sha256 matches (${record.sha256.slice(0, 16)}…), finished ${record.finishedAt}` : `Manifest: sha256 MISMATCH, the file is corrupt or was altered (expected ${record.sha256}, got ${sha256(bytes)})`);
      }
      out.push('Schema:');
      for (const f of table.schema.fields) out.push(`  ${f.name}: ${String(f.type)}${f.nullable ? '' : ' (not null)'}`);
      if (table.schema.metadata.size) {
        out.push('Metadata:');
        for (const [k, v] of [...table.schema.metadata].sort(([a], [b]) => a.localeCompare(b))) out.push(`  ${k}: ${formatMeta(v, args.full)}`);
      }
      if (args.rows > 0 && table.numRows > 0) {
        out.push(`First ${Math.min(args.rows, table.numRows)} rows:`, ...formatRows(table, args.rows, args.full).map((l) => `  ${l}`));
      }
      println(deps.stdout, ...out);
      if (record && record.sha256 !== sha256(bytes)) {
        throw new CheckpointError(`${file}: expected the sha256 its record holds, got another: the checkpoint is corrupt or was altered`, {
          hint: 'The next run of that experiment recomputes it.',
        });
      }
    },
  };
}
