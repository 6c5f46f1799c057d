// The category stage (docs/method.md §3): category selectivity of every analysed unit from the activations stage's
// image shards (centre unit, or the spatial max/mean the activations stage computed for category.spatial).
// One output shard per layer, one row per unit (channel).
import { estimateCategory } from './estimate.ts';
import type { Table } from 'apache-arrow';
import type { Experiment } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import { activationsStage } from './activations.ts';
import type { PlanContext, Shard, Stage, StageContext } from '../pipeline/stage.ts';
import { categorySelectivity, reliablePreference, splitHalfReliability, topStimuli, type CategorySelectivity } from '../science/category.ts';
import { benjaminiHochberg, oneWayAnova } from '../science/stats.ts';
import { buildTable } from '../results/columns.ts';
import { CATEGORY } from '../results/category.ts';
import { concatTables, layerColumns, readLayerMatrix, readNumbers, readStrings } from './unit-columns.ts';
import { layerShards, setNeeds, setShards, type ActivationsPlanner } from './unit-plan.ts';

/** The images upstream: stimulus ids, categories, files, category names (sorted) and per-stimulus labels. */
export interface ImageSet {
  tables: Table[];
  stimulus: Int32Array;
  files: string[];
  categories: string[];
  labels: Int32Array;
}

/** Reads the image activations upstream and labels every image with its category index. */
export async function readImageSet(ctx: StageContext<Experiment>): Promise<ImageSet> {
  const view = ctx.upstream('activations');
  const shards = setShards(view.shards, 'images');
  if (shards.length === 0) {
    throw new InputError('category: the activations stage has no image shards. Expected stimuli.images.enabled: true and a folder of category folders, got no images');
  }
  const tables: Table[] = [];
  for (const s of shards) tables.push(await view.read(s.id));
  return imageSetFromTables(tables);
}

/** Labels the rows of image activation tables by category (names sorted, so indices are stable). */
export function imageSetFromTables(tables: Table[]): ImageSet {
  const source = 'activations (images)';
  const names = readStrings(tables, 'category', source);
  const categories = [...new Set(names)].sort();
  if (categories.length < 2) {
    throw new InputError(`category: expected images of at least 2 categories, got ${categories.length} (${categories.join(', ') || 'none'})`);
  }
  const index = new Map(categories.map((c, i) => [c, i]));
  return {
    tables,
    stimulus: Int32Array.from(readNumbers(tables, 'stimulus', source)),
    files: readStrings(tables, 'file', source),
    categories,
    labels: Int32Array.from(names, (n) => index.get(n)!),
  };
}

/** The per-unit category table of one layer; q-values come from the caller when the FDR family is wider. */
export function categoryTable(
  layer: string,
  responses: Float32Array,
  channels: number,
  images: Pick<ImageSet, 'stimulus' | 'files' | 'categories' | 'labels'>,
  options: {
    topN: number;
    fdr: number;
    fdrFamily: 'layer' | 'network';
    minCsi?: number;
    spatial: string;
    splitHalf?: { permutations: number; alpha: number; seed: number };
  },
  q?: Float64Array,
): Table {
  const K = images.categories.length;
  const c: CategorySelectivity = categorySelectivity(responses, channels, images.labels, K);
  const sh = options.splitHalf ?? { permutations: 999, alpha: 0.01, seed: 1 };
  const half = splitHalfReliability(responses, channels, images.labels, K, sh);
  const qv = q ?? c.q;
  const top = topStimuli(responses, channels, options.topN);
  const N = options.topN;
  const topStim = new Int32Array(channels * N).fill(-1);
  const topFiles: string[] = new Array<string>(channels * N);
  for (let i = 0; i < channels * N; i++) {
    const row = top.index[i]!;
    topStim[i] = row >= 0 ? images.stimulus[row]! : -1;
    topFiles[i] = row >= 0 ? images.files[row]! : '';
  }
  const selective = new Uint8Array(channels);
  const minCsi = options.minCsi ?? 0;
  for (let u = 0; u < channels; u++) selective[u] = qv[u]! <= options.fdr && c.csi[u]! >= minCsi ? 1 : 0;
  return buildTable(
    CATEGORY,
    {
      layer: Array.from({ length: channels }, () => layer),
      channel: Int32Array.from({ length: channels }, (_, i) => i),
      preferred_category: Array.from(c.preferred, (k) => (k >= 0 ? images.categories[k]! : '')),
      preferred_index: c.preferred,
      csi: c.csi,
      sparseness: c.sparseness,
      anova_f: c.anovaF,
      anova_p: c.anovaP,
      q_value: qv,
      selective,
      split_half_same_preferred: half.samePreferred,
      split_half_r: half.r,
      split_half_rsb: half.rSB,
      split_half_p: half.p,
      reliable: reliablePreference(half, sh.alpha),
      category_means: { values: Float32Array.from(c.means), width: K },
      top_stimuli: { values: topStim, width: N },
      top_files: { values: topFiles, width: N },
      top_responses: { values: top.value, width: N },
    },
    {
      'revcor.category.categories': JSON.stringify(images.categories),
      'revcor.category.counts': JSON.stringify([...c.counts]),
      'revcor.category.anova_df': JSON.stringify([c.dfBetween, c.dfWithin]),
      'revcor.category.options': JSON.stringify({ ...options, splitHalf: sh }),
      'revcor.category.split_half_categories': JSON.stringify(half.categories),
      'revcor.category.layout': JSON.stringify({
        category_means: 'mu_k in the order of revcor.category.categories',
        top_stimuli: 'stimulus index of the top-N images, descending response (-1 = fewer images)',
        selective: 'q_value <= fdr (Benjamini-Hochberg over the fdrFamily) and csi >= minCsi',
        split_half: 'each category\'s images alternate between two halves in file order; split_half_r = Pearson r of the two half-profiles (category means), split_half_rsb = 2r/(1+r), split_half_p = permutation p of r (labels permuted, halves re-split)',
        reliable: 'split_half_same_preferred and split_half_p <= splitHalf.alpha',
      }),
    },
  );
}

/** Network-wide BH q-values: ANOVA p of every unit of every layer column, corrected together. */
export function networkQValues(images: ImageSet): Map<string, Float64Array> {
  const layers = layerColumns(images.tables[0]!);
  const K = images.categories.length;
  const ps: Float64Array[] = [];
  for (const name of layers) {
    const { matrix, channels } = readLayerMatrix(images.tables, name, 'activations (images)');
    ps.push(oneWayAnova(matrix, channels, images.labels, K).p);
  }
  const all = new Float64Array(ps.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of ps) {
    all.set(p, at);
    at += p.length;
  }
  const q = benjaminiHochberg(all);
  const out = new Map<string, Float64Array>();
  at = 0;
  layers.forEach((name, i) => {
    out.set(name, q.slice(at, at + ps[i]!.length));
    at += ps[i]!.length;
  });
  return out;
}

/** Runs one category shard: every layer of the shard from the image activations. */
export async function runCategory(shard: Shard, ctx: StageContext<Experiment>): Promise<Table> {
  const images = await readImageSet(ctx);
  const layer = shard.params['layer'];
  const layers = typeof layer === 'string' ? [layer] : layerColumns(images.tables[0]!);
  const cfg = ctx.config.category;
  const options = { topN: cfg.topN, fdr: cfg.fdr, fdrFamily: cfg.fdrFamily, minCsi: cfg.minCsi, spatial: cfg.spatial, splitHalf: cfg.splitHalf };
  const network = cfg.fdrFamily === 'network' ? networkQValues(images) : undefined;
  const out: Table[] = [];
  layers.forEach((name, i) => {
    if (ctx.signal.aborted) return;
    const { matrix, channels } = readLayerMatrix(images.tables, name, 'activations (images)');
    out.push(categoryTable(name, matrix, channels, images, options, network?.get(name)));
    ctx.progress((i + 1) / layers.length);
  });
  ctx.signal.throwIfAborted();
  if (out.length === 0) throw new InputError(`category: no layer columns in the image activations (shard ${shard.id})`);
  return concatTables(out);
}

/**
 * The category stage. `activationsPlan` (the activations stage's plan) tells which upstream shards hold the
 * images; without it every activations shard is an input (the image count is only known from the folder).
 */
export function createCategoryStage(activationsPlan?: ActivationsPlanner): Stage<Experiment> {
  return {
    name: 'category',
    description: 'Category selectivity of every unit to natural images: CSI, sparseness, ANOVA with FDR, split-half reliability with a permutation null, top-N (docs/method.md §3)',
    version: '3', // 2: split-half reliability of the category profile (split_half_*, reliable); 3: a flat profile prefers no category
    upstream: ['activations'],
    configSlice: (config: Experiment) => ({ category: config.category, layers: config.model.layers }),
    async plan(ctx: PlanContext<Experiment>) {
      if (!ctx.config.stimuli.images.enabled) return [];
      const needs = await setNeeds(ctx, 'images', activationsPlan);
      return layerShards(ctx.config).map((s) => (needs ? { ...s, needs } : s));
    },
    estimate: estimateCategory,
    run: runCategory,
  };
}

/** The category stage; its shards need exactly the activations stage's image shards. */
export const categoryStage: Stage<Experiment> = createCategoryStage((ctx) => activationsStage.plan(ctx));
