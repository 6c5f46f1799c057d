// `revcor clean DIR [--stage S]`: removes a run's checkpoints (all, or one stage's) and their records — only files
// the run recorded as its own; anything else in the directory stays.
// Tested in test/cli/cli.test.ts.
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { acquireLock } from '../pipeline/lock.ts';
import { clearWriting, deleteRecord, readStageRecords, writeManifest, writingMarks, type ShardRecord } from '../pipeline/manifest.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { metaDir, recordDir, recordedStages, removeRunFiles, requireRunDir, stageDir } from '../pipeline/rundir.ts';
import { shardPath } from '../pipeline/store.ts';
import { checkStageArgs, println, type CliDeps } from './deps.ts';

interface CleanArgs {
  dir: string;
  stage: string[];
}

/** Size of a file, 0 when absent. */
async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

/** Removes one stage's recorded checkpoints, unfinished writes and records; returns the bytes freed. */
export async function cleanStage(outDir: string, stage: string): Promise<number> {
  let freed = 0;
  for (const id of (await readStageRecords(outDir, stage)).keys()) {
    freed += await sizeOf(shardPath(outDir, stage, id));
    await rm(shardPath(outDir, stage, id), { force: true });
    await deleteRecord(outDir, stage, id);
  }
  for (const id of await writingMarks(outDir, stage)) {
    freed += await sizeOf(shardPath(outDir, stage, id));
    await rm(shardPath(outDir, stage, id), { force: true });
    await clearWriting(outDir, stage, id);
  }
  await rmdir(recordDir(outDir, stage)).catch(() => undefined);
  await rmdir(stageDir(outDir, stage)).catch(() => undefined); // kept when it holds files revcor did not write
  return freed;
}

/** The `clean` command. */
export function cleanCommand(deps: CliDeps): CommandModule<object, CleanArgs> {
  return {
    command: 'clean <dir>',
    describe: 'Delete checkpoints of a run (all, or of the given stages) so they are recomputed; files revcor did not write stay',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('stage', { type: 'string', array: true, default: [], describe: 'Only this stage (repeatable)' })
        .example('$0 clean artifacts/default --stage awc', 'Forget the awc checkpoints') as unknown as Argv<CleanArgs>,
    handler: async (args) => {
      const outDir = resolve(args.dir);
      await requireRunDir(outDir);
      const known = [...new Set([...deps.stages().map((s) => s.name), ...(await recordedStages(outDir))])];
      checkStageArgs(args.stage, known);
      const lock = await acquireLock(outDir, `${deps.invocation} clean ${args.dir}`);
      let freed = 0;
      try {
        const targets = args.stage.length ? args.stage : known;
        for (const s of targets) freed += await cleanStage(outDir, s);
        if (args.stage.length) {
          const remaining = new Map<string, ShardRecord[]>();
          for (const s of await recordedStages(outDir)) remaining.set(s, [...(await readStageRecords(outDir, s)).values()]);
          await writeManifest(outDir, remaining);
          println(deps.stdout, `Removed the checkpoints of ${targets.join(', ')} (${formatBytes(freed)}) from ${outDir}`);
          return;
        }
        await removeRunFiles(outDir);
      } finally {
        await lock.release();
      }
      await rmdir(metaDir(outDir)).catch(() => undefined);
      await rmdir(outDir).catch(() => undefined);
      const left = await readdir(outDir).catch(() => [] as string[]);
      const kept = left.length ? `; kept ${left.length} entr${left.length === 1 ? 'y' : 'ies'} revcor did not write (${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''})` : '';
      println(deps.stdout, `Removed every checkpoint (${formatBytes(freed)}) from ${outDir}${kept}`);
    },
  };
}
