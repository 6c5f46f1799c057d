// What `revcor compare` and compare.html show: the per-layer summary of every point of a grid, each statistic with
// its value, 95 % interval and n. The only module of the comparison that knows how a point's numbers are read —
// today through the run readers (report/source.ts openRunDir, report/build.ts runSummary: summary rows carrying
// value/_lo/_hi/_n per statistic); switching to the typed results layer changes this file alone.
// Tested in test/report/compare-format.test.ts.
import { RevcorError } from '../pipeline/errors.ts';
import { pointDir, requireGrid, type GridRecord } from '../pipeline/grid-dir.ts';
import { probeRunDir } from '../pipeline/rundir.ts';
import { isStatistic, rowEstimate, type StatisticName, type SummaryRow } from '../science/layer-summary.ts';
import { runSummary } from './build.ts';
import { COLUMN_GROUPS, type ShownColumn } from './format.ts';
import { openRunDir } from './source.ts';

/** One statistic of one layer at one point. */
export interface Cell {
  value: number;
  lo: number;
  hi: number;
  n: number;
}

/** A compared statistic: its summary name, column header, group and how to print it. */
export interface ComparedStatistic {
  name: StatisticName;
  label: string;
  group: string;
  column: ShownColumn;
}

/** One point of the grid as compared. */
export interface ComparedPoint {
  name: string;
  settings: Record<string, unknown>;
  outDir: string;
  /** Why the point has no numbers (not run yet, no summary), or undefined. */
  missing?: string;
  /** Whether the numbers come from its summary checkpoint (false: computed from the checkpoints present). */
  fromCheckpoint: boolean;
}

/** The grid's summaries side by side. */
export interface Comparison {
  gridDir: string;
  grid: GridRecord;
  points: ComparedPoint[];
  /** Layers in the order of the first point that has them. */
  layers: string[];
  statistics: ComparedStatistic[];
  /** The cell of a point, layer and statistic (undefined: the point or layer has no such number). */
  cell(point: string, layer: string, stat: StatisticName): Cell | undefined;
}

/** Every statistic the summary tables show, in their order, with its group. */
export function comparedStatistics(): ComparedStatistic[] {
  return COLUMN_GROUPS.flatMap((g) => g.columns.filter((c) => isStatistic(c.key)).map((c) => ({ name: c.key as StatisticName, label: c.header, group: g.title, column: c })));
}

/** Reads the summary of every point of the grid at `gridDir` (`layers`/`stats`: only these; unknown names are errors). */
export async function readComparison(gridDir: string, opts: { layers?: readonly string[]; stats?: readonly string[] } = {}): Promise<Comparison> {
  const grid = await requireGrid(gridDir);
  const rows = new Map<string, Map<string, SummaryRow>>();
  const points: ComparedPoint[] = [];
  const layers: string[] = [];
  for (const p of grid.points) {
    const outDir = pointDir(gridDir, p.name);
    const cp: ComparedPoint = { name: p.name, settings: p.settings, outDir, fromCheckpoint: false };
    points.push(cp);
    if ((await probeRunDir(outDir)).kind !== 'run') {
      cp.missing = 'not run yet';
      continue;
    }
    try {
      const { rows: r, key } = await runSummary(await openRunDir(outDir));
      cp.fromCheckpoint = key !== null;
      rows.set(p.name, new Map(r.map((x) => [x.layer, x])));
      for (const x of r) if (!layers.includes(x.layer)) layers.push(x.layer);
    } catch (e) {
      cp.missing = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  const all = comparedStatistics();
  const unknown = (asked: readonly string[] | undefined, known: readonly string[], what: string): void => {
    const bad = (asked ?? []).filter((x) => !known.includes(x));
    if (bad.length) throw new CompareError(`${what} ${bad.join(', ')}: expected one of ${known.join(', ') || '(none: no point has results yet)'}, got ${bad.length === 1 ? 'an unknown one' : 'unknown ones'}`);
  };
  unknown(opts.layers, layers, '--layers');
  unknown(opts.stats, all.map((s) => s.name), '--stat');
  return {
    gridDir,
    grid,
    points,
    layers: opts.layers?.length ? layers.filter((l) => opts.layers!.includes(l)) : layers,
    statistics: opts.stats?.length ? all.filter((s) => opts.stats!.includes(s.name)) : all,
    cell(point, layer, stat) {
      const row = rows.get(point)?.get(layer);
      return row ? rowEstimate(row, stat) : undefined;
    },
  };
}

/** A comparison asked for layers or statistics the grid does not have. */
export class CompareError extends RevcorError {}
