// Noise samples of one RF crop as a streamed SampleSource, regenerated from (seed, noise index) alone (SPEC §4),
// either per pixel or per noise check: with c×c checks every pixel of a check carries the same value, so the
// analysis can run on the checks that meet the crop (D/c² values) and be expanded back to pixels after.
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
  /** Values per sample the analysis sees. */
  D: number;
  /** Values per sample in pixel space (size² × channels). */
  pixelD: number;
  /** For every pixel-space value, the analysis value it copies (identity for pixel features). */
  pixelToFeature: Int32Array;
  /** For every analysis value, one pixel-space value holding it. */
  featureToPixel: Int32Array;
  /** True when features are checks (D < pixelD). */
  checks: boolean;
}

/** Layout of the checks that meet the crop (features = checks), or the identity when check = 1 or pixels are asked for. */
export function featureLayout(p: NoiseParams, crop: CropWindow, mode: 'pixels' | 'checks'): FeatureLayout {
  const ch = noiseChannels(p);
  const pixelD = crop.size * crop.size * ch;
  const c = p.check;
  if (mode === 'pixels' || c === 1) {
    const id = Int32Array.from({ length: pixelD }, (_, i) => i);
    return { D: pixelD, pixelD, pixelToFeature: id, featureToPixel: id, checks: false };
  }
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
  return { D, pixelD, pixelToFeature, featureToPixel, checks: true };
}

/** The noise crop of every listed stimulus as a SampleSource in the given feature layout (nothing is kept). */
export function noiseSource(p: NoiseParams, noiseIndex: ArrayLike<number>, crop: CropWindow, layout: FeatureLayout): SampleSource {
  const buf = new Float32Array(layout.pixelD);
  return generatedSource(noiseIndex.length, layout.D, (n, out) => {
    if (!layout.checks) {
      noiseCropInto(out, 0, p, noiseIndex[n], crop.x0, crop.y0, crop.size, crop.size);
      return;
    }
    noiseCropInto(buf, 0, p, noiseIndex[n], crop.x0, crop.y0, crop.size, crop.size);
    for (let f = 0; f < layout.D; f++) out[f] = buf[layout.featureToPixel[f]];
  });
}

/** Expands a feature-space vector to pixel space; `normalise` rescales it to unit norm (for eigenvectors). */
export function toPixels(v: ArrayLike<number>, layout: FeatureLayout, normalise: boolean): Float32Array {
  const out = new Float32Array(layout.pixelD);
  for (let i = 0; i < layout.pixelD; i++) out[i] = v[layout.pixelToFeature[i]];
  if (normalise && layout.checks) {
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * out[i];
    const n = Math.sqrt(s);
    if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return out;
}
