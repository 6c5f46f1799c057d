// The experiment schema: every key a YAML experiment may set, its type, range and default (docs/method.md).
// Paths stay as written here; config/load.ts resolves them relative to the YAML file that set them.
// Tested in test/config/load.test.ts.
import * as z from 'zod'; // a namespace import lets the bundle drop zod's 60-odd message locales (only English is used)

const positiveInt = () => z.number().int().min(1);

/** Which network, which weights, which units (docs/method.md §1). */
export const ModelSchema = z
  .strictObject({
    /** vgg16 | vgg19 build the Keras architecture; onnx reads any feed-forward convolutional graph from `weights` (model/README.md). */
    arch: z.enum(['vgg16', 'vgg19', 'onnx']).default('vgg16'),
    /** auto: Keras cache file if present, else seeded; seeded: He-normal from `seed`; or a path to .h5 / .onnx. */
    weights: z.string().min(1).default('auto'),
    /**
     * Input preprocessing: caffe = RGB→BGR minus the BGR mean (Keras VGG); torch = RGB/255 minus the ImageNet mean,
     * over its std (torchvision, timm); none = raw 0–255 RGB; auto = caffe for vgg16/vgg19, none for onnx; or explicit
     * { mean, std, scale, channelOrder }: x = (pixel·scale − mean)/std in channelOrder (mean and std in that order).
     */
    preprocessing: z
      .union([
        z.enum(['auto', 'caffe', 'torch', 'none']),
        z.strictObject({
          mean: z.array(z.number()).default([0, 0, 0]),
          std: z.array(z.number().positive()).default([1, 1, 1]),
          scale: z.number().positive().default(1),
          channelOrder: z.enum(['rgb', 'bgr']).default('rgb'),
        }),
      ])
      .default('auto'),
    /** Seed of the deterministic He-normal initialisation when weights are seeded. */
    seed: z.number().int().min(0).default(0),
    /** Analysed layers: 'all' or a list of names (VGG: Keras conv names; ONNX: output tensor names or their layer names). */
    layers: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
    /** Channels analysed per layer: 'all' or the first N (smoke tests). */
    channels: z.union([z.literal('all'), positiveInt()]).default('all'),
    /** Input image size (square). */
    inputSize: positiveInt().default(224),
    /** ONNX Runtime intra-op threads; 0 = number of cores. */
    threads: z.number().int().min(0).default(0),
    /** Images per forward pass. */
    batch: positiveInt().default(16),
  })
  .prefault({});

/** Full-field sinusoidal gratings (docs/method.md §2). */
export const GratingsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Number of orientations, evenly spaced over [0°, 180°). */
    orientations: positiveInt().default(12),
    /** Spatial frequencies f = 2^k cycles/px for k from kMin to kMax in steps of kStep. */
    kMin: z.number().default(-8),
    kMax: z.number().max(-1).default(-1.5),
    kStep: z.number().positive().default(0.5),
    /** Number of phases, evenly spaced over [0°, 360°). */
    phases: positiveInt().default(8),
    contrast: z.number().min(0).max(1).default(1),
  })
  .prefault({});

/** Natural images grouped by category, one sub-folder per category (docs/method.md §3). */
export const ImagesSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Folder of category folders (relative to the YAML file). */
    dir: z.string().min(1).default('../../shared/datasets/floc'),
    /** Short side resized to this, then centre-cropped to the model's input size. */
    resize: positiveInt().default(256),
    /** At most this many images per category (sorted by file name); 'all' for every image. */
    perCategory: z.union([z.literal('all'), positiveInt()]).default('all'),
    /**
     * When `dir` does not exist: error (default) stops with an error naming this key; skip runs without natural
     * images, says so loudly and records the skipped folder in the stimuli output (config/default.yaml uses it
     * so a fresh clone without ../shared still runs).
     */
    ifMissing: z.enum(['error', 'skip']).default('error'),
  })
  .prefault({});

/** White noise for reverse correlation (docs/method.md §4, §6). */
export const NoiseSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Number of noise samples N per unit (centre: one noise image each; interior: RF crops of fewer images). */
    count: positiveInt().default(20000),
    /**
     * Where a unit's RF samples come from (docs/method.md §6): centre — the centre unit, one noise image per sample;
     * interior — every channel's interior units (RF wholly inside the image, exact translated copies of the
     * centre unit) on larger noise images, thinned per layer, so far fewer images go through the network.
     */
    positions: z.enum(['centre', 'interior']).default('centre'),
    /** Side of the noise images for positions: interior (0 = model.inputSize). */
    imageSize: z.number().int().min(0).default(0),
    /** Seed: stimulus n is regenerated from (seed, n) alone. */
    seed: z.number().int().min(0).default(1),
    /** Grey-level SD before clipping to [0, 255]. */
    sigma: z.number().positive().max(255).default(48),
    /** grey: R = G = B; rgb: independent channels. */
    color: z.enum(['grey', 'rgb']).default('grey'),
    /** Side of the square noise checks in pixels (1 = pixel noise). */
    check: positiveInt().default(1),
  })
  .prefault({});

export const StimuliSchema = z
  .strictObject({
    gratings: GratingsSchema,
    images: ImagesSchema,
    noise: NoiseSchema,
  })
  .prefault({});

export const ActivationsSchema = z
  .strictObject({
    /** Stimuli per checkpoint shard. */
    shardSize: positiveInt().default(512),
  })
  .prefault({});

export const TuningSchema = z
  .strictObject({
    /**
     * A unit is responsive when its response range over the (θ, f) grid exceeds this: max R − min R > epsilon
     * (docs/method.md §2; a unit whose output never changes is not responsive and gets no θ_pref / f_pref).
     */
    epsilon: z.number().min(0).default(1e-6),
    /** Phase reduction the indices and curves use: mean over phases (docs/method.md §2) or max over phases. */
    response: z.enum(['mean', 'max']).default('mean'),
    /** Half height for half-width and SF bandwidth: half the peak (zero) or half-way from the curve's minimum (baseline). */
    halfHeight: z.enum(['zero', 'baseline']).default('zero'),
  })
  .prefault({});

export const CategorySchema = z
  .strictObject({
    /** centre: the centre unit; max/mean: over the channel's whole feature map. */
    spatial: z.enum(['centre', 'max', 'mean']).default('centre'),
    /** Images kept per unit in top-N lists. */
    topN: positiveInt().default(10),
    /** Benjamini–Hochberg false-discovery rate across units for the ANOVA. */
    fdr: z.number().gt(0).lt(1).default(0.01),
    /** The family the FDR is controlled over: the units of each layer, or every analysed unit of the network. */
    fdrFamily: z.enum(['layer', 'network']).default('layer'),
    /**
     * Minimum CSI for a unit to count as category-selective besides q ≤ fdr (0 = the ANOVA alone). With many
     * images per category the ANOVA also passes units driven by low-level differences between the sets.
     */
    minCsi: z.number().min(0).max(1).default(0),
    /**
     * Split-half reliability of the category profile (docs/method.md §3: a test a low layer can fail). Each category's
     * images are split into two disjoint halves (alternating in file order); a unit has a reliable category
     * preference when its preferred category is the same on both halves and the correlation of the two
     * half-profiles (category means) beats its permutation null (image labels permuted, halves re-split) at p ≤ alpha.
     */
    splitHalf: z
      .strictObject({
        /** Label permutations for the null of the split-half correlation (shared by a layer's units); 0 skips the test. */
        permutations: z.number().int().min(0).default(999),
        /** Per-unit level of the permutation test (bounds the reliable share of a layer without category structure). */
        alpha: z.number().gt(0).lt(1).default(0.01),
        /** Seed of the permutations. */
        seed: z.number().int().min(0).default(1),
      })
      .prefault({}),
  })
  .prefault({});

export const AwaSchema = z
  .strictObject({
    /** Significant when max |z| ≥ this (docs/method.md §4). */
    zThreshold: z.number().positive().default(5),
    /** theoretical: crop of the theoretical RF. */
    crop: z.enum(['theoretical']).default('theoretical'),
    /**
     * Null SD of an AWA pixel (docs/method.md §4). finite-n (default): σ_e·√(Σw² − 1/N), w = a/Σa — the exact variance of
     * the AWA around the empirical mean s̄ it subtracts (per-pixel z has SD 1 under H0 for tonic and sparse units
     * alike). population: σ_e·√Σw² = σ·√Σa²/Σa, its N → ∞ form, which overstates the SD (understates z) for
     * units active on most samples. The awa output carries z_max and significance under both forms either way.
     */
    nullModel: z.enum(['finite-n', 'population']).default('finite-n'),
  })
  .prefault({});

export const AwcSchema = z
  .strictObject({
    /** Excitatory (largest) eigenpairs kept. */
    top: positiveInt().default(4),
    /** Suppressive (smallest) eigenpairs kept. */
    bottom: z.number().int().min(0).default(2),
    /**
     * Null for eigenvalue significance. marchenko-pastur (default): analytic, the generalised MP edges of the
     * unit's own activation distribution plus a Tracy–Widom margin (validated against real shuffles in
     * test/science/nulls.test.ts: conservative by 0–12%, free). shuffle: `shuffles` permutations shared by a
     * layer's units (costs shuffles+1 times the eigen work).
     */
    nullModel: z.enum(['shuffle', 'marchenko-pastur']).default('marchenko-pastur'),
    /** Number of shuffles when nullModel = shuffle (docs/method.md §4: ≥ 20). */
    shuffles: positiveInt().default(20),
    /** Two-sided coverage of the null range. */
    level: z.number().gt(0).lt(1).default(0.99),
    /** full: dense eigendecomposition; subspace: iterative on products; auto: full when D ≤ fullMaxDim. */
    solver: z.enum(['auto', 'full', 'subspace']).default('auto'),
    /** Largest D for which solver auto forms each unit's D×D matrix and decomposes it in JS (above it the JS EVD costs more than Krylov). */
    fullMaxDim: positiveInt().default(128),
    /** Block size of the Krylov solver (≥ top + bottom). */
    block: positiveInt().default(8),
    /** Krylov steps: the basis holds block·(steps + 1) vectors per unit. */
    steps: positiveInt().default(12),
    /**
     * Largest analysis dimension D for the AWC on pixel noise: larger crops are analysed on b×b bins (the
     * smallest b with ⌈r/b⌉² ≤ maxDim; orthonormal pooling keeps the prior σ²I; eigenvectors are expanded to
     * pixels). 4096 bins VGG16 block4_conv2/3 (2×2) and block5 (3×3, 4×4) and keeps the 4,224-unit run inside
     * ~20 min on 2 cores (bench/revcor.ts); set it ≥ 38416 for per-pixel analysis everywhere (~60 min).
     */
    maxDim: positiveInt().default(4096),
    /** Crop the AWC reads: the theoretical RF (docs/method.md §4), or the layer's effective RF measured from the awa stage's z-maps. */
    crop: z.enum(['theoretical', 'effective']).default('theoretical'),
    /** Share of the layer's AWA excess variance Σ_u(z_u² − 1) (significant units) the effective crop keeps. */
    effectiveCoverage: z.number().gt(0).max(1).default(0.95),
    /** Memory (MiB) a worker may keep a layer's noise samples in (float32, or float16 when only half fits: ≤ 1/16 grey level); beyond it noise is regenerated per pass. When the samples and two prepared float32 copies fit (3·N·D·4 bytes), the AWC prepares them once for ONNX Runtime's convolution kernels (faster products, same results up to float rounding). */
    cacheMiB: positiveInt().default(2048),
    /** Units per checkpoint shard. */
    unitsPerShard: positiveInt().default(64),
  })
  .prefault({});

export const PredictionSchema = z
  .strictObject({
    /** fft: peak of the windowed RF spectrum; model: tuning of the RF model to cropped gratings (docs/method.md §5). */
    method: z.enum(['fft', 'model']).default('fft'),
    /** Orientation match tolerance, degrees (circular, mod 180). */
    thetaTolerance: z.number().positive().max(90).default(15),
    /** Spatial-frequency match tolerance, octaves. */
    sfTolerance: z.number().positive().default(0.5),
    /**
     * Window of the fft method, per axis of the r-px RF (docs/reverse-correlation.md compares them on synthetic
     * Gabor units, r = 3…14): hann — ½(1 − cos 2π(i + ½)/r), sampled at pixel centres; hann-nonzero —
     * ½(1 − cos 2π(i + 1)/(r + 1)), numpy's hanning(r + 2)[1:-1], which keeps more weight at the edge; tukey —
     * flat centre with cosine tapers over the outer quarter on each side (α = 0.5); none — no window.
     */
    window: z.enum(['hann', 'hann-nonzero', 'tukey', 'none']).default('none'),
  })
  .prefault({});

/** The per-layer summary's intervals (docs/method.md §5: 95 % Wilson for proportions, percentile bootstrap otherwise). */
export const SummarySchema = z
  .strictObject({
    /** Bootstrap resamples for the intervals of medians, the θ agreement and correlations. */
    bootstrapReps: z.number().int().min(100).default(2000),
    /** Seed of the bootstrap resamples (the same checkpoints and seed give the same intervals). */
    seed: z.number().int().min(0).default(1),
  })
  .prefault({});

/** Comparison of every analysed layer with recorded macaque V1 neurons (Brain-Score's V1 property benchmarks). */
export const V1Schema = z
  .strictObject({
    /**
     * Measure Brain-Score's V1 grating properties of every unit and compare each layer's distributions with V1
     * (docs/v1-comparison.md). Adds one blank (uniform mid-grey, contrast-0) stimulus beside the gratings.
     */
    enabled: z.boolean().default(false),
    /** Folder of ringach2002.csv and histograms.json (relative to the YAML file). */
    reference: z.string().min(1).default('../../shared/datasets/v1-reference'),
    /** When `reference` is absent: skip measures the properties without the comparison and warns; error stops. */
    ifMissing: z.enum(['error', 'skip']).default('skip'),
    /** Pixels per degree of visual angle for cycles/degree (Brain-Score: the 224-px input spans 8°). */
    pixelsPerDegree: z.number().positive().default(28),
    /** Bootstrap resamples of the model's values (and of the data, for the ceiling). */
    bootstrap: positiveInt().default(1000),
    /** Seed of the bootstrap. */
    seed: z.number().int().min(0).default(0),
    /** Coverage of the bootstrap intervals. */
    level: z.number().gt(0).lt(1).default(0.95),
  })
  .prefault({});

export const RunSchema = z
  .strictObject({
    /** Output directory (relative to the YAML file); --out overrides. */
    out: z.string().min(1).default('../artifacts/default'),
    /** Worker threads for CPU-heavy shard work; 0 = number of cores. */
    workers: z.number().int().min(0).default(0),
    /** Shards in flight at once. */
    concurrency: positiveInt().default(2),
    /**
     * The shared checkpoint cache (docs/grids-and-cache.md): auto = the user's cache directory for a grid, none for
     * a single run; true = the user's cache directory ($REVCOR_CACHE_DIR, else $XDG_CACHE_HOME/revcor, else
     * ~/.cache/revcor); false = none; or a directory (relative to the YAML file). --cache DIR and --no-cache override.
     */
    cache: z.union([z.boolean(), z.string().min(1)]).default('auto'),
  })
  .prefault({});

/** A whole experiment after defaults are filled in. */
export const ExperimentSchema = z.strictObject({
  /** Name shown in reports. */
  name: z.string().min(1).default('experiment'),
  /** Path of a YAML file this one extends (handled by the loader, kept for the record). */
  extends: z.string().optional(),
  model: ModelSchema,
  stimuli: StimuliSchema,
  activations: ActivationsSchema,
  tuning: TuningSchema,
  category: CategorySchema,
  awa: AwaSchema,
  awc: AwcSchema,
  prediction: PredictionSchema,
  summary: SummarySchema,
  v1: V1Schema,
  run: RunSchema,
});

export type Experiment = z.infer<typeof ExperimentSchema>;
export type ModelConfig = Experiment['model'];
export type NoiseConfig = Experiment['stimuli']['noise'];
export type GratingsConfig = Experiment['stimuli']['gratings'];
export type ImagesConfig = Experiment['stimuli']['images'];

/** Keys holding file-system paths, resolved relative to the YAML file that set them. */
export const PATH_KEYS: readonly string[] = ['model.weights', 'stimuli.images.dir', 'v1.reference', 'run.out', 'run.cache'];
