// Spatial spectra of reconstructed receptive fields (docs/method.md §5): windowed, zero-padded 2-D FFT power of
// the AWA map and Σₖ λₖ|FFT2(w ⊙ eₖ)|² of AWC eigenvectors, and the spectral peak (θ_pred, f_pred).
// Conventions as for the gratings (docs/method.md §2): x = column, y = row; a peak at wave vector (k_x, k_y) cycles per
// N_pad pixels gives θ = atan2(k_y, k_x) mod 180° (the wave-vector direction) and f = |k|/N_pad cycles/px.
import FFT from 'fft.js';

/** Windows of the FFT predictor (config prediction.window; compared on synthetic Gabor units in docs/reverse-correlation.md). */
export type FftWindow = 'hann' | 'hann-nonzero' | 'tukey' | 'none';

/** The window names, for the config schema and the bench. */
export const FFT_WINDOWS: readonly FftWindow[] = ['hann', 'hann-nonzero', 'tukey', 'none'];

/**
 * The default window (config prediction.window): none. On synthetic Gabor units with r = 3…14 px it matched θ and f
 * at least as often as every tapered window and more often than the edge-vanishing Hann (bench/window.ts,
 * docs/reverse-correlation.md); a taper mostly removes the few pixels a small RF has.
 */
export const DEFAULT_FFT_WINDOW: FftWindow = 'none';

/**
 * One axis of a window over r pixels. hann: ½(1 − cos 2π(i + ½)/r), the symmetric Hann window sampled at pixel
 * centres (a 3-px RF keeps weights ¼, 1, ¼); hann-nonzero: ½(1 − cos 2π(i + 1)/(r + 1)) = numpy hanning(r + 2)[1:-1]
 * (½, 1, ½ on 3 px); tukey: flat top with raised-cosine tapers over the outer quarter of each side (α = 0.5),
 * sampled at pixel centres (¾, 1, ¾ on 3 px); none: all ones.
 */
export function window1d(r: number, kind: FftWindow): Float64Array {
  return Float64Array.from({ length: r }, (_, i) => {
    if (kind === 'none') return 1;
    if (kind === 'hann') return 0.5 * (1 - Math.cos((2 * Math.PI * (i + 0.5)) / r));
    if (kind === 'hann-nonzero') return 0.5 * (1 - Math.cos((2 * Math.PI * (i + 1)) / (r + 1)));
    const alpha = 0.5;
    const x = Math.min(i + 0.5, r - i - 0.5) / r; // distance from the nearer edge, as a fraction of r
    return x >= alpha / 2 ? 1 : 0.5 * (1 - Math.cos((2 * Math.PI * x) / alpha));
  });
}

/** Separable 2-D window of side r (row-major), the outer product of window1d with itself. */
export function window2d(r: number, kind: FftWindow): Float64Array {
  const w1 = window1d(r, kind);
  const w = new Float64Array(r * r);
  for (let y = 0; y < r; y++) for (let x = 0; x < r; x++) w[y * r + x] = w1[y]! * w1[x]!;
  return w;
}

/**
 * Separable Hann window of side r, w(i) = ½(1 − cos(2π(i + ½)/r)) per axis: the symmetric window sampled at
 * pixel centres, so that even a 3-px RF keeps every pixel (the endpoint-zero form would drop two of three).
 */
export function hann2d(r: number): Float64Array {
  return window2d(r, 'hann');
}

/** Smallest power of two ≥ max(2r, minPad). */
export function padSize(r: number, minPad = 8): number {
  let n = 2;
  while (n < Math.max(2 * r, minPad)) n *= 2;
  return n;
}

/** The fft.js transform of one size and buffers reused by every transform of that size. */
interface Scratch {
  fft: FFT;
  /** Row-transformed half plane, nPad × (nPad/2 + 1). */
  re: Float64Array;
  im: Float64Array;
  /** One input row (entries from `rowWidth` on are 0). */
  row: number[];
  /** Entries of `row` the last transform may have written. */
  rowWidth: number;
  buf: number[];
  out: number[];
}

const scratches = new Map<number, Scratch>();

/** The transform of one size with its buffers (built once per size; transforms are synchronous, so sharing is safe). */
function scratchOf(n: number): Scratch {
  let s = scratches.get(n);
  if (!s) {
    const fft = new FFT(n);
    const cols = halfColumns(n);
    s = { fft, re: new Float64Array(n * cols), im: new Float64Array(n * cols), row: new Array<number>(n).fill(0), rowWidth: 0, buf: fft.createComplexArray() as number[], out: fft.createComplexArray() as number[] };
    scratches.set(n, s);
  }
  return s;
}

/** Columns of a half-plane spectrum of side nPad: kx = 0…nPad/2. */
export function halfColumns(nPad: number): number {
  return nPad / 2 + 1;
}

/**
 * Half-plane 2-D DFT power |FFT2|² of a real image zero-padded to nPad×nPad: its first `rows` rows of `width` values
 * are given (row-major, width ≤ nPad), the rest is zero. Returned as nPad rows (ky) × nPad/2 + 1 columns
 * (kx = 0…nPad/2); the other half is the mirror, power(ky, kx) = power(−ky, −kx) (`mirrorHalf`). fft.js's real
 * transform of each non-zero row, then a complex transform of each of those columns.
 */
export function fft2PowerHalf(img: ArrayLike<number>, rows: number, width: number, nPad: number): Float64Array {
  const scratch = scratchOf(nPad);
  const { fft, re, im, row, buf, out } = scratch;
  const cols = halfColumns(nPad);
  if (scratch.rowWidth > width) row.fill(0, width); // a wider image's values past this width
  scratch.rowWidth = width;
  re.fill(0);
  im.fill(0);
  // rows: the kx = 0…nPad/2 half of each row's spectrum (an all-zero row's is zero)
  for (let y = 0; y < rows; y++) {
    let zero = true;
    for (let x = 0; x < width && zero; x++) zero = img[y * width + x] === 0;
    if (zero) continue;
    for (let x = 0; x < width; x++) row[x] = img[y * width + x]!;
    fft.realTransform(out, row);
    for (let x = 0; x < cols; x++) {
      re[y * cols + x] = out[2 * x]!;
      im[y * cols + x] = out[2 * x + 1]!;
    }
  }
  // columns of that half
  const power = new Float64Array(nPad * cols);
  for (let x = 0; x < cols; x++) {
    for (let y = 0; y < nPad; y++) {
      buf[2 * y] = re[y * cols + x]!;
      buf[2 * y + 1] = im[y * cols + x]!;
    }
    fft.transform(out, buf);
    for (let y = 0; y < nPad; y++) power[y * cols + x] = out[2 * y]! ** 2 + out[2 * y + 1]! ** 2;
  }
  return power;
}

/** The full nPad×nPad plane of a half-plane spectrum (fft2PowerHalf's layout), power(ky, kx) = power(−ky, −kx). */
export function mirrorHalf(half: Float64Array, nPad: number): Float64Array {
  const cols = halfColumns(nPad);
  const power = new Float64Array(nPad * nPad);
  for (let y = 0; y < nPad; y++) {
    const my = (nPad - y) % nPad;
    for (let x = 0; x < cols; x++) power[y * nPad + x] = half[y * cols + x]!;
    for (let x = cols; x < nPad; x++) power[y * nPad + x] = half[my * cols + nPad - x]!;
  }
  return power;
}

/** 2-D DFT power |FFT2|² of a real nPad×nPad array (row-major), returned row-major (ky rows, kx columns). */
export function fft2Power(img: Float64Array, nPad: number): Float64Array {
  return mirrorHalf(fft2PowerHalf(img, nPad, nPad, nPad), nPad);
}

const windows = new Map<string, Float64Array>();

/** window2d of one side and kind, made once (read only). */
function keptWindow(r: number, kind: FftWindow): Float64Array {
  const key = `${r}|${kind}`;
  let w = windows.get(key);
  if (!w) windows.set(key, (w = window2d(r, kind)));
  return w;
}

/** Half-plane (fft2PowerHalf's layout) power spectrum of one r×r map, as mapSpectrum. */
export function mapSpectrumHalf(map: ArrayLike<number>, r: number, channels: number, nPad: number, window: FftWindow = DEFAULT_FFT_WINDOW): Float64Array {
  const w = keptWindow(r, window);
  const img = new Float64Array(r * r);
  let total: Float64Array | undefined;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < r * r; i++) img[i] = w[i]! * map[i * channels + c]!;
    const p = fft2PowerHalf(img, r, r, nPad);
    if (!total) total = p; // 0 + p is p
    else for (let i = 0; i < p.length; i++) total[i] += p[i]!;
  }
  return total ?? new Float64Array(nPad * halfColumns(nPad));
}

/**
 * Power spectrum of one r×r map with `channels` interleaved channels (HWC; 1 for grey): window (default none),
 * zero-pad to nPad, spectra of the channels summed.
 */
export function mapSpectrum(map: ArrayLike<number>, r: number, channels: number, nPad: number, window: FftWindow = DEFAULT_FFT_WINDOW): Float64Array {
  return mirrorHalf(mapSpectrumHalf(map, r, channels, nPad, window), nPad);
}

/** Half-plane (fft2PowerHalf's layout) AWC spectrum, as eigenSpectrum. */
export function eigenSpectrumHalf(
  vectors: readonly ArrayLike<number>[],
  lambdas: ArrayLike<number>,
  r: number,
  channels: number,
  nPad: number,
  window: FftWindow = DEFAULT_FFT_WINDOW,
): Float64Array {
  const total = new Float64Array(nPad * halfColumns(nPad));
  vectors.forEach((v, k) => {
    const p = mapSpectrumHalf(v, r, channels, nPad, window);
    for (let i = 0; i < p.length; i++) total[i] += lambdas[k]! * p[i]!;
  });
  return total;
}

/** AWC spectrum Σₖ λₖ |FFT2(w ⊙ eₖ)|² over the given eigenpairs (pass only significant excitatory ones). */
export function eigenSpectrum(...args: Parameters<typeof eigenSpectrumHalf>): Float64Array {
  return mirrorHalf(eigenSpectrumHalf(...args), args[4]);
}

/** Predicted orientation (deg, [0, 180)) and spatial frequency (cycles/px) of a spectral peak. */
export interface SpectralPeak {
  thetaDeg: number;
  fCpp: number;
  /** Peak power (0 when the spectrum is empty). */
  power: number;
}

/** The peak of an nPad×nPad power spectrum, DC excluded (NaN θ/f when the spectrum is all zero). */
export function spectralPeak(power: Float64Array, nPad: number): SpectralPeak {
  return peakScan(power, nPad, nPad);
}

/** spectralPeak of the full plane of a half-plane spectrum (fft2PowerHalf's layout), read in place. */
export function spectralPeakHalf(half: Float64Array, nPad: number): SpectralPeak {
  return peakScan(half, nPad, halfColumns(nPad));
}

/**
 * spectralPeak's scan of the full plane, stored with `cols` columns: every column (cols = nPad), or the kx = 0…nPad/2
 * half, the other half read as its mirror power(−ky, −kx). The same values in the same order either way.
 */
function peakScan(power: Float64Array, nPad: number, cols: number): SpectralPeak {
  let best = -1;
  let bx = 0;
  let by = 0;
  const half = nPad / 2;
  for (let iy = 0; iy < nPad; iy++) {
    const ky = iy < half ? iy : iy - nPad;
    for (let ix = 0; ix < nPad; ix++) {
      if (ix === 0 && iy === 0) continue;
      const kx = ix < half ? ix : ix - nPad;
      const p = ix < cols ? power[iy * cols + ix]! : power[((nPad - iy) % nPad) * cols + nPad - ix]!;
      // real input: k and −k have equal power; keep the half-plane with θ in [0°, 180°) for reproducibility
      if (p > best * (1 + 1e-12) || (Math.abs(p - best) <= 1e-12 * best && (ky > by || (ky === by && kx > bx)))) {
        best = p;
        bx = kx;
        by = ky;
      }
    }
  }
  if (!(best > 0)) return { thetaDeg: NaN, fCpp: NaN, power: 0 };
  let theta = (Math.atan2(by, bx) * 180) / Math.PI;
  theta = ((theta % 180) + 180) % 180;
  return { thetaDeg: theta, fCpp: Math.hypot(bx, by) / nPad, power: best };
}
