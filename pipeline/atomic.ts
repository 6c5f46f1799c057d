// Crash-safe file writes: temp file in the same directory, write, fsync, rename, fsync the directory.
// Tested in test/pipeline/store.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OutputError } from './errors.ts';

/**
 * Test seam: called between the two halves of the data, before the rename, and (by the runner) after a
 * checkpoint is in place but before its manifest record is written. Lets tests kill a run at those points.
 */
export type WriteHook = (phase: 'mid-write' | 'before-rename' | 'before-record', target: string) => void | Promise<void>;

/** Suffix of every temp file; leftovers from crashed runs are removed by removeTempFiles. */
export const TEMP_SUFFIX = '.revcor-tmp';

/** Temp file path next to `target` (same directory, so rename is atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** File-system conditions a user must fix (space, quota, permissions): errno → what it means. */
const USER_FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'the file is too large for the file system',
};

/** Writes `data` to `target` so that a reader sees either the old file or the whole new one, never a part. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, hook?: WriteHook): Promise<void> {
  try {
    await writeAtomically(target, data, hook);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!(code in USER_FS_ERRORS)) throw e;
    throw new OutputError(`Cannot write ${target}: expected a writable file system with free space, got ${code} (${USER_FS_ERRORS[code]})`, {
      hint: 'Nothing finished was lost: free space (or fix the permissions) and run the same command again.',
      cause: e,
    });
  }
}

async function writeAtomically(target: string, data: string | Uint8Array, hook?: WriteHook): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(target);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fh = await open(tmp, 'w');
  try {
    if (hook) {
      const half = Math.floor(bytes.byteLength / 2);
      await writeAll(fh, bytes.subarray(0, half));
      await fh.sync();
      await hook('mid-write', target);
      await writeAll(fh, bytes.subarray(half));
    } else {
      await writeAll(fh, bytes);
    }
    await fh.sync();
    await fh.close();
    await hook?.('before-rename', target);
    await rename(tmp, target);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

async function writeAll(fh: import('node:fs/promises').FileHandle, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
    off += bytesWritten;
  }
}

/** fsyncs a directory so a rename inside it is durable (no-op where directories cannot be opened). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* some platforms/filesystems refuse fsync on directories; the rename is still atomic */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Deletes temp files left in `dir` by crashed writers; returns how many were removed. */
export async function removeTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const stale = names.filter((n) => n.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale.length;
}
