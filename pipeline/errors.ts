// Errors a user can cause: each carries the message a user sees (file, key, what was expected) and no stack.
// Tested in test/cli/bad-input.test.ts.

/** Base class of user-facing errors; the CLI prints `message` (and `hint`) without a stack trace. */
export class RevcorError extends Error {
  /** Process exit code the CLI uses. */
  readonly exitCode: number = 2;
  /** One extra line of advice, e.g. the command that resumes a run. */
  hint?: string;
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** The experiment YAML is malformed or fails the schema. */
export class ConfigError extends RevcorError {}

/** An input file or folder (weights, images) is missing or unreadable. */
export class InputError extends RevcorError {}

/** A model file has the wrong layout, shapes or layers. */
export class ModelError extends RevcorError {}

/** The output directory cannot be used (unwritable, locked by another run). */
export class OutputError extends RevcorError {}

/** A checkpoint file is corrupt or does not match its manifest record. */
export class CheckpointError extends RevcorError {}

/** The run was interrupted (SIGINT/SIGTERM); exit code 130. */
export class InterruptedError extends RevcorError {
  override readonly exitCode = 130;
}
