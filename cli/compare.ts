// `revcor compare GRID`: the per-layer summary of every point of a grid side by side (each column a point, each cell
// with its 95 % interval and n), as tables, Markdown, CSV or JSON; writes GRID/compare.html (plots against the grid's
// keys). Reads through report/compare-data.ts.
// Tested in test/cli/grid.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { println, type CliDeps } from './deps.ts';

interface CompareArgs {
  dir: string;
  layers?: string;
  stat: string[];
  format: 'table' | 'markdown' | 'csv' | 'json';
  html: boolean;
}

/** The `compare` command. */
export function compareCommand(deps: CliDeps): CommandModule<object, CompareArgs> {
  return {
    command: 'compare <dir>',
    describe: 'Compare the per-layer summaries of a grid\'s points side by side (value [95% interval] n), and write DIR/compare.html',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Directory of a grid (revcor run GRID.yaml --out DIR)' })
        .option('layers', { type: 'string', describe: 'Comma-separated layers (default: all)' })
        .option('stat', { type: 'string', array: true, default: [], describe: 'Only this summary statistic, e.g. pct_awc_reconstructed (repeatable; default: all)' })
        .option('format', { choices: ['table', 'markdown', 'csv', 'json'] as const, default: 'table' as const, describe: 'Plain-text tables, Markdown tables, or long-form CSV / JSON rows' })
        .option('html', { type: 'boolean', default: true, describe: 'Write DIR/compare.html (--no-html: print only)' })
        .example('$0 compare runs/sweep', 'Every statistic, layers × points; writes runs/sweep/compare.html')
        .example('$0 compare runs/sweep --stat pct_awc_reconstructed --stat pct_awc_theta_match --format markdown', 'Two statistics as Markdown tables')
        .example('$0 compare runs/sweep --format csv > sweep.csv', 'Long-form rows for pandas or R') as unknown as Argv<CompareArgs>,
    handler: async (args) => {
      const { readComparison } = await import('../report/compare-data.ts');
      const fmt = await import('../report/compare-format.ts');
      const gridDir = resolve(args.dir);
      const layers = args.layers?.split(',').map((s) => s.trim()).filter(Boolean);
      const cmp = await readComparison(gridDir, { layers, stats: args.stat });
      if (args.format === 'csv') deps.stdout.write(fmt.compareCsv(cmp));
      else if (args.format === 'json') println(deps.stdout, fmt.compareJson(cmp));
      else if (args.format === 'markdown') println(deps.stdout, ...fmt.compareMarkdown(cmp));
      else println(deps.stdout, ...fmt.compareText(cmp));
      if (args.html) {
        const { writeCompare } = await import('../report/compare-write.ts');
        println(deps.stderr, `wrote ${await writeCompare(gridDir, cmp)}`);
      }
    },
  };
}
