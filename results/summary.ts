// The summary stage's output (docs/method.md §5): one row per layer, its columns declared once by SUMMARY_SPEC
// (science/layer-summary.ts: every statistic with value, _lo, _hi, _n) and turned here into an Arrow declaration
// with units and meanings; summarise computes the rows from the upstream checkpoints, summaryTable builds the
// checkpoint, rowsFromTable reads it back. Tested in test/stages/summary.test.ts.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { MIN_N, type BootstrapOptions } from '../science/intervals.ts';
import { columnType, INTERVAL_METHOD, layerSummary, SUMMARY_COLUMNS, SUMMARY_SPEC, SUMMARY_STATISTICS, type SummaryRow } from '../science/layer-summary.ts';
import { buildTable, cellNumber, defineTable, readColumns, type BuildValues, type ColumnSpec, type ColumnType } from './columns.ts';
import { readLayerUnits } from './layer-units.ts';
import type { UpstreamReader } from './reader.ts';

/** The single shard of the summary stage (its file: <out>/summary/summary.arrow). */
export const SUMMARY_SHARD = 'summary';

/** What each summary column means (field metadata, CSV consumers, the report's header tooltips), from SUMMARY_SPEC. */
export const SUMMARY_DOC: Record<keyof SummaryRow, string> = Object.fromEntries(
  SUMMARY_SPEC.flatMap((s) => {
    if (!('kind' in s)) return [[s.name, s.doc]];
    const how = INTERVAL_METHOD[s.kind];
    const level = s.kind === 'similarity' ? 'v1.level' : '95%';
    return [
      [s.name, s.doc],
      [`${s.name}_lo`, `lower end of the ${level} interval of ${s.name} (${how})`],
      [`${s.name}_hi`, `upper end of the ${level} interval of ${s.name} (${how})`],
      [`${s.name}_n`, `observations ${s.name} rests on (shown as too few below ${MIN_N})`],
    ];
  }),
) as Record<keyof SummaryRow, string>;

/** The unit of a summary column. */
function unitOf(name: string): string {
  for (const s of SUMMARY_SPEC) {
    const unit = 'unit' in s ? (s.unit as string) : 'kind' in s && s.kind === 'proportion' ? '%' : '';
    if (s.name === name) return unit;
    if ('kind' in s && (name === `${s.name}_lo` || name === `${s.name}_hi`)) return unit;
    if ('kind' in s && name === `${s.name}_n`) return 'observations';
  }
  return '';
}

/** The Arrow type of a summary column (strings Utf8, n_units Int32, everything else Float64). */
function arrowTypeOf(name: string): ColumnType {
  const t = columnType(name);
  return t === 'string' ? 'utf8' : t === 'int' ? 'int32' : 'float64';
}

/** Columns of the summary checkpoint, in table order. */
export const SUMMARY = defineTable(
  'summary',
  SUMMARY_COLUMNS.map((name): ColumnSpec => ({ name, type: arrowTypeOf(name), unit: unitOf(name), meaning: SUMMARY_DOC[name] })),
);

/** The bootstrap settings of a run (summary.bootstrapReps, summary.seed; 95 % intervals). */
export function bootstrapOptions(config: Experiment): BootstrapOptions {
  return { reps: config.summary.bootstrapReps, seed: config.summary.seed, level: 0.95 };
}

/** The summary rows of a run (pure function of the upstream checkpoints and the config). */
export async function summarise(config: Experiment, up: UpstreamReader): Promise<SummaryRow[]> {
  const boot = bootstrapOptions(config);
  return (await readLayerUnits(config, up)).map((u) => layerSummary(u, boot));
}

/** The summary rows as the summary checkpoint. */
export function summaryTable(rows: readonly SummaryRow[], config: Experiment): Table {
  const values: Record<string, unknown> = {};
  for (const c of SUMMARY.columns) {
    const v = rows.map((r) => r[c.name as keyof SummaryRow]);
    values[c.name] = c.type === 'utf8' ? (v as string[]) : c.type === 'int32' ? Int32Array.from(v as number[]) : Float64Array.from(v as number[]);
  }
  return buildTable(SUMMARY, values as BuildValues<typeof SUMMARY.columns>, {
    'revcor.summary.columns': JSON.stringify(SUMMARY_DOC),
    'revcor.summary.statistics': JSON.stringify({
      level: 0.95,
      minN: MIN_N,
      bootstrap: bootstrapOptions(config),
      suffixes: { lo: 'lower end of the 95% interval', hi: 'upper end', n: 'observations' },
      statistics: SUMMARY_STATISTICS.map((s) => ({ name: s.name, kind: s.kind, interval: INTERVAL_METHOD[s.kind] })),
    }),
    'revcor.summary.tolerance': JSON.stringify({
      thetaDeg: config.prediction.thetaTolerance,
      octaves: config.prediction.sfTolerance,
      method: config.prediction.method,
      window: config.prediction.window,
    }),
    'revcor.summary.awa': JSON.stringify({ nullModel: config.awa.nullModel, zThreshold: config.awa.zThreshold }),
  });
}

/** Summary rows back from the checkpoint (columns it lacks — written by an older version — read as NaN / ''). */
export function rowsFromTable(t: Table): SummaryRow[] {
  const lenient = defineTable('summary', SUMMARY.columns.map((c) => ({ ...c, optional: true })));
  const cols = readColumns(lenient, t, 'summary checkpoint') as Record<string, ArrayLike<number> | (string | null)[] | undefined>;
  const out: SummaryRow[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const c of SUMMARY.columns) {
      const v = cols[c.name];
      row[c.name] = c.type === 'utf8' ? String((v as (string | null)[] | undefined)?.[r] ?? '') : v ? cellNumber(v[r]) : NaN;
    }
    out.push(row as unknown as SummaryRow);
  }
  return out;
}
