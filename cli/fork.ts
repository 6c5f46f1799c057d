// `revcor fork SRC DST [--stage S]`: a new run directory that starts with SRC's finished checkpoints (hard
// links, no extra space), so a changed downstream setting is computed beside the original instead of over it.
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseDocument } from 'yaml';
import { TEMP_SUFFIX } from '../pipeline/atomic.ts';
import { OutputError } from '../pipeline/errors.ts';
import { acquireLock } from '../pipeline/lock.ts';
import { readStageRecords, writeManifest, writeRecord, type ShardRecord } from '../pipeline/manifest.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { checkStageArgs, println, type CliDeps } from './deps.ts';

interface ForkArgs {
  src: string;
  dst: string;
  stage: string[];
}

/** What a fork did: checkpoints linked or copied, and their bytes. */
export interface ForkResult {
  stages: string[];
  files: number;
  bytes: number;
  copied: number;
}

/** Hard-links `from` to `to`, or copies it where links are impossible (another file system); true if copied. */
async function linkOrCopy(from: string, to: string): Promise<boolean> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
    await copyFile(from, to);
    return true;
  }
}

/**
 * Forks a run directory: every file of the chosen stages' checkpoint folders is hard-linked (checkpoints are
 * only ever replaced by rename, never rewritten in place, so the two runs cannot alter each other's files),
 * their shard records are copied (records are small and rewritten), and so are the content-hash memo and the
 * resolved config (its run.out set to DST); the manifest is written anew. Stages without records in SRC are skipped.
 */
export async function forkRun(src: string, dst: string, stages: readonly string[] | null): Promise<ForkResult> {
  const recorded = await readdir(join(src, '.revcor', 'records')).catch(() => [] as string[]);
  const chosen = stages ?? recorded;
  const result: ForkResult = { stages: [], files: 0, bytes: 0, copied: 0 };
  const kept = new Map<string, ShardRecord[]>();
  for (const s of chosen) {
    const records = await readStageRecords(src, s);
    if (records.size === 0) continue;
    result.stages.push(s);
    if (existsSync(join(src, s))) {
      for (const name of await readdir(join(src, s))) {
        if (name.endsWith(TEMP_SUFFIX)) continue;
        const from = join(src, s, name);
        const st = await stat(from);
        if (!st.isFile()) continue;
        result.copied += +(await linkOrCopy(from, join(dst, s, name)));
        result.files++;
        result.bytes += st.size;
      }
    }
    const written: ShardRecord[] = [];
    for (const r of records.values()) {
      if (!existsSync(join(dst, r.file))) continue; // record without its checkpoint: leave it to be recomputed
      await writeRecord(dst, r);
      written.push(r);
    }
    kept.set(s, written);
  }
  if (existsSync(join(src, '.revcor', 'file-hashes.json'))) await copyFile(join(src, '.revcor', 'file-hashes.json'), join(dst, '.revcor', 'file-hashes.json'));
  const resolved = join(src, 'config.resolved.yaml');
  if (existsSync(resolved)) {
    // the copy must point at the fork: `revcor run DST/config.resolved.yaml` (what status suggests) writes DST
    const doc = parseDocument(await readFile(resolved, 'utf8'));
    doc.setIn(['run', 'out'], dst);
    await writeFile(join(dst, 'config.resolved.yaml'), doc.toString());
  }
  await writeManifest(dst, kept);
  return result;
}

/** The `fork` command. */
export function forkCommand(deps: CliDeps): CommandModule<object, ForkArgs> {
  return {
    command: 'fork <src> <dst>',
    describe: 'Start a new run directory from the checkpoints of a finished one (hard links), to change a downstream setting without overwriting the original',
    builder: (y: Argv) =>
      y
        .positional('src', { type: 'string', demandOption: true, describe: 'Output directory of an existing run' })
        .positional('dst', { type: 'string', demandOption: true, describe: 'New output directory (must not exist, or be empty)' })
        .option('stage', { type: 'string', array: true, default: [], describe: 'Only the checkpoints of this stage (repeatable; default: all)' })
        .example('$0 fork runs/vgg19 runs/vgg19-eff && $0 run vgg19-eff.yaml --out runs/vgg19-eff', 'Recompute only what vgg19-eff.yaml changes (e.g. awc.crop), beside the original') as unknown as Argv<ForkArgs>,
    handler: async (args) => {
      const src = resolve(args.src);
      const dst = resolve(args.dst);
      if (!existsSync(join(src, '.revcor', 'records'))) {
        throw new OutputError(`${src}: Expected a revcor output directory with finished shards (.revcor/records), got ${existsSync(src) ? 'a directory without them' : 'no such directory'}`);
      }
      if (existsSync(dst) && (await readdir(dst)).length > 0) {
        throw new OutputError(`${dst}: Expected a new or empty directory to fork into, got one with files (revcor clean it, or choose another name)`);
      }
      checkStageArgs(args.stage, deps.stages().map((s) => s.name));
      await mkdir(dst, { recursive: true });
      const srcLock = await acquireLock(src, `${deps.invocation} fork ${args.src} ${args.dst}`); // no run may write SRC meanwhile
      try {
        const dstLock = await acquireLock(dst, `${deps.invocation} fork ${args.src} ${args.dst}`);
        try {
          const r = await forkRun(src, dst, args.stage.length ? args.stage : null);
          const how = r.copied ? `${r.files - r.copied} hard-linked, ${r.copied} copied` : 'hard-linked, no extra space';
          println(deps.stdout, `Forked ${r.files} files (${formatBytes(r.bytes)}, ${how}) of ${r.stages.join(', ') || 'no stage'} from ${src} to ${dst}`);
          println(deps.stdout, `Next: ${deps.invocation} run <config> --out ${args.dst}   (recomputes only the shards the config changes)`);
        } finally {
          await dstLock.release();
        }
      } finally {
        await srcLock.release();
      }
    },
  };
}
