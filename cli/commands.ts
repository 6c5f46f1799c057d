// The command table: what `revcor --help` lists, and how to load each command's module. Only the module of the
// command being run is imported, so no command pays for another's dependencies (ONNX Runtime, sharp, vega, BullMQ,
// h5wasm): `revcor status` and `revcor --help` start without them. `command` and `describe` repeat the modules'
// own (test/cli/commands.test.ts keeps them in step).
import type { CommandModule } from 'yargs';
import type { CliDeps } from './deps.ts';

/** One command: its yargs command string and description, and a loader for its full definition. */
export interface CommandEntry {
  /** yargs command string, e.g. 'status <dir>'. */
  command: string;
  describe: string;
  /** Whether the command uses the stage registry or the finalizers (deps.stages(), deps.finalizers()). */
  stages: boolean;
  /** Imports the command's module and builds its yargs command (options, handler). */
  load(deps: CliDeps, argv: readonly string[]): Promise<CommandModule<object, any>>;
}

/** Every command, in the order `revcor --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    command: 'run [config]',
    describe: 'Run an experiment (resumes where a previous run stopped; only stale or missing shards are computed)',
    stages: true,
    load: async (d, argv) => (await import('./run.ts')).runCommand(d, argv),
  },
  {
    command: 'status <dir>',
    describe: 'Show, per stage, how many shards are done, stale or pending (and why), bytes and time taken (for a grid: every point)',
    stages: true,
    load: async (d) => (await import('./status.ts')).statusCommand(d),
  },
  {
    command: 'summary <dir>',
    describe: 'Print the per-layer summary of a run: % responsive, % significant AWA/AWC, prediction matches, tuning and category statistics',
    stages: false,
    load: async (d) => (await import('./summary.ts')).summaryCommand(d),
  },
  {
    command: 'report <dir>',
    describe: 'Rebuild report.html of a run from its checkpoints (no stage is recomputed)',
    stages: false,
    load: async (d) => (await import('./report.ts')).reportCommand(d),
  },
  {
    command: 'atlas <dir>',
    describe: 'Write a PNG montage of the best-reconstructed units of each layer (AWA, AWC eigenvectors, energy)',
    stages: false,
    load: async (d) => (await import('./atlas.ts')).atlasCommand(d),
  },
  {
    command: 'validate <config>',
    describe: 'Check an experiment YAML (schema, input files, shard plans) without running anything',
    stages: true,
    load: async (d) => (await import('./validate.ts')).validateCommand(d),
  },
  {
    command: 'inspect <file>',
    describe: 'Show an Arrow checkpoint: schema, metadata, manifest check and the first rows',
    stages: false,
    load: async (d) => (await import('./inspect.ts')).inspectCommand(d),
  },
  {
    command: 'clean <dir>',
    describe: 'Delete checkpoints of a run (all, or of the given stages) so they are recomputed; files revcor did not write stay',
    stages: true,
    load: async (d) => (await import('./clean.ts')).cleanCommand(d),
  },
  {
    command: 'fork <src> <dst>',
    describe: 'Start a new run directory from the checkpoints of a finished one (hard links), to change a downstream setting without overwriting the original',
    stages: true,
    load: async (d) => (await import('./fork.ts')).forkCommand(d),
  },
  {
    command: 'compare <dir>',
    describe: "Compare the per-layer summaries of a grid's points side by side (value [95% interval] n), and write DIR/compare.html",
    stages: false,
    load: async (d) => (await import('./compare.ts')).compareCommand(d),
  },
  {
    command: 'cache <action> [dir]',
    describe: 'The shared checkpoint cache: status (size, entries, the runs using it) or gc (remove entries no run directory references)',
    stages: false,
    load: async (d) => (await import('./cache.ts')).cacheCommand(d),
  },
  {
    command: 'diff <a> <b>',
    describe: 'Compare the data of two runs checkpoint by checkpoint, column by column (metadata ignored)',
    stages: false,
    load: async (d) => (await import('./diff.ts')).diffCommand(d),
  },
  {
    command: 'export <dir>',
    describe: 'Write the checkpoints of a run as Parquet (or CSV) files with column meanings, for DuckDB, polars, pandas, R and Spark',
    stages: false,
    load: async (d) => (await import('./export.ts')).exportCommand(d),
  },
  {
    command: 'model <action> [config]',
    describe: 'Show the network of an experiment: weights source, per-layer RF geometry, noise canvas, analysable outputs of an ONNX graph',
    stages: false,
    load: async (d) => (await import('./model.ts')).modelCommand(d),
  },
  {
    command: 'weights <action> <arch>',
    describe: 'Download the official Keras ImageNet weights (vgg16 | vgg19) into ~/.keras/models, hash-checked',
    stages: false,
    load: async (d) => (await import('./weights.ts')).weightsCommand(d),
  },
  {
    command: 'worker',
    describe: 'Compute shards of distributed runs (`revcor run … --redis URL`) taken from a Redis queue',
    stages: true,
    load: async (d) => (await import('./worker.ts')).workerCommand(d),
  },
];

/** The name of a command ('status' for 'status <dir>'). */
export function commandName(entry: Pick<CommandEntry, 'command'>): string {
  return entry.command.split(' ')[0];
}

/** The command `argv` runs: its first word that names a command (options may come before it, as yargs allows). */
export function invokedCommand(argv: readonly string[]): CommandEntry | undefined {
  for (const word of argv) {
    const entry = COMMANDS.find((c) => commandName(c) === word);
    if (entry) return entry;
  }
  return undefined;
}

/** A command as `revcor --help` lists it, without its module (registered for every command that is not run). */
export function listedOnly(entry: CommandEntry): CommandModule<object, object> {
  return {
    command: entry.command,
    describe: entry.describe,
    handler: () => {
      throw new Error(`revcor ${commandName(entry)}: its module was not loaded (invokedCommand did not recognise the command line)`);
    },
  };
}
