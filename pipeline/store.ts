// Checkpoint files: one Arrow IPC file per shard (where: pipeline/rundir.ts), written atomically,
// stamped with revcor.* schema metadata, and verified against the manifest's sha256 when read.
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { readColumns } from './arrow-columns.ts';
import { writeFileAtomic, type WriteHook } from './atomic.ts';
import { canonicalJson, sha256, sha256File, type FileHasher } from './cache-key.ts';
import { CheckpointError } from './errors.ts';
import type { ShardRecord } from './manifest.ts';
import { checkpointFile, checkpointRelative } from './rundir.ts';

/** Schema metadata keys the engine adds to every checkpoint (merged over the stage's own metadata). */
export const META = {
  stage: 'revcor.stage',
  shard: 'revcor.shard',
  key: 'revcor.key',
  version: 'revcor.version',
  params: 'revcor.params',
} as const;

/** Where a shard's checkpoint lives. */
export function shardPath(outDir: string, stage: string, shard: string): string {
  return checkpointFile(outDir, stage, shard);
}

/** Identity of a checkpoint being written. */
export interface ShardStamp {
  stage: string;
  shard: string;
  key: string;
  version: string;
  params: Record<string, unknown>;
}

/** A written checkpoint: what its manifest record needs. */
export interface WrittenShard {
  path: string;
  file: string;
  sha256: string;
  bytes: number;
  rows: number;
}

/** Returns `table` with the revcor.* metadata merged into its schema metadata. */
export function stampTable(table: Table, stamp: ShardStamp): Table {
  const meta = new Map(table.schema.metadata);
  meta.set(META.stage, stamp.stage);
  meta.set(META.shard, stamp.shard);
  meta.set(META.key, stamp.key);
  meta.set(META.version, stamp.version);
  meta.set(META.params, canonicalJson(stamp.params));
  const schema = new Schema(table.schema.fields, meta, table.schema.dictionaries);
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** Serialises and atomically writes a shard's checkpoint; returns its digest and size. */
export async function writeShard(outDir: string, stamp: ShardStamp, table: Table, hook?: WriteHook): Promise<WrittenShard> {
  const bytes = tableToIPC(stampTable(table, stamp), 'file');
  const path = shardPath(outDir, stamp.stage, stamp.shard);
  await writeFileAtomic(path, bytes, hook);
  return { path, file: checkpointRelative(stamp.stage, stamp.shard), sha256: sha256(bytes), bytes: bytes.byteLength, rows: table.numRows };
}

/** Why a recorded checkpoint cannot be trusted, or undefined when its file matches the record. */
export async function checkShard(outDir: string, record: ShardRecord, hasher: FileHasher): Promise<string | undefined> {
  const path = join(outDir, record.file);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return 'checkpoint file missing';
  }
  if (size !== record.bytes) {
    hasher.forget(path);
    return `checkpoint corrupt: expected ${record.bytes} bytes, got ${size}`;
  }
  const digest = await hasher.hash(path, 'checkpoint');
  if (digest !== record.sha256) {
    hasher.forget(path);
    return `checkpoint corrupt: expected sha256 ${record.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…`;
  }
  return undefined;
}

/**
 * Checkpoints whose bytes were read and matched their record in this process, by path and file identity (device,
 * inode, size, mtime and ctime in ns, the same before and after the read). A file read again with the same identity
 * is not hashed again: every awa and awc shard re-reads its layer's noise activations, hundreds of MB. Rewriting a
 * file in place changes its ctime (which a user cannot set back), so a replaced checkpoint is hashed and caught.
 */
export class VerifiedFiles {
  private readonly seen = new Map<string, string>();
  /** How many reads hashed their bytes (the rest were known unchanged). */
  hashed = 0;

  /** Whether this exact file was verified against `sha256` before. */
  has(path: string, identity: string, sha: string): boolean {
    return this.seen.get(path) === `${identity}|${sha}`;
  }

  /** Records a file verified against `sha256`. */
  add(path: string, identity: string, sha: string): void {
    this.seen.set(path, `${identity}|${sha}`);
  }
}

/** The process's memo of verified checkpoint reads. */
const VERIFIED = new VerifiedFiles();

/** A file's identity for VerifiedFiles: device, inode, size, mtime and ctime (ns). */
function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Options of a verified read. */
export interface ReadOptions {
  /**
   * Only these columns, read without the others' bytes (pipeline/arrow-columns.ts); the file is still hashed whole
   * on its first read in this process. The whole table when the file cannot be read by column.
   */
  columns?: readonly string[];
}

/** The error of a checkpoint whose bytes do not match its record. */
function corrupt(path: string, record: ShardRecord, bytes: number, digest: string): CheckpointError {
  return new CheckpointError(`Checkpoint ${path} is corrupt: expected ${record.bytes} bytes with sha256 ${record.sha256}, got ${bytes} bytes with sha256 ${digest}`, {
    hint: 'Run the same command again: the shard will be recomputed.',
  });
}

/**
 * Reads some columns of a checkpoint (hashing the whole file first unless this process verified the unchanged file
 * before); undefined when the file cannot be read by column or changed while read, for a whole read instead.
 */
async function readColumnsVerified(fh: FileHandle, path: string, record: ShardRecord, verified: VerifiedFiles, columns: readonly string[]): Promise<Table | undefined> {
  const st = await fh.stat({ bigint: true });
  const before = fileIdentity(st);
  const size = Number(st.size);
  const known = size === record.bytes && verified.has(path, before, record.sha256);
  if (!known) {
    verified.hashed++;
    const digest = await sha256File(fh);
    if (digest !== record.sha256 || size !== record.bytes) throw corrupt(path, record, size, digest);
  }
  const table = await readColumns(fh, columns).catch(() => null); // unreadable by column: the whole read decides
  if (!table || fileIdentity(await fh.stat({ bigint: true })) !== before) return undefined;
  if (!known) verified.add(path, before, record.sha256);
  return table;
}

/** Reads a checkpoint, verifying its bytes against the record's sha256 (hashed unless this process verified the unchanged file before). */
export async function readShardVerified(outDir: string, record: ShardRecord, verified: VerifiedFiles = VERIFIED, opts: ReadOptions = {}): Promise<Table> {
  const path = join(outDir, record.file);
  let bytes: Buffer;
  let identity: string | undefined;
  try {
    const fh = await open(path, 'r');
    try {
      if (opts.columns) {
        const table = await readColumnsVerified(fh, path, record, verified, opts.columns);
        if (table) return table;
      }
      const before = fileIdentity(await fh.stat({ bigint: true }));
      bytes = await fh.readFile();
      if (fileIdentity(await fh.stat({ bigint: true })) === before) identity = before; // else changed while read: no memo
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`Checkpoint ${path} is missing: expected the file recorded in the manifest, got ${(e as NodeJS.ErrnoException).code}`, {
      hint: 'Run the same command again: the shard will be recomputed.',
    });
  }
  if (bytes.byteLength === record.bytes && identity !== undefined && verified.has(path, identity, record.sha256)) return tableFromIPC(bytes);
  verified.hashed++;
  const digest = sha256(bytes);
  if (digest !== record.sha256 || bytes.byteLength !== record.bytes) throw corrupt(path, record, bytes.byteLength, digest);
  if (identity !== undefined) verified.add(path, identity, record.sha256);
  return tableFromIPC(bytes);
}

/** Reads any Arrow IPC file (file or stream format) without verification, e.g. for `revcor inspect`. */
export async function readArrowFile(path: string): Promise<{ table: Table; bytes: Buffer }> {
  const bytes = await readFile(path);
  return { table: tableFromIPC(bytes), bytes };
}
