// `revcor clean DIR [--stage S]`: removes a run's checkpoints (all, or one stage's) and their records.
import { existsSync } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { OutputError } from '../pipeline/errors.ts';
import { acquireLock } from '../pipeline/lock.ts';
import { readStageRecords, recordDir, writeManifest, type ShardRecord } from '../pipeline/manifest.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { checkStageArgs, println, type CliDeps } from './deps.ts';

interface CleanArgs {
  dir: string;
  stage: string[];
}

async function sizeOf(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const n of await readdir(path)) total += await sizeOf(join(path, n));
  return total;
}

/** Stage names that have records or a folder in the output directory. */
async function recordedStages(outDir: string): Promise<string[]> {
  return readdir(join(outDir, '.revcor', 'records')).catch(() => [] as string[]);
}

/** The `clean` command. */
export function cleanCommand(deps: CliDeps): CommandModule<object, CleanArgs> {
  return {
    command: 'clean <dir>',
    describe: 'Delete checkpoints of a run (all, or of the given stages) so they are recomputed',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('stage', { type: 'string', array: true, default: [], describe: 'Only this stage (repeatable)' })
        .example('$0 clean artifacts/default --stage awc', 'Forget the awc checkpoints') as unknown as Argv<CleanArgs>,
    handler: async (args) => {
      const outDir = resolve(args.dir);
      if (!existsSync(join(outDir, '.revcor')) && !existsSync(join(outDir, 'manifest.json'))) {
        throw new OutputError(`${outDir}: Expected a revcor output directory (with .revcor/ or manifest.json), got ${existsSync(outDir) ? 'a directory without them' : 'no such directory'}`);
      }
      const known = [...new Set([...deps.stages().map((s) => s.name), ...(await recordedStages(outDir))])];
      checkStageArgs(args.stage, known);
      const lock = await acquireLock(outDir, `${deps.invocation} clean ${args.dir}`);
      try {
        const targets = args.stage.length ? args.stage : known;
        let freed = 0;
        for (const s of targets) {
          freed += await sizeOf(join(outDir, s));
          await rm(join(outDir, s), { recursive: true, force: true });
          await rm(recordDir(outDir, s), { recursive: true, force: true });
        }
        if (args.stage.length) {
          const remaining = new Map<string, ShardRecord[]>();
          for (const s of await recordedStages(outDir)) remaining.set(s, [...(await readStageRecords(outDir, s)).values()]);
          await writeManifest(outDir, remaining);
          println(deps.stdout, `Removed the checkpoints of ${targets.join(', ')} (${formatBytes(freed)}) from ${outDir}`);
        } else {
          for (const f of ['manifest.json', 'config.resolved.yaml', 'report.html']) await rm(join(outDir, f), { force: true });
          for (const f of ['records', 'file-hashes.json']) await rm(join(outDir, '.revcor', f), { recursive: true, force: true });
          println(deps.stdout, `Removed every checkpoint (${formatBytes(freed)}) from ${outDir}`);
        }
      } finally {
        await lock.release();
      }
      if (!args.stage.length) {
        await rmdir(join(outDir, '.revcor')).catch(() => undefined);
        await rmdir(outDir).catch(() => undefined);
      }
    },
  };
}
