// `revcor fork SRC DST [--stage S]`: a new run directory that starts with SRC's finished checkpoints (verified hard
// links, no extra space: the checkpoint store's placement), so a changed downstream setting is computed beside the
// original instead of over it. A shared cache (--cache, grids) does the same across any runs without a fork.
// Tested in test/cli/cli.test.ts.
import { existsSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseDocument } from 'yaml';
import { FileHasher } from '../pipeline/cache-key.ts';
import { placeVerified } from '../pipeline/cache-store.ts';
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

/** What a fork did: checkpoints linked or copied, their bytes, and those left out (missing or corrupt in SRC). */
export interface ForkResult {
  stages: string[];
  files: number;
  bytes: number;
  copied: number;
  /** `stage/shard: why` of recorded checkpoints not forked (DST recomputes them). */
  skipped: string[];
}

/**
 * Forks a run directory through the checkpoint store's placement (pipeline/cache-store.ts placeVerified, as a cache
 * restore does): every recorded checkpoint of the chosen stages is hard-linked (a copy across file systems) after its
 * sha256 is checked against its record (checkpoints are only ever replaced by rename, never rewritten in place, so
 * the two runs cannot alter each other's files); the shard records are copied, and so are the content-hash memo and
 * the resolved config (its run.out set to DST); the manifest is written anew. Stages without records are skipped.
 */
export async function forkRun(src: string, dst: string, stages: readonly string[] | null): Promise<ForkResult> {
  const recorded = await recordedStages(src);
  const chosen = stages ?? recorded;
  const result: ForkResult = { stages: [], files: 0, bytes: 0, copied: 0, skipped: [] };
  const kept = new Map<string, ShardRecord[]>();
  if (existsSync(hashMemoFile(src))) await copyFile(hashMemoFile(src), hashMemoFile(dst));
  const hasher = await FileHasher.open(dst);
  for (const s of chosen) {
    const records = await readStageRecords(src, s);
    if (records.size === 0) continue;
    result.stages.push(s);
    const written: ShardRecord[] = [];
    for (const r of records.values()) {
      // only the recorded checkpoints, verified: a file revcor did not record, or a damaged one, is not forked
      const target = shardPath(dst, s, r.shard);
      const placed = await placeVerified({ file: shardPath(src, s, r.shard), sha256: r.sha256, bytes: r.bytes }, target);
      if (!('placement' in placed)) {
        result.skipped.push(`${s}/${r.shard}: ${placed.problem}`);
        continue;
      }
      await hasher.remember(target, r.sha256);
      result.copied += +(placed.placement === 'copied');
      result.files++;
      result.bytes += r.bytes;
      await writeRecord(dst, r);
      written.push(r);
    }
    kept.set(s, written);
  }
  await hasher.save();
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
          if (r.skipped.length) println(deps.stdout, `Not forked (the run into ${dst} recomputes them): ${r.skipped.join('; ')}`);
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
