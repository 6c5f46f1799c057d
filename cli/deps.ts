// What every command receives: the stage registry, output streams and test seams (so tests can run toy stages).
// Tested in test/cli/weights.test.ts.
import type { Experiment } from '../config/schema.ts';
import type { Finalizer, Stage } from '../pipeline/stage.ts';
import type { RunOptions } from '../pipeline/runner.ts';
import { OutputError } from '../pipeline/errors.ts';
import { invocation } from './shell.ts';

/** Environment variable holding the Redis URL when --redis is not given (keeps a password out of `ps`). */
export const REDIS_ENV = 'REVCOR_REDIS';

/** Injected into the commands by cli/app.ts. */
export interface CliDeps {
  /** The stage registry. */
  stages: () => Stage<Experiment>[];
  /** Derived-file writers run after a successful run (report.html); none for toy stages. */
  finalizers?: () => Finalizer<Experiment>[];
  /** How the user invoked revcor (prefix of the printed resume command). */
  invocation: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Extra options for runPipeline (tests: writeHook). */
  runOptions?: Partial<RunOptions>;
  /** Whether `run` installs SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
}

/** Defaults for the real command line; the stage registry (all stage code) loads only for commands that use it. */
export async function defaultDeps(withStages = true): Promise<CliDeps> {
  const io = { invocation: invocation(), stdout: process.stdout, stderr: process.stderr, handleSignals: true };
  if (!withStages) {
    const missing = (): never => {
      throw new Error('the stage registry was not loaded: mark the command with `stages: true` in cli/commands.ts');
    };
    return { ...io, stages: missing, finalizers: missing };
  }
  const { allStages } = await import('../stages/index.ts');
  const { allFinalizers } = await import('../report/finalizers.ts');
  return { ...io, stages: allStages, finalizers: allFinalizers };
}

/** Writes lines to a stream. */
export function println(stream: NodeJS.WritableStream, ...lines: string[]): void {
  for (const l of lines) stream.write(l + '\n');
}

/** Refuses a --stage value that names no known stage ("Expected one of …"). */
export function checkStageArgs(requested: readonly string[], known: readonly string[]): void {
  for (const s of requested) {
    if (!known.includes(s)) throw new OutputError(`--stage ${s}: expected one of ${known.join(', ')}, got an unknown stage`);
  }
}
