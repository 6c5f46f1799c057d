// One writer per output directory: its lock file (pipeline/rundir.ts) holds {pid, hostname, startedAt, command, id}.
// Taken atomically (a complete temp file hard-linked into place). A lock left by a dead process on this host is
// taken over through an exclusive claim on that lock's unique id, so that of any number of processes taking over
// the same dead lock at once exactly one wins; a claimer that died mid-takeover is taken over the same way.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { link, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { sha256 } from './cache-key.ts';
import { tempPathFor } from './atomic.ts';
import { OutputError } from './errors.ts';
import { lockFile, metaDir } from './rundir.ts';

/** What the lock file says about its holder. */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
  /** Unique per lock instance (absent in locks written before takeover claims existed). */
  id?: string;
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
  return lockFile(outDir);
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

/** Reads a lock (or claim) file; undefined when absent or unreadable. */
export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' && typeof info.hostname === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The identity of one lock instance (its id, or for older locks a digest of who took it when). */
export function lockId(info: LockInfo): string {
  return info.id ?? sha256(`${info.hostname}\0${info.pid}\0${info.startedAt}`).slice(0, 16);
}

/** Whether `holder` is a process of this host that no longer runs (so its lock may be taken over). */
function deadHere(holder: LockInfo, me: LockInfo): boolean {
  return holder.hostname === me.hostname && holder.pid !== me.pid && !pidAlive(holder.pid);
}

/** Creates `target` holding `text` only if it does not exist (complete file hard-linked into place); false if it does. */
async function linkNew(target: string, text: string): Promise<boolean> {
  const tmp = tempPathFor(target);
  await writeFile(tmp, text);
  try {
    await link(tmp, target);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Replaces `target` with a file holding `text` in one rename. */
async function install(target: string, text: string): Promise<void> {
  const tmp = tempPathFor(target);
  await writeFile(tmp, text);
  await rename(tmp, target);
}

/**
 * Replaces the lock at `path`, held by the dead process `dead`, with ours: only the process that creates the claim
 * file of that lock instance may, and only while the lock is still that instance. Returns null when we won, else
 * the process that won or is winning the takeover (undefined when unknown).
 */
async function takeOver(path: string, dead: LockInfo, text: string, me: LockInfo, depth = 0): Promise<LockInfo | undefined | null> {
  const claim = join(dirname(path), `${basename(path)}.takeover-${lockId(dead)}`);
  if (!(await linkNew(claim, text))) {
    const claimer = await readLock(claim);
    // a live claimer is taking over right now; a dead one died mid-takeover: claim its claim
    if (!claimer || !deadHere(claimer, me) || depth > 8) return claimer;
    const other = await takeOver(claim, claimer, text, me, depth + 1);
    if (other !== null) return other;
  }
  const now = await readLock(path);
  if (!now || lockId(now) !== lockId(dead)) return now; // released or taken over before our claim
  await install(path, text);
  await rm(claim, { force: true });
  return null;
}

/** Removes claim files of lock instances other than ours (left by losers or dead claimers; ours is current and alive). */
async function sweepClaims(path: string, mine: LockInfo): Promise<void> {
  const prefix = `${basename(path)}.takeover-`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const stale = names.filter((n) => n.startsWith(prefix) && !n.startsWith(`${prefix}${lockId(mine)}`));
  await Promise.all(stale.map((n) => rm(join(dirname(path), n), { force: true })));
}

/** How many times acquireLock tries when the lock it found is released meanwhile. */
const LOCK_ATTEMPTS = 5;

/** Whether a path exists (lstat succeeds). */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Takes the lock of `outDir` for `command`, or throws OutputError naming the process that holds it. */
export async function acquireLock(outDir: string, command: string): Promise<Lock> {
  const path = lockPath(outDir);
  await mkdir(metaDir(outDir), { recursive: true });
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), command, id: randomBytes(8).toString('hex') };
  const text = JSON.stringify(info, null, 1) + '\n';
  let tookOverFrom: LockInfo | undefined;
  // a lock released while we look at it (its holder finished) leaves the directory free: try again, a few times
  for (let attempt = 1; !(await linkNew(path, text)); attempt++) {
    const retry = attempt < LOCK_ATTEMPTS;
    const holder = await readLock(path);
    if (!holder) {
      if (retry && !(await exists(path))) continue;
      throw heldError(outDir, undefined);
    }
    if (!deadHere(holder, info)) throw heldError(outDir, holder);
    const winner = await takeOver(path, holder, text, info);
    if (winner === null) {
      tookOverFrom = holder;
      break;
    }
    if (winner === undefined && retry && !(await exists(path))) continue;
    throw heldError(outDir, winner ?? (await readLock(path)));
  }
  await sweepClaims(path, info);
  return {
    path,
    info,
    tookOverFrom,
    async release() {
      const now = await readLock(path);
      if (now && lockId(now) === info.id) await rm(path, { force: true });
    },
  };
}

function heldError(outDir: string, holder: LockInfo | undefined): OutputError {
  const who = holder
    ? `process ${holder.pid} on ${holder.hostname} (started ${holder.startedAt}: ${holder.command})`
    : 'another process (the lock file is unreadable)';
  const path = lockPath(outDir);
  return new OutputError(`Output directory is locked by ${who}: expected no other run writing ${outDir}`, {
    hint: `Wait for that run to finish, or if it is gone, delete ${path}.`,
  });
}
