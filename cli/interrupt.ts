// Ctrl-C and SIGTERM during a run or a grid: the first signal asks the run to stop after the shards in flight
// (announced unless quiet), a second one quits at once: the signal is raised again with its default action, so the
// process ends by it (a shell sees 130, 143 for SIGTERM) without Node's exit sequence, which would end worker threads
// inside native calls (ONNX Runtime) and abort. Tested in test/cli/kill.test.ts and test/cli/interrupt.test.ts.
import { println, type CliDeps } from './deps.ts';

/** An abort signal that the first SIGINT/SIGTERM trips (when deps.handleSignals), and dispose() to unhook it. */
export function interruptOnSignals(deps: Pick<CliDeps, 'stderr' | 'handleSignals'>, quiet: boolean): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) return quitBySignal(sig, onSignal);
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

/** Quits at once: unhooks `handler` from SIGINT and SIGTERM and raises `sig` again, now with its default action. */
export function quitBySignal(sig: NodeJS.Signals, handler: (sig: NodeJS.Signals) => void): void {
  process.off('SIGINT', handler);
  process.off('SIGTERM', handler);
  process.kill(process.pid, sig);
}
