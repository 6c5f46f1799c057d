// The shared checkpoint cache: a content-addressed store that keeps each checkpoint once, by its cache key, outside
// any run directory, so a shard computed before (another point of a grid, an earlier run that used the same cache)
// is not computed again. Run directories stay ordinary run directories: they hold hard links to the cache's files
// (copies where the file system refuses links), so deleting the cache never breaks a run. Every reuse is verified
// by sha256. Files arrive in the cache whole (a hard link or rename of a complete, fsynced file): never torn.
//
//   <cache>/revcor-cache.json                  marker: this directory is a revcor cache (format, created when)
//   <cache>/CACHEDIR.TAG                       tells backup tools the folder is a cache (bford.info/cachedir)
//   <cache>/objects/<k0k1>/<key>.arrow         a checkpoint
//   <cache>/objects/<k0k1>/<key>.json          its entry: stage, shard, sha256, bytes, rows, seconds; mtime = last use
//   <cache>/runs/<id>.json                     a run directory that used the cache (for `cache status` and `cache gc`)
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { asUserFsError, fsyncDir, removeTempFiles, tempPathFor, TEMP_SUFFIX, writeFileAtomic } from './atomic.ts';
import { sha256, sha256File } from './cache-key.ts';
import { OutputError } from './errors.ts';
import { pidAlive } from './lock.ts';
import { readStageRecords } from './manifest.ts';
import { probeRunDir, recordedStages } from './rundir.ts';

/** Format tag of the cache's marker file. */
export const CACHE_FORMAT = 'revcor-cache/1';
const ENTRY_FORMAT = 'revcor-cache-entry/1';
const MARKER = 'revcor-cache.json';
const TAG = 'CACHEDIR.TAG';
const KEY = /^[A-Za-z0-9]{16,128}$/;
/** What open creates before the marker: a directory holding only these (and temp files) is a cache whose creation stopped. */
const OWN = new Set(['objects', 'runs', TAG]);

/** One checkpoint kept by the cache. */
export interface CacheEntry {
  key: string;
  stage: string;
  shard: string;
  /** sha256 of the checkpoint's bytes. */
  sha256: string;
  bytes: number;
  rows: number;
  /** Seconds the shard took when it was computed. */
  seconds: number;
  createdAt: string;
}

/** How a checkpoint was placed: a hard link (no extra space) or a copy (another file system). */
export type Placement = 'linked' | 'copied';

/** The user's cache directory for revcor: $REVCOR_CACHE_DIR, else $XDG_CACHE_HOME/revcor, else ~/.cache/revcor. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REVCOR_CACHE_DIR) return resolve(env.REVCOR_CACHE_DIR);
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'revcor');
  return join(homedir(), '.cache', 'revcor');
}

/**
 * The cache directory a run uses, or null for none: `false` none; `true` the user's cache directory; `auto` the
 * user's cache directory for a grid and none for a single run; any other string is the directory itself.
 */
export function cacheDirFor(setting: boolean | string, grid: boolean, env: NodeJS.ProcessEnv = process.env): string | null {
  if (setting === false) return null;
  if (setting === true || (setting === 'auto' && grid)) return defaultCacheDir(env);
  if (setting === 'auto') return null;
  return resolve(setting);
}

const LINK_REFUSED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

/** Puts a hard link to `from` at the new name `tmp`, or a copy where the file system refuses links. */
async function linkOrCopy(from: string, tmp: string): Promise<Placement> {
  try {
    await link(from, tmp);
    return 'linked';
  } catch (e) {
    if (!LINK_REFUSED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
  try {
    await copyFile(from, tmp);
    const fh = await open(tmp, 'r+');
    await fh.sync().finally(() => fh.close());
  } catch (e) {
    await rm(tmp, { force: true });
    throw asUserFsError(e, tmp);
  }
  return 'copied';
}

/** Where a checkpoint came from and what its bytes must be. */
export interface VerifiedSource {
  file: string;
  sha256: string;
  bytes: number;
}

/** What placeVerified did: the placement, or why the source could not be used (missing, corrupt). */
export type PlaceResult = { placement: Placement; ino: number } | { problem: string; ino?: number };

/**
 * Places the file `src.file` at `target` (hard link, else copy), verified: the new name is made beside the target,
 * its size and sha256 are checked against `src`, and only then is it renamed over the target. Never a partial or
 * unverified target; the source is never modified.
 */
export async function placeVerified(src: VerifiedSource, target: string): Promise<PlaceResult> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  let placement: Placement;
  try {
    placement = await linkOrCopy(src.file, tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { problem: 'file missing' };
    throw e;
  }
  try {
    const st = await stat(tmp);
    if (st.size !== src.bytes) return { problem: `corrupt: expected ${src.bytes} bytes, got ${st.size}`, ino: st.ino };
    const digest = await sha256File(tmp);
    if (digest !== src.sha256) return { problem: `corrupt: expected sha256 ${src.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…`, ino: st.ino };
    await rename(tmp, target);
    await fsyncDir(dirname(target));
    return { placement, ino: st.ino };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** One registered run directory and the cache keys its records name. */
export interface CacheUser {
  outDir: string;
  /** Whether it is still a run directory. */
  exists: boolean;
  keys: Set<string>;
  lastUsed: string;
}

/** What `cache status` shows. */
export interface CacheStatus {
  dir: string;
  entries: number;
  /** Bytes of all entries. */
  bytes: number;
  /** Bytes held by the cache alone (no run directory links them): what removing every entry would free. */
  ownBytes: number;
  byStage: Record<string, { entries: number; bytes: number }>;
  runs: { outDir: string; exists: boolean; entries: number }[];
  /** Entries no registered run directory names. */
  unreferenced: number;
}

/** What `cache gc` removed. */
export interface GcResult {
  removed: number;
  /** Bytes removed from the cache's own files. */
  bytes: number;
  /** Of those, bytes actually freed (no hard link outside the cache kept the data). */
  freed: number;
  kept: number;
  /** Partial files of dead writers, objects without an entry and entries without an object. */
  leftovers: number;
  /** Registrations of run directories that no longer exist, dropped. */
  forgotten: number;
}

/** A content-addressed store of checkpoints keyed by cache key (see the header of this file). */
export class CheckpointCache {
  private constructor(readonly dir: string) {}

  /**
   * Opens (creating when new or empty) the cache at `dir`; refuses a directory that holds anything else. A directory
   * holding only what an interrupted creation left (objects/, runs/, CACHEDIR.TAG, temp files) is created again.
   */
  static async open(dir: string): Promise<CheckpointCache> {
    const abs = resolve(dir);
    const st = await stat(abs).catch(() => undefined);
    if (st && !st.isDirectory()) throw new OutputError(`Cache ${abs}: expected a directory, got a file`, { hint: 'Choose another directory with --cache DIR (or run.cache).' });
    const names = st ? await readdir(abs) : [];
    const others = names.filter((n) => !OWN.has(n) && !n.endsWith(TEMP_SUFFIX));
    if (others.length > 0 && !names.includes(MARKER)) {
      const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? `, … (${others.length} entries)` : '');
      throw new OutputError(`Cache ${abs}: expected a new or empty directory, or a revcor cache, got a directory that holds other files (${shown})`, {
        hint: 'revcor never writes into a directory it did not create: choose another --cache DIR (or run.cache).',
      });
    }
    try {
      await mkdir(join(abs, 'objects'), { recursive: true });
      await mkdir(join(abs, 'runs'), { recursive: true });
      if (!names.includes(MARKER)) {
        await removeTempFiles(abs); // of a creation that stopped
        await writeFileAtomic(join(abs, TAG), 'Signature: 8a477f597d28d172789f06886806bc55\n# This directory is the revcor checkpoint cache (revcor cache status, revcor cache gc).\n');
        await writeFileAtomic(join(abs, MARKER), JSON.stringify({ format: CACHE_FORMAT, createdAt: new Date().toISOString() }, null, 1) + '\n');
      }
    } catch (e) {
      const err = asUserFsError(e, abs);
      if (err instanceof OutputError) throw err;
      throw new OutputError(`Cache ${abs}: expected a writable directory, got ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Choose another directory with --cache DIR (or run.cache), or --no-cache.' });
    }
    return new CheckpointCache(abs);
  }

  /** Opens an existing cache for reading and maintenance; refuses a directory that is not one. */
  static async existing(dir: string): Promise<CheckpointCache> {
    const abs = resolve(dir);
    const st = await stat(join(abs, MARKER)).catch(() => undefined);
    if (!st) throw new OutputError(`${abs}: Expected a revcor cache (a directory with ${MARKER}), got ${(await stat(abs).catch(() => undefined)) ? 'a directory without it' : 'no such directory'}`);
    return new CheckpointCache(abs);
  }

  /** The checkpoint file of a key. */
  objectPath(key: string): string {
    return join(this.dir, 'objects', checkKey(key).slice(0, 2), `${key}.arrow`);
  }

  /** The entry file of a key. */
  entryPath(key: string): string {
    return join(this.dir, 'objects', checkKey(key).slice(0, 2), `${key}.json`);
  }

  /** The entry of a key, read without hashing (undefined when absent or unreadable). */
  async entry(key: string): Promise<CacheEntry | undefined> {
    return readEntry(this.entryPath(key), key);
  }

  /**
   * Places the entry's checkpoint at `target` (a run directory's checkpoint path), verified by size and sha256.
   * A corrupt or missing checkpoint is removed from the cache (only if it is still the file found corrupt) and
   * reported as the problem; nothing is placed then.
   */
  async restore(entry: CacheEntry, target: string): Promise<PlaceResult> {
    const obj = this.objectPath(entry.key);
    const r = await placeVerified({ file: obj, sha256: entry.sha256, bytes: entry.bytes }, target);
    if ('placement' in r) {
      const now = new Date();
      await utimes(this.entryPath(entry.key), now, now).catch(() => undefined); // last use, for gc --older-than
    } else {
      await this.evict(entry.key, r.ino);
    }
    return r;
  }

  /** Removes a key's entry and checkpoint (when `ino` is given: only if the checkpoint is still that file). */
  async evict(key: string, ino?: number): Promise<void> {
    const obj = this.objectPath(key);
    if (ino !== undefined) {
      const st = await stat(obj).catch(() => undefined);
      if (st && st.ino !== ino) return; // replaced by a good one meanwhile
    }
    await rm(this.entryPath(key), { force: true });
    await rm(obj, { force: true });
  }

  /**
   * Adds a run directory's finished checkpoint `file` (whose bytes have sha256 `rec.sha256`) under `rec.key`:
   * 'added' (hard link, else copy), 'present' (the cache holds it already) or 'kept' (the cache holds a different,
   * intact result for the key: the first one stays). A damaged entry is replaced. Concurrent publishers of one key
   * end with one entry whose checkpoint matches it.
   */
  async publish(file: string, rec: Omit<CacheEntry, 'createdAt'>): Promise<'added' | 'present' | 'kept'> {
    const obj = this.objectPath(rec.key);
    const existing = await this.entry(rec.key);
    const objSize = (await stat(obj).catch(() => undefined))?.size;
    if (existing && existing.sha256 === rec.sha256 && objSize === existing.bytes) return 'present';
    if (existing && objSize === existing.bytes && (await sha256File(obj).catch(() => '')) === existing.sha256) return 'kept';
    await mkdir(dirname(obj), { recursive: true });
    let outcome: 'added' | 'present' | 'kept' = 'added';
    if (!existing && objSize !== undefined) {
      // a checkpoint without an entry: another publisher between its two steps (it writes the entry), or one that
      // died there (gc removes it); it arrived whole, so it gets our entry when it is the same result, else it stays
      if ((await sha256File(obj).catch(() => '')) !== rec.sha256) return 'kept';
      outcome = 'present';
    } else if (existing) {
      await this.replaceObject(file, obj); // the entry's checkpoint is missing or damaged
    } else {
      const tmp = tempPathFor(obj);
      try {
        await linkOrCopy(file, tmp);
        await link(tmp, obj); // never replaces: of two publishers the first checkpoint stays
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw asUserFsError(e, obj);
        // another publisher was first: its checkpoint stays (it writes the entry for it)
        if ((await sha256File(obj).catch(() => '')) !== rec.sha256) return 'kept';
        outcome = 'present';
      } finally {
        await rm(tmp, { force: true });
      }
    }
    const entry: CacheEntry = { ...pickEntry(rec), createdAt: new Date().toISOString() };
    await writeFileAtomic(this.entryPath(rec.key), JSON.stringify({ format: ENTRY_FORMAT, ...entry }, null, 1) + '\n');
    return outcome;
  }

  private async replaceObject(file: string, obj: string): Promise<void> {
    const tmp = tempPathFor(obj);
    try {
      await linkOrCopy(file, tmp);
      await rename(tmp, obj);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Remembers that `outDir` uses the cache (for status and gc); returns whether it sits on another file system. */
  async registerRun(outDir: string): Promise<{ otherFileSystem: boolean }> {
    const file = join(this.dir, 'runs', `${sha256(outDir).slice(0, 24)}.json`);
    await writeFileAtomic(file, JSON.stringify({ outDir, lastUsed: new Date().toISOString() }, null, 1) + '\n');
    const [a, b] = await Promise.all([stat(this.dir), stat(outDir).catch(() => undefined)]);
    return { otherFileSystem: b !== undefined && a.dev !== b.dev };
  }

  /** Every registered run directory with the keys its records name. */
  async users(): Promise<CacheUser[]> {
    const out: CacheUser[] = [];
    for (const n of (await readdir(join(this.dir, 'runs')).catch(() => [] as string[])).filter((x) => x.endsWith('.json'))) {
      let reg: { outDir?: unknown; lastUsed?: unknown };
      try {
        reg = JSON.parse(await readFile(join(this.dir, 'runs', n), 'utf8')) as typeof reg;
      } catch {
        continue;
      }
      if (typeof reg.outDir !== 'string') continue;
      const exists = (await probeRunDir(reg.outDir)).kind === 'run';
      const keys = new Set<string>();
      if (exists) for (const s of await recordedStages(reg.outDir)) for (const r of (await readStageRecords(reg.outDir, s)).values()) keys.add(r.key);
      out.push({ outDir: reg.outDir, exists, keys, lastUsed: String(reg.lastUsed ?? '') });
    }
    return out.sort((a, b) => (a.outDir < b.outDir ? -1 : 1));
  }

  /** Every entry with its checkpoint's size, link count and last use; plus leftovers (see GcResult). */
  async scan(): Promise<{ entries: ScannedEntry[]; leftovers: string[] }> {
    const entries: ScannedEntry[] = [];
    const leftovers: string[] = [];
    const root = join(this.dir, 'objects');
    for (const d of await readdir(root).catch(() => [] as string[])) {
      const names = await readdir(join(root, d)).catch(() => [] as string[]);
      const set = new Set(names);
      for (const n of names) {
        const path = join(root, d, n);
        if (n.endsWith(TEMP_SUFFIX)) {
          const pid = Number(/\.(\d+)\.[0-9a-f]+\.revcor-tmp$/.exec(n)?.[1]);
          if (!Number.isInteger(pid) || !pidAlive(pid)) leftovers.push(path);
        } else if (n.endsWith('.json')) {
          const key = n.slice(0, -5);
          const e = KEY.test(key) ? await readEntry(path, key) : undefined;
          const obj = await stat(join(root, d, `${key}.arrow`)).catch(() => undefined);
          const side = await stat(path).catch(() => undefined);
          if (!e || !obj || !side) leftovers.push(path, ...(obj ? [join(root, d, `${key}.arrow`)] : []));
          else entries.push({ ...e, size: obj.size, links: obj.nlink, lastUsedMs: side.mtimeMs });
        } else if (n.endsWith('.arrow') && !set.has(`${n.slice(0, -6)}.json`)) {
          leftovers.push(path);
        }
      }
    }
    return { entries, leftovers: [...new Set(leftovers)] };
  }

  /** Size, entries per stage and the run directories using the cache. */
  async status(): Promise<CacheStatus> {
    const { entries } = await this.scan();
    const users = await this.users();
    const referenced = new Set(users.flatMap((u) => [...u.keys]));
    const byStage: CacheStatus['byStage'] = {};
    for (const e of entries) {
      const s = (byStage[e.stage] ??= { entries: 0, bytes: 0 });
      s.entries++;
      s.bytes += e.size;
    }
    const keys = new Set(entries.map((e) => e.key));
    return {
      dir: this.dir,
      entries: entries.length,
      bytes: entries.reduce((a, e) => a + e.size, 0),
      ownBytes: entries.filter((e) => e.links <= 1).reduce((a, e) => a + e.size, 0),
      byStage,
      runs: users.map((u) => ({ outDir: u.outDir, exists: u.exists, entries: [...u.keys].filter((k) => keys.has(k)).length })),
      unreferenced: entries.filter((e) => !referenced.has(e.key)).length,
    };
  }

  /**
   * Removes the entries that no registered run directory's records name (with `olderThanMs`: only those also unused
   * for that long), the leftovers of dead writers, and the registrations of run directories that no longer exist.
   * Run directories are never touched: their hard links keep their checkpoints.
   */
  async gc(opts: { olderThanMs?: number; now?: number } = {}): Promise<GcResult> {
    const now = opts.now ?? Date.now();
    const users = await this.users();
    const referenced = new Set(users.flatMap((u) => [...u.keys]));
    const { entries, leftovers } = await this.scan();
    const result: GcResult = { removed: 0, bytes: 0, freed: 0, kept: 0, leftovers: 0, forgotten: 0 };
    for (const e of entries) {
      const recent = opts.olderThanMs !== undefined && now - e.lastUsedMs < opts.olderThanMs;
      if (referenced.has(e.key) || recent) {
        result.kept++;
        continue;
      }
      await this.evict(e.key);
      result.removed++;
      result.bytes += e.size;
      if (e.links <= 1) result.freed += e.size;
    }
    for (const f of leftovers) {
      await rm(f, { force: true });
      result.leftovers++;
    }
    for (const u of users.filter((x) => !x.exists)) {
      await rm(join(this.dir, 'runs', `${sha256(u.outDir).slice(0, 24)}.json`), { force: true });
      result.forgotten++;
    }
    return result;
  }
}

/** An entry as `scan` finds it. */
export interface ScannedEntry extends CacheEntry {
  /** Size of its checkpoint file. */
  size: number;
  /** Hard links to the checkpoint (1: only the cache holds it). */
  links: number;
  /** Last use (restore) or creation, ms since the epoch. */
  lastUsedMs: number;
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`Cache key: expected 16–128 letters and digits, got ${JSON.stringify(key)}`);
  return key;
}

function pickEntry(r: Omit<CacheEntry, 'createdAt'>): Omit<CacheEntry, 'createdAt'> {
  return { key: r.key, stage: r.stage, shard: r.shard, sha256: r.sha256, bytes: r.bytes, rows: r.rows, seconds: r.seconds };
}

async function readEntry(path: string, key: string): Promise<CacheEntry | undefined> {
  try {
    const e = JSON.parse(await readFile(path, 'utf8')) as Partial<CacheEntry> & { format?: string };
    const ok = e.format === ENTRY_FORMAT && e.key === key && typeof e.sha256 === 'string' && typeof e.bytes === 'number' && typeof e.rows === 'number' && typeof e.stage === 'string' && typeof e.shard === 'string';
    return ok ? { key, stage: e.stage!, shard: e.shard!, sha256: e.sha256!, bytes: e.bytes!, rows: e.rows!, seconds: typeof e.seconds === 'number' ? e.seconds : 0, createdAt: String(e.createdAt ?? '') } : undefined;
  } catch {
    return undefined;
  }
}
