// The finalizers of the revcor pipeline, registered beside its stages (cli/deps.ts): derived files written after a
// successful run. The report's modules (vega, sharp) load only when a finalizer actually runs.
// Tested in test/report/browser.test.ts.
import type { Experiment } from '../config/schema.ts';
import type { Finalizer } from '../pipeline/stage.ts';

/** summary/summary.csv and report.html, after every run in which the summary stage is done (skipped when current). */
export const reportFinalizer: Finalizer<Experiment> = {
  name: 'report',
  needs: ['summary'],
  run: async (ctx) => (await import('./write.ts')).writeRunOutputs(ctx),
};

/** Every finalizer of the pipeline, in the order they run. */
export function allFinalizers(): Finalizer<Experiment>[] {
  return [reportFinalizer];
}
