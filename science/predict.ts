// Does the reconstructed RF predict the grating tuning? (docs/method.md §5) Predictions from the RF spectrum or from
// the RF model's responses to cropped gratings, match flags against θ_pref / f_pref, and the per-layer
// statistics (axial agreement of orientations, mean cos 2Δθ; Spearman correlation of log frequencies).
import { DEFAULT_FFT_WINDOW, eigenSpectrum, mapSpectrum, padSize, spectralPeak, type FftWindow } from './spectrum.ts';

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
  const p = spectralPeak(mapSpectrum(awa, rf.r, rf.channels, nPad, window), nPad);
  return { thetaDeg: p.thetaDeg, fCpp: p.fCpp };
}

/** docs/method.md §5 FFT method for AWC: peak of Σₖ λₖ|FFT2(w ⊙ eₖ)|² over the significant excitatory eigenpairs given. */
export function predictAwcFft(vectors: readonly ArrayLike<number>[], lambdas: ArrayLike<number>, rf: RfLayout, window: FftWindow = DEFAULT_FFT_WINDOW): Prediction {
  if (vectors.length === 0) return { thetaDeg: NaN, fCpp: NaN };
  const nPad = padSize(rf.r);
  const p = spectralPeak(eigenSpectrum(vectors, lambdas, rf.r, rf.channels, nPad, window), nPad);
  return { thetaDeg: p.thetaDeg, fCpp: p.fCpp };
}

/** Contrast-1 grating minus mid-grey over the RF window (absolute coordinates), channels replicated. */
function gratingPatch(thetaDeg: number, f: number, phaseDeg: number, rf: RfLayout): Float64Array {
  const t = (thetaDeg * Math.PI) / 180;
  const ph = (phaseDeg * Math.PI) / 180;
  const g = new Float64Array(rf.r * rf.r * rf.channels);
  for (let y = 0; y < rf.r; y++) {
    for (let x = 0; x < rf.r; x++) {
      const v = 127.5 * Math.cos(2 * Math.PI * f * ((rf.x0 + x) * Math.cos(t) + (rf.y0 + y) * Math.sin(t)) + ph);
      for (let c = 0; c < rf.channels; c++) g[(y * rf.r + x) * rf.channels + c] = v;
    }
  }
  return g;
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
  const nT = axes.thetasDeg.length;
  const nF = axes.sfsCpp.length;
  const R = new Float64Array(nT * nF);
  for (let it = 0; it < nT; it++) {
    for (let jf = 0; jf < nF; jf++) {
      let sum = 0;
      for (const ph of axes.phasesDeg) {
        const g = gratingPatch(axes.thetasDeg[it], axes.sfsCpp[jf], ph, rf);
        if (kind === 'awa') {
          let dot = 0;
          const v = vectors[0];
          for (let i = 0; i < g.length; i++) dot += v[i] * g[i];
          sum += Math.max(0, dot);
        } else {
          vectors.forEach((v, k) => {
            let dot = 0;
            for (let i = 0; i < g.length; i++) dot += v[i] * g[i];
            sum += lambdas[k] * dot * dot;
          });
        }
      }
      R[it * nF + jf] = sum / axes.phasesDeg.length;
    }
  }
  return peakOfGrid(R, axes);
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
