// Tuning-curve measurements of Brain-Score's V1 property benchmarks (Marques, Schrimpf & DiCarlo 2021;
// brain-score/vision benchmark_helpers/properties_common.py), re-implemented on the same terms: circular variance,
// orthogonal/preferred ratio, orientation bandwidth (light Hanning smoothing, cubic spline, half-width at 0.707 of
// the peak on a 1° grid) and the spatial-frequency curve (light smoothing, cubic spline in log2 f on 100 points:
// peak and Schiller's 100·f_low/f_high at 0.707). The spline is scipy's UnivariateSpline(s = 0), i.e. the
// not-a-knot cubic interpolant. Pure functions on plain arrays; orientations in degrees in [0, 180).

const DEG = Math.PI / 180;

/** Threshold of the bandwidths, relative to the peak (1/√2 as Brain-Score writes it). */
export const HALF_POWER = 0.707;

/**
 * Slopes of the not-a-knot cubic spline through (x, y), x strictly increasing: the interpolant scipy's
 * UnivariateSpline(s = 0) and CubicSpline(bc_type = 'not-a-knot') return. Two points: the line; three: the parabola.
 */
export function notAKnotSlopes(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const n = x.length;
  const s = new Float64Array(n);
  if (n < 2) return s;
  const dx = new Float64Array(n - 1);
  const m = new Float64Array(n - 1);
  for (let i = 0; i < n - 1; i++) {
    dx[i] = x[i + 1]! - x[i]!;
    if (!(dx[i]! > 0)) throw new RangeError(`notAKnotSlopes: x must increase strictly, got x[${i}] = ${x[i]}, x[${i + 1}] = ${x[i + 1]}`);
    m[i] = (y[i + 1]! - y[i]!) / dx[i]!;
  }
  if (n === 2) {
    s.fill(m[0]!);
    return s;
  }
  if (n === 3) {
    // The parabola through three points: its slopes at the nodes.
    const c = (m[1]! - m[0]!) / (x[2]! - x[0]!);
    s[0] = m[0]! - c * dx[0]!;
    s[1] = m[0]! + c * dx[0]!;
    s[2] = m[1]! + c * dx[1]!;
    return s;
  }
  // Tridiagonal system (sub a, diag b, super c, rhs d), as scipy's CubicSpline builds it.
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  for (let i = 1; i < n - 1; i++) {
    a[i] = dx[i]!;
    b[i] = 2 * (dx[i - 1]! + dx[i]!);
    c[i] = dx[i - 1]!;
    d[i] = 3 * (dx[i]! * m[i - 1]! + dx[i - 1]! * m[i]!);
  }
  const d0 = x[2]! - x[0]!;
  b[0] = dx[1]!;
  c[0] = d0;
  d[0] = ((dx[0]! + 2 * d0) * dx[1]! * m[0]! + dx[0]! * dx[0]! * m[1]!) / d0;
  const dn = x[n - 1]! - x[n - 3]!;
  b[n - 1] = dx[n - 3]!;
  a[n - 1] = dn;
  d[n - 1] = (dx[n - 2]! * dx[n - 2]! * m[n - 3]! + (2 * dn + dx[n - 2]!) * dx[n - 3]! * m[n - 2]!) / dn;
  // Thomas algorithm.
  for (let i = 1; i < n; i++) {
    const w = a[i]! / b[i - 1]!;
    b[i] = b[i]! - w * c[i - 1]!;
    d[i] = d[i]! - w * d[i - 1]!;
  }
  s[n - 1] = d[n - 1]! / b[n - 1]!;
  for (let i = n - 2; i >= 0; i--) s[i] = (d[i]! - c[i]! * s[i + 1]!) / b[i]!;
  return s;
}

/** Values at `at` of the cubic Hermite interpolant with node slopes `slopes` (outside the nodes: the end pieces extended). */
export function evalCubic(x: ArrayLike<number>, y: ArrayLike<number>, slopes: ArrayLike<number>, at: ArrayLike<number>): Float64Array {
  const n = x.length;
  const out = new Float64Array(at.length);
  if (n === 1) return out.fill(y[0]!);
  let k = 0;
  for (let j = 0; j < at.length; j++) {
    const t = at[j]!;
    // Interval [x_k, x_k+1] holding t (the first/last one outside the range); `at` is usually ascending.
    if (k > 0 && t < x[k]!) k = 0;
    while (k < n - 2 && t > x[k + 1]!) k++;
    const h = x[k + 1]! - x[k]!;
    const u = (t - x[k]!) / h;
    const h00 = (1 + 2 * u) * (1 - u) * (1 - u);
    const h10 = u * (1 - u) * (1 - u);
    const h01 = u * u * (3 - 2 * u);
    const h11 = u * u * (u - 1);
    out[j] = h00 * y[k]! + h10 * h * slopes[k]! + h01 * y[k + 1]! + h11 * h * slopes[k + 1]!;
  }
  return out;
}

/** The not-a-knot cubic spline through (x, y) evaluated at `at`. */
export function splineInterpolate(x: ArrayLike<number>, y: ArrayLike<number>, at: ArrayLike<number>): Float64Array {
  return evalCubic(x, y, notAKnotSlopes(x, y), at);
}

/** Circular variance 1 − |Σ r e^{2iθ}| / Σ |r| (Brain-Score's calc_circular_variance; NaN when Σ|r| = 0). */
export function circularVarianceBS(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>): number {
  let re = 0;
  let im = 0;
  let abs = 0;
  for (let i = 0; i < curve.length; i++) {
    re += curve[i]! * Math.cos(2 * thetaDeg[i]! * DEG);
    im += curve[i]! * Math.sin(2 * thetaDeg[i]! * DEG);
    abs += Math.abs(curve[i]!);
  }
  return abs === 0 ? NaN : 1 - Math.hypot(re, im) / abs;
}

/** Index of the first maximum of a curve (−1 when empty). */
export function argmax(curve: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < curve.length; i++) if (best < 0 || curve[i]! > curve[best]!) best = i;
  return best;
}

/**
 * Orthogonal/preferred ratio r(θ_pref + 90°)/r(θ_pref), θ_pref = first argmax of the (unsmoothed) curve; on a grid
 * of n evenly spaced orientations with n even this is Brain-Score's index offset n/2, otherwise r(θ_pref + 90°)
 * is interpolated linearly on the 180°-periodic curve.
 */
export function orthogonalPreferredRatio(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>): number {
  const p = argmax(curve);
  if (p < 0) return NaN;
  const target = (((thetaDeg[p]! + 90) % 180) + 180) % 180;
  const n = curve.length;
  let orth = NaN;
  for (let i = 0; i < n; i++) {
    const t0 = thetaDeg[i]!;
    const j = (i + 1) % n;
    const step = (((thetaDeg[j]! - t0) % 180) + 180) % 180 || 180;
    const d = (((target - t0) % 180) + 180) % 180;
    if (d <= step) {
      orth = curve[i]! + ((curve[j]! - curve[i]!) * d) / step;
      break;
    }
  }
  return orth / curve[p]!;
}

/**
 * Orientation half-bandwidth in degrees (Brain-Score's calc_bandwidth, Hanning filter, 0.707, mode 'half'): the
 * curve is tiled over three periods, smoothed with [2/5, 1, 2/5]/1.8, interpolated by a cubic spline on a 1°
 * grid from −180° to 359°; the peak is the grid maximum in [0°, 180°); the half-width is half the distance
 * between the nearest grid points at or below 0.707·peak on either side. NaN when the curve never falls to that
 * level on one side, or when the half-width exceeds 90° (not orientation selective).
 */
export function orientationBandwidth(curve: ArrayLike<number>, thetaDeg: ArrayLike<number>, threshold = HALF_POWER): number {
  const n = curve.length;
  if (n === 0) return NaN;
  const ext = new Float64Array(3 * n);
  const ys = new Float64Array(3 * n);
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < n; i++) {
      ext[r * n + i] = thetaDeg[i]! + (r - 1) * 180;
      ys[r * n + i] = curve[i]!;
    }
  }
  // np.convolve(w/Σw, ys, 'same') with w = [0, 2/5, 1, 2/5, 0]: zero beyond the tiled ends.
  const sm = new Float64Array(3 * n);
  for (let i = 0; i < 3 * n; i++) {
    const left = i > 0 ? ys[i - 1]! : 0;
    const right = i < 3 * n - 1 ? ys[i + 1]! : 0;
    sm[i] = (0.4 * left + ys[i]! + 0.4 * right) / 1.8;
  }
  const grid = Float64Array.from({ length: 540 }, (_, i) => i - 180);
  const full = splineInterpolate(ext, sm, grid);
  let pref = 180;
  for (let i = 181; i < 360; i++) if (full[i]! > full[pref]!) pref = i;
  const level = full[pref]! * threshold;
  let p1 = NaN;
  for (let i = pref - 1; i >= 0; i--) {
    if (full[i]! <= level) {
      p1 = grid[i]!;
      break;
    }
  }
  let p2 = NaN;
  for (let i = pref + 1; i < grid.length; i++) {
    if (full[i]! <= level) {
      p2 = grid[i]!;
      break;
    }
  }
  const width = p2 - p1;
  return width > 180 || Number.isNaN(width) ? NaN : width / 2;
}

/** What the spatial-frequency curve analysis returns. */
export interface SfCurveFit {
  /** Peak of the fitted curve, in the unit of the input frequencies. */
  peak: number;
  /** Schiller's bandwidth 100·f_low/f_high at 0.707 of the fitted peak (NaN when open on a side). */
  ratio: number;
  /** The 0.707 crossings (NaN when open). */
  low: number;
  high: number;
}

/**
 * Spatial-frequency tuning (Brain-Score's calc_spatial_frequency_tuning, filter 'smooth', 0.707, mode 'ratio'):
 * the curve, padded with its end values, is smoothed with [1/5, 1, 1/5]/1.4, interpolated by a cubic spline in
 * log2 f on 100 evenly spaced points between the lowest and highest frequency; peak = the grid maximum; f_low /
 * f_high = the nearest grid points at or below 0.707·peak below / above it. `sf` ascending and positive.
 */
export function sfCurveFit(curve: ArrayLike<number>, sf: ArrayLike<number>, threshold = HALF_POWER): SfCurveFit {
  const n = curve.length;
  if (n === 0) return { peak: NaN, ratio: NaN, low: NaN, high: NaN };
  const logSf = Float64Array.from({ length: n }, (_, i) => Math.log2(sf[i]!));
  const sm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const left = curve[Math.max(0, i - 1)]!;
    const right = curve[Math.min(n - 1, i + 1)]!;
    sm[i] = (0.2 * left + curve[i]! + 0.2 * right) / 1.4;
  }
  const points = 100;
  const lo = logSf[0]!;
  const hi = logSf[n - 1]!;
  const grid = Float64Array.from({ length: points }, (_, i) => (n === 1 ? lo : lo + ((hi - lo) * i) / (points - 1)));
  const full = splineInterpolate(logSf, sm, grid);
  const pref = argmax(full);
  const level = full[pref]! * threshold;
  let low = NaN;
  for (let i = pref - 1; i >= 0; i--) {
    if (full[i]! <= level) {
      low = 2 ** grid[i]!;
      break;
    }
  }
  let high = NaN;
  for (let i = pref + 1; i < points; i++) {
    if (full[i]! <= level) {
      high = 2 ** grid[i]!;
      break;
    }
  }
  return { peak: 2 ** grid[pref]!, ratio: (100 * low) / high, low, high };
}
