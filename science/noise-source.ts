// Noise samples of one RF crop as a streamed SampleSource, regenerated from (seed, noise index) alone (docs/method.md §4),
// in one of three feature layouts:
// - pixels: one value per pixel (and colour channel);
// - checks: with c×c noise checks every pixel of a check carries the same value, so the analysis runs on the
//   checks that meet the crop (D/c²) — the only basis in which the noise prior is σ²I;
// - bins: pixel noise analysed on b×b bins anchored at the crop's top-left, feature = Σ_bin (s − 127.5)/√k
//   (k = pixels in the bin). The pooling is orthonormal, so features are iid with the pixels' variance (prior
//   σ²I, exactly), the AWC on bins is the pixel AWC compressed onto piecewise-constant maps, and a feature-space
//   unit vector e maps to the unit pixel vector Q e. A coarser analysis basis for large RFs (awc.maxDim).
import { NOISE_MEAN, noiseChannels, noiseCrop, noiseCropInto, type NoiseParams } from './noise.ts';
import { rowBuffer, type SampleSource } from './samples.ts';

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
 * Pixel and check features are raw grey levels, or s − 127.5 with `centred` (the source's offset); bin features
 * are always of s − 127.5. `offsets` (interior positions: dx, dy per sample) shifts sample n's crop from `crop`'s
 * origin; the samples of one image then come in a run, and where their crops overlap, the image region they
 * cover is generated once and every crop gathered from it (a pixel's value depends only on (seed, image, x, y),
 * so the samples are the same bits as crop-by-crop generation). With `images` (the side of the interior noise images
 * and a cache the caller keeps) that region is the whole image, kept for the crops of every layer.
 */
export function noiseSource(
  p: NoiseParams,
  noiseIndex: ArrayLike<number>,
  crop: CropWindow,
  layout: FeatureLayout,
  offsets: ArrayLike<number> | null = null,
  opts: { centred?: boolean; images?: { side: number; cache: NoiseImageStore } } = {},
): SampleSource {
  if (offsets && offsets.length !== 2 * noiseIndex.length) throw new RangeError(`noise offsets: expected 2 per sample (${2 * noiseIndex.length}), got ${offsets.length}`);
  if (offsets && layout.kind === 'checks') throw new RangeError('noise offsets: shifted crops cut noise checks differently; expected pixel or bin features');
  const centred = layout.kind === 'bins' || !!opts.centred;
  const N = noiseIndex.length;
  const size = crop.size;
  const ch = layout.pixelD / (size * size);
  const buf = new Float32Array(layout.pixelD);
  const toFeatures = featureWriter(layout, size, centred);
  const copyCentred = centred && layout.kind === 'pixels';
  const copyRows = featureWriter(layout, size, false);
  const dx = (n: number) => (offsets ? offsets[2 * n]! : 0);
  const dy = (n: number) => (offsets ? offsets[2 * n + 1]! : 0);
  const rows = (n0: number, n1: number, into?: Float32Array): Float32Array => {
    const out = rowBuffer(n1 - n0, layout.D, into);
    const runs = offsets ? imageRuns(noiseIndex, offsets, size, n0, n1) : [{ start: n0, end: n1, shared: false, dx0: 0, dy0: 0, width: 0, height: 0 }];
    for (const run of runs) {
      // kept whole images serve every run; without them a run whose crops barely overlap is generated crop by crop
      if (!run.shared && !opts.images) {
        for (let n = run.start; n < run.end; n++) {
          noiseCropInto(buf, 0, p, noiseIndex[n]!, crop.x0 + dx(n), crop.y0 + dy(n), size, size);
          toFeatures(buf, 0, size, out, (n - n0) * layout.D);
        }
        continue;
      }
      const { dx0, dy0, width, height } = run;
      const image = opts.images?.side;
      if (opts.images && image) {
        // the whole image, generated once per thread for every layer's crops (interior sampling)
        if (crop.x0 + dx0 < 0 || crop.y0 + dy0 < 0 || crop.x0 + dx0 + width > image || crop.y0 + dy0 + height > image) {
          throw new RangeError(`noise crops: samples ${run.start}–${run.end - 1} reach outside the ${image}-px noise image`);
        }
        // centred pixels copy rows from the image kept as s − 127.5 (the same float32 values the subtraction gives)
        const whole = opts.images.cache.get(p, noiseIndex[run.start]!, image, copyCentred);
        const write = copyCentred ? copyRows : toFeatures;
        for (let n = run.start; n < run.end; n++) write(whole, ((crop.y0 + dy(n)) * image + crop.x0 + dx(n)) * ch, image, out, (n - n0) * layout.D);
        continue;
      }
      const region = noiseCrop(p, noiseIndex[run.start]!, crop.x0 + dx0, crop.y0 + dy0, width, height);
      for (let n = run.start; n < run.end; n++) toFeatures(region, ((dy(n) - dy0) * width + (dx(n) - dx0)) * ch, width, out, (n - n0) * layout.D);
    }
    return out;
  };
  return centred ? { N, D: layout.D, rows, offset: NOISE_MEAN } : { N, D: layout.D, rows };
}

/** Where whole noise images come from: a thread's own NoiseImageCache, or one set shared by all threads (science/shared-noise-images.ts). */
export interface NoiseImageStore {
  /** Noise image `index` (side × side, HWC; `centred`: s − 127.5 in float32). */
  get(p: NoiseParams, index: number, side: number, centred?: boolean): Float32Array;
}

/**
 * Whole noise images kept for the crops of several layers (least recently used dropped first once over `maxBytes`;
 * 139 images of 384² are 82 MB). The caller owns it (one per worker thread): this module keeps no state.
 */
export class NoiseImageCache {
  private readonly images = new Map<string, Float32Array>();
  private bytes = 0;
  constructor(readonly maxBytes = 256 * 2 ** 20) {}

  /**
   * Noise image `index` (side × side, HWC), generated on first use; `centred`: the image as s − 127.5 (float32),
   * made from the kept grey-level image (so that crops of centred pixels are row copies).
   */
  get(p: NoiseParams, index: number, side: number, centred = false): Float32Array {
    const key = `${p.seed}|${p.sigma}|${p.color}|${p.check}|${side}|${index}${centred ? '|centred' : ''}`;
    let img = this.images.get(key);
    if (img) {
      this.images.delete(key); // most recently used last
      this.images.set(key, img);
      return img;
    }
    img = centred ? centredInto(this.get(p, index, side)) : noiseCrop(p, index, 0, 0, side, side);
    this.images.set(key, img);
    this.bytes += img.byteLength;
    for (const [k, v] of this.images) {
      if (this.bytes <= this.maxBytes || v === img) break;
      this.images.delete(k);
      this.bytes -= v.byteLength;
    }
    return img;
  }

  /** Images currently kept. */
  get size(): number {
    return this.images.size;
  }
}

/** Writes s − 127.5 of every value of `img` into `out` (float32; out may be a new array of img's length). */
export function centredInto(img: Float32Array, out: Float32Array = new Float32Array(img.length)): Float32Array {
  for (let i = 0; i < img.length; i++) out[i] = img[i]! - NOISE_MEAN;
  return out;
}

/** A run of consecutive samples on one noise image, and the image region their crops cover (offsets from the crop origin). */
interface ImageRun {
  start: number;
  end: number;
  /** True when generating the covered region once costs fewer pixels than generating each crop. */
  shared: boolean;
  dx0: number;
  dy0: number;
  width: number;
  height: number;
}

/** Splits samples [n0, n1) into runs of equal noise index, each with the bounding box of its crops. */
export function imageRuns(noiseIndex: ArrayLike<number>, offsets: ArrayLike<number>, size: number, n0: number, n1: number): ImageRun[] {
  const runs: ImageRun[] = [];
  let n = n0;
  while (n < n1) {
    const image = noiseIndex[n];
    let end = n;
    let [xMin, yMin, xMax, yMax] = [Infinity, Infinity, -Infinity, -Infinity];
    while (end < n1 && noiseIndex[end] === image) {
      const dx = offsets[2 * end]!;
      const dy = offsets[2 * end + 1]!;
      xMin = Math.min(xMin, dx);
      yMin = Math.min(yMin, dy);
      xMax = Math.max(xMax, dx);
      yMax = Math.max(yMax, dy);
      end++;
    }
    const width = xMax - xMin + size;
    const height = yMax - yMin + size;
    runs.push({ start: n, end, shared: width * height < (end - n) * size * size, dx0: xMin, dy0: yMin, width, height });
    n = end;
  }
  return runs;
}

/**
 * Writes one crop's analysis values from a pixel array (HWC, `stride` pixels per row, the crop's top-left pixel at
 * index `from`) into out at `dst`: pixels copy row by row, checks pick one pixel each (both minus 127.5 when
 * `centred`), bins pool (orthonormal, of s − 127.5).
 */
function featureWriter(layout: FeatureLayout, size: number, centred: boolean): (pix: Float32Array, from: number, stride: number, out: Float32Array, dst: number) => void {
  const ch = layout.pixelD / (size * size);
  const row = size * ch;
  const shift = centred ? NOISE_MEAN : 0;
  if (layout.kind === 'pixels') {
    return (pix, from, stride, out, dst) => {
      for (let y = 0; y < size; y++) {
        const src = from + y * stride * ch;
        const o = dst + y * row;
        if (shift === 0) out.set(pix.subarray(src, src + row), o);
        else for (let j = 0; j < row; j++) out[o + j] = pix[src + j]! - shift;
      }
    };
  }
  if (layout.kind === 'checks') {
    return (pix, from, stride, out, dst) => {
      for (let f = 0; f < layout.D; f++) {
        const i = layout.featureToPixel[f]!;
        const y = Math.floor(i / row);
        out[dst + f] = pix[from + y * stride * ch + (i - y * row)]! - shift;
      }
    };
  }
  const acc = new Float64Array(layout.D);
  if (ch === 1 && layout.D > 1) {
    // grey bins: each row adds its bin's run of pixels at once (b = the first pixel of feature 1)
    const b = layout.featureToPixel[1]!;
    const nb = Math.ceil(size / b);
    const fw = Float64Array.from(layout.featureToPixel, (i) => layout.pixelWeight[i]!);
    return (pix, from, stride, out, dst) => {
      acc.fill(0);
      for (let y = 0; y < size; y++) {
        const src = from + y * stride;
        const f0 = Math.floor(y / b) * nb;
        for (let j = 0; j < nb; j++) {
          const w = fw[f0 + j]!;
          const x1 = Math.min(size, (j + 1) * b);
          let s = 0;
          for (let x = j * b; x < x1; x++) s += (pix[src + x]! - 127.5) * w;
          acc[f0 + j] += s;
        }
      }
      for (let f = 0; f < layout.D; f++) out[dst + f] = acc[f]!;
    };
  }
  return (pix, from, stride, out, dst) => {
    acc.fill(0);
    for (let y = 0; y < size; y++) {
      const src = from + y * stride * ch;
      const i0 = y * row;
      for (let j = 0; j < row; j++) acc[layout.pixelToFeature[i0 + j]!] += (pix[src + j]! - 127.5) * layout.pixelWeight[i0 + j]!;
    }
    for (let f = 0; f < layout.D; f++) out[dst + f] = acc[f]!;
  };
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
