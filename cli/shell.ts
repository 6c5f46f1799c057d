// Shell helpers: quoting, and the exact command that resumes an interrupted run (from process.argv).
// Tested in test/cli/cli.test.ts.
import { basename, isAbsolute, relative } from 'node:path';

/** Quotes one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** How this process was started, as the user would type it (npx revcor, npm run revcor --, revcor, node FILE). */
export function invocation(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_command === 'exec') return 'npx revcor';
  if (env.npm_command === 'run-script' && env.npm_lifecycle_event) return `npm run ${env.npm_lifecycle_event} --`;
  const script = argv[1] ?? 'revcor';
  if (basename(script) === 'revcor') return 'revcor';
  const rel = isAbsolute(script) ? relative(process.cwd(), script) : script;
  return `node ${shellQuote(rel.startsWith('..') ? script : rel)}`;
}

/** The run's own arguments minus what must not repeat on resume (--force recomputes, --dry-run does nothing). */
export function resumeArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--force' || a === '--dry-run' || a === '-n') {
      if (a === '--force' && i + 1 < args.length && !args[i + 1].startsWith('-')) i++;
      continue;
    }
    if (a.startsWith('--force=') || a.startsWith('--dry-run=')) continue;
    out.push(a);
  }
  return out;
}

/** The exact command that resumes this run. */
export function resumeCommand(args: readonly string[], prefix = invocation()): string {
  return [prefix, ...resumeArgs(args).map(shellQuote)].join(' ');
}
