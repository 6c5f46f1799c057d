// Ctrl-C and SIGTERM during a run or a grid: the first signal asks the run to stop after the shards in flight
// (announced unless quiet), a second one quits at once with exit code 130. Tested in test/cli/kill.test.ts.
import { println, type CliDeps } from './deps.ts';

/** An abort signal that the first SIGINT/SIGTERM trips (when deps.handleSignals), and dispose() to unhook it. */
export function interruptOnSignals(deps: Pick<CliDeps, 'stderr' | 'handleSignals'>, quiet: boolean): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    if (!quiet) println(deps.stderr, `\n${sig}: stopping after the shards in flight finish (again to quit at once)…`);
    ac.abort(new Error(sig));
  };
  if (deps.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
