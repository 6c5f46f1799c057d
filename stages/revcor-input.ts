// Inputs shared by the awa and awc stages: the noise shards of the activations stage (a layer's centre-unit
// activations, the noise index of every row, the noise parameters and RF geometry from the schema metadata),
// the worker module, and the grating axes the model-response predictions use.
// Tested in test/stages/revcor.test.ts.
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import type { LayerGeometry } from '../model/geometry.ts';
import { sampleIndex, type PositionPlan } from '../model/positions.ts';
import { InputError } from '../pipeline/errors.ts';
import { packageModule } from '../pipeline/package-files.ts';
import type { PlanContext, StageContext, WorkerPool } from '../pipeline/stage.ts';
import { gratingAxes } from '../science/gratings.ts';
import { analysisBin, type CropWindow } from '../science/noise-source.ts';
import { allocateSharedImages, type SharedImageSet } from '../science/shared-noise-images.ts';
import { noiseChannels, type NoiseParams } from '../science/noise.ts';
import type { PredictionArgs } from './revcor-worker.ts';
import { readLayerMatrix, readNumbers } from './unit-columns.ts';
import { noiseImageCount } from './noise-plan.ts';
import { setShards } from './unit-plan.ts';
import { setRanges } from './sets/shard-id.ts';
import { ACTIVATIONS_META } from '../results/activations.ts';

/** Absolute path of the pool-side module (stages/revcor-worker.ts, or its compiled twin in dist/). */
export const REVCOR_WORKER = packageModule('stages/revcor-worker');

/** Schema-metadata keys the activations stage writes (declared once in results/activations.ts). */
const META = ACTIVATIONS_META;

/** The noise activations of one layer and everything needed to regenerate its stimuli. */
export interface LayerNoise {
  layer: string;
  /** Activations N×channels, row-major. */
  A: Float32Array;
  channels: number;
  noiseIndex: Int32Array;
  noise: NoiseParams;
  geometry: LayerGeometry;
  /** The crop of sample 0 (with interior positions: of the grid's first position, in noise-image pixels). */
  crop: CropWindow;
  /** Interior positions: per sample (dx, dy) of its crop from `crop`'s origin, 2 per sample; null for centre units. */
  offsets: Int32Array | null;
  /** Interior positions: the side of the noise images (every crop lies inside); null for centre units. */
  imageSize: number | null;
  /** Interior positions: every noise image of the checkpoints (all layers' crops come from these); null for centre units. */
  images: Int32Array | null;
}

/** The activations stage's noise shard ids for a config (the shard-id scheme of stages/sets/shard-id.ts). */
export async function noiseShardIds(config: Experiment): Promise<string[]> {
  return setRanges('noise', await noiseImageCount(config), config.activations.shardSize).map((r) => r.id);
}

/**
 * Reads every noise shard of the activations stage (in stimulus order): with `layers`, only the columns layerNoise
 * reads for them (their bytes alone are read from the checkpoints), else every column.
 */
export async function readNoiseTables(ctx: StageContext<Experiment>, stage: string, layers?: readonly string[]): Promise<Table[]> {
  const view = ctx.upstream('activations');
  const shards = setShards(view.shards, 'noise');
  if (shards.length === 0) {
    throw new InputError(`${stage}: the activations stage has no noise shards. Expected stimuli.noise.enabled: true, got no noise`);
  }
  const tables: Table[] = [];
  const columns = layers ? ['noise_index', ...layers] : undefined;
  for (const s of shards) tables.push(await view.read(s.id, { columns }));
  return tables;
}

/** Layers this process read last, by layer and the noise checkpoints' sha256 (at most two: two shards run at once). */
const recentLayers: { key: string; noise: Promise<LayerNoise> }[] = [];

/**
 * One layer's noise activations (layerNoise over readNoiseTables), kept for the next shard of the same layer: the
 * awc shards of a layer run one after another, and each would re-read every noise checkpoint (hundreds of MB) for
 * its layer's N×C matrix. Keyed by the checkpoints' recorded sha256, so a recomputed checkpoint is read again; an
 * upstream without digests (a test double) is always read. Returns a copy the caller may modify (A shared: read it only).
 */
export async function readLayerNoise(ctx: StageContext<Experiment>, layer: string, stage: string): Promise<LayerNoise> {
  const shards = setShards(ctx.upstream('activations').shards, 'noise');
  const digests = shards.map((s) => s.sha256);
  if (digests.length === 0 || digests.some((d) => !d)) return layerNoise(await readNoiseTables(ctx, stage, [layer]), layer, stage);
  const key = JSON.stringify([layer, digests]);
  let hit = recentLayers.find((e) => e.key === key);
  if (!hit) {
    hit = { key, noise: readNoiseTables(ctx, stage, [layer]).then((tables) => layerNoise(tables, layer, stage)) };
    recentLayers.unshift(hit);
    recentLayers.length = Math.min(recentLayers.length, 2);
    const entry = hit;
    entry.noise.catch(() => {
      const i = recentLayers.indexOf(entry); // a failed read is not kept
      if (i >= 0) recentLayers.splice(i, 1);
    });
  }
  const noise = await hit.noise;
  return { ...noise, crop: { ...noise.crop } };
}

/** Parses a JSON metadata entry of the first noise table. */
function meta<T>(table: Table, key: string, stage: string): T {
  const raw = table.schema.metadata.get(key);
  if (!raw) throw new InputError(`${stage}: the activations noise shards have no '${key}' metadata. Expected the activations stage's noise output.`);
  return JSON.parse(raw) as T;
}

/** One layer's noise activations and geometry from the activations stage's noise tables. */
export function layerNoise(tables: readonly Table[], layer: string, stage: string): LayerNoise {
  const geometry = meta<LayerGeometry[]>(tables[0]!, META.geometry, stage).find((g) => g.name === layer);
  if (!geometry) throw new InputError(`${stage}: no RF geometry for layer '${layer}' in the activations metadata.`);
  const noise = meta<NoiseParams>(tables[0]!, META.noise, stage);
  const { matrix, channels } = readLayerMatrix(tables, layer, 'activations (noise)');
  const noiseIndex = Int32Array.from(readNumbers(tables, 'noise_index', 'activations (noise)'));
  if (tables[0]!.schema.metadata.has(META.positions)) return interiorSamples(meta<PositionPlan>(tables[0]!, META.positions, stage), layer, matrix, channels, noiseIndex, noise, geometry, stage);
  return {
    layer,
    A: matrix,
    channels,
    noiseIndex,
    noise,
    geometry,
    crop: { x0: geometry.cropX0, y0: geometry.cropY0, size: geometry.cropSize },
    offsets: null,
    imageSize: null,
    images: null,
  };
}

/**
 * The N samples of a layer under interior sampling: each noise image's row holds g² positions × C channels,
 * position-major, so the first N·C values are the N×C sample matrix in (image, row, column) order.
 */
function interiorSamples(plan: PositionPlan, layer: string, matrix: Float32Array, width: number, images: Int32Array, noise: NoiseParams, geometry: LayerGeometry, stage: string): LayerNoise {
  const p = plan.layers.find((l) => l.name === layer);
  if (!p) throw new InputError(`${stage}: the interior position plan of the noise activations has no layer '${layer}'.`);
  const per = p.count * p.count;
  const channels = width / per;
  const N = plan.samples;
  if (!Number.isInteger(channels) || images.length * per < N) {
    throw new InputError(`${stage}: the noise activations of ${layer} hold ${images.length} images × ${width} values, expected ≥ ${N} samples of ${per} positions × whole channels.`);
  }
  const { noiseIndex, offsets } = sampleIndex(p, N, images);
  return {
    layer,
    A: matrix.subarray(0, N * channels), // the matrix is this layer's own copy: no second one
    channels,
    noiseIndex,
    noise,
    geometry,
    crop: { x0: p.x0, y0: p.x0, size: p.rfSize },
    offsets,
    imageSize: plan.imageSize,
    images,
  };
}

/** The process's shared whole-image set (one kept: every layer of a run reads the same images). */
let sharedSet: { key: string; set: SharedImageSet } | undefined;

/**
 * The whole noise images of a layer's interior samples as one set shared by every pool thread of this process
 * (science/shared-noise-images.ts: each image generated once, by the first thread that needs it); null for centre
 * units. Every layer of a run gets the same set.
 */
export function sharedNoiseImages(ln: Pick<LayerNoise, 'noise' | 'imageSize' | 'images'>): SharedImageSet | null {
  if (!ln.imageSize || !ln.images) return null;
  const key = JSON.stringify([ln.noise, ln.imageSize, Array.from(ln.images)]);
  if (sharedSet?.key !== key) sharedSet = { key, set: allocateSharedImages(ln.noise, ln.imageSize, ln.images) };
  return sharedSet.set;
}

/** Columns [start, end) of a row-major N×C matrix. */
export function unitColumns(A: Float32Array, N: number, C: number, start: number, end: number): Float32Array {
  const U = end - start;
  const out = new Float32Array(N * U);
  for (let n = 0; n < N; n++) out.set(A.subarray(n * C + start, n * C + end), n * U);
  return out;
}

/** ONNX Runtime threads of one pool task: model.threads when set, else what the executor gives each shard. */
export function threadsPerTask(ctx: Pick<StageContext<Experiment>, 'threads' | 'config'>): number {
  return ctx.config.model.threads > 0 ? ctx.config.model.threads : Math.max(1, ctx.threads);
}

/** The prediction settings the workers need (docs/method.md §5). */
export function predictionArgs(config: Experiment): PredictionArgs {
  const a = gratingAxes(config.stimuli.gratings);
  return { method: config.prediction.method, window: config.prediction.window, axes: { thetasDeg: a.thetasDeg, sfsCpp: a.sfsCpp, phasesDeg: a.phasesDeg } };
}

/** Whether the noise set exists for this config (the revcor stages plan nothing otherwise). */
export function noiseEnabled(ctx: PlanContext<Experiment>): boolean {
  return ctx.config.stimuli.noise.enabled;
}

/**
 * Memory the awa task may keep a layer's samples in (bytes): the awc budget when the layer's awc shards read the
 * same features — the theoretical crop in pixels, no checks and no bins — and can reuse them, else 0: samples kept
 * for another layout would be dropped unread by the next task, after holding up to awc.cacheMiB for nothing.
 */
export function awaKeepBytes(config: Experiment, ln: { noise: Pick<NoiseParams, 'color' | 'check'>; crop: Pick<CropWindow, 'size'> }): number {
  const channels = noiseChannels(ln.noise);
  const samePixels = config.awc.crop === 'theoretical' && ln.noise.check <= 1 && analysisBin(ln.crop.size, channels, ln.noise.check, config.awc.maxDim) === 1;
  return samePixels ? config.awc.cacheMiB * 2 ** 20 : 0;
}
