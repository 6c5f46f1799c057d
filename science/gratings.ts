// Full-field sinusoidal gratings (docs/method.md §2): the stimulus list in a fixed order, and pixels for any window.
//
// L(x, y) = 127.5·(1 + C·cos(2π f (x cos θ + y sin θ) + φ)), R = G = B, x = column, y = row of the ABSOLUTE
// input image (pixel (0, 0) is the top-left one). θ is the direction of the wave vector: luminance varies
// along θ and the bars lie at θ + 90°. With y pointing down, θ = 90° varies down the rows (horizontal bars).
//
// Order of gratingList (stimulus index): orientation outermost, then spatial frequency, then phase:
//   stimulus = (iθ · nF + iF) · nΦ + iΦ,  θ = iθ·180°/nθ,  f = 2^(kMin + iF·kStep),  φ = iΦ·360°/nΦ.
import type { GratingsConfig } from '../config/schema.ts';

/** The grating-set keys of `stimuli.gratings` (enabled is not needed). */
export type GratingSetParams = Pick<GratingsConfig, 'orientations' | 'kMin' | 'kMax' | 'kStep' | 'phases' | 'contrast'>;

/** One grating stimulus. */
export interface GratingDescriptor {
  /** Index within the grating set (the order documented above). */
  stimulus: number;
  /** Wave-vector direction, degrees in [0, 180). */
  thetaDeg: number;
  /** Spatial frequency, cycles per pixel. */
  sfCpp: number;
  /** Phase at image pixel (0, 0), degrees in [0, 360). */
  phaseDeg: number;
  /** Michelson contrast C in [0, 1]. */
  contrast: number;
}

/** The three axes of the grating set. */
export interface GratingAxes {
  thetasDeg: number[];
  /** Exponents k (f = 2^k). */
  ks: number[];
  sfsCpp: number[];
  phasesDeg: number[];
}

/** Orientation, spatial-frequency and phase axes of the set (k from kMin to kMax inclusive in steps of kStep). */
export function gratingAxes(p: GratingSetParams): GratingAxes {
  if (!(p.kStep > 0)) throw new RangeError(`stimuli.gratings.kStep: expected a positive number, got ${p.kStep}`);
  if (p.kMin > p.kMax) throw new RangeError(`stimuli.gratings.kMin: expected ≤ kMax (${p.kMax}), got ${p.kMin}`);
  const nF = Math.floor((p.kMax - p.kMin) / p.kStep + 1e-9) + 1;
  const ks = Array.from({ length: nF }, (_, i) => p.kMin + i * p.kStep);
  return {
    thetasDeg: Array.from({ length: p.orientations }, (_, i) => (i * 180) / p.orientations),
    ks,
    sfsCpp: ks.map((k) => 2 ** k),
    phasesDeg: Array.from({ length: p.phases }, (_, i) => (i * 360) / p.phases),
  };
}

/** Stimulus index of (orientation iTheta, frequency iF, phase iPhase) in gratingList's order. */
export function gratingIndex(axes: GratingAxes, iTheta: number, iF: number, iPhase: number): number {
  return (iTheta * axes.sfsCpp.length + iF) * axes.phasesDeg.length + iPhase;
}

/** Every grating of the set, in the fixed order documented at the top of this file. */
export function gratingList(p: GratingSetParams): GratingDescriptor[] {
  const axes = gratingAxes(p);
  const out: GratingDescriptor[] = [];
  for (const thetaDeg of axes.thetasDeg) {
    for (const sfCpp of axes.sfsCpp) {
      for (const phaseDeg of axes.phasesDeg) {
        out.push({ stimulus: out.length, thetaDeg, sfCpp, phaseDeg, contrast: p.contrast });
      }
    }
  }
  return out;
}

/** Luminance of a grating at absolute image pixel (x = column, y = row), docs/method.md §2. */
export function gratingLuminance(d: Omit<GratingDescriptor, 'stimulus'>, x: number, y: number): number {
  const t = (d.thetaDeg * Math.PI) / 180;
  const phase = 2 * Math.PI * d.sfCpp * (x * Math.cos(t) + y * Math.sin(t)) + (d.phaseDeg * Math.PI) / 180;
  return 127.5 * (1 + d.contrast * Math.cos(phase));
}

/** Window (x0, y0, width, height) of a grating as HWC RGB (R = G = B), values 0–255. */
export function gratingImage(d: Omit<GratingDescriptor, 'stimulus'>, width: number, height: number, x0 = 0, y0 = 0): Float32Array {
  const out = new Float32Array(width * height * 3);
  gratingImageInto(out, 0, d, width, height, x0, y0);
  return out;
}

/** gratingImage written into `out` at `offset` (for assembling an NHWC batch without copies). */
export function gratingImageInto(out: Float32Array, offset: number, d: Omit<GratingDescriptor, 'stimulus'>, width: number, height: number, x0 = 0, y0 = 0): void {
  if (offset < 0 || offset + width * height * 3 > out.length) {
    throw new RangeError(`grating output: ${width}×${height}×3 values at offset ${offset} do not fit in ${out.length}`);
  }
  // cos(a + b) = cos a cos b − sin a sin b with a from the column and b from the row (and the phase).
  const t = (d.thetaDeg * Math.PI) / 180;
  const w = 2 * Math.PI * d.sfCpp;
  const phi = (d.phaseDeg * Math.PI) / 180;
  const cosA = new Float64Array(width);
  const sinA = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    const a = w * (x0 + c) * Math.cos(t);
    cosA[c] = Math.cos(a);
    sinA[c] = Math.sin(a);
  }
  const k = 127.5 * d.contrast;
  let o = offset;
  for (let r = 0; r < height; r++) {
    const b = w * (y0 + r) * Math.sin(t) + phi;
    const cb = Math.cos(b);
    const sb = Math.sin(b);
    for (let c = 0; c < width; c++) {
      const v = 127.5 + k * (cosA[c] * cb - sinA[c] * sb);
      out[o++] = v;
      out[o++] = v;
      out[o++] = v;
    }
  }
}
