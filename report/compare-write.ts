// Writes a grid's compare.html (`revcor compare`, and after every grid run whose points all finished): the summaries
// of its points read through report/compare-data.ts, plotted and tabulated by report/compare-html.ts.
// Tested in test/cli/grid.test.ts.
import { join } from 'node:path';
import { writeFileAtomic } from '../pipeline/atomic.ts';
import { readComparison, type Comparison } from './compare-data.ts';
import { compareFigures, compareHtml } from './compare-html.ts';

/** The comparison page's name inside the grid directory. */
export const COMPARE_FILE = 'compare.html';

/** Builds and writes <gridDir>/compare.html (atomically) from a comparison (default: every point, layer and statistic). */
export async function writeCompare(gridDir: string, cmp?: Comparison): Promise<string> {
  const c = cmp ?? (await readComparison(gridDir));
  const path = join(gridDir, COMPARE_FILE);
  await writeFileAtomic(path, compareHtml(c, await compareFigures(c)));
  return path;
}
