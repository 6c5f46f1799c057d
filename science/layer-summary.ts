// Per-layer summary of the physiology (SPEC §5 table, tuning and category statistics) from per-unit results.
// Pure: the summary stage aligns the upstream tables by channel and calls layerSummary once per layer.
import { circularCorrelation, matchFlags, spearman } from './predict.ts';

/** Per-unit grating tuning of one layer (arrays aligned by unit; NaN where undefined). */
export interface TuningUnits {
  responsive: ArrayLike<number>;
  thetaPref: ArrayLike<number>;
  fPref: ArrayLike<number>;
  circularVariance: ArrayLike<number>;
  osi: ArrayLike<number>;
  oriHalfWidth: ArrayLike<number>;
  sfBandwidth: ArrayLike<number>;
  f1f0: ArrayLike<number>;
}

/** Per-unit AWA results of one layer. */
export interface AwaUnits {
  responsive: ArrayLike<number>;
  /** Effective number of noise samples driving the unit, (Σa)²/Σa² (absent in checkpoints that predate it). */
  nEff?: ArrayLike<number>;
  significant: ArrayLike<number>;
  thetaPred: ArrayLike<number>;
  fPred: ArrayLike<number>;
}

/** Per-unit AWC results of one layer (nSigBottom null when no suppressive eigenpairs were kept). */
export interface AwcUnits {
  nSigTop: ArrayLike<number>;
  nSigBottom: ArrayLike<number> | null;
  thetaPred: ArrayLike<number>;
  fPred: ArrayLike<number>;
}

/** Per-unit category selectivity of one layer ('' = no preferred category). */
export interface CategoryUnits {
  selective: ArrayLike<number>;
  preferred: readonly string[];
  csi: ArrayLike<number>;
  sparseness: ArrayLike<number>;
}

/** Everything known about one layer's units; a part is absent when its stage did not run (disabled set). */
export interface LayerUnits {
  layer: string;
  /** Units of the layer (all parts present have this length, aligned by unit). */
  units: number;
  /** Side of the RF crop in pixels (NaN without noise). */
  rfSize: number;
  tuning?: TuningUnits;
  awa?: AwaUnits;
  awc?: AwcUnits;
  category?: CategoryUnits;
}

/** Match tolerances (SPEC §5; prediction.thetaTolerance / sfTolerance). */
export interface MatchTolerance {
  thetaDeg: number;
  octaves: number;
}

/** One row of the per-layer summary: percentages are 0–100, NaN where the data to compute them is missing. */
export interface SummaryRow {
  layer: string;
  n_units: number;
  rf_size: number;
  /** % of units responsive to gratings (max R > ε). */
  pct_responsive: number;
  /** % of units active on at least one noise stimulus (Σa > 0). */
  pct_noise_responsive: number;
  /**
   * Median effective sample size (Σa)²/Σa² over the noise-responsive units: how many of the N noise samples
   * actually drive the layer's units. The AWC null edge grows as (1 + √(D/N_eff))², so this bounds what can be seen.
   */
  median_n_eff: number;
  pct_awa_significant: number;
  /** % with ≥ 1 significant excitatory AWC eigenvalue. */
  pct_awc_significant: number;
  /** % with ≥ 1 significant suppressive AWC eigenvalue. */
  pct_awc_suppressive: number;
  /** Units compared for AWA predictions: significant AWA and responsive to gratings. */
  n_awa_compared: number;
  /** Of the compared units: % whose AWA θ_pred / f_pred matches θ_pref / f_pref. */
  pct_awa_theta_match: number;
  pct_awa_f_match: number;
  /** Of all units: % reconstructed by the AWA (significant, θ and f match). */
  pct_awa_reconstructed: number;
  /** Over the compared units: axial circular correlation θ_pred vs θ_pref; Spearman of log f_pred vs log f_pref. */
  awa_theta_circ_corr: number;
  awa_logf_spearman: number;
  n_awc_compared: number;
  pct_awc_theta_match: number;
  pct_awc_f_match: number;
  pct_awc_reconstructed: number;
  awc_theta_circ_corr: number;
  awc_logf_spearman: number;
  /** Tuning statistics: medians over the grating-responsive units' finite values. */
  n_responsive: number;
  median_circular_variance: number;
  median_osi: number;
  median_ori_half_width: number;
  /** Median SF bandwidth (octaves) over units whose SF curve falls to half height on both sides. */
  median_sf_bandwidth: number;
  median_f1f0: number;
  /** Category selectivity: % selective (ANOVA q ≤ fdr and CSI ≥ minCsi), medians over units with finite values. */
  pct_category_selective: number;
  median_csi: number;
  median_sparseness: number;
  /** JSON {category: units} of the preferred category of every unit with one, and of the selective units only. */
  preferred_counts: string;
  selective_preferred_counts: string;
}

/** Column names of a summary row, in table order. */
export const SUMMARY_COLUMNS: readonly (keyof SummaryRow)[] = [
  'layer', 'n_units', 'rf_size',
  'pct_responsive', 'pct_noise_responsive', 'median_n_eff', 'pct_awa_significant', 'pct_awc_significant', 'pct_awc_suppressive',
  'n_awa_compared', 'pct_awa_theta_match', 'pct_awa_f_match', 'pct_awa_reconstructed', 'awa_theta_circ_corr', 'awa_logf_spearman',
  'n_awc_compared', 'pct_awc_theta_match', 'pct_awc_f_match', 'pct_awc_reconstructed', 'awc_theta_circ_corr', 'awc_logf_spearman',
  'n_responsive', 'median_circular_variance', 'median_osi', 'median_ori_half_width', 'median_sf_bandwidth', 'median_f1f0',
  'pct_category_selective', 'median_csi', 'median_sparseness', 'preferred_counts', 'selective_preferred_counts',
];

/** 100·count/total, NaN when total is 0. */
export function percent(count: number, total: number): number {
  return total > 0 ? (100 * count) / total : NaN;
}

/** Median of the finite values (mean of the two middle ones for an even count); NaN when there are none. */
export function median(values: ArrayLike<number>): number {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]!);
  if (v.length === 0) return NaN;
  v.sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Units (indices) where pick(i) holds. */
function where(n: number, pick: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (pick(i)) out.push(i);
  return out;
}

/** Count of a category label over the given units, as stable JSON (keys sorted). */
function countsJson(labels: readonly string[], units: readonly number[]): string {
  const counts = new Map<string, number>();
  for (const i of units) if (labels[i]) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  return JSON.stringify(Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Prediction statistics of one RF estimate against the grating tuning, over units where `hasRf` holds. */
function predictionStats(
  n: number,
  tuning: TuningUnits | undefined,
  pred: { thetaPred: ArrayLike<number>; fPred: ArrayLike<number> } | undefined,
  hasRf: (i: number) => boolean,
  tol: MatchTolerance,
) {
  if (!tuning || !pred) return { n: NaN, theta: NaN, f: NaN, reconstructed: NaN, corr: NaN, spearman: NaN };
  const compared = where(n, (i) => hasRf(i) && tuning.responsive[i] === 1);
  let theta = 0;
  let f = 0;
  let both = 0;
  for (const i of compared) {
    const m = matchFlags({ thetaDeg: pred.thetaPred[i]!, fCpp: pred.fPred[i]! }, tuning.thetaPref[i]!, tuning.fPref[i]!, tol);
    theta += +m.theta;
    f += +m.f;
    both += +(m.theta && m.f);
  }
  const log2 = (x: number) => (x > 0 ? Math.log2(x) : NaN);
  return {
    n: compared.length,
    theta: percent(theta, compared.length),
    f: percent(f, compared.length),
    reconstructed: percent(both, n),
    corr: circularCorrelation(compared.map((i) => pred.thetaPred[i]!), compared.map((i) => tuning.thetaPref[i]!)),
    spearman: spearman(compared.map((i) => log2(pred.fPred[i]!)), compared.map((i) => log2(tuning.fPref[i]!))),
  };
}

/** The per-layer summary row (SPEC §5 table plus tuning and category statistics). */
export function layerSummary(u: LayerUnits, tol: MatchTolerance): SummaryRow {
  const n = u.units;
  const t = u.tuning;
  const count = (a: ArrayLike<number> | undefined, pick: (v: number) => boolean) => (a ? where(n, (i) => pick(a[i]!)).length : NaN);
  const pctOf = (a: ArrayLike<number> | undefined, pick: (v: number) => boolean) => (a ? percent(count(a, pick), n) : NaN);
  const awa = predictionStats(n, t, u.awa, (i) => u.awa!.significant[i] === 1, tol);
  const awc = predictionStats(n, t, u.awc, (i) => u.awc!.nSigTop[i]! > 0, tol);
  const responsive = t ? where(n, (i) => t.responsive[i] === 1) : [];
  const overResponsive = (a: ArrayLike<number> | undefined) => (a ? median(responsive.map((i) => a[i]!)) : NaN);
  const c = u.category;
  return {
    layer: u.layer,
    n_units: n,
    rf_size: u.rfSize,
    pct_responsive: pctOf(t?.responsive, (v) => v === 1),
    pct_noise_responsive: pctOf(u.awa?.responsive, (v) => v === 1),
    median_n_eff: u.awa?.nEff ? median(where(n, (i) => u.awa!.responsive[i] === 1).map((i) => u.awa!.nEff![i]!)) : NaN,
    pct_awa_significant: pctOf(u.awa?.significant, (v) => v === 1),
    pct_awc_significant: pctOf(u.awc?.nSigTop, (v) => v > 0),
    pct_awc_suppressive: pctOf(u.awc?.nSigBottom ?? undefined, (v) => v > 0),
    n_awa_compared: awa.n,
    pct_awa_theta_match: awa.theta,
    pct_awa_f_match: awa.f,
    pct_awa_reconstructed: awa.reconstructed,
    awa_theta_circ_corr: awa.corr,
    awa_logf_spearman: awa.spearman,
    n_awc_compared: awc.n,
    pct_awc_theta_match: awc.theta,
    pct_awc_f_match: awc.f,
    pct_awc_reconstructed: awc.reconstructed,
    awc_theta_circ_corr: awc.corr,
    awc_logf_spearman: awc.spearman,
    n_responsive: t ? responsive.length : NaN,
    median_circular_variance: overResponsive(t?.circularVariance),
    median_osi: overResponsive(t?.osi),
    median_ori_half_width: overResponsive(t?.oriHalfWidth),
    median_sf_bandwidth: overResponsive(t?.sfBandwidth),
    median_f1f0: overResponsive(t?.f1f0),
    pct_category_selective: pctOf(c?.selective, (v) => v === 1),
    median_csi: c ? median(c.csi) : NaN,
    median_sparseness: c ? median(c.sparseness) : NaN,
    preferred_counts: c ? countsJson(c.preferred, where(n, () => true)) : '',
    selective_preferred_counts: c ? countsJson(c.preferred, where(n, (i) => c.selective[i] === 1)) : '',
  };
}
