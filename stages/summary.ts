// The summary stage (SPEC §5): one row per analysed layer — % responsive, % significant AWA / AWC, how often
// the reconstructed RF predicts the grating tuning, tuning and category-selectivity statistics — from the
// tuning, category, awa and awc checkpoints. A stage whose set is disabled gives NaN / empty columns.
// After a run, the report finalizer (report/finalizers.ts) writes summary.csv and report.html from it.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import type { FinalizeContext, Stage, StageContext } from '../pipeline/stage.ts';
import { MIN_N, type BootstrapOptions } from '../science/intervals.ts';
import { columnType, INTERVAL_METHOD, layerSummary, SUMMARY_COLUMNS, SUMMARY_SPEC, SUMMARY_STATISTICS, type AwaUnits, type AwcUnits, type CategoryUnits, type LayerUnits, type SummaryRow, type TuningUnits } from '../science/layer-summary.ts';
import { numberVector, stringVector, tableWithMetadata } from './unit-columns.ts';
import { configuredLayers } from './unit-plan.ts';

/** The single shard of the summary stage (its file: <out>/summary/summary.arrow). */
export const SUMMARY_SHARD = 'summary';

/** The stages the summary reads. */
export const SUMMARY_UPSTREAM = ['tuning', 'category', 'awa', 'awc'] as const;

/** Read access to finished shards of the upstream stages (a stage view, or a run directory's checkpoints). */
export interface UpstreamReader {
  /** Finished shard ids of a stage (empty when the stage did not run). */
  shards(stage: string): readonly string[];
  read(stage: string, id: string): Promise<Table>;
}

/** One layer's columns of an upstream stage, by channel. */
interface LayerPart {
  channels: number[];
  num: Record<string, number[]>;
  str: Record<string, string[]>;
  /** Length of the first list column asked for, per unit (e.g. the AWA map), else 0. */
  listLength: number[];
}

/** A cell as a number: booleans 0/1, null NaN. */
function toNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number(v);
}

/** Splits a stage's shards into per-layer parts, reading only the named columns (missing optional ones are absent). */
async function readParts(
  up: UpstreamReader,
  stage: string,
  cols: { num: string[]; str?: string[]; optional?: string[]; list?: string },
): Promise<Map<string, LayerPart>> {
  const parts = new Map<string, LayerPart>();
  for (const id of up.shards(stage)) {
    const t = await up.read(stage, id);
    const layer = t.getChild('layer');
    const channel = t.getChild('channel');
    if (!layer || !channel) throw new InputError(`summary: the ${stage} shard ${id} has no layer/channel columns.`);
    const num = cols.num.map((c) => [c, t.getChild(c)] as const);
    for (const [c, v] of num) if (!v) throw new InputError(`summary: the ${stage} shard ${id} has no '${c}' column.`);
    const opt = (cols.optional ?? []).map((c) => [c, t.getChild(c)] as const).filter(([, v]) => v);
    const str = (cols.str ?? []).map((c) => [c, t.getChild(c)] as const);
    const list = cols.list ? t.getChild(cols.list) : null;
    for (let r = 0; r < t.numRows; r++) {
      const name = String(layer.get(r));
      let p = parts.get(name);
      if (!p) parts.set(name, (p = { channels: [], num: {}, str: {}, listLength: [] }));
      p.channels.push(Number(channel.get(r)));
      for (const [c, v] of [...num, ...opt]) (p.num[c] ??= []).push(toNumber(v!.get(r)));
      for (const [c, v] of str) (p.str[c] ??= []).push(v ? String(v.get(r) ?? '') : '');
      p.listLength.push(list ? ((list.get(r) as { length: number } | null)?.length ?? 0) : 0);
    }
  }
  return parts;
}

/** A part's numeric column re-indexed onto `channels` (NaN where the part lacks a channel). */
function aligned(p: LayerPart, column: string, index: Map<number, number>, n: number): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  const v = p.num[column];
  if (!v) return out;
  p.channels.forEach((ch, r) => {
    const i = index.get(ch);
    if (i !== undefined) out[i] = v[r]!;
  });
  return out;
}

/** Reads the upstream checkpoints into one LayerUnits per layer (layer order: the config's, else as found). */
export async function readLayerUnits(config: Experiment, up: UpstreamReader): Promise<LayerUnits[]> {
  const tuning = await readParts(up, 'tuning', {
    num: ['responsive', 'theta_pref', 'sf_pref', 'circular_variance', 'osi', 'ori_half_width', 'sf_bandwidth', 'f1f0'],
  });
  const awa = await readParts(up, 'awa', {
    num: ['responsive', 'significant', 'theta_pred', 'f_pred'],
    optional: ['n_eff', 'significant_finite_n', 'significant_population'],
    list: 'awa',
  });
  const awc = await readParts(up, 'awc', { num: ['n_sig_top', 'awc_theta_pred', 'awc_f_pred'], optional: ['n_sig_bottom'] });
  const category = await readParts(up, 'category', { num: ['selective', 'csi', 'sparseness'], optional: ['reliable'], str: ['preferred_category'] });
  const found = [...new Set([...tuning.keys(), ...awa.keys(), ...category.keys(), ...awc.keys()])];
  const configured = configuredLayers(config);
  const order = configured ? [...configured.filter((l) => found.includes(l)), ...found.filter((l) => !configured.includes(l))] : found;
  const colour = config.stimuli.noise.color === 'rgb' ? 3 : 1;
  return order.map((layer) => {
    const parts = [tuning, awa, awc, category].map((m) => m.get(layer));
    const channels = [...new Set(parts.flatMap((p) => p?.channels ?? []))].sort((a, b) => a - b);
    const n = channels.length;
    const index = new Map(channels.map((c, i) => [c, i]));
    const col = (p: LayerPart, c: string) => aligned(p, c, index, n);
    const t = tuning.get(layer);
    const a = awa.get(layer);
    const w = awc.get(layer);
    const c = category.get(layer);
    const units: LayerUnits = { layer, units: n, rfSize: a && a.listLength.length ? Math.round(Math.sqrt(a.listLength[0]! / colour)) : NaN };
    if (t) {
      units.tuning = {
        responsive: col(t, 'responsive'),
        thetaPref: col(t, 'theta_pref'),
        fPref: col(t, 'sf_pref'),
        circularVariance: col(t, 'circular_variance'),
        osi: col(t, 'osi'),
        oriHalfWidth: col(t, 'ori_half_width'),
        sfBandwidth: col(t, 'sf_bandwidth'),
        f1f0: col(t, 'f1f0'),
      } satisfies TuningUnits;
    }
    if (a) {
      units.awa = { responsive: col(a, 'responsive'), significant: col(a, 'significant'), thetaPred: col(a, 'theta_pred'), fPred: col(a, 'f_pred') } satisfies AwaUnits;
      if (a.num['n_eff']) units.awa.nEff = col(a, 'n_eff');
      if (a.num['significant_finite_n']) units.awa.significantFiniteN = col(a, 'significant_finite_n');
      if (a.num['significant_population']) units.awa.significantPopulation = col(a, 'significant_population');
    }
    if (w) {
      units.awc = {
        nSigTop: col(w, 'n_sig_top'),
        nSigBottom: w.num['n_sig_bottom'] ? col(w, 'n_sig_bottom') : null,
        thetaPred: col(w, 'awc_theta_pred'),
        fPred: col(w, 'awc_f_pred'),
      } satisfies AwcUnits;
    }
    if (c) {
      const preferred = new Array<string>(n).fill('');
      c.channels.forEach((ch, r) => (preferred[index.get(ch)!] = c.str['preferred_category']![r]!));
      units.category = { selective: col(c, 'selective'), preferred, csi: col(c, 'csi'), sparseness: col(c, 'sparseness') } satisfies CategoryUnits;
      if (c.num['reliable']) units.category.reliable = col(c, 'reliable');
    }
    return units;
  });
}

/** What each summary column means (schema metadata, CSV consumers, the report's table), from SUMMARY_SPEC. */
export const SUMMARY_DOC: Record<keyof SummaryRow, string> = Object.fromEntries(
  SUMMARY_SPEC.flatMap((s) => {
    if (!('kind' in s)) return [[s.name, s.doc]];
    const how = INTERVAL_METHOD[s.kind];
    return [
      [s.name, s.doc],
      [`${s.name}_lo`, `lower end of the 95% interval of ${s.name} (${how})`],
      [`${s.name}_hi`, `upper end of the 95% interval of ${s.name} (${how})`],
      [`${s.name}_n`, `observations ${s.name} rests on (shown as too few below ${MIN_N})`],
    ];
  }),
) as Record<keyof SummaryRow, string>;

/** The bootstrap settings of a run (summary.bootstrapReps, summary.seed; 95 % intervals). */
export function bootstrapOptions(config: Experiment): BootstrapOptions {
  return { reps: config.summary.bootstrapReps, seed: config.summary.seed, level: 0.95 };
}

/** The summary rows of a run (pure function of the upstream checkpoints and the config). */
export async function summarise(config: Experiment, up: UpstreamReader): Promise<SummaryRow[]> {
  const tol = { thetaDeg: config.prediction.thetaTolerance, octaves: config.prediction.sfTolerance };
  const boot = bootstrapOptions(config);
  return (await readLayerUnits(config, up)).map((u) => layerSummary(u, tol, boot));
}

/** The summary rows as an Arrow table (strings Utf8, n_units Int32, everything else Float64). */
export function summaryTable(rows: readonly SummaryRow[], config: Experiment): Table {
  const columns: Record<string, ReturnType<typeof numberVector>> = {};
  for (const c of SUMMARY_COLUMNS) {
    const values = rows.map((r) => r[c]);
    const type = columnType(c);
    if (type === 'string') columns[c] = stringVector(values as string[]);
    else if (type === 'int') columns[c] = numberVector(Int32Array.from(values as number[]));
    else columns[c] = numberVector(Float64Array.from(values as number[]));
  }
  return tableWithMetadata(columns, {
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

/** Summary rows back from an Arrow table (the checkpoint; columns it lacks read as NaN / ''). */
export function rowsFromTable(t: Table): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const c of SUMMARY_COLUMNS) {
      const v = t.getChild(c)?.get(r);
      row[c] = columnType(c) === 'string' ? String(v ?? '') : toNumber(v);
    }
    out.push(row as unknown as SummaryRow);
  }
  return out;
}

/** An UpstreamReader over a running shard's upstream views. */
function stageReader(ctx: StageContext<Experiment>): UpstreamReader {
  return {
    shards: (stage) => ctx.upstream(stage).shards.map((s) => s.id),
    read: (stage, id) => ctx.upstream(stage).read(id),
  };
}

/** The summary stage. */
export const summaryStage: Stage<Experiment> = {
  name: 'summary',
  description: 'per-layer table: % responsive, % significant AWA/AWC, RF-predicted tuning matches, orientation agreement and correlations, tuning and category statistics, each with n and a 95% interval (SPEC §5)',
  version: '3', // 2: median_n_eff column; 3: 95% intervals and n for every statistic, theta agreement, AWA under both nulls, reliable category preference
  upstream: SUMMARY_UPSTREAM,
  configSlice: (config: Experiment) => ({ prediction: config.prediction, layers: config.model.layers, color: config.stimuli.noise.color, summary: config.summary, awa: { nullModel: config.awa.nullModel, zThreshold: config.awa.zThreshold } }),
  plan: () => [{ id: SUMMARY_SHARD, params: {} }],
  async run(_shard, ctx) {
    const rows = await summarise(ctx.config, stageReader(ctx));
    ctx.progress(1);
    return summaryTable(rows, ctx.config);
  },
};
