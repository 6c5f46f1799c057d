// `revcor diff A B`: compares the data of two runs' checkpoints column by column (metadata ignored), e.g. before
// and after an upgrade of revcor; exit 0 when every shard agrees within --tolerance (--allow-added: columns only the
// second run has are listed, not counted), 1 when not.
// Tested in test/cli/diff.test.ts.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { RevcorError } from '../pipeline/errors.ts';
import { diffRuns, withinTolerance, type ShardDiff } from '../pipeline/run-diff.ts';
import { println, type CliDeps } from './deps.ts';

interface DiffArgs {
  a: string;
  b: string;
  stage: string[];
  tolerance: number;
  json: boolean;
  'allow-added': boolean;
}

/** The runs differ beyond the tolerance (exit code 1, as diff(1)). */
export class RunsDiffer extends RevcorError {
  override readonly exitCode = 1;
}

/** Text lines for the shards that differ (every column that differs, with its largest differences). */
export function formatDiff(diffs: readonly ShardDiff[], tolerance: number, allowAdded = false): string[] {
  const lines: string[] = [];
  for (const d of diffs) {
    if (withinTolerance(d, tolerance, allowAdded)) {
      if (d.onlyInB.length) lines.push(`${d.stage}/${d.shard}: columns added in B (not compared): ${d.onlyInB.join(', ')}`);
      continue;
    }
    const where = `${d.stage}/${d.shard}`;
    if (d.presence !== 'both') {
      lines.push(`${where}: only in ${d.presence === 'missing-in-a' ? 'B' : 'A'}`);
      continue;
    }
    if (d.rowsA !== d.rowsB) lines.push(`${where}: ${d.rowsA} rows in A, ${d.rowsB} in B`);
    if (d.onlyInA.length) lines.push(`${where}: columns only in A: ${d.onlyInA.join(', ')}`);
    if (d.onlyInB.length) lines.push(`${where}: columns only in B: ${d.onlyInB.join(', ')}`);
    for (const c of d.columns) {
      if (c.differing === 0) continue;
      if (!c.sameShape) lines.push(`${where}.${c.column}: ${c.typeA} in A, ${c.typeB} in B (or another number of values)`);
      else lines.push(`${where}.${c.column}: ${c.differing} of ${c.values} values differ, max |Δ| ${c.maxAbs.toPrecision(3)}, max relative ${c.maxRel.toPrecision(3)}`);
    }
  }
  return lines;
}

/** The `diff` command. */
export function diffCommand(deps: CliDeps): CommandModule<object, DiffArgs> {
  return {
    command: 'diff <a> <b>',
    describe: 'Compare the data of two runs checkpoint by checkpoint, column by column (metadata ignored)',
    builder: (y: Argv) =>
      y
        .positional('a', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .positional('b', { type: 'string', demandOption: true, describe: 'Output directory of another run' })
        .option('stage', { type: 'string', array: true, default: [], describe: 'Only this stage (repeatable)' })
        .option('tolerance', { type: 'number', default: 0, describe: 'Largest relative difference of numbers that counts as equal' })
        .option('json', { type: 'boolean', default: false, describe: 'Every shard and column as JSON' })
        .option('allow-added', { type: 'boolean', default: false, describe: 'Columns only B has (added by a newer version) are listed but do not count as a difference' })
        .example('$0 diff runs/before runs/after --tolerance 1e-5', 'Same data up to float reordering?') as unknown as Argv<DiffArgs>,
    handler: async (args) => {
      if (!(args.tolerance >= 0)) throw new RevcorError(`--tolerance: expected a number ≥ 0, got ${args.tolerance}`);
      const diffs = await diffRuns(resolve(args.a), resolve(args.b), args.stage);
      const added = args['allow-added'];
      const bad = diffs.filter((d) => !withinTolerance(d, args.tolerance, added));
      if (args.json) println(deps.stdout, JSON.stringify(diffs.map((d) => ({ ...d, within: withinTolerance(d, args.tolerance, added) }))));
      else {
        const maxRel = Math.max(0, ...diffs.flatMap((d) => d.columns.map((c) => c.maxRel)));
        println(deps.stdout, ...formatDiff(diffs, args.tolerance, added), `${diffs.length} shards compared: ${diffs.length - bad.length} agree within ${args.tolerance}, ${bad.length} differ (largest relative difference ${maxRel.toPrecision(3)})`);
      }
      if (bad.length) throw new RunsDiffer(`${bad.length} of ${diffs.length} shards differ beyond a relative ${args.tolerance}`);
    },
  };
}
