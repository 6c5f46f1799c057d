// Cache keys: canonical JSON, sha256, content hashes of input files (memoised by stat), and shard keys.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile, stat, type FileHandle } from 'node:fs/promises';
import { InputError } from './errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { hashMemoFile } from './rundir.ts';

/** Deterministic JSON: object keys sorted, undefined members dropped; throws on values JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalise(value, '$'));
}

function canonicalise(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Expected a finite number at ${path}, got ${value}`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => (v === undefined ? null : canonicalise(v, `${path}[${i}]`)));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`Expected plain JSON data at ${path}, got ${proto?.constructor?.name ?? 'object'}`);
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonicalise(v, `${path}.${k}`);
    }
    return out;
  }
  throw new Error(`Expected JSON-serialisable data at ${path}, got ${typeof value}`);
}

/** Hex sha256 of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of a file's content, streamed: by path, or through a handle the caller keeps open (read from byte 0). */
export async function sha256File(file: string | FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const stream = typeof file === 'string' ? createReadStream(file) : file.createReadStream({ start: 0, autoClose: false });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Picks config key paths ('awc', 'stimuli.noise.seed') into a nested object, so slice diffs name config paths. */
export function pickConfig(config: unknown, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const parts = p.split('.');
    let src: unknown = config;
    for (const part of parts) src = src == null ? undefined : (src as Record<string, unknown>)[part];
    let dst = out;
    for (const part of parts.slice(0, -1)) dst = (dst[part] ??= {}) as Record<string, unknown>;
    dst[parts[parts.length - 1]] = src;
  }
  return out;
}

/** Everything a shard's cache key is made of (kept in its record so staleness can be explained). */
export interface KeyBasis {
  stage: string;
  version: string;
  slice: unknown;
  params: Record<string, unknown>;
  /** Absolute input path → sha256 of its content. */
  inputs: Record<string, string>;
  /** Upstream stage → shard id → that shard's cache key. */
  upstream: Record<string, Record<string, string>>;
}

/** The cache key of a shard: sha256 of the canonical JSON of its basis. */
export function shardKey(basis: KeyBasis): string {
  return sha256(canonicalJson(basis));
}

/** How often a run writes its memo of digests while it computes (besides once planned and once at the end). */
const MEMO_SAVE_INTERVAL_MS = 30_000;

interface HashEntry { size: number; mtimeMs: number; ctimeMs: number; ino: number; sha256: string }

/**
 * Content hashes of files, memoised in the run directory's hash memo by (path, size, mtime, ctime, inode):
 * an unchanged file is not re-read; any write, truncation or replacement changes ctime and forces a rehash.
 */
export class FileHasher {
  private entries = new Map<string, HashEntry>();
  private dirty = false;
  private lastSave = 0;
  private saving: Promise<void> = Promise.resolve();
  constructor(private readonly cacheFile?: string) {}

  /** Opens the memo of an output directory (missing or unreadable memo = empty). */
  static async open(outDir?: string): Promise<FileHasher> {
    const h = new FileHasher(outDir ? hashMemoFile(outDir) : undefined);
    if (h.cacheFile) {
      try {
        const parsed = JSON.parse(await readFile(h.cacheFile, 'utf8')) as Record<string, HashEntry>;
        for (const [k, v] of Object.entries(parsed)) if (typeof v?.sha256 === 'string') h.entries.set(k, v);
      } catch { /* no memo yet, or a damaged one: rehash */ }
    }
    return h;
  }

  /** sha256 of the file's content; `what` names the file's role in the error when it is missing. */
  async hash(path: string, what = 'input file'): Promise<string> {
    let st;
    try {
      st = statSync(path); // synchronous: a plan stats thousands of inputs, and a thread-pool round trip each costs ~0.2 ms
    } catch (e) {
      throw new InputError(`Expected ${what} ${path} to exist, got ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    if (!st.isFile()) throw new InputError(`Expected ${what} ${path} to be a file, got a directory or special file`);
    const hit = this.entries.get(path);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs && hit.ino === st.ino) {
      return hit.sha256;
    }
    const digest = await sha256File(path);
    this.entries.set(path, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: digest });
    this.dirty = true;
    return digest;
  }

  /** Records a digest already known (e.g. of bytes just written) for the file as it is now on disk. */
  async remember(path: string, digest: string): Promise<void> {
    const st = await stat(path);
    this.entries.set(path, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: digest });
    this.dirty = true;
    // a long run keeps its memo current, so `revcor status` meanwhile finds the checkpoints' digests
    if (Date.now() - this.lastSave >= MEMO_SAVE_INTERVAL_MS) await this.save().catch(() => undefined);
  }

  /** Forgets a file (e.g. after it was found corrupt or deleted). */
  forget(path: string): void {
    if (this.entries.delete(path)) this.dirty = true;
  }

  /** Writes the memo back (atomically) when it changed, dropping files that no longer exist; one save at a time. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.write());
    this.saving = next.catch(() => undefined);
    return next;
  }

  /** The write behind save(). */
  private async write(): Promise<void> {
    this.lastSave = Date.now();
    if (!this.cacheFile || !this.dirty) return;
    for (const p of [...this.entries.keys()]) if (!existsSync(p)) this.entries.delete(p);
    this.dirty = false; // before the write: a digest recorded meanwhile marks it dirty again
    try {
      await writeFileAtomic(this.cacheFile, JSON.stringify(Object.fromEntries(this.entries)));
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }
}
