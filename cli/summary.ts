// `revcor summary DIR`: the per-layer summary table of a run (docs/method.md §5, tuning, category) in the terminal.
// Tested in test/stages/summary.test.ts.
import type { Argv, CommandModule } from 'yargs';
import { runSummary } from '../report/build.ts';
import { summaryCsv } from '../report/csv.ts';
import { summaryMarkdown, summaryText } from '../report/format.ts';
import { openRunDir } from '../report/source.ts';
import { println, type CliDeps } from './deps.ts';

interface SummaryArgs {
  dir: string;
  format: 'table' | 'csv' | 'json' | 'markdown';
}

/** The `summary` command. */
export function summaryCommand(deps: CliDeps): CommandModule<object, SummaryArgs> {
  return {
    command: 'summary <dir>',
    describe: 'Print the per-layer summary of a run: % responsive, % significant AWA/AWC, prediction matches, tuning and category statistics',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('format', { choices: ['table', 'csv', 'json', 'markdown'] as const, default: 'table' as const, describe: 'Plain-text tables, CSV, JSON rows, or Markdown tables' })
        .example('$0 summary artifacts/default', 'The per-layer table of the default run')
        .example('$0 summary artifacts/default --format csv > summary.csv', 'The same as CSV') as unknown as Argv<SummaryArgs>,
    handler: async (args) => {
      const src = await openRunDir(args.dir);
      const { rows, key } = await runSummary(src);
      if (args.format === 'csv') return void deps.stdout.write(summaryCsv(rows));
      if (args.format === 'markdown') return println(deps.stdout, ...summaryMarkdown(rows));
      if (args.format === 'json') return println(deps.stdout, JSON.stringify(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v])))));
      println(deps.stdout, `${src.outDir} — ${src.config.name}${key ? '' : ' (summary stage not finished: computed from the checkpoints present)'}`, '', ...summaryText(rows));
    },
  };
}
