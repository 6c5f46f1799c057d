// Does the reconstructed RF predict the grating tuning? (docs/method.md §5) Predictions from the RF spectrum or from
// the RF model's responses to cropped gratings, match flags against θ_pref / f_pref, and the per-layer
// statistics (axial agreement of orientations, mean cos 2Δθ; Spearman correlation of log frequencies).
import { DEFAULT_FFT_WINDOW, eigenSpectrumHalf, mapSpectrumHalf, padSize, spectralPeakHalf, type FftWindow } from './spectrum.ts';

/** A predicted orientation (deg, [0, 180)) and spatial frequency (cycles/px); NaN when there is nothing to predict. */
export interface Prediction {
  thetaDeg: number;
  fCpp: number;
}

/** Where an RF map sits in the image and how it is laid out. */
export interface RfLayout {
  /** Side of the square map in pixels. */
  r: number;
  /** Interleaved channels (1 grey, 3 rgb). */
  channels: number;
  /** Absolute image coordinates of the map's top-left pixel (for the model-response method's grating phase). */
  x0: number;
  y0: number;
}

/** The grating grid the model-response method presents (as the gratings stage does). */
export interface GratingAxesLike {
  thetasDeg: readonly number[];
  sfsCpp: readonly number[];
  phasesDeg: readonly number[];
}

/** docs/method.md §5 FFT method for AWA: peak of |FFT2(w ⊙ AWA)|² (w: prediction.window, default none). */
export function predictAwaFft(awa: ArrayLike<number>, rf: RfLayout, window: FftWindow = DEFAULT_FFT_WINDOW): Prediction {
  const nPad = padSize(rf.r);
  const p = spectralPeakHalf(mapSpectrumHalf(awa, rf.r, rf.channels, nPad, window), nPad);
  return { thetaDeg: p.thetaDeg, fCpp: p.fCpp };
}

/** docs/method.md §5 FFT method for AWC: peak of Σₖ λₖ|FFT2(w ⊙ eₖ)|² over the significant excitatory eigenpairs given. */
export function predictAwcFft(vectors: readonly ArrayLike<number>[], lambdas: ArrayLike<number>, rf: RfLayout, window: FftWindow = DEFAULT_FFT_WINDOW): Prediction {
  if (vectors.length === 0) return { thetaDeg: NaN, fCpp: NaN };
  const nPad = padSize(rf.r);
  const p = spectralPeakHalf(eigenSpectrumHalf(vectors, lambdas, rf.r, rf.channels, nPad, window), nPad);
  return { thetaDeg: p.thetaDeg, fCpp: p.fCpp };
}

/** θ_pred, f_pred from a response grid R(θ, f) (mean over phases), read like docs/method.md §2's tuning: f at the max, θ at that f. */
function peakOfGrid(R: Float64Array, axes: GratingAxesLike): Prediction {
  const nT = axes.thetasDeg.length;
  const nF = axes.sfsCpp.length;
  let best = 0;
  let bt = -1;
  let bf = -1;
  for (let it = 0; it < nT; it++) {
    for (let jf = 0; jf < nF; jf++) {
      if (R[it * nF + jf] > best) {
        best = R[it * nF + jf];
        bt = it;
        bf = jf;
      }
    }
  }
  if (bt < 0) return { thetaDeg: NaN, fCpp: NaN };
  return { thetaDeg: axes.thetasDeg[bt], fCpp: axes.sfsCpp[bf] };
}

/** Σ over channels of an RF map (HWC, `channels` interleaved): the r×r map a grey grating sees. */
function channelSum(v: ArrayLike<number>, r: number, channels: number): Float64Array {
  const out = new Float64Array(r * r);
  for (let i = 0; i < r * r; i++) for (let c = 0; c < channels; c++) out[i] += v[i * channels + c]!;
  return out;
}

/**
 * The model's tuning surface R[θ, f] (row-major θ × f, mean over phases) for gratings of contrast 1 minus mid-grey
 * over the RF window (absolute coordinates, channels replicated): [AWA·g]₊ for AWA (vectors = [awa], lambdas
 * ignored) or Σₖ λₖ(eₖ·g)² for AWC. A grating of phase φ is 127.5·cos(k·p + φ), so v·g = 127.5·Re(e^{iφ} C) with
 * C = Σₚ v(p) e^{ik·p}, and e^{ik·p} factors into x and y terms: one r² pass per (θ, f) gives every phase, instead of
 * a cosine per pixel, phase and unit (the same values up to rounding; test/science/predict.test.ts checks them
 * against the grating patches).
 */
export function modelTuningSurface(kind: 'awa' | 'awc', vectors: readonly ArrayLike<number>[], lambdas: ArrayLike<number>, rf: RfLayout, axes: GratingAxesLike): Float64Array {
  const { r } = rf;
  const nT = axes.thetasDeg.length;
  const nF = axes.sfsCpp.length;
  const maps = (kind === 'awa' ? vectors.slice(0, 1) : vectors).map((v) => channelSum(v, r, rf.channels));
  const phases = axes.phasesDeg.map((ph) => ({ c: Math.cos((ph * Math.PI) / 180), s: Math.sin((ph * Math.PI) / 180) }));
  const cx = new Float64Array(r);
  const sx = new Float64Array(r);
  const cy = new Float64Array(r);
  const sy = new Float64Array(r);
  const R = new Float64Array(nT * nF);
  for (let it = 0; it < nT; it++) {
    const t = (axes.thetasDeg[it]! * Math.PI) / 180;
    for (let jf = 0; jf < nF; jf++) {
      const a = 2 * Math.PI * axes.sfsCpp[jf]! * Math.cos(t);
      const b = 2 * Math.PI * axes.sfsCpp[jf]! * Math.sin(t);
      for (let i = 0; i < r; i++) {
        cx[i] = Math.cos(a * (rf.x0 + i));
        sx[i] = Math.sin(a * (rf.x0 + i));
        cy[i] = Math.cos(b * (rf.y0 + i));
        sy[i] = Math.sin(b * (rf.y0 + i));
      }
      let sum = 0;
      maps.forEach((m, k) => {
        // C = Σ_y e^{i b y} Σ_x m(x, y) e^{i a x}
        let re = 0;
        let im = 0;
        for (let y = 0; y < r; y++) {
          let rr = 0;
          let ri = 0;
          const row = y * r;
          for (let x = 0; x < r; x++) {
            rr += m[row + x]! * cx[x]!;
            ri += m[row + x]! * sx[x]!;
          }
          re += rr * cy[y]! - ri * sy[y]!;
          im += rr * sy[y]! + ri * cy[y]!;
        }
        for (const ph of phases) {
          const dot = 127.5 * (re * ph.c - im * ph.s);
          sum += kind === 'awa' ? Math.max(0, dot) : lambdas[k]! * dot * dot;
        }
      });
      R[it * nF + jf] = sum / phases.length;
    }
  }
  return R;
}

/**
 * docs/method.md §5 model-response method: present the gratings cropped to the RF to the RF model — [AWA·g]₊ for AWA
 * (vectors = [awa], lambdas ignored) or Σₖ λₖ(eₖ·g)² for AWC — and read θ_pred, f_pred off the tuning surface.
 */
export function predictByModel(
  kind: 'awa' | 'awc',
  vectors: readonly ArrayLike<number>[],
  lambdas: ArrayLike<number>,
  rf: RfLayout,
  axes: GratingAxesLike,
): Prediction {
  if (vectors.length === 0) return { thetaDeg: NaN, fCpp: NaN };
  return peakOfGrid(modelTuningSurface(kind, vectors, lambdas, rf, axes), axes);
}

/** Circular orientation difference |θ₁ − θ₂| mod 180°, in [0°, 90°]. */
export function orientationDifference(a: number, b: number): number {
  const d = (((a - b) % 180) + 180) % 180;
  return Math.min(d, 180 - d);
}

/** docs/method.md §5 match flags (false when either side is NaN). */
export function matchFlags(
  pred: Prediction,
  thetaPref: number,
  fPref: number,
  tol: { thetaDeg: number; octaves: number },
): { theta: boolean; f: boolean } {
  const theta = Number.isFinite(pred.thetaDeg) && Number.isFinite(thetaPref) && orientationDifference(pred.thetaDeg, thetaPref) <= tol.thetaDeg;
  const f = pred.fCpp > 0 && fPref > 0 && Math.abs(Math.log2(pred.fCpp / fPref)) <= tol.octaves;
  return { theta, f };
}

/**
 * cos 2(θa − θb) of every pair of orientations (degrees, axial) where both are finite: 1 for identical
 * orientations, −1 for orthogonal ones; its mean over independent uniform orientations is 0.
 */
export function axialCosines(thetaA: ArrayLike<number>, thetaB: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(thetaA.length, thetaB.length); i++) {
    if (Number.isFinite(thetaA[i]) && Number.isFinite(thetaB[i])) out.push(Math.cos((2 * (thetaA[i]! - thetaB[i]!) * Math.PI) / 180));
  }
  return out;
}

/**
 * docs/method.md §5 agreement of predicted and measured orientations: mean cos 2Δθ over the finite pairs (1 = identical,
 * 0 = unrelated, −1 = all orthogonal). Unlike a circular correlation it subtracts no sample mean direction, so it
 * stays meaningful on near-uniform orientation distributions. NaN without pairs.
 */
export function thetaAgreement(thetaA: ArrayLike<number>, thetaB: ArrayLike<number>): number {
  const c = axialCosines(thetaA, thetaB);
  return c.length ? c.reduce((s, v) => s + v, 0) / c.length : NaN;
}

/** Average ranks (ties share the mean rank). */
function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation over pairs where both values are finite (NaN for fewer than 3 pairs or no spread). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      a.push(x[i]);
      b.push(y[i]);
    }
  }
  if (a.length < 3) return NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = (n + 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - ma);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - ma) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : NaN;
}

/** Per-unit verdicts of one RF estimate against the grating tuning (1/0 per unit). */
export interface PredictionVerdicts {
  thetaMatch: Uint8Array;
  fMatch: Uint8Array;
  /** Significant RF, orientation and SF both match (docs/method.md §5: "reconstructed"). */
  reconstructed: Uint8Array;
}

/**
 * The verdicts of docs/method.md §5 for every unit: match flags of the predicted θ and f against θ_pref and f_pref
 * (matchFlags), and reconstructed = significant ∧ θ match ∧ f match. Decided once, by the awc stage; everything else
 * reads its columns.
 */
export function predictionVerdicts(
  thetaPred: ArrayLike<number>,
  fPred: ArrayLike<number>,
  thetaPref: ArrayLike<number>,
  fPref: ArrayLike<number>,
  significant: (unit: number) => boolean,
  tol: { thetaDeg: number; octaves: number },
): PredictionVerdicts {
  const U = thetaPred.length;
  const out = { thetaMatch: new Uint8Array(U), fMatch: new Uint8Array(U), reconstructed: new Uint8Array(U) };
  for (let u = 0; u < U; u++) {
    const m = matchFlags({ thetaDeg: thetaPred[u]!, fCpp: fPred[u]! }, thetaPref[u]!, fPref[u]!, tol);
    out.thetaMatch[u] = +m.theta;
    out.fMatch[u] = +m.f;
    out.reconstructed[u] = +(significant(u) && m.theta && m.f);
  }
  return out;
}
