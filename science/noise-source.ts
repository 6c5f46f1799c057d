// Noise samples of one RF crop as a streamed SampleSource, regenerated from (seed, noise index) alone (docs/method.md §4),
// in one of three feature layouts:
// - pixels: one value per pixel (and colour channel);
// - checks: with c×c noise checks every pixel of a check carries the same value, so the analysis runs on the
//   checks that meet the crop (D/c²) — the only basis in which the noise prior is σ²I;
// - bins: pixel noise analysed on b×b bins anchored at the crop's top-left, feature = Σ_bin (s − 127.5)/√k
//   (k = pixels in the bin). The pooling is orthonormal, so features are iid with the pixels' variance (prior
//   σ²I, exactly), the AWC on bins is the pixel AWC compressed onto piecewise-constant maps, and a feature-space
//   unit vector e maps to the unit pixel vector Q e. A coarser analysis basis for large RFs (awc.maxDim).
import { noiseChannels, noiseCropInto, type NoiseParams } from './noise.ts';
import { generatedSource, type SampleSource } from './samples.ts';

/** The crop (absolute image pixels) an analysis reads. */
export interface CropWindow {
  x0: number;
  y0: number;
  size: number;
}

/** How analysis values map to crop pixels. */
export interface FeatureLayout {
  kind: 'pixels' | 'checks' | 'bins';
  /** Values per sample the analysis sees. */
  D: number;
  /** Values per sample in pixel space (size² × channels). */
  pixelD: number;
  /** For every pixel-space value, the analysis value it belongs to (identity for pixel features). */
  pixelToFeature: Int32Array;
  /** For every analysis value, one pixel-space value holding it (checks). */
  featureToPixel: Int32Array;
  /** Pixel-space weight of its feature: 1 (pixels, checks) or 1/√k (bins, the orthonormal pooling Q). */
  pixelWeight: Float32Array;
  /** True when features are checks (kept for callers that only distinguish checks from pixels). */
  checks: boolean;
}

/** Side, in features, of a crop analysed on b×b bins. */
export function binnedSide(size: number, bin: number): number {
  return Math.ceil(size / bin);
}

/**
 * Layout of the analysis values: checks when the noise has c×c checks (c > 1) and mode is 'checks'; b×b bins
 * when `bin` > 1 on pixel noise; else the identity.
 */
export function featureLayout(p: NoiseParams, crop: CropWindow, mode: 'pixels' | 'checks', bin = 1): FeatureLayout {
  const ch = noiseChannels(p);
  const pixelD = crop.size * crop.size * ch;
  const c = p.check;
  const ones = () => new Float32Array(pixelD).fill(1);
  if (mode === 'checks' && c > 1) {
    const cx0 = Math.floor(crop.x0 / c);
    const cy0 = Math.floor(crop.y0 / c);
    const ncx = Math.floor((crop.x0 + crop.size - 1) / c) - cx0 + 1;
    const ncy = Math.floor((crop.y0 + crop.size - 1) / c) - cy0 + 1;
    const D = ncx * ncy * ch;
    const pixelToFeature = new Int32Array(pixelD);
    const featureToPixel = new Int32Array(D).fill(-1);
    for (let y = 0; y < crop.size; y++) {
      const fy = Math.floor((crop.y0 + y) / c) - cy0;
      for (let x = 0; x < crop.size; x++) {
        const fx = Math.floor((crop.x0 + x) / c) - cx0;
        for (let k = 0; k < ch; k++) {
          const pix = (y * crop.size + x) * ch + k;
          const f = (fy * ncx + fx) * ch + k;
          pixelToFeature[pix] = f;
          if (featureToPixel[f] < 0) featureToPixel[f] = pix;
        }
      }
    }
    return { kind: 'checks', D, pixelD, pixelToFeature, featureToPixel, pixelWeight: ones(), checks: true };
  }
  if (mode === 'checks' && bin > 1 && c === 1) {
    const nb = binnedSide(crop.size, bin);
    const D = nb * nb * ch;
    const pixelToFeature = new Int32Array(pixelD);
    const featureToPixel = new Int32Array(D).fill(-1);
    const count = new Int32Array(D);
    for (let y = 0; y < crop.size; y++) {
      for (let x = 0; x < crop.size; x++) {
        for (let k = 0; k < ch; k++) {
          const pix = (y * crop.size + x) * ch + k;
          const f = (Math.floor(y / bin) * nb + Math.floor(x / bin)) * ch + k;
          pixelToFeature[pix] = f;
          if (featureToPixel[f] < 0) featureToPixel[f] = pix;
          count[f]++;
        }
      }
    }
    const pixelWeight = Float32Array.from(pixelToFeature, (f) => 1 / Math.sqrt(count[f]));
    return { kind: 'bins', D, pixelD, pixelToFeature, featureToPixel, pixelWeight, checks: false };
  }
  const id = Int32Array.from({ length: pixelD }, (_, i) => i);
  return { kind: 'pixels', D: pixelD, pixelD, pixelToFeature: id, featureToPixel: id, pixelWeight: ones(), checks: false };
}

/**
 * The noise crop of every listed stimulus as a SampleSource in the given feature layout (nothing is kept).
 * Pixel and check features are raw grey levels; bin features are of s − 127.5 (the source's offset).
 * `offsets` (interior positions: dx, dy per sample) shifts sample n's crop from `crop`'s origin.
 */
export function noiseSource(p: NoiseParams, noiseIndex: ArrayLike<number>, crop: CropWindow, layout: FeatureLayout, offsets: ArrayLike<number> | null = null): SampleSource {
  if (offsets && offsets.length !== 2 * noiseIndex.length) throw new RangeError(`noise offsets: expected 2 per sample (${2 * noiseIndex.length}), got ${offsets.length}`);
  if (offsets && layout.kind === 'checks') throw new RangeError('noise offsets: shifted crops cut noise checks differently; expected pixel or bin features');
  const buf = new Float32Array(layout.pixelD);
  const x0 = (n: number) => crop.x0 + (offsets ? offsets[2 * n]! : 0);
  const y0 = (n: number) => crop.y0 + (offsets ? offsets[2 * n + 1]! : 0);
  if (layout.kind === 'bins') {
    const acc = new Float64Array(layout.D);
    const src = generatedSource(noiseIndex.length, layout.D, (n, out) => {
      noiseCropInto(buf, 0, p, noiseIndex[n], x0(n), y0(n), crop.size, crop.size);
      acc.fill(0);
      for (let i = 0; i < layout.pixelD; i++) acc[layout.pixelToFeature[i]] += (buf[i] - 127.5) * layout.pixelWeight[i];
      for (let f = 0; f < layout.D; f++) out[f] = acc[f];
    });
    return { ...src, offset: 127.5 };
  }
  return generatedSource(noiseIndex.length, layout.D, (n, out) => {
    if (layout.kind === 'pixels') {
      noiseCropInto(out, 0, p, noiseIndex[n], x0(n), y0(n), crop.size, crop.size);
      return;
    }
    noiseCropInto(buf, 0, p, noiseIndex[n], x0(n), y0(n), crop.size, crop.size);
    for (let f = 0; f < layout.D; f++) out[f] = buf[layout.featureToPixel[f]];
  });
}

/**
 * Expands a feature-space vector to pixel space: checks replicate (renormalised to unit norm when `normalise`),
 * bins apply the orthonormal pooling (a unit vector stays a unit vector), pixels copy.
 */
export function toPixels(v: ArrayLike<number>, layout: FeatureLayout, normalise: boolean): Float32Array {
  const out = new Float32Array(layout.pixelD);
  for (let i = 0; i < layout.pixelD; i++) out[i] = v[layout.pixelToFeature[i]] * layout.pixelWeight[i];
  if (normalise && layout.kind === 'checks') {
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * out[i];
    const n = Math.sqrt(s);
    if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return out;
}

/**
 * Bin size for a layer's AWC on pixel noise: the smallest b whose b×b bins bring D = ⌈size/b⌉²·channels to at
 * most maxDim (1 when the crop already fits, and always 1 with noise checks, whose checks are the features).
 */
export function analysisBin(size: number, channels: number, check: number, maxDim: number): number {
  if (check > 1) return 1;
  let b = 1;
  while (binnedSide(size, b) ** 2 * channels > maxDim && b < size) b++;
  return b;
}
