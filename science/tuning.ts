// Orientation and spatial-frequency tuning of units to full-field gratings (docs/method.md §2), vectorised over units.
// Responses are row-major Float32Array matrices [stimulus × unit]; the grating descriptors give each row's
// (θ, f, φ). Nothing here allocates per unit: per-unit results are columns (typed arrays indexed by unit).

/** Per-stimulus grating descriptors (θ in degrees = wave-vector direction, f in cycles/px, φ in degrees). */
export interface GratingSet {
  thetaDeg: ArrayLike<number>;
  sfCpp: ArrayLike<number>;
  phaseDeg: ArrayLike<number>;
}

/** The (θ, f, φ) grid a grating set spans, and where each stimulus sits on it. */
export interface GratingGrid {
  /** Distinct orientations, ascending, degrees in [0, 180). */
  thetaDeg: Float64Array;
  /** Distinct spatial frequencies, ascending, cycles/px. */
  sfCpp: Float64Array;
  /** Distinct phases, ascending, degrees. */
  phaseDeg: Float64Array;
  /** Per stimulus: cell index t·nSf + f of its (θ, f). */
  cell: Int32Array;
  /** Per stimulus: its phase in radians. */
  phaseRad: Float64Array;
  /** Stimuli per (θ, f) cell (phases presented). */
  cellCount: Int32Array;
}

/** Phase-reduced responses, each [cell × unit] with cell = t·nSf + f. */
export interface PhaseReduced {
  nUnits: number;
  nTheta: number;
  nSf: number;
  /** R(θ, f): mean over phases. */
  mean: Float32Array;
  /** Max over phases. */
  max: Float32Array;
  /** F1/F0 = 2|Σφ R e^{iφ}| / Σφ R (NaN where Σφ R = 0). */
  f1f0: Float32Array;
}

export interface TuningOptions {
  /** Responsive when the response range over the (θ, f) grid exceeds epsilon: max R − min R > epsilon (docs/method.md §2). */
  epsilon: number;
  /** Which phase reduction the indices use: mean over phase (docs/method.md §2) or max over phase. */
  response: 'mean' | 'max';
  /** Half height = half the peak (zero) or half-way between the curve's minimum and its peak (baseline). */
  halfHeight: 'zero' | 'baseline';
}

export const DEFAULT_TUNING_OPTIONS: TuningOptions = { epsilon: 1e-6, response: 'mean', halfHeight: 'zero' };

/** Per-unit tuning indices, one typed array per index (NaN where undefined, e.g. unresponsive units). */
export interface TuningIndices {
  nUnits: number;
  /** max over (θ, f) of R. */
  maxResponse: Float32Array;
  /** max R − min R > epsilon: the response changes with the grating (a constant unit is not responsive). */
  responsive: Uint8Array;
  /** Index into grid.sfCpp of f_pref = argmax_f max_θ R (−1 when unresponsive). */
  sfPrefIndex: Int32Array;
  sfPref: Float64Array;
  /** Index into grid.thetaDeg of θ_pref = argmax_θ R(θ, f_pref) (−1 when unresponsive). */
  thetaPrefIndex: Int32Array;
  thetaPref: Float64Array;
  /** Vector-average orientation ½·arg Σθ R e^{2iθ} at f_pref, degrees in [0, 180). */
  thetaVector: Float64Array;
  /** CV = 1 − |Σ R e^{2iθ}| / Σ R at f_pref. */
  circularVariance: Float64Array;
  /** (R_pref − R_orth)/(R_pref + R_orth) at f_pref. */
  osi: Float64Array;
  /** Orientation half-width at half height, degrees (NaN when the curve never falls to half). */
  oriHalfWidth: Float64Array;
  /** Orientation bandwidth: half-width at 1/√2 of the peak (the V1 literature's), degrees (NaN when it never falls that far). */
  oriBandwidth: Float64Array;
  oriWidthOpen: Uint8Array;
  /** Half-height crossings of the SF curve at θ_pref, cycles/px (NaN when open on that side). */
  sfLow: Float64Array;
  sfHigh: Float64Array;
  /** log2(sfHigh / sfLow), octaves (NaN when either side is open). */
  sfBandwidth: Float64Array;
  sfLowOpen: Uint8Array;
  sfHighOpen: Uint8Array;
  /** F1/F0 and max-over-phase response at (θ_pref, f_pref). */
  f1f0Pref: Float64Array;
  maxPhasePref: Float64Array;
  /** Orientation curve at f_pref [unit × nTheta] (zeros when unresponsive: the curve at f index 0). */
  oriCurve: Float32Array;
  /** SF curve at θ_pref [unit × nSf]. */
  sfCurve: Float32Array;
}

const DEG = Math.PI / 180;

// Distinct values of xs (rounded to 1e-9 to absorb float noise), ascending.
function distinct(xs: ArrayLike<number>): Float64Array {
  const seen = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) {
    const key = Math.round(xs[i]! * 1e9);
    if (!seen.has(key)) seen.set(key, xs[i]!);
  }
  return Float64Array.from([...seen.values()].sort((a, b) => a - b));
}

// Index of x in the ascending array grid (exact up to 1e-9).
function indexOf(grid: Float64Array, x: number): number {
  let lo = 0;
  let hi = grid.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const d = grid[mid]! - x;
    if (Math.abs(d) <= 1e-9 * Math.max(1, Math.abs(x))) return mid;
    if (d < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Builds the (θ, f, φ) grid of a grating set; throws when some (θ, f) cell has no stimulus. */
export function gratingGrid(set: GratingSet): GratingGrid {
  const n = set.thetaDeg.length;
  if (set.sfCpp.length !== n || set.phaseDeg.length !== n) {
    throw new Error(`gratingGrid: descriptor lengths differ (${n}, ${set.sfCpp.length}, ${set.phaseDeg.length})`);
  }
  const theta = new Float64Array(n);
  for (let i = 0; i < n; i++) theta[i] = ((set.thetaDeg[i]! % 180) + 180) % 180;
  const thetaDeg = distinct(theta);
  const sfCpp = distinct(set.sfCpp);
  const phaseDeg = distinct(set.phaseDeg);
  const nSf = sfCpp.length;
  const cell = new Int32Array(n);
  const phaseRad = new Float64Array(n);
  const cellCount = new Int32Array(thetaDeg.length * nSf);
  for (let i = 0; i < n; i++) {
    const c = indexOf(thetaDeg, theta[i]!) * nSf + indexOf(sfCpp, set.sfCpp[i]!);
    cell[i] = c;
    phaseRad[i] = set.phaseDeg[i]! * DEG;
    cellCount[c]!++;
  }
  for (let c = 0; c < cellCount.length; c++) {
    if (cellCount[c] === 0) {
      const t = Math.floor(c / nSf);
      throw new Error(
        `gratingGrid: no grating at θ = ${thetaDeg[t]}°, f = ${sfCpp[c % nSf]} c/px; expected a full θ × f grid`,
      );
    }
  }
  return { thetaDeg, sfCpp, phaseDeg, cell, phaseRad, cellCount };
}

/** Reduces [stimulus × unit] responses over phase: mean R(θ, f), max, and F1/F0 per (θ, f) cell and unit. */
export function reducePhase(responses: Float32Array, nUnits: number, grid: GratingGrid): PhaseReduced {
  const nStim = grid.cell.length;
  if (responses.length !== nStim * nUnits) {
    throw new Error(`reducePhase: expected ${nStim}×${nUnits} responses, got ${responses.length}`);
  }
  const nTheta = grid.thetaDeg.length;
  const nSf = grid.sfCpp.length;
  const nCell = nTheta * nSf;
  const sum = new Float64Array(nCell * nUnits);
  const re = new Float64Array(nCell * nUnits);
  const im = new Float64Array(nCell * nUnits);
  const max = new Float32Array(nCell * nUnits).fill(-Infinity);
  for (let s = 0; s < nStim; s++) {
    const base = grid.cell[s]! * nUnits;
    const c = Math.cos(grid.phaseRad[s]!);
    const sn = Math.sin(grid.phaseRad[s]!);
    const row = s * nUnits;
    for (let u = 0; u < nUnits; u++) {
      const r = responses[row + u]!;
      const k = base + u;
      sum[k] += r;
      re[k] += r * c;
      im[k] += r * sn;
      if (r > max[k]!) max[k] = r;
    }
  }
  const mean = new Float32Array(nCell * nUnits);
  const f1f0 = new Float32Array(nCell * nUnits);
  for (let cIdx = 0; cIdx < nCell; cIdx++) {
    const inv = 1 / grid.cellCount[cIdx]!;
    for (let u = 0; u < nUnits; u++) {
      const k = cIdx * nUnits + u;
      mean[k] = sum[k]! * inv;
      f1f0[k] = sum[k] === 0 ? NaN : (2 * Math.hypot(re[k]!, im[k]!)) / sum[k]!;
    }
  }
  return { nUnits, nTheta, nSf, mean, max, f1f0 };
}

/** Circular variance of an orientation curve: 1 − |Σ R e^{2iθ}| / Σ R (NaN when Σ R = 0). */
export function circularVariance(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  let sn = 0;
  for (let i = 0; i < curve.length; i++) {
    const r = curve[i]!;
    s += r;
    c += r * Math.cos(2 * thetaDeg[i]! * DEG);
    sn += r * Math.sin(2 * thetaDeg[i]! * DEG);
  }
  return s === 0 ? NaN : 1 - Math.hypot(c, sn) / s;
}

/** Vector-average preferred orientation ½·arg Σ R e^{2iθ}, degrees in [0, 180) (NaN for a zero vector). */
export function vectorAverageOrientation(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>): number {
  let c = 0;
  let sn = 0;
  for (let i = 0; i < curve.length; i++) {
    c += curve[i]! * Math.cos(2 * thetaDeg[i]! * DEG);
    sn += curve[i]! * Math.sin(2 * thetaDeg[i]! * DEG);
  }
  if (c === 0 && sn === 0) return NaN;
  const deg = Math.atan2(sn, c) / DEG / 2;
  return ((deg % 180) + 180) % 180;
}

/** Value of an orientation curve at angle `atDeg`, linearly interpolated on the 180°-periodic grid. */
export function interpolateOrientation(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>, atDeg: number): number {
  const n = curve.length;
  const a = ((atDeg % 180) + 180) % 180;
  for (let i = 0; i < n; i++) {
    const t0 = thetaDeg[i]!;
    const j = (i + 1) % n;
    const step = (((thetaDeg[j]! - t0) % 180) + 180) % 180 || 180;
    const d = (((a - t0) % 180) + 180) % 180;
    if (d <= step) return curve[i]! + ((curve[j]! - curve[i]!) * d) / step;
  }
  return NaN;
}

/** Orientation selectivity index (R_pref − R_orth)/(R_pref + R_orth), R_orth interpolated at θ_pref + 90°. */
export function orientationSelectivity(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>, prefIndex: number): number {
  const rp = curve[prefIndex]!;
  const ro = interpolateOrientation(curve, thetaDeg, thetaDeg[prefIndex]! + 90);
  return rp + ro === 0 ? NaN : (rp - ro) / (rp + ro);
}

// The half-height level of a curve peaking at `peak` with minimum `min` (at `fraction` of the peak: ½ by default).
function halfLevel(peak: number, min: number, mode: TuningOptions['halfHeight'], fraction = 0.5): number {
  return mode === 'zero' ? peak * fraction : min + (peak - min) * fraction;
}

// Distance (degrees) from the peak to the first half-height crossing walking in direction dir (±1)
// around the 180°-periodic orientation curve, linearly interpolated; NaN if it never falls to `level`.
function orientationCrossing(
  curve: ArrayLike<number>,
  thetaDeg: ArrayLike<number>,
  prefIndex: number,
  level: number,
  dir: 1 | -1,
): number {
  const n = curve.length;
  let dist = 0;
  let prev = prefIndex;
  for (let k = 1; k < n; k++) {
    const idx = (((prefIndex + dir * k) % n) + n) % n;
    const step = ((((thetaDeg[idx]! - thetaDeg[prev]!) * dir) % 180) + 180) % 180;
    const r = curve[idx]!;
    if (r <= level) {
      const rp = curve[prev]!;
      return dist + (step * (rp - level)) / (rp - r);
    }
    dist += step;
    prev = idx;
  }
  return NaN;
}

/** Orientation half-width at half height (degrees, ≤ 90): mean distance from θ_pref to the two crossings. */
export function orientationHalfWidth(
  curve: ArrayLike<number>,
  thetaDeg: ArrayLike<number>,
  prefIndex: number,
  halfHeight: TuningOptions['halfHeight'] = 'zero',
  fraction = 0.5,
): number {
  const peak = curve[prefIndex]!;
  let min = Infinity;
  for (let i = 0; i < curve.length; i++) min = Math.min(min, curve[i]!);
  const level = halfLevel(peak, min, halfHeight, fraction);
  if (!(peak > level)) return NaN;
  const right = orientationCrossing(curve, thetaDeg, prefIndex, level, 1);
  const left = orientationCrossing(curve, thetaDeg, prefIndex, level, -1);
  return (right + left) / 2;
}

/**
 * Half-height crossing of an SF curve on the low (dir −1) or high (dir +1) side of its peak, in cycles/px,
 * interpolated linearly in R against log2 f; NaN when the curve does not fall to half within the range.
 */
export function sfCrossing(
  curve: ArrayLike<number>,
  sfCpp: ArrayLike<number>,
  prefIndex: number,
  level: number,
  dir: 1 | -1,
): number {
  for (let i = prefIndex + dir; i >= 0 && i < curve.length; i += dir) {
    const r = curve[i]!;
    if (r <= level) {
      const rp = curve[i - dir]!;
      const l0 = Math.log2(sfCpp[i - dir]!);
      const l1 = Math.log2(sfCpp[i]!);
      return 2 ** (l0 + ((l1 - l0) * (rp - level)) / (rp - r));
    }
  }
  return NaN;
}

/** SF bandwidth in octaves at half height, log2(f_high / f_low); NaN when either side is open. */
export function sfBandwidth(
  curve: ArrayLike<number>,
  sfCpp: ArrayLike<number>,
  prefIndex: number,
  halfHeight: TuningOptions['halfHeight'] = 'zero',
): number {
  const peak = curve[prefIndex]!;
  let min = Infinity;
  for (let i = 0; i < curve.length; i++) min = Math.min(min, curve[i]!);
  const level = halfLevel(peak, min, halfHeight);
  if (!(peak > level)) return NaN;
  return Math.log2(sfCrossing(curve, sfCpp, prefIndex, level, 1) / sfCrossing(curve, sfCpp, prefIndex, level, -1));
}

/** Computes every per-unit tuning index from phase-reduced responses (docs/method.md §2). */
export function tuningIndices(
  reduced: PhaseReduced,
  grid: GratingGrid,
  options: Partial<TuningOptions> = {},
): TuningIndices {
  const opts = { ...DEFAULT_TUNING_OPTIONS, ...options };
  const { nUnits: U, nTheta, nSf } = reduced;
  const R = opts.response === 'mean' ? reduced.mean : reduced.max;
  const nan = () => new Float64Array(U).fill(NaN);
  const out: TuningIndices = {
    nUnits: U,
    maxResponse: new Float32Array(U),
    responsive: new Uint8Array(U),
    sfPrefIndex: new Int32Array(U).fill(-1),
    sfPref: nan(),
    thetaPrefIndex: new Int32Array(U).fill(-1),
    thetaPref: nan(),
    thetaVector: nan(),
    circularVariance: nan(),
    osi: nan(),
    oriHalfWidth: nan(),
    oriBandwidth: nan(),
    oriWidthOpen: new Uint8Array(U),
    sfLow: nan(),
    sfHigh: nan(),
    sfBandwidth: nan(),
    sfLowOpen: new Uint8Array(U),
    sfHighOpen: new Uint8Array(U),
    f1f0Pref: nan(),
    maxPhasePref: nan(),
    oriCurve: new Float32Array(U * nTheta),
    sfCurve: new Float32Array(U * nSf),
  };
  // Max and min over cells, vectorised: one pass over [cell × unit].
  const best = new Float32Array(U).fill(-Infinity);
  const worst = new Float32Array(U).fill(Infinity);
  for (let c = 0; c < nTheta * nSf; c++) {
    const row = c * U;
    for (let u = 0; u < U; u++) {
      const r = R[row + u]!;
      if (r > best[u]!) best[u] = r;
      if (r < worst[u]!) worst[u] = r;
    }
  }
  const ori = new Float64Array(nTheta);
  const sf = new Float64Array(nSf);
  for (let u = 0; u < U; u++) {
    out.maxResponse[u] = best[u]!;
    // f_pref = argmax_f max_θ R (lowest f among ties), then θ_pref = argmax_θ R(θ, f_pref) (first among ties).
    let fPref = -1;
    for (let f = 0; f < nSf && fPref < 0; f++) {
      for (let t = 0; t < nTheta; t++) {
        if (R[(t * nSf + f) * U + u] === best[u]) {
          fPref = f;
          break;
        }
      }
    }
    if (fPref < 0) fPref = 0;
    let tPref = 0;
    for (let t = 0; t < nTheta; t++) {
      ori[t] = R[(t * nSf + fPref) * U + u]!;
      out.oriCurve[u * nTheta + t] = ori[t]!;
      if (ori[t]! > ori[tPref]!) tPref = t;
    }
    for (let f = 0; f < nSf; f++) {
      sf[f] = R[(tPref * nSf + f) * U + u]!;
      out.sfCurve[u * nSf + f] = sf[f]!;
    }
    // docs/method.md §2: responsive = the response changes over the grid; a constant (even tonically active) unit has no
    // preferred θ or f (its argmax would be the first grid cell, θ 0° and the lowest f).
    if (!(best[u]! - worst[u]! > opts.epsilon)) continue;
    out.responsive[u] = 1;
    out.sfPrefIndex[u] = fPref;
    out.sfPref[u] = grid.sfCpp[fPref]!;
    out.thetaPrefIndex[u] = tPref;
    out.thetaPref[u] = grid.thetaDeg[tPref]!;
    out.thetaVector[u] = vectorAverageOrientation(ori, grid.thetaDeg);
    out.circularVariance[u] = circularVariance(ori, grid.thetaDeg);
    out.osi[u] = orientationSelectivity(ori, grid.thetaDeg, tPref);
    const hw = orientationHalfWidth(ori, grid.thetaDeg, tPref, opts.halfHeight);
    out.oriHalfWidth[u] = hw;
    out.oriBandwidth[u] = orientationHalfWidth(ori, grid.thetaDeg, tPref, opts.halfHeight, Math.SQRT1_2);
    out.oriWidthOpen[u] = Number.isNaN(hw) ? 1 : 0;
    let min = Infinity;
    for (let f = 0; f < nSf; f++) min = Math.min(min, sf[f]!);
    const level = halfLevel(sf[fPref]!, min, opts.halfHeight);
    const lo = sf[fPref]! > level ? sfCrossing(sf, grid.sfCpp, fPref, level, -1) : NaN;
    const hi = sf[fPref]! > level ? sfCrossing(sf, grid.sfCpp, fPref, level, 1) : NaN;
    out.sfLow[u] = lo;
    out.sfHigh[u] = hi;
    out.sfLowOpen[u] = Number.isNaN(lo) ? 1 : 0;
    out.sfHighOpen[u] = Number.isNaN(hi) ? 1 : 0;
    out.sfBandwidth[u] = Math.log2(hi / lo);
    const k = (tPref * nSf + fPref) * U + u;
    out.f1f0Pref[u] = reduced.f1f0[k]!;
    out.maxPhasePref[u] = reduced.max[k]!;
  }
  return out;
}

/** Full tuning analysis of [stimulus × unit] grating responses: grid, phase reduction and indices. */
export function gratingTuning(
  responses: Float32Array,
  nUnits: number,
  set: GratingSet,
  options: Partial<TuningOptions> = {},
): { grid: GratingGrid; reduced: PhaseReduced; indices: TuningIndices } {
  const grid = gratingGrid(set);
  const reduced = reducePhase(responses, nUnits, grid);
  return { grid, reduced, indices: tuningIndices(reduced, grid, options) };
}
