// `revcor fork SRC DST [--stage S]`: a new run directory that starts with SRC's finished checkpoints (hard
// links, no extra space), so a changed downstream setting is computed beside the original instead of over it.
// Tested in test/cli/cli.test.ts.
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseDocument } from 'yaml';
import { OutputError } from '../pipeline/errors.ts';
import { acquireLock } from '../pipeline/lock.ts';
import { readStageRecords, writeManifest, writeRecord, type ShardRecord } from '../pipeline/manifest.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { claimRunDir, hashMemoFile, readResolvedConfig, recordedStages, requireRunDir, writeResolvedConfig } from '../pipeline/rundir.ts';
import { shardPath } from '../pipeline/store.ts';
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
 * Forks a run directory: every recorded checkpoint of the chosen stages is hard-linked (checkpoints are
 * only ever replaced by rename, never rewritten in place, so the two runs cannot alter each other's files),
 * their shard records are copied (records are small and rewritten), and so are the content-hash memo and the
 * resolved config (its run.out set to DST); the manifest is written anew. Stages without records in SRC are skipped.
 */
export async function forkRun(src: string, dst: string, stages: readonly string[] | null): Promise<ForkResult> {
  const recorded = await recordedStages(src);
  const chosen = stages ?? recorded;
  const result: ForkResult = { stages: [], files: 0, bytes: 0, copied: 0 };
  const kept = new Map<string, ShardRecord[]>();
  for (const s of chosen) {
    const records = await readStageRecords(src, s);
    if (records.size === 0) continue;
    result.stages.push(s);
    const written: ShardRecord[] = [];
    for (const r of records.values()) {
      // only the recorded checkpoints: a file revcor did not record is not forked
      const from = shardPath(src, s, r.shard);
      const st = await stat(from).catch(() => undefined);
      if (!st?.isFile()) continue; // record without its checkpoint: leave it to be recomputed
      result.copied += +(await linkOrCopy(from, shardPath(dst, s, r.shard)));
      result.files++;
      result.bytes += st.size;
      await writeRecord(dst, r);
      written.push(r);
    }
    kept.set(s, written);
  }
  if (existsSync(hashMemoFile(src))) await copyFile(hashMemoFile(src), hashMemoFile(dst));
  const resolved = await readResolvedConfig(src);
  if (resolved) {
    // the copy must point at the fork: `revcor run DST/<resolved config>` (what status suggests) writes DST
    const doc = parseDocument(resolved);
    doc.setIn(['run', 'out'], dst);
    await writeResolvedConfig(dst, doc.toString());
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
      await requireRunDir(src);
      if ((await recordedStages(src)).length === 0) throw new OutputError(`${src}: Expected a revcor output directory with finished shards, got none`);
      if (existsSync(dst) && (await readdir(dst)).length > 0) {
        throw new OutputError(`${dst}: Expected a new or empty directory to fork into, got one with files (revcor clean it, or choose another name)`);
      }
      checkStageArgs(args.stage, deps.stages().map((s) => s.name));
      await claimRunDir(dst);
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
