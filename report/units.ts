// Per-unit data of the report's RF atlas and unit cards: one compact JSON object per unit, built layer by layer from
// the tuning, category, awa and awc checkpoints through the typed readers of results/. Every declared column with a
// report key (results/*.ts `key`) becomes that key (numbers to 4 significant digits, null for NaN / ±∞); the verdicts
// (responsive, significant, matches, reconstructed, selective) are the stages' own columns. RF maps are embedded PNG
// data URIs (one awc shard in memory at a time). Tested in test/report/units.test.ts.
import type { Table } from 'apache-arrow';
import PQueue from 'p-queue';
import { readAwa, AWA } from '../results/awa.ts';
import { readAwc, AWC } from '../results/awc.ts';
import { readCategory, CATEGORY } from '../results/category.ts';
import type { ReadColumns, TableSpec } from '../results/columns.ts';
import { layerShardId } from '../results/reader.ts';
import { readTuning, TUNING } from '../results/tuning.ts';
import { imageThumbnail, mapPng, pngDataUri, type MapImage } from './images.ts';
import type { RunSource } from './source.ts';

/** One unit as the page's script reads it (keys: the `key` of each column in results/; `im` maps, `ti` top images). */
export type UnitJson = Record<string, unknown>;

/** The unit keys that are not a declared column's key: `im` (map images), `ti` (top images [index, response]). */
export const DERIVED_UNIT_KEYS = ['im', 'ti'] as const;

/** One layer of the atlas. */
export interface LayerJson {
  name: string;
  units: UnitJson[];
  /** Grids of the tuning curves (θ degrees, f cycles/px). */
  theta: number[];
  sf: number[];
  /** Category names in the order of each unit's category means. */
  categories: string[];
  /** Side of the AWA map and of the AWC maps (pixels of the RF crop; the AWC side differs with an effective crop). */
  awaSide: number | null;
  awcSide: number | null;
  /** Whether each part of the analysis exists for this layer. */
  has: { tuning: boolean; awa: boolean; awc: boolean; category: boolean };
}

/** The natural images referred to by the units' top-image lists. */
export interface ImageJson {
  category: string;
  file: string;
  /** JPEG data URI, null when the file is missing or unreadable. */
  uri: string | null;
}

/** A number for the JSON: 4 significant digits, null when not finite. */
export function num(v: unknown): number | null {
  const x = typeof v === 'boolean' ? +v : Number(v);
  if (v === null || v === undefined || !Number.isFinite(x)) return null;
  return Number.isInteger(x) ? x : Number(x.toPrecision(4));
}

/** Rows of one layer in a table's layer column, by channel. */
function rowsOf(cols: { layer: (string | null)[]; channel: Int32Array }, layer: string): Map<number, number> {
  const out = new Map<number, number>();
  cols.layer.forEach((l, r) => l === layer && out.set(cols.channel[r]!, r));
  return out;
}

function meta(t: Table, key: string): unknown {
  const v = t.schema.metadata.get(key);
  try {
    return v === undefined ? undefined : JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Copies every keyed column of a row into the unit (scalars via num, lists as arrays; int lists kept exact). */
export function keyedValues(spec: TableSpec, cols: Record<string, unknown>, row: number, unit: UnitJson): void {
  for (const c of spec.columns) {
    if (!c.key || c.name === 'channel') continue;
    const v = cols[c.name];
    if (v === undefined) continue;
    if (c.type === 'utf8') unit[c.key] = String((v as (string | null)[])[row] ?? '');
    else if (c.type === 'list<int32>') unit[c.key] = Array.from((v as { get(r: number): Int32Array }).get(row));
    else if (c.type.startsWith('list') || c.type.startsWith('fixedlist')) unit[c.key] = Array.from((v as { get(r: number): Float32Array }).get(row), num);
    else unit[c.key] = num((v as ArrayLike<number>)[row]);
  }
}

/** What the atlas builder needs to know about the run. */
export interface AtlasOptions {
  /** Concurrent sharp encodes. */
  concurrency?: number;
  /** Called after each layer (progress). */
  onLayer?: (layer: string, units: number) => void;
}

/** Shared state of one atlas build: the run, the PNG queue, the image list the top lists refer to. */
interface AtlasContext {
  src: RunSource;
  colour: number;
  zThreshold: number;
  png(m: MapImage): Promise<string>;
  images: ImageJson[];
  imageIndex: Map<string, number>;
  /** Tables of all-layers shards, read once. */
  cache: Map<string, Table>;
}

/** The per-layer table of a stage holding `layer` (its own shard, or the all-layers shard, kept for reuse). */
async function perLayer(a: AtlasContext, stage: string, layer: string): Promise<Table | null> {
  const id = layerShardId(a.src, stage, layer);
  if (!id) return null;
  if (id === layer) return a.src.read(stage, id);
  const key = `${stage}/${id}`;
  if (!a.cache.has(key)) a.cache.set(key, await a.src.read(stage, id));
  return a.cache.get(key)!;
}

/** The layer's units, created on first use. */
function unitMaker(units: Map<number, UnitJson>): (ch: number) => UnitJson {
  return (ch) => {
    let u = units.get(ch);
    if (!u) units.set(ch, (u = { c: ch, im: {} }));
    return u;
  };
}

/** Grating tuning of a layer's units. */
export function addTuning(L: LayerJson, table: Table, unit: (ch: number) => UnitJson): void {
  L.has.tuning = true;
  L.theta = ((meta(table, 'revcor.tuning.theta_deg') as number[]) ?? []).map((x) => num(x)!);
  L.sf = ((meta(table, 'revcor.tuning.sf_cpp') as number[]) ?? []).map((x) => num(x)!);
  const cols = readTuning(table);
  for (const [ch, r] of rowsOf(cols, L.name)) keyedValues(TUNING, cols, r, unit(ch));
}

/** Category selectivity of a layer's units, and the natural images their top lists name. */
export function addCategory(L: LayerJson, table: Table, unit: (ch: number) => UnitJson, a: Pick<AtlasContext, 'images' | 'imageIndex'>): void {
  L.has.category = true;
  L.categories = (meta(table, 'revcor.category.categories') as string[]) ?? [];
  const cols = readCategory(table);
  for (const [ch, r] of rowsOf(cols, L.name)) {
    const u = unit(ch);
    keyedValues(CATEGORY, cols, r, u);
    const resp = cols.top_responses.get(r);
    const top: [number, number | null][] = [];
    cols.top_files.get(r).forEach((f, k) => {
      if (!f) return;
      let idx = a.imageIndex.get(f);
      if (idx === undefined) {
        idx = a.images.length;
        a.imageIndex.set(f, idx);
        a.images.push({ category: f.includes('/') ? f.slice(0, f.indexOf('/')) : '', file: f, uri: null });
      }
      top.push([idx, num(resp[k])]);
    });
    u['ti'] = top;
  }
}

/** Peak |value| of a map. */
function peakAbs(v: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < v.length; i++) p = Math.max(p, Math.abs(v[i]!));
  return p;
}

/** AWA results and maps of a layer's units (the PNGs are queued on `pending`). */
export function addAwa(L: LayerJson, table: Table, unit: (ch: number) => UnitJson, a: Pick<AtlasContext, 'colour' | 'zThreshold' | 'png'>, pending: Promise<unknown>[]): void {
  L.has.awa = true;
  const cols = readAwa(table);
  for (const [ch, r] of rowsOf(cols, L.name)) {
    const map = cols.awa.get(r);
    const side = Math.round(Math.sqrt(map.length / a.colour));
    L.awaSide = side;
    const sd = cols.null_sd[r]!;
    const u = unit(ch);
    keyedValues(AWA, cols, r, u);
    // limits ±max(|AWA|, zThreshold·null SD): a map that is not significant shows at low contrast
    const scale = Math.max(peakAbs(map), Number.isFinite(sd) ? a.zThreshold * sd : 0);
    if (side > 0) {
      const images = u['im'] as Record<string, unknown>;
      images['a'] = null; // key order fixed now, not by which PNG finishes first (reproducible report.html)
      pending.push(a.png({ values: map, side, channels: a.colour, kind: 'diverging', scale }).then((uri) => (images['a'] = uri)));
    }
  }
}

/** AWC results, verdicts and maps of the units of one awc shard (the PNGs are queued on `pending`). */
export function addAwc(L: LayerJson, table: Table, unit: (ch: number) => UnitJson, a: Pick<AtlasContext, 'colour' | 'png'>, pending: Promise<unknown>[]): void {
  L.has.awc = true;
  const cols: ReadColumns<typeof AWC.columns> = readAwc(table);
  for (const [ch, r] of rowsOf(cols, L.name)) {
    const u = unit(ch);
    keyedValues(AWC, cols, r, u);
    const energy = cols.energy.get(r);
    const pixels = energy.length;
    const side = Math.round(Math.sqrt(pixels / a.colour));
    L.awcSide = side;
    const im = u['im'] as Record<string, unknown>;
    const vecImages = (all: Float32Array, significant: Int32Array, keep: (k: number) => boolean, key: 't' | 'b') => {
      const urls: (string | null)[] = new Array(significant.length).fill(null);
      im[key] = urls;
      for (let k = 0; k < significant.length; k++) {
        if (!keep(k) || pixels === 0) continue;
        const v = all.subarray(k * pixels, (k + 1) * pixels);
        pending.push(a.png({ values: v, side, channels: a.colour, kind: 'diverging', scale: peakAbs(v) }).then((uri) => (urls[k] = uri)));
      }
    };
    // the two leading excitatory directions always (even when not significant), the others when significant
    const sig = cols.top_significant.get(r);
    vecImages(cols.eigvec_top.get(r), sig, (k) => k < 2 || sig[k] === 1, 't');
    const sigB = cols.bottom_significant?.get(r) ?? new Int32Array(0);
    vecImages(cols.eigvec_bottom?.get(r) ?? new Float32Array(0), sigB, (k) => sigB[k] === 1, 'b');
    let peak = 0;
    for (const x of energy) peak = Math.max(peak, x);
    if (peak > 0 && side > 0) {
      im['e'] = null; // key order fixed now, not by which PNG finishes first
      pending.push(a.png({ values: energy, side, channels: a.colour, kind: 'sequential', scale: peak }).then((uri) => (im['e'] = uri)));
    }
  }
}

/** One layer of the atlas from every stage's checkpoints. */
async function atlasLayer(a: AtlasContext, layer: string): Promise<LayerJson> {
  const units = new Map<number, UnitJson>();
  const unit = unitMaker(units);
  const L: LayerJson = { name: layer, units: [], theta: [], sf: [], categories: [], awaSide: null, awcSide: null, has: { tuning: false, awa: false, awc: false, category: false } };
  const tuning = await perLayer(a, 'tuning', layer);
  if (tuning) addTuning(L, tuning, unit);
  const category = await perLayer(a, 'category', layer);
  if (category) addCategory(L, category, unit, a);
  const pending: Promise<unknown>[] = [];
  const awa = await perLayer(a, 'awa', layer);
  if (awa) addAwa(L, awa, unit, a, pending);
  const awcIds = a.src
    .shardInfo('awc')
    .filter((s) => s.params['layer'] === layer)
    .sort((x, y) => Number(x.params['start']) - Number(y.params['start']));
  for (const info of awcIds) {
    addAwc(L, await a.src.read('awc', info.id), unit, a, pending);
    await Promise.all(pending.splice(0)); // one awc shard's maps in memory at a time
  }
  await Promise.all(pending);
  L.units = [...units.values()].sort((x, y) => (x['c'] as number) - (y['c'] as number));
  return L;
}

/** Builds the atlas: every layer's units with their maps, and the natural images the units' top lists refer to. */
export async function buildAtlas(src: RunSource, layers: readonly string[], opts: AtlasOptions = {}): Promise<{ layers: LayerJson[]; images: ImageJson[]; imageDir: string | null }> {
  const queue = new PQueue({ concurrency: opts.concurrency ?? 4 });
  const a: AtlasContext = {
    src,
    colour: src.config.stimuli.noise.color === 'rgb' ? 3 : 1,
    zThreshold: src.config.awa.zThreshold,
    png: (m) => queue.add(async () => pngDataUri(await mapPng(m))),
    images: [],
    imageIndex: new Map(),
    cache: new Map(),
  };
  const out: LayerJson[] = [];
  for (const layer of layers) {
    const L = await atlasLayer(a, layer);
    out.push(L);
    opts.onLayer?.(layer, L.units.length);
  }
  a.cache.clear();
  // thumbnails of the natural images the top lists name, from the image folder of the run
  const imageDir = src.config.stimuli.images.enabled ? src.config.stimuli.images.dir : null;
  if (imageDir && a.images.length) {
    const thumbs = new PQueue({ concurrency: 4 });
    await Promise.all(a.images.map((im) => thumbs.add(async () => void (im.uri = await imageThumbnail(imageDir, im.file)))));
  }
  return { layers: out, images: a.images, imageDir };
}
