// What each stage of the revcor pipeline will need (pipeline/budget.ts), estimated from the config alone — counts
// from formulas, never by enumerating stimuli or shards — so that an absurd setting (N = 10¹², a 100,000-px input)
// is refused before anything is planned or computed.
// Tested in test/cli/cli.test.ts.
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';
import { forwardPeakBytes, parameterCountOf } from '../model/network.ts';
import { noiseCanvas } from '../model/geometry.ts';
import type { ResourceEstimate } from '../pipeline/budget.ts';
import type { PlanContext } from '../pipeline/stage.ts';
import { CHUNK_FLOATS } from '../science/awa.ts';
import { analysisBin, binnedSide } from '../science/noise-source.ts';
import { noiseChannels } from '../science/noise.ts';
import { awaKeepBytes } from './revcor-input.ts';
import { listImageSet } from './images-io.ts';
import { interiorPlan } from './noise-plan.ts';

type Ctx = PlanContext<Experiment>;

/** Gratings in the set: orientations × frequencies × phases (as science/gratings.ts counts them, without listing). */
export function gratingCount(g: Experiment['stimuli']['gratings']): number {
  if (!g.enabled || !(g.kStep > 0) || g.kMin > g.kMax) return 0;
  return g.orientations * (Math.floor((g.kMax - g.kMin) / g.kStep + 1e-9) + 1) * g.phases;
}

/** Images of the set (0 when disabled or skipped). */
async function imageCount(c: Experiment): Promise<number> {
  if (!c.stimuli.images.enabled) return 0;
  return (await listImageSet(c.stimuli.images)).entries.length;
}

/** Noise images through the network and each analysed layer's values per image (channels × positions). */
async function noiseShape(c: Experiment): Promise<{ images: number; side: number; widths: Map<string, number> }> {
  const model = await loadNetwork(c.model);
  const kept = (ch: number) => (c.model.channels === 'all' ? ch : Math.min(ch, c.model.channels));
  const plan = await interiorPlan(c);
  if (plan) {
    const positions = new Map(plan.layers.map((l) => [l.name, l.count * l.count]));
    return { images: plan.images, side: plan.imageSize, widths: new Map(model.geometry.map((g) => [g.name, kept(g.channels) * (positions.get(g.name) ?? 1)])) };
  }
  return { images: c.stimuli.noise.count, side: noiseCanvas(model.geometry).size, widths: new Map(model.geometry.map((g) => [g.name, kept(g.channels)])) };
}

/** Images per forward pass at a given side (large noise images run in smaller batches; as the activations stage). */
function batchAt(c: Experiment, side: number): number {
  const { batch, inputSize } = c.model;
  return side <= inputSize ? batch : Math.max(1, Math.floor((batch * inputSize * inputSize) / (side * side)));
}

/** The activations stage: one float32 per unit value per stimulus; an ORT session's peak per batch. */
export async function estimateActivations(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  const model = await loadNetwork(c.model);
  const kept = (ch: number) => (c.model.channels === 'all' ? ch : Math.min(ch, c.model.channels));
  const centreWidth = model.geometry.reduce((a, g) => a + kept(g.channels), 0);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const weightsBytes = 8 * parameterCountOf(model.net, last); // the weights, in the graph and in the session
  const sets: { name: string; count: number; width: number; side: number }[] = [
    { name: 'gratings', count: gratingCount(c.stimuli.gratings), width: centreWidth, side: c.model.inputSize },
    { name: 'images', count: await imageCount(c), width: centreWidth, side: c.model.inputSize },
  ];
  if (c.stimuli.noise.enabled) {
    const n = await noiseShape(c);
    sets.push({ name: 'noise', count: n.images, width: [...n.widths.values()].reduce((a, b) => a + b, 0), side: n.side });
  }
  let shards = 0;
  let diskBytes = 0;
  let memoryBytes = 0;
  let detail = '';
  for (const s of sets.filter((x) => x.count > 0)) {
    shards += Math.ceil(s.count / c.activations.shardSize);
    diskBytes += s.count * (4 * s.width + 32);
    const batch = batchAt(c, s.side);
    // ORT keeps an arena of about twice the largest live tensors; the shard keeps its outputs and two input buffers
    const mem = weightsBytes + 2 * batch * forwardPeakBytes(model.net, last, s.side) + Math.min(s.count, c.activations.shardSize) * 4 * s.width + 2 * batch * 12 * s.side * s.side;
    if (mem > memoryBytes) {
      memoryBytes = mem;
      detail = `${batch} × ${s.side}-px ${s.name} images per forward pass`;
    }
  }
  return { shards, diskBytes, memoryBytes, detail: detail || undefined };
}

/** The stimuli stage: descriptor tables (pixels are regenerated, never stored). */
export async function estimateStimuli(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  const noise = c.stimuli.noise.enabled ? (await noiseShape(c)).images : 0;
  const gratings = gratingCount(c.stimuli.gratings);
  const images = await imageCount(c);
  const diskBytes = 28 * gratings + 8 * noise + 200 * images;
  return { shards: 3, diskBytes, memoryBytes: diskBytes * 3, detail: noise > gratings ? `${noise.toLocaleString('en-US')} noise images` : undefined };
}

/** Analysed layers with their kept channels and RF crop side. */
async function layers(c: Experiment): Promise<{ name: string; units: number; crop: number }[]> {
  const model = await loadNetwork(c.model);
  return model.geometry.map((g) => ({ name: g.name, units: c.model.channels === 'all' ? g.channels : Math.min(g.channels, c.model.channels), crop: g.cropSize }));
}

/** The tuning stage: per unit its response grid and curves; a layer's grating responses in memory. */
export async function estimateTuning(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  const n = gratingCount(c.stimuli.gratings);
  if (n === 0) return { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const ls = await layers(c);
  const cells = n / c.stimuli.gratings.phases;
  return {
    shards: ls.length,
    diskBytes: ls.reduce((a, l) => a + l.units * (4 * cells + 400), 0),
    memoryBytes: Math.max(...ls.map((l) => 3 * 4 * n * l.units)),
  };
}

/** The category stage: per unit its category statistics and top images; a layer's image responses in memory. */
export async function estimateCategory(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  const n = await imageCount(c);
  if (n === 0) return { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const ls = await layers(c);
  return { shards: ls.length, diskBytes: ls.reduce((a, l) => a + l.units * (500 + 8 * c.category.topN), 0), memoryBytes: Math.max(...ls.map((l) => 3 * 4 * n * l.units)) };
}

/** Noise samples per unit (N) and pixel features per RF crop of each layer. */
async function noiseLayers(c: Experiment): Promise<{ N: number; layers: { name: string; units: number; D: number; crop: number }[] }> {
  const colour = noiseChannels(c.stimuli.noise);
  return { N: c.stimuli.noise.count, layers: (await layers(c)).map((l) => ({ ...l, D: l.crop * l.crop * colour })) };
}

/**
 * The awa stage: one map per unit; the layer's samples (kept whole when awc reuses them and they fit awc.cacheMiB,
 * else streamed through one chunk) and activations in memory.
 */
export async function estimateAwa(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  if (!c.stimuli.noise.enabled) return { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const { N, layers: ls } = await noiseLayers(c);
  const noise = c.stimuli.noise;
  const samples = (l: { crop: number; D: number }) => (4 * N * l.D <= awaKeepBytes(c, { noise, crop: { size: l.crop } }) ? 4 * N * l.D : Math.min(4 * N * l.D, 4 * CHUNK_FLOATS));
  return {
    shards: ls.length,
    diskBytes: ls.reduce((a, l) => a + l.units * (4 * l.D + 100), 0),
    memoryBytes: Math.max(...ls.map((l) => samples(l) + 4 * N * l.units + 16 * l.units * l.D)),
    detail: `N = ${N.toLocaleString('en-US')} noise samples per unit`,
  };
}

/** The awc stage: eigenvectors and energy map per unit; a shard's Krylov bases or dense matrices and its samples. */
export async function estimateAwc(ctx: Ctx): Promise<ResourceEstimate> {
  const c = ctx.config;
  if (!c.stimuli.noise.enabled) return { shards: 0, diskBytes: 0, memoryBytes: 0 };
  const a = c.awc;
  const { N, layers: ls } = await noiseLayers(c);
  const colour = noiseChannels(c.stimuli.noise);
  const cache = a.cacheMiB * 2 ** 20;
  let memoryBytes = 0;
  for (const l of ls) {
    const U = Math.min(a.unitsPerShard, l.units);
    const check = c.stimuli.noise.check;
    const side = check > 1 ? Math.ceil((l.crop - 1) / check) + 1 : binnedSide(l.crop, analysisBin(l.crop, colour, check, a.maxDim));
    const D = side * side * colour;
    const operators = U * (a.nullModel === 'shuffle' ? a.shuffles + 1 : 1);
    const subspace = a.solver === 'subspace' || (a.solver === 'auto' && D > a.fullMaxDim);
    const solver = subspace ? operators * D * Math.max(a.block, a.top + a.bottom) * (a.steps + 1) * 4 : 2 * 8 * D * D;
    memoryBytes = Math.max(memoryBytes, solver + Math.min(4 * N * l.D, cache) + 4 * N * U);
  }
  return {
    shards: ls.reduce((n, l) => n + Math.ceil(l.units / a.unitsPerShard), 0),
    diskBytes: ls.reduce((n, l) => n + l.units * ((a.top + a.bottom + 1) * 4 * l.D + 300), 0),
    memoryBytes,
    detail: `N = ${N.toLocaleString('en-US')} noise samples per unit`,
  };
}
