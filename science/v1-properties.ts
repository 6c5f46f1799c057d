// Per-unit V1 properties from grating responses, as Brain-Score's V1 property benchmarks measure them (Marques,
// Schrimpf & DiCarlo 2021; ../shared/datasets/v1-reference/README.md): the layer's activations are mapped affinely
// to spikes/s (median maximum 33.8, median blank 0.82 — Ringach's medians), clipped at 0, and every property is
// read from the mapped responses R(θ, f, φ): circular variance, orientation bandwidth, orthogonal/preferred ratio
// and F1/F0 at the preferred (θ, f) (Ringach 2002), peak spatial frequency (De Valois 1982) and Schiller's SF
// bandwidth 100·f_low/f_high (Schiller 1976). Pure; responses are row-major [stimulus × unit].
import { gratingGrid, reducePhase, type GratingSet } from './tuning.ts';
import { circularVarianceBS, orientationBandwidth, orthogonalPreferredRatio, sfCurveFit } from './v1-curves.ts';

/** Brain-Score's V1 constants (properties_common.py): Ringach's medians and the responsiveness threshold. */
export const V1_CONSTANTS = {
  /** Median maximum response of responsive V1 neurons, spikes/s. */
  medianMax: 33.8,
  /** Median spontaneous (blank) rate, spikes/s. */
  medianBaseline: 0.82,
  /** Largest single-neuron maximum, spikes/s: scales the threshold of the units the affine map is fitted on. */
  singleMax: 243.1,
  /** Responsive: maximum mean response more than this many spikes/s above the blank response. */
  responseThreshold: 5,
} as const;

/** The affine map activation ↦ spikes/s of one layer (NaN slope when no unit responds). */
export interface FiringRateMap {
  slope: number;
  offset: number;
  /** Units the map was fitted on: max − blank > (5/243.1)·(the layer's largest max − blank). */
  fitted: number;
}

/** Median of the values at the given indices (NaN when none). */
function medianAt(values: ArrayLike<number>, idx: readonly number[]): number {
  if (idx.length === 0) return NaN;
  const v = idx.map((i) => values[i]!).sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * Brain-Score's firing_rates_affine: over the units whose maximum mean response exceeds their blank response by
 * more than (5/243.1) of the layer's largest such difference, slope and offset map the median blank response to
 * 0.82 and the median maximum to 33.8 spikes/s. Inputs are raw activations (clipped at 0).
 */
export function firingRateMap(maxMean: ArrayLike<number>, blank: ArrayLike<number>): FiringRateMap {
  const n = maxMean.length;
  let top = -Infinity;
  for (let u = 0; u < n; u++) top = Math.max(top, Math.max(0, maxMean[u]!) - Math.max(0, blank[u]!));
  const threshold = (V1_CONSTANTS.responseThreshold / V1_CONSTANTS.singleMax) * top;
  const fit: number[] = [];
  for (let u = 0; u < n; u++) if (Math.max(0, maxMean[u]!) - Math.max(0, blank[u]!) > threshold) fit.push(u);
  const b = medianAt(Float64Array.from({ length: n }, (_, u) => Math.max(0, blank[u]!)), fit);
  const m = medianAt(Float64Array.from({ length: n }, (_, u) => Math.max(0, maxMean[u]!)), fit);
  if (!(m > b)) return { slope: NaN, offset: NaN, fitted: fit.length };
  const slope = (V1_CONSTANTS.medianMax - V1_CONSTANTS.medianBaseline) / (m - b);
  return { slope, offset: V1_CONSTANTS.medianBaseline - slope * b, fitted: fit.length };
}

/** Per-unit V1 properties of one layer, one typed array per property (NaN where undefined). */
export interface V1UnitProperties {
  nUnits: number;
  /** Mapped maximum mean response > mapped blank response + 5 spikes/s (1/0). */
  responsive: Uint8Array;
  /** Mapped blank (uniform mid-grey) response, spikes/s. */
  baseline: Float64Array;
  /** Mapped mean-over-phase response at the preferred (θ, f), spikes/s. */
  maxDc: Float64Array;
  /** Minimum of the mapped orientation curve at the preferred f. */
  minDc: Float64Array;
  /** Mapped F1 amplitude 2|Σφ R e^{iφ}|/nφ at the preferred (θ, f). */
  maxAc: Float64Array;
  /** F1/F0 of the mapped responses at the preferred (θ, f) (Brain-Score's modulation ratio). */
  modulationRatio: Float64Array;
  /** F1/F0 of the raw activations at the same (θ, f). */
  modulationRatioRaw: Float64Array;
  /** 1 − |Σ R e^{2iθ}| / Σ|R| of the mapped orientation curve at the preferred f. */
  circularVariance: Float64Array;
  /** Half-width at 0.707 of the peak, degrees (smoothed, spline); NaN when > 90° or open (not selective). */
  oriBandwidth: Float64Array;
  /** R(θ_pref + 90°)/R(θ_pref) of the mapped orientation curve. */
  orthPrefRatio: Float64Array;
  /** 1 when the orientation bandwidth is defined (≤ 90°), else 0. */
  oriSelective: Float64Array;
  /** Peak of the fitted SF curve (De Valois: mapped F0 − blank or F1, whichever peaks higher), cycles/degree. */
  peakSf: Float64Array;
  /** Schiller's SF bandwidth 100·f_low/f_high at 0.707 of the fitted peak of the mapped F0 curve (NaN when open). */
  sfBandwidth: Float64Array;
  /** 1 when the SF bandwidth is defined (the SF curve falls to 0.707 on both sides within the set), else 0. */
  sfSelective: Float64Array;
  /** The preferred grating: θ (degrees) and f (cycles/degree) of the maximal mapped mean response. */
  prefThetaDeg: Float64Array;
  prefSf: Float64Array;
}

/** Options of the V1 property measurement. */
export interface V1PropertyOptions {
  /** Pixels per degree of visual angle, to express spatial frequencies in cycles/degree (Brain-Score: 224 px = 8°). */
  pixelsPerDegree: number;
}

/**
 * V1 properties of every unit of a layer from its grating responses [stimulus × unit] (`set` gives each row's θ, f,
 * φ on a full θ × f × φ grid) and its responses to a blank, uniform mid-grey image (one per unit).
 */
export function v1UnitProperties(
  responses: Float32Array,
  nUnits: number,
  set: GratingSet,
  blank: ArrayLike<number>,
  options: V1PropertyOptions,
): { map: FiringRateMap; units: V1UnitProperties } {
  if (blank.length !== nUnits) throw new Error(`v1UnitProperties: expected ${nUnits} blank responses, got ${blank.length}`);
  const grid = gratingGrid(set);
  const U = nUnits;
  const nT = grid.thetaDeg.length;
  const nF = grid.sfCpp.length;
  const raw = reducePhase(clipped(responses), U, grid);
  const maxRaw = new Float64Array(U).fill(-Infinity);
  for (let c = 0; c < nT * nF; c++) for (let u = 0; u < U; u++) maxRaw[u] = Math.max(maxRaw[u]!, raw.mean[c * U + u]!);
  const map = firingRateMap(maxRaw, blank);
  const mapped = new Float32Array(responses.length);
  for (let i = 0; i < responses.length; i++) mapped[i] = Math.max(0, map.slope * Math.max(0, responses[i]!) + map.offset);
  const m = reducePhase(mapped, U, grid);
  const nan = () => new Float64Array(U).fill(NaN);
  const out: V1UnitProperties = {
    nUnits: U,
    responsive: new Uint8Array(U),
    baseline: nan(),
    maxDc: nan(),
    minDc: nan(),
    maxAc: nan(),
    modulationRatio: nan(),
    modulationRatioRaw: nan(),
    circularVariance: nan(),
    oriBandwidth: nan(),
    orthPrefRatio: nan(),
    oriSelective: nan(),
    peakSf: nan(),
    sfBandwidth: nan(),
    sfSelective: nan(),
    prefThetaDeg: nan(),
    prefSf: nan(),
  };
  if (Number.isNaN(map.slope)) return { map, units: out };
  const ppd = options.pixelsPerDegree;
  const dc = (t: number, f: number, u: number) => m.mean[(t * nF + f) * U + u]!;
  // F1 amplitude 2|Σφ R e^{iφ}|/nφ = (F1/F0)·mean (0 where every phase's response is 0).
  const ac = (t: number, f: number, u: number) => {
    const k = (t * nF + f) * U + u;
    return m.mean[k] === 0 ? 0 : m.f1f0[k]! * m.mean[k]!;
  };
  const ori = new Float64Array(nT);
  const sf = new Float64Array(nF);
  for (let u = 0; u < U; u++) {
    const base = Math.max(0, map.slope * Math.max(0, blank[u]!) + map.offset);
    // Preferred (f, θ): the first maximum in Brain-Score's order (frequency outer, orientation inner).
    let tp = 0;
    let fp = 0;
    for (let f = 0; f < nF; f++) for (let t = 0; t < nT; t++) if (dc(t, f, u) > dc(tp, fp, u)) [tp, fp] = [t, f];
    const maxDc = dc(tp, fp, u);
    const maxAc = ac(tp, fp, u);
    for (let t = 0; t < nT; t++) ori[t] = dc(t, fp, u);
    for (let f = 0; f < nF; f++) sf[f] = dc(tp, f, u);
    out.responsive[u] = maxDc > base + V1_CONSTANTS.responseThreshold ? 1 : 0;
    out.baseline[u] = base;
    out.maxDc[u] = maxDc;
    out.minDc[u] = Math.min(...ori);
    out.maxAc[u] = maxAc;
    out.modulationRatio[u] = maxAc / maxDc;
    out.modulationRatioRaw[u] = raw.f1f0[(tp * nF + fp) * U + u]!;
    out.circularVariance[u] = circularVarianceBS(ori, grid.thetaDeg);
    out.oriBandwidth[u] = orientationBandwidth(ori, grid.thetaDeg);
    out.orthPrefRatio[u] = orthogonalPreferredRatio(ori, grid.thetaDeg);
    out.oriSelective[u] = Number.isNaN(out.oriBandwidth[u]!) ? 0 : 1;
    const schiller = sfCurveFit(sf, grid.sfCpp);
    out.sfBandwidth[u] = schiller.ratio;
    out.sfSelective[u] = Number.isNaN(schiller.ratio) ? 0 : 1;
    out.peakSf[u] = deValoisPeak(nT, nF, u, base, dc, ac, grid.sfCpp) * ppd;
    out.prefThetaDeg[u] = grid.thetaDeg[tp]!;
    out.prefSf[u] = grid.sfCpp[fp]! * ppd;
  }
  return { map, units: out };
}

// Activations below 0 count as 0 (Brain-Score clips before the map; post-ReLU units are ≥ 0 already).
function clipped(responses: Float32Array): Float32Array {
  let negative = false;
  for (let i = 0; i < responses.length && !negative; i++) negative = responses[i]! < 0;
  return negative ? responses.map((r) => Math.max(0, r)) : responses;
}

// De Valois peak SF (c/px): the SF curve, at the preferred θ, of whichever component — mapped F0 minus the blank
// response, or F1 — holds the largest value over (f, θ, component), first maximum in that order.
function deValoisPeak(
  nT: number,
  nF: number,
  u: number,
  base: number,
  dc: (t: number, f: number, u: number) => number,
  ac: (t: number, f: number, u: number) => number,
  sfCpp: Float64Array,
): number {
  let best = -Infinity;
  let tp = 0;
  let comp = 0;
  for (let f = 0; f < nF; f++) {
    for (let t = 0; t < nT; t++) {
      const v0 = dc(t, f, u) - base;
      const v1 = ac(t, f, u);
      if (v0 > best) [best, tp, comp] = [v0, t, 0];
      if (v1 > best) [best, tp, comp] = [v1, t, 1];
    }
  }
  const curve = Float64Array.from({ length: nF }, (_, f) => (comp === 0 ? dc(tp, f, u) - base : ac(tp, f, u)));
  return sfCurveFit(curve, sfCpp).peak;
}
