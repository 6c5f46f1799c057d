// Pool-side work of the awa and awc stages: regenerates the noise crops of one layer from the seed, runs the
// science on the worker's own ONNX Runtime matrix-product backend (created lazily, one per worker thread), and
// returns typed arrays (structured-clonable) for the stage to turn into Arrow columns.
// Tested in test/stages/revcor.test.ts.
import { OrtMatMul } from '../model/ort-matmul.ts';
import { awaLayer, chunkRows, SAMPLE_OFFSET, type AwaNullModel } from '../science/awa.ts';
import { awcLayer, type AwcOptions } from '../science/awc.ts';
import { JsMatMul, type FixedOperand, type MatMul } from '../science/gemm.ts';
import { featureLayout, NoiseImageCache, noiseSource, toPixels, type CropWindow, type FeatureLayout } from '../science/noise-source.ts';
import { storedSource, type SampleSource } from '../science/samples.ts';
import { SharedNoiseImages, type SharedImageSet } from '../science/shared-noise-images.ts';
import { noiseChannels, type NoiseParams } from '../science/noise.ts';
import { predictAwaFft, predictAwcFft, predictByModel, type GratingAxesLike, type Prediction, type RfLayout } from '../science/predict.ts';
import type { FftWindow } from '../science/spectrum.ts';

/** Matrix-product backend of a worker: ORT (default) or plain JS (tests). */
export type Backend = 'ort' | 'js';

let ortBackend: { threads: number; mm: OrtMatMul } | undefined;

/** The worker's matrix-product backend (one ORT session set per worker thread, made on first use). */
function backend(kind: Backend, threads: number): MatMul {
  if (kind === 'js') return new JsMatMul();
  if (!ortBackend || ortBackend.threads !== threads) {
    void ortBackend?.mm.dispose();
    ortBackend = { threads, mm: new OrtMatMul({ threads }) };
  }
  return ortBackend.mm;
}

let sampleCache: { key: string; src: SampleSource; prepared: Map<string, Promise<FixedOperand>> } | undefined;

/** Releases the backend's prepared chunks of a layer's samples (errors ignored: the samples are being dropped). */
function releasePrepared(prepared: Map<string, Promise<FixedOperand>>): void {
  for (const p of prepared.values()) void p.then((f) => f.dispose()).catch(() => undefined);
  prepared.clear();
}

/** Whole interior noise images this worker thread keeps for the crops of every layer (science/noise-source.ts). */
const wholeImages = new NoiseImageCache();

/**
 * The noise samples of one layer's crop, generated once per worker and kept (float32 when N·D·4 bytes fit the
 * budget, else — when `half` allows — float16 when N·D·2 do): the awa task and every awc shard of the layer that
 * lands on this worker reuse them, and the Krylov passes read memory instead of regenerating noise. One entry.
 * Samples that are not kept are streamed from the generator (exact float32 values, as s − 127.5).
 */
function layerSamples(noise: NoiseParams, noiseIndex: Int32Array, crop: CropWindow, layout: FeatureLayout, budgetBytes: number, offsets: Int32Array | null, imageSize: number | null, shared: SharedImageSet | null, half = true): { src: SampleSource; stored: boolean; prepared?: Map<string, Promise<FixedOperand>> } {
  let h = 2166136261;
  for (let i = 0; i < noiseIndex.length; i++) h = Math.imul(h ^ noiseIndex[i]!, 16777619) >>> 0;
  if (offsets) for (let i = 0; i < offsets.length; i++) h = Math.imul(h ^ offsets[i]!, 16777619) >>> 0;
  const key = JSON.stringify({ noise, crop, D: layout.D, kind: layout.kind, N: noiseIndex.length, h });
  if (sampleCache?.key === key) return { src: sampleCache.src, stored: true, prepared: sampleCache.prepared };
  // whole images: the process's shared set when the stage passes one, else this thread's own
  const cache = shared ? new SharedNoiseImages(shared) : wholeImages;
  const raw = noiseSource(noise, noiseIndex, crop, layout, offsets, { centred: true, images: imageSize ? { side: imageSize, cache } : undefined });
  const bytes = noiseIndex.length * layout.D * 4;
  const precision = bytes <= budgetBytes ? 'f32' : half && bytes / 2 <= budgetBytes ? 'f16' : null;
  if (!precision) return { src: raw, stored: false };
  if (sampleCache) releasePrepared(sampleCache.prepared);
  sampleCache = undefined; // release the previous layer before generating the next
  sampleCache = { key, src: storedSource(raw, precision, 2048, SAMPLE_OFFSET), prepared: new Map() };
  return { src: sampleCache.src, stored: true, prepared: sampleCache.prepared };
}

/** How RF predictions are made (docs/method.md §5). */
export interface PredictionArgs {
  method: 'fft' | 'model';
  axes: GratingAxesLike;
  /** Window of the fft method (prediction.window; default hann). */
  window?: FftWindow;
}

/** Inputs of one AWA task: one layer's units over all noise stimuli. */
export interface AwaTaskArgs {
  noise: NoiseParams;
  /** Noise index of every row of A. */
  noiseIndex: Int32Array;
  /** Activations N×U, row-major. */
  A: Float32Array;
  U: number;
  crop: CropWindow;
  /** Interior positions: (dx, dy) of every row's crop from `crop` (null: every row reads `crop`). */
  offsets?: Int32Array | null;
  /** Interior positions: side of the noise images (kept whole per worker for every layer's crops). */
  imageSize?: number | null;
  /** Interior positions: the whole images shared by every thread of the process (stages/revcor-input.ts). */
  images?: SharedImageSet | null;
  zThreshold: number;
  /** Null SD form of the z-maps (awa.nullModel; default finite-n). */
  nullModel?: AwaNullModel;
  prediction: PredictionArgs;
  threads: number;
  backend?: Backend;
  /** Memory for keeping the layer's noise samples in the worker (bytes; 0 = regenerate). */
  cacheBytes?: number;
}

/** Per-unit AWA results (maps U×pixelD). */
export interface AwaTaskResult {
  D: number;
  channels: number;
  sigma: number;
  awa: Float32Array;
  zMax: Float64Array;
  significant: Uint8Array;
  /** 1 when the unit's activation varies over the noise samples. */
  responsive: Uint8Array;
  nullSd: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
  active: Int32Array;
  thetaPred: Float64Array;
  fPred: Float64Array;
}

/** Where an RF map sits, for the predictions. */
function rfLayout(noise: NoiseParams, crop: CropWindow): RfLayout {
  return { r: crop.size, channels: noiseChannels(noise), x0: crop.x0, y0: crop.y0 };
}

/**
 * The awa's sample-chunk memory, kept for the next awa task of this thread: a stage's tasks follow one another, and a
 * fresh buffer of hundreds of MB costs its page faults again (about 0.25 s per 256 MB on these machines). Released
 * when an awc task starts on this thread, or once no task has taken it for KEEP_CHUNKS_MS, so that it does not stay
 * allocated through the next stages.
 */
let chunkMemory: { floats: Float32Array; release?: ReturnType<typeof setTimeout> } | undefined;
const KEEP_CHUNKS_MS = 2000;

/** A chunk buffer of at least `n` floats for one task (the kept one when large enough); give it back with returnChunks. */
function takeChunks(n: number): Float32Array {
  if (chunkMemory && chunkMemory.floats.length >= n) {
    clearTimeout(chunkMemory.release);
    return chunkMemory.floats;
  }
  dropChunks(); // the smaller one is unreferenced before the larger is allocated (a GC that allocation starts frees it)
  chunkMemory = { floats: new Float32Array(n) };
  return chunkMemory.floats;
}

/** Releases the kept chunk buffer now (another stage's task is starting on this thread and needs the memory). */
function dropChunks(): void {
  clearTimeout(chunkMemory?.release);
  chunkMemory = undefined;
}

/** Starts the release timer of the kept chunk buffer (it does not hold the thread open). */
function returnChunks(): void {
  if (!chunkMemory) return;
  const kept = chunkMemory;
  kept.release = setTimeout(() => {
    if (chunkMemory === kept) chunkMemory = undefined;
  }, KEEP_CHUNKS_MS);
  kept.release.unref?.();
}

/** AWA of every unit of a layer (pixel space) and its predicted θ, f. */
export async function awaTask(args: AwaTaskArgs): Promise<AwaTaskResult> {
  const mm = backend(args.backend ?? 'ort', args.threads);
  const layout = featureLayout(args.noise, args.crop, 'pixels');
  // one pass over the samples: keep them only when they fit as float32 (awc shards of the layer may reuse them)
  const { src } = layerSamples(args.noise, args.noiseIndex, args.crop, layout, args.cacheBytes ?? 0, args.offsets ?? null, args.imageSize ?? null, args.images ?? null, false);
  const chunk = chunkRows(src.N, layout.D);
  let res;
  try {
    res = await awaLayer(src, args.A, args.U, mm, { zThreshold: args.zThreshold, nullModel: args.nullModel, chunk, buffer: takeChunks(chunk * layout.D) });
  } finally {
    returnChunks();
  }
  const rf = rfLayout(args.noise, args.crop);
  const thetaPred = new Float64Array(args.U).fill(NaN);
  const fPred = new Float64Array(args.U).fill(NaN);
  for (let u = 0; u < args.U; u++) {
    if (!(res.sum[u] > 0)) continue;
    const map = res.awa.subarray(u * layout.D, (u + 1) * layout.D);
    const p: Prediction = args.prediction.method === 'model' ? predictByModel('awa', [map], [1], rf, args.prediction.axes) : predictAwaFft(map, rf, args.prediction.window);
    thetaPred[u] = p.thetaDeg;
    fPred[u] = p.fCpp;
  }
  return {
    D: layout.D,
    channels: rf.channels,
    sigma: res.sigma,
    awa: res.awa,
    zMax: res.zMax,
    significant: res.significant,
    responsive: res.responsive,
    nullSd: res.nullSd,
    sum: res.sum,
    sumSq: res.sumSq,
    active: res.active,
    thetaPred,
    fPred,
  };
}

/** Inputs of one AWC task: a unit range of one layer over all noise stimuli. */
export interface AwcTaskArgs {
  noise: NoiseParams;
  noiseIndex: Int32Array;
  A: Float32Array;
  U: number;
  /** Channel index of the first unit (seeds do not depend on sharding). */
  unitOffset: number;
  crop: CropWindow;
  /** Interior positions: (dx, dy) of every row's crop from `crop` (null: every row reads `crop`). */
  offsets?: Int32Array | null;
  /** Interior positions: side of the noise images (kept whole per worker for every layer's crops). */
  imageSize?: number | null;
  /** Interior positions: the whole images shared by every thread of the process (stages/revcor-input.ts). */
  images?: SharedImageSet | null;
  /** Analyse pixel noise on b×b bins (1 = per pixel); ignored with noise checks (the checks are the features). */
  bin?: number;
  /** Solver choice before resolution ('auto' → full when D ≤ fullMaxDim). */
  solver: 'auto' | 'full' | 'subspace';
  fullMaxDim: number;
  options: Omit<AwcOptions, 'solver' | 'progress' | 'unitOffset'>;
  prediction: PredictionArgs;
  threads: number;
  backend?: Backend;
}

/** Per-unit AWC results; vectors and maps in pixel space (U×k×pixelD, U×pixelD). */
export interface AwcTaskResult {
  D: number;
  pixelD: number;
  /** The analysis basis: pixels, noise checks, or b×b bins of pixel noise. */
  features: 'pixels' | 'checks' | 'bins';
  solver: 'full' | 'subspace';
  sigma: number;
  responsive: Uint8Array;
  top: Float32Array;
  bottom: Float32Array;
  topVectors: Float32Array;
  bottomVectors: Float32Array;
  upper: Float64Array;
  lower: Float64Array;
  topSignificant: Int32Array;
  bottomSignificant: Int32Array;
  energy: Float32Array;
  thetaPred: Float64Array;
  fPred: Float64Array;
}

/** AWC of a unit range of a layer, expanded to pixel space, with the AWC-predicted θ, f. */
export async function awcTask(args: AwcTaskArgs): Promise<AwcTaskResult> {
  dropChunks();
  const mm = backend(args.backend ?? 'ort', args.threads);
  // with c×c checks the noise prior is σ²I only over checks: AWC always runs on the checks meeting the crop;
  // pixel noise may be analysed on b×b bins (orthonormal pooling, science/noise-source.ts)
  const layout = featureLayout(args.noise, args.crop, 'checks', args.bin ?? 1);
  // the AWC shards of a layer on this worker share the samples and their prepared chunks (released with the samples)
  const { src, stored, prepared } = layerSamples(args.noise, args.noiseIndex, args.crop, layout, args.options.cacheBytes ?? 0, args.offsets ?? null, args.imageSize ?? null, args.images ?? null);
  const solver = args.solver === 'auto' ? (layout.D <= args.fullMaxDim ? 'full' : 'subspace') : args.solver;
  const { top: kt, bottom: kb } = args.options;
  // stored samples hold stimulus − 127.5: products read them in place (no centred copy), see science/awc.ts
  const cacheBytes = stored ? 0 : (args.options.cacheBytes ?? 0);
  const res = await awcLayer(src, args.A, args.U, mm, { ...args.options, cacheBytes, prepareBytes: args.options.cacheBytes ?? 0, prepared, solver, unitOffset: args.unitOffset });
  const P = layout.pixelD;
  const U = args.U;
  const out: AwcTaskResult = {
    D: layout.D,
    pixelD: P,
    features: layout.kind,
    solver,
    sigma: res.moments.sigma,
    responsive: new Uint8Array(U),
    top: new Float32Array(U * kt).fill(NaN),
    bottom: new Float32Array(U * kb).fill(NaN),
    topVectors: new Float32Array(U * kt * P),
    bottomVectors: new Float32Array(U * kb * P),
    upper: new Float64Array(U).fill(NaN),
    lower: new Float64Array(U).fill(NaN),
    topSignificant: new Int32Array(U * kt),
    bottomSignificant: new Int32Array(U * kb),
    energy: new Float32Array(U * P),
    thetaPred: new Float64Array(U).fill(NaN),
    fPred: new Float64Array(U).fill(NaN),
  };
  const rf = rfLayout(args.noise, args.crop);
  res.units.forEach((unit, u) => {
    if (!unit.responsive) return;
    out.responsive[u] = 1;
    out.upper[u] = unit.bounds.upper;
    out.lower[u] = unit.bounds.lower;
    const sigVecs: Float32Array[] = [];
    const sigLams: number[] = [];
    const energy = out.energy.subarray(u * P, (u + 1) * P);
    unit.top.forEach((lam, k) => {
      out.top[u * kt + k] = lam;
      out.topSignificant[u * kt + k] = unit.topSignificant[k] ? 1 : 0;
      const v = toPixels(unit.topVectors[k], layout, true);
      out.topVectors.set(v, (u * kt + k) * P);
      if (unit.topSignificant[k] && lam > 0) {
        sigVecs.push(v);
        sigLams.push(lam);
        for (let i = 0; i < P; i++) energy[i] += lam * v[i] * v[i]; // Σ λ e² of the pixel-space eigenvectors
      }
    });
    unit.bottom.forEach((lam, k) => {
      out.bottom[u * kb + k] = lam;
      out.bottomSignificant[u * kb + k] = unit.bottomSignificant[k] ? 1 : 0;
      out.bottomVectors.set(toPixels(unit.bottomVectors[k], layout, true), (u * kb + k) * P);
    });
    if (sigVecs.length > 0) {
      const p = args.prediction.method === 'model' ? predictByModel('awc', sigVecs, sigLams, rf, args.prediction.axes) : predictAwcFft(sigVecs, sigLams, rf, args.prediction.window);
      out.thetaPred[u] = p.thetaDeg;
      out.fPred[u] = p.fCpp;
    }
  });
  return out;
}
