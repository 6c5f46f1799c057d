// Interior positions (docs/method.md §6, `stimuli.noise.positions: interior`): every unit of a channel whose RF lies wholly
// inside the image is an exact translated copy of the centre unit (shared weights, same stride grid), so one
// large noise image yields many RF samples. This plans, per layer, a square grid of such positions, thinned so
// that the layer's N samples spread over all the noise images (fewer overlapping crops per image).
import { ModelError } from '../pipeline/errors.ts';
import type { LayerGeometry } from './geometry.ts';

/** One layer's sampled positions on a noise image (a g×g grid in the feature map). */
export interface LayerPositions {
  name: string;
  /** Feature-map index of the first grid position (both axes). */
  first: number;
  /** Grid step in feature-map positions. */
  step: number;
  /** Grid positions per axis (g); the layer reads g² positions per image. */
  count: number;
  /** Input pixel where the RF of the first grid position starts (both axes; ≥ 0). */
  x0: number;
  /** Pixels between neighbouring grid positions' RFs: cumulative stride × step. */
  pixelStep: number;
  /** RF side in pixels (the crop of every sample). */
  rfSize: number;
}

/** The interior sampling of one noise set: image side, images, samples per unit and every layer's grid. */
export interface PositionPlan {
  imageSize: number;
  /** Noise images through the network. */
  images: number;
  /** Samples per unit (N): the first N of images × g² in (image, row, column) order. */
  samples: number;
  layers: LayerPositions[];
}

/** Feature indices [first, last] whose RF lies wholly inside an image of side `size` (empty when first > last). */
export function interiorRange(g: Pick<LayerGeometry, 'stride' | 'rfSize' | 'rfX0' | 'centreIndex'>, size: number): { first: number; last: number } {
  const start0 = g.rfX0 - g.stride * g.centreIndex; // RF start of feature index 0
  const first = Math.max(0, Math.ceil(-start0 / g.stride));
  const last = Math.floor((size - g.rfSize - start0) / g.stride);
  return { first, last };
}

/** Grid positions per axis with step t over [first, last]. */
function perAxis(first: number, last: number, t: number): number {
  return last < first ? 0 : Math.floor((last - first) / t) + 1;
}

/**
 * Plans interior sampling: `atImage` is each analysed layer's geometry for an input of side imageSize. The
 * number of images is set by the layer with the fewest interior positions (all of them used); every other
 * layer takes the largest grid step that still gives it ≥ N samples over those images, and its grid is centred
 * in the interior range. Throws when an image holds no whole RF of some layer.
 */
export function positionPlan(atImage: readonly LayerGeometry[], imageSize: number, samples: number): PositionPlan {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`interior positions: expected a positive sample count, got ${samples}`);
  const ranges = atImage.map((g) => ({ g, ...interiorRange(g, imageSize) }));
  for (const r of ranges) {
    if (r.last < r.first) {
      throw new ModelError(
        `stimuli.noise.imageSize: a ${imageSize}-px noise image holds no whole RF of ${r.g.name} (${r.g.rfSize} px). Expected an image side of at least ${r.g.rfSize + r.g.stride} px.`,
      );
    }
  }
  const full = ranges.map((r) => perAxis(r.first, r.last, 1) ** 2);
  const images = Math.max(...full.map((p) => Math.ceil(samples / p)));
  const layers = ranges.map(({ g, first, last }) => {
    // the largest step t whose grid still gives ≥ N samples over the images (t = 1 always does)
    let step = 1;
    for (let t = last - first + 1; t > 1; t--) {
      if (perAxis(first, last, t) ** 2 * images >= samples) {
        step = t;
        break;
      }
    }
    const count = perAxis(first, last, step);
    const spare = last - first - (count - 1) * step; // centre the grid in the interior range
    const i0 = first + Math.floor(spare / 2);
    const start0 = g.rfX0 - g.stride * g.centreIndex;
    return { name: g.name, first: i0, step, count, x0: start0 + g.stride * i0, pixelStep: g.stride * step, rfSize: g.rfSize };
  });
  return { imageSize, images, samples, layers };
}

/** Sample k of a layer: its image (row of the noise set) and its RF crop's pixel offset from the grid's first RF. */
export function sampleAt(p: LayerPositions, k: number): { image: number; dx: number; dy: number } {
  const per = p.count * p.count;
  const q = k % per;
  return { image: Math.floor(k / per), dx: (q % p.count) * p.pixelStep, dy: Math.floor(q / p.count) * p.pixelStep };
}

/**
 * The first N samples of a layer's grid: per sample its noise image (images[k], or the image's row when `images`
 * is omitted) and its crop's (dx, dy) from the grid's first RF, 2 per sample.
 */
export function sampleIndex(p: LayerPositions, N: number, images?: ArrayLike<number>): { noiseIndex: Int32Array; offsets: Int32Array } {
  const noiseIndex = new Int32Array(N);
  const offsets = new Int32Array(2 * N);
  for (let k = 0; k < N; k++) {
    const s = sampleAt(p, k);
    noiseIndex[k] = images ? images[s.image]! : s.image;
    offsets[2 * k] = s.dx;
    offsets[2 * k + 1] = s.dy;
  }
  return { noiseIndex, offsets };
}
