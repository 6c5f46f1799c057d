// The summary stage (SPEC §5): one row per analysed layer — % responsive, % significant AWA / AWC, how often
// the reconstructed RF predicts the grating tuning, tuning and category-selectivity statistics — from the
// tuning, category, awa and awc checkpoints. A stage whose set is disabled gives NaN / empty columns.
// After a run, the report finalizer (report/finalizers.ts) writes summary.csv and report.html from it.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import type { FinalizeContext, Stage, StageContext } from '../pipeline/stage.ts';
import { layerSummary, SUMMARY_COLUMNS, type AwaUnits, type AwcUnits, type CategoryUnits, type LayerUnits, type SummaryRow, type TuningUnits } from '../science/layer-summary.ts';
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
  const awa = await readParts(up, 'awa', { num: ['responsive', 'significant', 'theta_pred', 'f_pred'], optional: ['n_eff'], list: 'awa' });
  const awc = await readParts(up, 'awc', { num: ['n_sig_top', 'awc_theta_pred', 'awc_f_pred'], optional: ['n_sig_bottom'] });
  const category = await readParts(up, 'category', { num: ['selective', 'csi', 'sparseness'], str: ['preferred_category'] });
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
    }
    return units;
  });
}

/** What each summary column means (schema metadata, CSV consumers, the report's table). */
export const SUMMARY_DOC: Record<keyof SummaryRow, string> = {
  layer: 'analysed layer',
  n_units: 'units (channels) analysed',
  rf_size: 'side of the RF crop, pixels (theoretical RF clipped to the image)',
  pct_responsive: '% of units responsive to gratings (max R > epsilon)',
  pct_noise_responsive: '% of units active on at least one noise stimulus',
  median_n_eff: 'median effective number of noise samples (sum a)^2 / sum a^2 over the noise-responsive units',
  pct_awa_significant: '% of units with a significant AWA (max |z| >= awa.zThreshold)',
  pct_awc_significant: '% of units with >= 1 significant excitatory AWC eigenvalue',
  pct_awc_suppressive: '% of units with >= 1 significant suppressive AWC eigenvalue',
  n_awa_compared: 'units with a significant AWA and a grating response (denominator of the AWA match %)',
  pct_awa_theta_match: '% of compared units whose AWA theta_pred is within prediction.thetaTolerance of theta_pref',
  pct_awa_f_match: '% of compared units whose AWA f_pred is within prediction.sfTolerance octaves of f_pref',
  pct_awa_reconstructed: '% of all units reconstructed by the AWA (significant, theta and f match)',
  awa_theta_circ_corr: 'axial circular correlation of AWA theta_pred vs theta_pref over the compared units',
  awa_logf_spearman: 'Spearman correlation of log f_pred (AWA) vs log f_pref over the compared units',
  n_awc_compared: 'units with >= 1 significant excitatory AWC eigenvalue and a grating response',
  pct_awc_theta_match: '% of compared units whose AWC theta_pred matches theta_pref',
  pct_awc_f_match: '% of compared units whose AWC f_pred matches f_pref',
  pct_awc_reconstructed: '% of all units reconstructed by the AWC (significant eigenvalue, theta and f match)',
  awc_theta_circ_corr: 'axial circular correlation of AWC theta_pred vs theta_pref over the compared units',
  awc_logf_spearman: 'Spearman correlation of log f_pred (AWC) vs log f_pref over the compared units',
  n_responsive: 'units responsive to gratings (the tuning medians are over these)',
  median_circular_variance: 'median circular variance at f_pref',
  median_osi: 'median orientation selectivity index',
  median_ori_half_width: 'median orientation half-width at half height, degrees (units whose curve falls to half)',
  median_sf_bandwidth: 'median SF bandwidth, octaves (units whose SF curve falls to half height on both sides)',
  median_f1f0: 'median F1/F0 at (theta_pref, f_pref)',
  pct_category_selective: '% of units category-selective (ANOVA q <= category.fdr and CSI >= category.minCsi)',
  median_csi: 'median class-selectivity index',
  median_sparseness: 'median sparseness across categories',
  preferred_counts: 'JSON {category: units}: preferred category of every unit',
  selective_preferred_counts: 'JSON {category: units}: preferred category of the selective units',
};

/** The summary rows of a run (pure function of the upstream checkpoints and the config). */
export async function summarise(config: Experiment, up: UpstreamReader): Promise<SummaryRow[]> {
  const tol = { thetaDeg: config.prediction.thetaTolerance, octaves: config.prediction.sfTolerance };
  return (await readLayerUnits(config, up)).map((u) => layerSummary(u, tol));
}

/** The summary rows as an Arrow table (strings Utf8, counts and statistics Float64, n_units Int32). */
export function summaryTable(rows: readonly SummaryRow[], config: Experiment): Table {
  const columns: Record<string, ReturnType<typeof numberVector>> = {};
  for (const c of SUMMARY_COLUMNS) {
    const values = rows.map((r) => r[c]);
    if (c === 'layer' || c === 'preferred_counts' || c === 'selective_preferred_counts') columns[c] = stringVector(values as string[]);
    else if (c === 'n_units') columns[c] = numberVector(Int32Array.from(values as number[]));
    else columns[c] = numberVector(Float64Array.from(values as number[]));
  }
  return tableWithMetadata(columns, {
    'revcor.summary.columns': JSON.stringify(SUMMARY_DOC),
    'revcor.summary.tolerance': JSON.stringify({ thetaDeg: config.prediction.thetaTolerance, octaves: config.prediction.sfTolerance, method: config.prediction.method }),
  });
}

/** Summary rows back from an Arrow table (the checkpoint). */
export function rowsFromTable(t: Table): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const c of SUMMARY_COLUMNS) {
      const v = t.getChild(c)?.get(r);
      row[c] = c === 'layer' || c === 'preferred_counts' || c === 'selective_preferred_counts' ? String(v ?? '') : toNumber(v);
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
  description: 'per-layer table: % responsive, % significant AWA/AWC, RF-predicted tuning matches and correlations, tuning and category statistics (SPEC §5)',
  version: '2', // 2: median_n_eff column
  upstream: SUMMARY_UPSTREAM,
  configSlice: (config: Experiment) => ({ prediction: config.prediction, layers: config.model.layers, color: config.stimuli.noise.color }),
  plan: () => [{ id: SUMMARY_SHARD, params: {} }],
  async run(_shard, ctx) {
    const rows = await summarise(ctx.config, stageReader(ctx));
    ctx.progress(1);
    return summaryTable(rows, ctx.config);
  },
};
