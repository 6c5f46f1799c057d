// Per-layer summary of the physiology (docs/method.md §5 table, tuning and category statistics) from per-unit results.
// Pure: the summary stage aligns the upstream tables by channel and calls layerSummary once per layer.
import { DEFAULT_BOOTSTRAP, MISSING, meanEstimate, medianEstimate, proportionEstimate, spearmanEstimate, type BootstrapOptions, type Estimate } from './intervals.ts';
import { axialCosines } from './predict.ts';
import { V1_PROPERTIES, type V1PropertyName } from './v1-catalogue.ts';

/** Per-unit grating tuning of one layer (arrays aligned by unit; NaN where undefined). */
export interface TuningUnits {
  responsive: ArrayLike<number>;
  thetaPref: ArrayLike<number>;
  fPref: ArrayLike<number>;
  /** Every numeric per-unit tuning column by its checkpoint name (circular_variance, osi, …): the medians read these. */
  columns: Readonly<Record<string, ArrayLike<number>>>;
}

/** Per-unit AWA results of one layer. */
export interface AwaUnits {
  /** Activation varies over the noise stimuli (1/0). */
  responsive: ArrayLike<number>;
  /** Effective number of noise samples driving the unit, (Σa)²/Σa² (absent in checkpoints that predate it). */
  nEff?: ArrayLike<number>;
  /** Significant under the run's null (awa.nullModel). */
  significant: ArrayLike<number>;
  /** Significant under each null form (absent in checkpoints that predate them). */
  significantFiniteN?: ArrayLike<number>;
  significantPopulation?: ArrayLike<number>;
  thetaPred: ArrayLike<number>;
  fPred: ArrayLike<number>;
}

/** Per-unit verdicts of one RF estimate against the grating tuning, as the awc stage decided them (1/0). */
export interface UnitVerdicts {
  thetaMatch: ArrayLike<number>;
  fMatch: ArrayLike<number>;
  reconstructed: ArrayLike<number>;
}

/** Per-unit AWC results of one layer (nSigBottom null when no suppressive eigenpairs were kept). */
export interface AwcUnits {
  nSigTop: ArrayLike<number>;
  nSigBottom: ArrayLike<number> | null;
  thetaPred: ArrayLike<number>;
  fPred: ArrayLike<number>;
  /** The awc stage's verdicts for the AWA's and the AWC's predictions (science/predict.ts predictionVerdicts). */
  awaVerdicts: UnitVerdicts;
  awcVerdicts: UnitVerdicts;
}

/** Per-unit category selectivity of one layer ('' = no preferred category). */
export interface CategoryUnits {
  selective: ArrayLike<number>;
  /** Reliable category preference by split halves (absent in checkpoints that predate it). */
  reliable?: ArrayLike<number>;
  preferred: readonly string[];
  csi: ArrayLike<number>;
  sparseness: ArrayLike<number>;
}

/** One layer's row of the V1 comparison (V1_LAYER_COLUMNS of science/v1-catalogue.ts; NaN when skipped). */
export type V1Row = Readonly<Record<string, number | string>>;

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
  /** The v1 stage's similarity row of the layer. */
  v1?: V1Row;
}

/** How a summary statistic is estimated, and so which 95 % interval it carries. */
export type StatisticKind = 'proportion' | 'median' | 'mean' | 'correlation' | 'similarity';

/** The interval each kind of statistic carries (recorded in the summary checkpoint's metadata). */
export const INTERVAL_METHOD: Record<StatisticKind, string> = {
  proportion: 'Wilson score interval',
  median: 'percentile bootstrap (units resampled)',
  mean: 'percentile bootstrap (units resampled)',
  correlation: 'percentile bootstrap (pairs resampled)',
  similarity: 'percentile bootstrap of the model sample resampled to the data n (v1.bootstrap, coverage v1.level)',
};

/** A plain column of the summary (no interval). */
interface FieldSpec {
  name: string;
  type: 'string' | 'int' | 'number';
  doc: string;
  /** Unit of the value ('' when dimensionless). */
  unit?: string;
}

/** A statistic of the summary: four columns name, name_lo, name_hi, name_n (value, 95 % interval, observations). */
interface StatisticSpec {
  name: string;
  kind: StatisticKind;
  doc: string;
  /** Unit of the value and its interval (default: % for proportions, else ''). */
  unit?: string;
  /** A median over the grating-responsive units of this tuning column (the stage's checkpoint name). */
  of?: string;
  /** How the report shows it in the tuning table: header and decimals (statistics with `of`). */
  header?: string;
  digits?: number;
}

/**
 * Every column of the per-layer summary, in table order, with its meaning: the one place where statistics map to
 * columns. A statistic expands to `<name>` (value; percentages 0–100), `<name>_lo` / `<name>_hi` (95 % interval:
 * Wilson for proportions, percentile bootstrap otherwise) and `<name>_n` (observations it rests on). NaN where the
 * stage that feeds it did not run; n < MIN_N (science/intervals.ts) is shown as too few.
 */
export const SUMMARY_SPEC = [
  { name: 'layer', type: 'string', doc: 'analysed layer' },
  { name: 'n_units', type: 'int', doc: 'units (channels) analysed' },
  { name: 'rf_size', type: 'number', unit: 'px', doc: 'side of the RF crop, pixels (theoretical RF clipped to the image)' },
  { name: 'pct_responsive', kind: 'proportion', doc: '% of units responsive to gratings (max R - min R > tuning.epsilon over the (theta, f) grid: a unit whose response never changes is not)' },
  { name: 'pct_noise_responsive', kind: 'proportion', doc: '% of units whose activation varies over the noise stimuli (max a > min a)' },
  { name: 'median_n_eff', kind: 'median', unit: 'samples', doc: 'median effective number of noise samples (sum a)^2 / sum a^2 over the noise-responsive units' },
  { name: 'pct_awa_significant', kind: 'proportion', doc: '% of units with a significant AWA (max |z| >= awa.zThreshold, z under the run\'s awa.nullModel)' },
  { name: 'pct_awa_significant_finite_n', kind: 'proportion', doc: '% of units with a significant AWA under the finite-N null sigma_e sqrt(sum w^2 - 1/N)' },
  { name: 'pct_awa_significant_population', kind: 'proportion', doc: '% of units with a significant AWA under the population null sigma_e sqrt(sum w^2)' },
  { name: 'pct_awc_significant', kind: 'proportion', doc: '% of units with >= 1 significant excitatory AWC eigenvalue' },
  { name: 'pct_awc_suppressive', kind: 'proportion', doc: '% of units with >= 1 significant suppressive AWC eigenvalue' },
  { name: 'n_awa_compared', type: 'number', doc: 'units with a significant AWA and a grating response (denominator of the AWA match %)' },
  { name: 'pct_awa_theta_match', kind: 'proportion', doc: '% of compared units whose AWA theta_pred is within prediction.thetaTolerance of theta_pref' },
  { name: 'pct_awa_f_match', kind: 'proportion', doc: '% of compared units whose AWA f_pred is within prediction.sfTolerance octaves of f_pref' },
  { name: 'pct_awa_reconstructed', kind: 'proportion', doc: '% of all units reconstructed by the AWA (significant, theta and f match)' },
  { name: 'awa_theta_agreement', kind: 'mean', doc: 'axial agreement of AWA theta_pred with theta_pref over the compared units: mean cos 2(theta_pred - theta_pref) (1 identical, 0 unrelated, -1 orthogonal)' },
  { name: 'awa_logf_spearman', kind: 'correlation', doc: 'Spearman correlation of log f_pred (AWA) vs log f_pref over the compared units (NaN below 3)' },
  { name: 'n_awc_compared', type: 'number', doc: 'units with >= 1 significant excitatory AWC eigenvalue and a grating response' },
  { name: 'pct_awc_theta_match', kind: 'proportion', doc: '% of compared units whose AWC theta_pred matches theta_pref' },
  { name: 'pct_awc_f_match', kind: 'proportion', doc: '% of compared units whose AWC f_pred matches f_pref' },
  { name: 'pct_awc_reconstructed', kind: 'proportion', doc: '% of all units reconstructed by the AWC (significant eigenvalue, theta and f match)' },
  { name: 'awc_theta_agreement', kind: 'mean', doc: 'axial agreement of AWC theta_pred with theta_pref over the compared units: mean cos 2(theta_pred - theta_pref)' },
  { name: 'awc_logf_spearman', kind: 'correlation', doc: 'Spearman correlation of log f_pred (AWC) vs log f_pref over the compared units (NaN below 3)' },
  { name: 'n_responsive', type: 'number', doc: 'units responsive to gratings (the tuning medians are over these)' },
  { name: 'median_circular_variance', kind: 'median', of: 'circular_variance', header: 'circ. var.', digits: 2, doc: 'median circular variance at f_pref' },
  { name: 'median_osi', kind: 'median', of: 'osi', header: 'OSI', digits: 2, doc: 'median orientation selectivity index' },
  { name: 'median_ori_half_width', kind: 'median', unit: 'deg', of: 'ori_half_width', header: 'half-width °', digits: 1, doc: 'median orientation half-width at half height, degrees (units whose curve falls to half)' },
  { name: 'median_ori_bandwidth', kind: 'median', unit: 'deg', of: 'ori_bandwidth', header: 'bw 1/√2 °', digits: 1, doc: 'median orientation bandwidth, half-width at 1/sqrt(2) of the peak, degrees (units whose curve falls that far)' },
  { name: 'median_sf_bandwidth', kind: 'median', unit: 'octaves', of: 'sf_bandwidth', header: 'SF bw oct', digits: 2, doc: 'median SF bandwidth, octaves (units whose SF curve falls to half height on both sides)' },
  { name: 'median_f1f0', kind: 'median', of: 'f1f0', header: 'F1/F0', digits: 2, doc: 'median F1/F0 at (theta_pref, f_pref)' },
  { name: 'pct_category_selective', kind: 'proportion', doc: '% of units category-selective by the ANOVA (q <= category.fdr and CSI >= category.minCsi)' },
  { name: 'pct_category_reliable', kind: 'proportion', doc: '% of units with a reliable category preference: the same preferred category on two disjoint halves of every category\'s images and a split-half profile correlation beyond its permutation null (p <= category.splitHalf.alpha)' },
  { name: 'median_csi', kind: 'median', doc: 'median class-selectivity index' },
  { name: 'median_sparseness', kind: 'median', doc: 'median sparseness across categories' },
  { name: 'preferred_counts', type: 'string', doc: 'JSON {category: units}: preferred category of every unit' },
  { name: 'selective_preferred_counts', type: 'string', doc: 'JSON {category: units}: preferred category of the selective units' },
  { name: 'v1_score', kind: 'similarity', doc: 'V1 score: mean ceiled KS similarity to macaque V1 over the scored V1 properties (1 = as similar as the V1 data to themselves); n = V1-responsive units (docs/v1-comparison.md)' },
  ...V1_PROPERTIES.map((p) => ({
    name: `v1_${p.name}` as `v1_${V1PropertyName}`,
    kind: 'similarity' as const,
    doc: `ceiled KS similarity to ${p.dataset} of: ${p.meaning}${p.scored ? '' : ' (not in v1_score)'}; n = responsive units with a finite value`,
  })),
] as const satisfies readonly (FieldSpec | StatisticSpec)[];

type Spec = (typeof SUMMARY_SPEC)[number];
/** Names of the statistics (each with _lo, _hi, _n columns). */
export type StatisticName = Extract<Spec, { kind: StatisticKind }>['name'];
type TextName = Extract<Spec, { type: 'string' }>['name'];
type NumberName = Exclude<Extract<Spec, { type: string }>['name'], TextName>;
/** The suffixes a statistic's interval and n columns carry. */
export const INTERVAL_SUFFIXES = ['lo', 'hi', 'n'] as const;
type IntervalName = `${StatisticName}_${(typeof INTERVAL_SUFFIXES)[number]}`;

/** One row of the per-layer summary (columns: SUMMARY_SPEC). */
export type SummaryRow = { [K in TextName]: string } & { [K in NumberName | StatisticName | IntervalName]: number };

/** The statistics of the summary, in table order. */
export const SUMMARY_STATISTICS: readonly { name: StatisticName; kind: StatisticKind; doc: string; unit?: string; of?: string; header?: string; digits?: number }[] = SUMMARY_SPEC.filter((s): s is Extract<Spec, { kind: StatisticKind }> => 'kind' in s);

/** Whether a column name is a statistic (value column with _lo, _hi, _n siblings). */
export function isStatistic(name: string): name is StatisticName {
  return SUMMARY_STATISTICS.some((s) => s.name === name);
}

/** The type of a plain column ('number' for statistic columns). */
export function columnType(name: string): 'string' | 'int' | 'number' {
  const s = SUMMARY_SPEC.find((c) => c.name === name);
  return s && 'type' in s ? s.type : 'number';
}

/** Column names of a summary row, in table order (every statistic expanded to value, _lo, _hi, _n). */
export const SUMMARY_COLUMNS: readonly (keyof SummaryRow)[] = SUMMARY_SPEC.flatMap((s) =>
  'kind' in s ? [s.name, ...INTERVAL_SUFFIXES.map((x) => `${s.name}_${x}` as IntervalName)] : [s.name],
);

/** The estimate of a statistic as stored in a row. */
export function rowEstimate(row: SummaryRow, name: StatisticName): Estimate {
  return { value: row[name], lo: row[`${name}_lo`], hi: row[`${name}_hi`], n: row[`${name}_n`] };
}

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

/**
 * Prediction statistics of one RF estimate against the grating tuning, over the units where `hasRf` holds and that
 * respond to gratings; the match flags and "reconstructed" are the awc stage's verdicts (read, not recomputed).
 */
function predictionStats(
  n: number,
  tuning: TuningUnits | undefined,
  pred: { thetaPred: ArrayLike<number>; fPred: ArrayLike<number> } | undefined,
  hasRf: (i: number) => boolean,
  verdicts: UnitVerdicts | undefined,
  boot: BootstrapOptions,
): { n: number; theta: Estimate; f: Estimate; reconstructed: Estimate; agreement: Estimate; spearman: Estimate } {
  if (!tuning || !pred || !verdicts) return { n: NaN, theta: MISSING, f: MISSING, reconstructed: MISSING, agreement: MISSING, spearman: MISSING };
  const compared = where(n, (i) => hasRf(i) && tuning.responsive[i] === 1);
  let theta = 0;
  let f = 0;
  for (const i of compared) {
    theta += +(verdicts.thetaMatch[i] === 1);
    f += +(verdicts.fMatch[i] === 1);
  }
  const both = where(n, (i) => verdicts.reconstructed[i] === 1).length;
  const log2 = (x: number) => (x > 0 ? Math.log2(x) : NaN);
  return {
    n: compared.length,
    theta: proportionEstimate(theta, compared.length, boot.level),
    f: proportionEstimate(f, compared.length, boot.level),
    reconstructed: proportionEstimate(both, n, boot.level),
    agreement: meanEstimate(axialCosines(compared.map((i) => pred.thetaPred[i]!), compared.map((i) => tuning.thetaPref[i]!)), boot),
    spearman: spearmanEstimate(compared.map((i) => log2(pred.fPred[i]!)), compared.map((i) => log2(tuning.fPref[i]!)), boot),
  };
}

/** The V1 similarities of a layer as estimates: the v1 stage's value, interval and n (v1_score: n = responsive units). */
function v1Estimates(row: V1Row | undefined): Record<'v1_score' | `v1_${V1PropertyName}`, Estimate> {
  const at = (k: string) => (row && typeof row[k] === 'number' ? (row[k] as number) : NaN);
  const one = (name: string, n: string): Estimate => (row ? { value: at(name), lo: at(`${name}_lo`), hi: at(`${name}_hi`), n: at(n) } : MISSING);
  return Object.fromEntries([['v1_score', one('v1_score', 'v1_n_responsive')], ...V1_PROPERTIES.map((p) => [`v1_${p.name}`, one(`v1_${p.name}`, `v1_${p.name}_n`)])]) as Record<'v1_score' | `v1_${V1PropertyName}`, Estimate>;
}

/** Builds a row from plain fields and estimates (each estimate fills its four columns). */
function assemble(plain: Record<string, number | string>, stats: Record<StatisticName, Estimate>): SummaryRow {
  const row: Record<string, number | string> = { ...plain };
  for (const [name, e] of Object.entries(stats)) {
    row[name] = e.value;
    row[`${name}_lo`] = e.lo;
    row[`${name}_hi`] = e.hi;
    row[`${name}_n`] = e.n;
  }
  return row as SummaryRow;
}

/** The per-layer summary row (docs/method.md §5 table plus tuning and category statistics), every statistic with its interval. */
export function layerSummary(u: LayerUnits, boot: BootstrapOptions = DEFAULT_BOOTSTRAP): SummaryRow {
  const n = u.units;
  const t = u.tuning;
  const share = (a: ArrayLike<number> | undefined, pick: (v: number) => boolean): Estimate =>
    a ? proportionEstimate(where(n, (i) => pick(a[i]!)).length, n, boot.level) : MISSING;
  const awa = predictionStats(n, t, u.awa, (i) => u.awa!.significant[i] === 1, u.awc?.awaVerdicts, boot);
  const awc = predictionStats(n, t, u.awc, (i) => u.awc!.nSigTop[i]! > 0, u.awc?.awcVerdicts, boot);
  const responsive = t ? where(n, (i) => t.responsive[i] === 1) : [];
  const overResponsive = (a: ArrayLike<number> | undefined): Estimate => (a ? medianEstimate(responsive.map((i) => a[i]!), boot) : MISSING);
  const c = u.category;
  const one = (v: number) => v === 1;
  // every statistic declared `of` a tuning column: its median over the grating-responsive units
  const tuningMedians = Object.fromEntries(SUMMARY_STATISTICS.filter((s) => s.of).map((s) => [s.name, overResponsive(t?.columns[s.of!])])) as Record<Extract<Spec, { of: string }>["name"], Estimate>;
  return assemble(
    {
      layer: u.layer,
      n_units: n,
      rf_size: u.rfSize,
      n_awa_compared: awa.n,
      n_awc_compared: awc.n,
      n_responsive: t ? responsive.length : NaN,
      preferred_counts: c ? countsJson(c.preferred, where(n, () => true)) : '',
      selective_preferred_counts: c ? countsJson(c.preferred, where(n, (i) => c.selective[i] === 1)) : '',
    },
    {
      pct_responsive: share(t?.responsive, one),
      pct_noise_responsive: share(u.awa?.responsive, one),
      median_n_eff: u.awa?.nEff ? medianEstimate(where(n, (i) => u.awa!.responsive[i] === 1).map((i) => u.awa!.nEff![i]!), boot) : MISSING,
      pct_awa_significant: share(u.awa?.significant, one),
      pct_awa_significant_finite_n: share(u.awa?.significantFiniteN, one),
      pct_awa_significant_population: share(u.awa?.significantPopulation, one),
      pct_awc_significant: share(u.awc?.nSigTop, (v) => v > 0),
      pct_awc_suppressive: share(u.awc?.nSigBottom ?? undefined, (v) => v > 0),
      pct_awa_theta_match: awa.theta,
      pct_awa_f_match: awa.f,
      pct_awa_reconstructed: awa.reconstructed,
      awa_theta_agreement: awa.agreement,
      awa_logf_spearman: awa.spearman,
      pct_awc_theta_match: awc.theta,
      pct_awc_f_match: awc.f,
      pct_awc_reconstructed: awc.reconstructed,
      awc_theta_agreement: awc.agreement,
      awc_logf_spearman: awc.spearman,
      ...tuningMedians,
      ...v1Estimates(u.v1),
      pct_category_selective: share(c?.selective, one),
      pct_category_reliable: share(c?.reliable, one),
      median_csi: c ? medianEstimate(c.csi, boot) : MISSING,
      median_sparseness: c ? medianEstimate(c.sparseness, boot) : MISSING,
    },
  );
}
