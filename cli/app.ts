// The revcor command line: yargs commands (only the invoked command's module is loaded: cli/commands.ts), and the
// top-level error handler (user errors without stacks).
// Tested in test/cli/model.test.ts.
import yargs from 'yargs';
import { RevcorError } from '../pipeline/errors.ts';
import { ShardFailure } from '../pipeline/executor.ts';
import { COMMANDS, invokedCommand, listedOnly } from './commands.ts';
import { defaultDeps, println, type CliDeps } from './deps.ts';
import { redact } from '../pipeline/distributed/redact.ts';

/** A command-line usage mistake (unknown option, missing argument). */
export class UsageError extends RevcorError {}

/** Options that take one or more values: given without one, they are a mistake, not an empty list. */
const VALUED_ARRAYS = ['set', 'from', 'only', 'force', 'stage', 'layers', 'maps', 'allow'];

/** Refuses `--force` (or any option of VALUED_ARRAYS) given with no value or an empty one. */
export function checkValuedOptions(argv: readonly string[], parsed: Record<string, unknown>): void {
  for (const name of VALUED_ARRAYS) {
    const given = argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    const values = parsed[name];
    if (!given || !Array.isArray(values)) continue;
    if (values.length === 0 || values.some((v) => String(v).trim() === '')) {
      throw new UsageError(`--${name}: expected a value (e.g. --${name} ${name === 'set' ? 'awc.shuffles=30' : 'awc'}), got none`, {
        hint: 'Run `revcor <command> --help` for usage.',
      });
    }
  }
}

const VERSION = '0.1.0';

/** Parses `argv` (without node and script), runs the command, and returns the process exit code. */
export async function main(argv: readonly string[], deps?: CliDeps): Promise<number> {
  const invoked = invokedCommand(argv);
  const d = deps ?? (await defaultDeps(invoked?.stages ?? false));
  let command;
  try {
    command = await invoked?.load(d, argv);
  } catch (e) {
    return report(e, d, argv.includes('--json'));
  }
  const parser = yargs([...argv])
    .scriptName('revcor')
    .usage('$0 <command> [options]\n\nSystems-neuroscience physiology on CNNs as a resumable, checkpointed pipeline.');
  for (const c of COMMANDS) parser.command(c === invoked && command ? command : listedOnly(c));
  parser
    .middleware((parsed) => checkValuedOptions(argv, parsed as Record<string, unknown>), true)
    .demandCommand(1, 'Expected a command (run, status, validate, inspect, clean), got none')
    .example('$0 run', 'Run the default experiment (config/default.yaml) into artifacts/default')
    .example('$0 run config/smoke.yaml --out /tmp/smoke', 'Run another experiment elsewhere')
    .example('$0 run --set awc.shuffles=30 --dry-run', 'What a change would rerun, and why')
    .example('$0 status artifacts/default', 'What is done, stale or pending, and why')
    .example('$0 summary artifacts/default', 'The per-layer table; report.html beside it has the RF atlas')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg, { hint: 'Run `revcor --help` (or `revcor <command> --help`) for usage.' });
    });
  try {
    await parser.parseAsync();
    return 0;
  } catch (e) {
    return report(e, d, argv.includes('--json'));
  }
}

/** Prints an error the way its kind deserves and returns the exit code (Redis passwords masked everywhere). */
export function report(e: unknown, d: CliDeps, json: boolean): number {
  const { stdout, stderr } = d;
  const out = { write: (t: string) => stdout.write(redact(t)) } as NodeJS.WritableStream;
  const err = { write: (t: string) => stderr.write(redact(t)) } as NodeJS.WritableStream;
  d = { ...d, stdout: out, stderr: err };
  if (e instanceof RevcorError) {
    if (json) println(d.stdout, JSON.stringify({ type: 'error', time: new Date().toISOString(), error: e.name, message: e.message, hint: e.hint ?? null }));
    println(d.stderr, `error: ${e.message}`, ...(e.hint ? e.hint.split('\n') : []));
    return e.exitCode;
  }
  if (e instanceof ShardFailure) {
    const cause = e.cause as Error | undefined;
    if (json) println(d.stdout, JSON.stringify({ type: 'error', time: new Date().toISOString(), error: 'ShardFailure', message: e.message, hint: e.advice }));
    println(d.stderr, `error: ${e.message} (a bug: please report it with this trace)`, cause?.stack ?? String(cause), e.advice);
    return 1;
  }
  println(d.stderr, `revcor: unexpected error (a bug: please report it with this trace)`, (e as Error)?.stack ?? String(e));
  return 1;
}
