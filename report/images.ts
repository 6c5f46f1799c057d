// Small PNGs of RF maps for the report (sharp): signed maps (AWA, eigenvectors) in a diverging grey scale
// (0 = mid grey, symmetric limits), energy maps in a sequential black-red-yellow-white scale. Small RFs are
// enlarged by an integer nearest-neighbour factor (a 3-px RF stays 3×3 blocks), large ones area-averaged
// down to MAX_SIDE; values are quantised to LEVELS steps so the PNGs stay small. Natural-image thumbnails too.
import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import sharp from 'sharp';

/** Sides at or below this are enlarged (nearest neighbour, integer factor) to at least this many pixels. */
export const MIN_SIDE = 32;
/** Sides above this are area-averaged down to it. */
export const MAX_SIDE = 40;
/** Grey / colour levels a map is quantised to (odd: 0 falls on the middle level). */
export const LEVELS = 31;

/** How a map of side `side` is drawn: the side after resampling and the nearest-neighbour factor after that. */
export function thumbGeometry(side: number): { sampled: number; factor: number } {
  if (side > MAX_SIDE) return { sampled: MAX_SIDE, factor: 1 };
  return { sampled: side, factor: Math.max(1, Math.ceil(MIN_SIDE / side)) };
}

/** Area-average downsampling of one channel plane (side × side → out × out), exact box weights. */
export function areaDownsample(plane: Float64Array, side: number, out: number): Float64Array {
  if (out === side) return plane;
  const w = boxWeights(side, out);
  const tmp = new Float64Array(side * out);
  for (let y = 0; y < side; y++) {
    for (const [o, i, wt] of w) tmp[y * out + o] += wt * plane[y * side + i]!;
  }
  const res = new Float64Array(out * out);
  for (const [o, i, wt] of w) for (let x = 0; x < out; x++) res[o * out + x] += wt * tmp[i * out + x]!;
  return res;
}

// (output index, input index, weight) triples of a 1-D box filter from n samples to m (weights of each output sum to 1).
function boxWeights(n: number, m: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  const scale = n / m;
  for (let o = 0; o < m; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    for (let i = Math.floor(a); i < Math.ceil(b) && i < n; i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) out.push([o, i, overlap / scale]);
    }
  }
  return out;
}

/** Quantises t ∈ [0, 1] to LEVELS steps. */
function level(t: number): number {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5));
  return Math.round(c * (LEVELS - 1));
}

/** Sequential colour ramp black → red → yellow → white at level k of LEVELS. */
export function hotColour(k: number): [number, number, number] {
  const t = (3 * k) / (LEVELS - 1);
  const ch = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [ch(t), ch(t - 1), ch(t - 2)];
}

/** Options of one map image. */
export interface MapImage {
  /** Values, row-major HWC (side × side × channels). */
  values: ArrayLike<number>;
  side: number;
  /** 1 grey, 3 rgb (each channel mapped with the same limits). */
  channels: number;
  /** diverging: [−scale, scale] → black..white (grey); sequential: [0, scale] → black..red..yellow..white. */
  kind: 'diverging' | 'sequential';
  /** The limit; 0 or non-finite draws the map as all mid grey (diverging) or black (sequential). */
  scale: number;
}

/** The map as a PNG (Buffer), resampled and quantised as described above. */
export async function mapPng(m: MapImage): Promise<Buffer> {
  const { sampled, factor } = thumbGeometry(m.side);
  const planes: Float64Array[] = [];
  for (let c = 0; c < m.channels; c++) {
    const p = new Float64Array(m.side * m.side);
    for (let i = 0; i < p.length; i++) p[i] = Number(m.values[i * m.channels + c]);
    planes.push(areaDownsample(p, m.side, sampled));
  }
  const scale = Number.isFinite(m.scale) && m.scale > 0 ? m.scale : Infinity;
  const n = sampled * sampled;
  let raw: Buffer;
  let channels: 1 | 3;
  if (m.kind === 'diverging') {
    channels = m.channels === 3 ? 3 : 1;
    raw = Buffer.alloc(n * channels);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) raw[i * channels + c] = Math.round((level(0.5 + planes[c]![i]! / (2 * scale)) * 255) / (LEVELS - 1));
    }
  } else {
    channels = 3;
    raw = Buffer.alloc(n * 3);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (const p of planes) v += p[i]!;
      raw.set(hotColour(level(v / scale)), i * 3);
    }
  }
  let img = sharp(raw, { raw: { width: sampled, height: sampled, channels } });
  if (factor > 1) img = img.resize(sampled * factor, sampled * factor, { kernel: 'nearest' });
  if (channels === 1) return img.toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
  // ≤ LEVELS colours (sequential) or a coloured diverging map: an indexed PNG keeps it small
  return img.png({ compressionLevel: 9, palette: m.kind === 'sequential', colours: LEVELS + 1, dither: 0 }).toBuffer();
}

/** A PNG as a data URI. */
export function pngDataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** A natural image as a small JPEG data URI (cover-cropped square), or null when it is missing or unreadable. */
export async function imageThumbnail(dir: string, file: string, side = 64): Promise<string | null> {
  const path = resolve(dir, file);
  const rel = relative(resolve(dir), path);
  if (rel.startsWith(`..${sep}`) || rel === '..' || !existsSync(path)) return null;
  try {
    const jpg = await sharp(path).rotate().resize(side, side, { fit: 'cover' }).flatten({ background: '#808080' }).jpeg({ quality: 70 }).toBuffer();
    return `data:image/jpeg;base64,${jpg.toString('base64')}`;
  } catch {
    return null;
  }
}
