// `revcor report DIR`: rebuilds <DIR>/report.html (and summary/summary.csv) from the checkpoints, computing nothing.
// Tested in test/stages/summary.test.ts.
import type { Argv, CommandModule } from 'yargs';
import { formatBytes, formatSeconds } from '../pipeline/progress.ts';
import { writeReportFromDir } from '../report/write.ts';
import { println, type CliDeps } from './deps.ts';

interface ReportArgs {
  dir: string;
  quiet: boolean;
}

/** The `report` command. */
export function reportCommand(deps: CliDeps): CommandModule<object, ReportArgs> {
  return {
    command: 'report <dir>',
    describe: 'Rebuild report.html of a run from its checkpoints (no stage is recomputed)',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the path of the report' })
        .example('$0 report artifacts/default', 'Write artifacts/default/report.html (open it in a browser, no server needed)') as unknown as Argv<ReportArgs>,
    handler: async (args) => {
      const onLayer = args.quiet ? undefined : (layer: string, units: number) => println(deps.stderr, `  ${layer}: ${units} units`);
      const r = await writeReportFromDir(args.dir, onLayer);
      if (args.quiet) return println(deps.stdout, r.path);
      println(
        deps.stdout,
        `Wrote ${r.path} (${r.units} units in ${r.layers} layers, ${formatBytes(r.bytes)}, ${formatSeconds(r.seconds)})`,
        ...(r.csv ? [`Wrote ${r.csv}`] : ['The summary stage has not finished here: the table was computed from the checkpoints present; no summary.csv written.']),
      );
    },
  };
}
