// White-noise stimuli (docs/method.md §4, §6): counter-based Gaussian grey levels, regenerable per pixel from (seed, n, x, y).
//
// Pixel value: clip(127.5 + σ·ξ, 0, 255). ξ comes from Philox4x32-10 with counter (X, Y, n, 0) and key
// (seed mod 2^32, ⌊seed / 2^32⌋), where (X, Y) = (⌊x / check⌋, ⌊y / check⌋) are the check coordinates of the
// ABSOLUTE image pixel (x = column, y = row), so checks are anchored at image pixel (0, 0) and any window of
// stimulus n is generated without generating the rest. The four output words w0..w3 become uniforms
// u = (w + 0.5)/2^32 and, by Box–Muller, ξ_R = √(−2 ln u0)·cos 2πu1 (the grey value), ξ_G = √(−2 ln u0)·sin 2πu1,
// ξ_B = √(−2 ln u2)·cos 2πu3: three independent standard normals per check.
import erfc from '@stdlib/math-base-special-erfc';
import { philox4x32 } from './philox.ts';

/** What defines a noise set; the stimuli config (`stimuli.noise`) satisfies it. */
export interface NoiseParams {
  seed: number;
  sigma: number;
  color: 'grey' | 'rgb';
  check: number;
}

/** Mean grey level of the noise before clipping. */
export const NOISE_MEAN = 127.5;

const TWO_POW_32 = 4294967296;
const INV_2_32 = 1 / TWO_POW_32;
const TWO_PI = 2 * Math.PI;

function checkArgs(p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number): void {
  if (!Number.isSafeInteger(p.seed) || p.seed < 0) throw new RangeError(`noise seed: expected an integer ≥ 0, got ${p.seed}`);
  if (!(p.sigma > 0)) throw new RangeError(`noise sigma: expected a positive number, got ${p.sigma}`);
  if (!Number.isInteger(p.check) || p.check < 1) throw new RangeError(`noise check: expected a positive integer, got ${p.check}`);
  if (p.color !== 'grey' && p.color !== 'rgb') throw new RangeError(`noise color: expected grey or rgb, got ${String(p.color)}`);
  if (!Number.isInteger(n) || n < 0 || n >= TWO_POW_32) throw new RangeError(`noise index: expected an integer in [0, 2^32), got ${n}`);
  if (!Number.isInteger(x0) || !Number.isInteger(y0)) throw new RangeError(`noise crop origin: expected integers, got (${x0}, ${y0})`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`noise crop size: expected integers ≥ 0, got ${width}×${height}`);
  }
}

/**
 * Core generator: writes the crop (x0, y0, width, height) of stimulus n into out at offset, HWC with
 * `outChannels` channels. outChannels = 1 takes the grey value (ξ_R); 3 writes R, G, B (replicating grey).
 */
function fillNoise(p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number, out: Float32Array, offset: number, outChannels: 1 | 3): void {
  checkArgs(p, n, x0, y0, width, height);
  if (offset < 0 || offset + width * height * outChannels > out.length) {
    throw new RangeError(`noise output: ${width}×${height}×${outChannels} values at offset ${offset} do not fit in ${out.length}`);
  }
  if (width === 0 || height === 0) return;
  const c = p.check;
  const rgb = p.color === 'rgb' && outChannels === 3;
  const k0 = p.seed % TWO_POW_32 >>> 0;
  const k1 = Math.floor(p.seed / TWO_POW_32) >>> 0;
  const sigma = p.sigma;
  const cx0 = Math.floor(x0 / c);
  const ncx = Math.floor((x0 + width - 1) / c) - cx0 + 1;
  const colCheck = new Int32Array(width);
  for (let col = 0; col < width; col++) colCheck[col] = Math.floor((x0 + col) / c) - cx0;
  const checkVals = new Float32Array(ncx * 3);
  const words = new Uint32Array(4);
  let prevCy = Number.NaN;
  let o = offset;
  for (let row = 0; row < height; row++) {
    const cy = Math.floor((y0 + row) / c);
    if (cy !== prevCy) {
      prevCy = cy;
      for (let i = 0; i < ncx; i++) {
        philox4x32(cx0 + i, cy, n, 0, k0, k1, words);
        const r = Math.sqrt(-2 * Math.log((words[0] + 0.5) * INV_2_32));
        const a = TWO_PI * (words[1] + 0.5) * INV_2_32;
        checkVals[3 * i] = clip255(NOISE_MEAN + sigma * r * Math.cos(a));
        if (rgb) {
          checkVals[3 * i + 1] = clip255(NOISE_MEAN + sigma * r * Math.sin(a));
          const r2 = Math.sqrt(-2 * Math.log((words[2] + 0.5) * INV_2_32));
          checkVals[3 * i + 2] = clip255(NOISE_MEAN + sigma * r2 * Math.cos(TWO_PI * (words[3] + 0.5) * INV_2_32));
        }
      }
    }
    if (outChannels === 1) {
      for (let col = 0; col < width; col++) out[o++] = checkVals[3 * colCheck[col]];
    } else if (rgb) {
      for (let col = 0; col < width; col++) {
        const b = 3 * colCheck[col];
        out[o++] = checkVals[b];
        out[o++] = checkVals[b + 1];
        out[o++] = checkVals[b + 2];
      }
    } else {
      for (let col = 0; col < width; col++) {
        const v = checkVals[3 * colCheck[col]];
        out[o++] = v;
        out[o++] = v;
        out[o++] = v;
      }
    }
  }
}

function clip255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Number of values per pixel in noiseCrop's output: 1 for grey, 3 for rgb. */
export function noiseChannels(p: Pick<NoiseParams, 'color'>): 1 | 3 {
  return p.color === 'rgb' ? 3 : 1;
}

/** Crop of noise stimulus n at absolute image coordinates (x0, y0): grey → h·w values, rgb → HWC 3 channels. */
export function noiseCrop(p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number): Float32Array {
  const ch = noiseChannels(p);
  const out = new Float32Array(width * height * ch);
  fillNoise(p, n, x0, y0, width, height, out, 0, ch);
  return out;
}

/** noiseCrop written into `out` at `offset` (for assembling a design matrix without copies). */
export function noiseCropInto(out: Float32Array, offset: number, p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number): void {
  fillNoise(p, n, x0, y0, width, height, out, offset, noiseChannels(p));
}

/** Crop of noise stimulus n as the network sees it: HWC RGB, grey replicated to R = G = B. */
export function noiseImageRGB(p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  fillNoise(p, n, x0, y0, width, height, out, 0, 3);
  return out;
}

/** noiseImageRGB written into `out` at `offset` (for assembling an NHWC batch without copies). */
export function noiseImageRGBInto(out: Float32Array, offset: number, p: NoiseParams, n: number, x0: number, y0: number, width: number, height: number): void {
  fillNoise(p, n, x0, y0, width, height, out, offset, 3);
}

/** Standard normal CDF Φ. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Standard normal density φ. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(TWO_PI);
}

/** Mean and SD of clip(μ + σξ, lo, hi) for ξ ~ N(0, 1) (exact, via Φ and φ). */
export function clippedNormalMoments(mu: number, sigma: number, lo: number, hi: number): { mean: number; sd: number } {
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  const Pa = normalCdf(a);
  const Pb = normalCdf(b);
  const pa = normalPdf(a);
  const pb = normalPdf(b);
  const inside = Pb - Pa;
  const mean = lo * Pa + hi * (1 - Pb) + mu * inside + sigma * (pa - pb);
  const second =
    lo * lo * Pa +
    hi * hi * (1 - Pb) +
    mu * mu * inside +
    2 * mu * sigma * (pa - pb) +
    sigma * sigma * (inside + a * pa - b * pb);
  return { mean, sd: Math.sqrt(Math.max(0, second - mean * mean)) };
}

/** Expected per-pixel mean and SD of the noise (clipped to [0, 255]); the SD is σ_e of docs/method.md §4, slightly under σ. */
export function noiseMoments(p: Pick<NoiseParams, 'sigma'>): { mean: number; sd: number } {
  return clippedNormalMoments(NOISE_MEAN, p.sigma, 0, 255);
}
