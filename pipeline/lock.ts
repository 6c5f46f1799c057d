// One writer per output directory: <out>/.revcor/lock holds {pid, hostname, startedAt, command}.
// Created atomically (complete temp file hard-linked into place); a lock of a dead process on this host is taken over.
import { hostname } from 'node:os';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor } from './atomic.ts';
import { OutputError } from './errors.ts';

/** What the lock file says about its holder. */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

/** A held lock. */
export interface Lock {
  path: string;
  info: LockInfo;
  /** Set when a stale lock was taken over: the dead holder's info. */
  tookOverFrom?: LockInfo;
  release(): Promise<void>;
}

/** Path of the lock file of an output directory. */
export function lockPath(outDir: string): string {
  return join(outDir, '.revcor', 'lock');
}

/** Whether a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock of `outDir` for `command`, or throws OutputError naming the process that holds it. */
export async function acquireLock(outDir: string, command: string): Promise<Lock> {
  const path = lockPath(outDir);
  await mkdir(join(outDir, '.revcor'), { recursive: true });
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), command };
  const tmp = tempPathFor(path);
  await writeFile(tmp, JSON.stringify(info, null, 1) + '\n');
  let tookOverFrom: LockInfo | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw heldError(path, await readLock(path));
          throw e;
        }
      }
      const holder = await readLock(path);
      if (!holder || holder.hostname !== info.hostname || pidAlive(holder.pid) || holder.pid === process.pid) {
        throw heldError(path, holder);
      }
      tookOverFrom = holder;
      await rm(path, { force: true });
    }
  } finally {
    await rm(tmp, { force: true });
  }
  return {
    path,
    info,
    tookOverFrom,
    async release() {
      const now = await readLock(path);
      if (now && now.pid === info.pid && now.hostname === info.hostname && now.startedAt === info.startedAt) await rm(path, { force: true });
    },
  };
}

function heldError(path: string, holder: LockInfo | undefined): OutputError {
  const who = holder
    ? `process ${holder.pid} on ${holder.hostname} (started ${holder.startedAt}: ${holder.command})`
    : 'another process (the lock file is unreadable)';
  return new OutputError(`Output directory is locked by ${who}: expected no other run writing ${path.replace(/\/\.revcor\/lock$/, '')}`, {
    hint: `Wait for that run to finish, or if it is gone, delete ${path}.`,
  });
}
