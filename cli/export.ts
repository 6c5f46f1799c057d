// `revcor export DIR`: a run's finished checkpoints as typed Parquet files (one per stage, or Hive-style per layer)
// or CSV, for DuckDB, polars, pandas, R and Spark (docs/analysis.md); prints each file with its size.
// Tested in test/cli/export.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { exportRun, shownPath } from '../pipeline/export.ts';
import type { ExportFormat, ExportPartition } from '../pipeline/export-plan.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { println, type CliDeps } from './deps.ts';

interface ExportArgs {
  dir: string;
  stage: string[];
  format: ExportFormat;
  out?: string;
  partition: ExportPartition;
}

/** The `export` command. */
export function exportCommand(deps: CliDeps): CommandModule<object, ExportArgs> {
  return {
    command: 'export <dir>',
    describe: 'Write the checkpoints of a run as Parquet (or CSV) files with column meanings, for DuckDB, polars, pandas, R and Spark',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run (finished or partly finished)' })
        .option('stage', { type: 'string', array: true, default: [], describe: 'Only this stage (repeatable)' })
        .option('format', { choices: ['parquet', 'csv'] as const, default: 'parquet' as const, describe: 'Parquet (typed, lists as LIST columns) or CSV (lists as JSON text)' })
        .option('partition', { choices: ['none', 'layer'] as const, default: 'none' as const, describe: 'One file per stage, or Hive-style <stage>/layer=<name>/part-0.parquet' })
        .option('out', { type: 'string', describe: 'Export folder (default DIR/export); an earlier export there is updated' })
        .example('$0 export runs/vgg19-v1', 'Every stage as runs/vgg19-v1/export/<stage>.parquet')
        .example('$0 export runs/vgg19-v1 --stage tuning --partition layer', 'tuning/layer=<name>/part-0.parquet')
        .example('$0 export runs/vgg19-v1 --format csv --out /tmp/v1-csv', 'CSV, list columns as JSON text') as unknown as Argv<ExportArgs>,
    handler: async (args) => {
      let written = 0;
      let kept = 0;
      const { outDir, files } = await exportRun(resolve(args.dir), {
        stages: args.stage,
        format: args.format,
        partition: args.partition,
        out: args.out,
        onFile: (f) => {
          if (f.action === 'written') written += f.bytes;
          else kept += f.bytes;
          println(deps.stdout, `${f.action === 'written' ? 'wrote    ' : 'unchanged'} ${f.path}  ${formatBytes(f.bytes)}, ${f.rows} rows`);
        },
      });
      const n = files.filter((f) => f.action === 'written').length;
      println(deps.stdout, `${shownPath(outDir)}: ${n} file${n === 1 ? '' : 's'} written (${formatBytes(written)}), ${files.length - n} unchanged (${formatBytes(kept)})`);
    },
  };
}
