// Per-unit data of the report's RF atlas and unit cards: one compact JSON object per unit (short keys, numbers
// to 4 significant digits, null for NaN / ±∞) with its RF maps as embedded PNG data URIs, built layer by layer
// from the tuning, category, awa and awc checkpoints (one awc shard in memory at a time).
import type { Table } from 'apache-arrow';
import PQueue from 'p-queue';
import { matchFlags } from '../science/predict.ts';
import { imageThumbnail, mapPng, pngDataUri, type MapImage } from './images.ts';
import type { RunSource } from './source.ts';

/** Shard id the per-layer stages use when every layer is in one shard. */
const ALL_LAYERS = 'all-layers';

/** One unit as the page's script reads it (see report/client.js for the key meanings). */
export type UnitJson = Record<string, unknown>;

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

/** A list cell as a plain array of numbers. */
function list(v: unknown): number[] {
  if (v === null || v === undefined) return [];
  const arr = typeof (v as { toArray?: unknown }).toArray === 'function' ? (v as { toArray(): ArrayLike<number> }).toArray() : (v as ArrayLike<number>);
  return Array.from(arr, (x) => Number(x));
}

/** A list cell as a typed array (no copy when the cell is a contiguous Float32 slice). */
function floats(v: unknown): Float32Array {
  if (v === null || v === undefined) return new Float32Array(0);
  const a = (v as { toArray(): ArrayLike<number> }).toArray();
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Rows of one layer in a table, by channel. */
function rowsOf(t: Table, layer: string): Map<number, number> {
  const l = t.getChild('layer');
  const c = t.getChild('channel');
  const out = new Map<number, number>();
  if (!l || !c) return out;
  for (let r = 0; r < t.numRows; r++) if (l.get(r) === layer) out.set(Number(c.get(r)), r);
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

/** What the atlas builder needs to know about the run. */
export interface AtlasOptions {
  /** Concurrent sharp encodes. */
  concurrency?: number;
  /** Called after each layer (progress). */
  onLayer?: (layer: string, units: number) => void;
}

/** Builds the atlas: every layer's units with their maps, and the natural images the units' top lists refer to. */
export async function buildAtlas(src: RunSource, layers: readonly string[], opts: AtlasOptions = {}): Promise<{ layers: LayerJson[]; images: ImageJson[]; imageDir: string | null }> {
  const cfg = src.config;
  const colour = cfg.stimuli.noise.color === 'rgb' ? 3 : 1;
  const zThr = cfg.awa.zThreshold;
  const tol = { thetaDeg: cfg.prediction.thetaTolerance, octaves: cfg.prediction.sfTolerance };
  const queue = new PQueue({ concurrency: opts.concurrency ?? 4 });
  const png = (m: MapImage) => queue.add(async () => pngDataUri(await mapPng(m)));
  const cache = new Map<string, Table>();
  /** The per-layer table of a stage holding `layer` (its own shard, or the all-layers shard, kept for reuse). */
  const perLayer = async (stage: string, layer: string): Promise<Table | null> => {
    const ids = src.shards(stage);
    const id = ids.includes(layer) ? layer : ids.includes(ALL_LAYERS) ? ALL_LAYERS : null;
    if (!id) return null;
    if (id === ALL_LAYERS) {
      const key = `${stage}/${id}`;
      if (!cache.has(key)) cache.set(key, await src.read(stage, id));
      return cache.get(key)!;
    }
    return src.read(stage, id);
  };
  const imageIndex = new Map<string, number>();
  const images: ImageJson[] = [];
  const out: LayerJson[] = [];

  for (const layer of layers) {
    const units = new Map<number, UnitJson>();
    const unit = (ch: number) => {
      let u = units.get(ch);
      if (!u) units.set(ch, (u = { c: ch, im: {} }));
      return u;
    };
    const L: LayerJson = { name: layer, units: [], theta: [], sf: [], categories: [], awaSide: null, awcSide: null, has: { tuning: false, awa: false, awc: false, category: false } };

    const tuning = await perLayer('tuning', layer);
    if (tuning) {
      L.has.tuning = true;
      L.theta = ((meta(tuning, 'revcor.tuning.theta_deg') as number[]) ?? []).map((x) => num(x)!);
      L.sf = ((meta(tuning, 'revcor.tuning.sf_cpp') as number[]) ?? []).map((x) => num(x)!);
      const col = (n: string) => tuning.getChild(n);
      for (const [ch, r] of rowsOf(tuning, layer)) {
        Object.assign(unit(ch), {
          r: num(col('responsive')?.get(r)),
          tp: num(col('theta_pref')?.get(r)),
          fp: num(col('sf_pref')?.get(r)),
          cv: num(col('circular_variance')?.get(r)),
          osi: num(col('osi')?.get(r)),
          hw: num(col('ori_half_width')?.get(r)),
          bw: num(col('sf_bandwidth')?.get(r)),
          f10: num(col('f1f0')?.get(r)),
          mr: num(col('max_response')?.get(r)),
          ori: list(col('ori_curve')?.get(r)).map(num),
          sfc: list(col('sf_curve')?.get(r)).map(num),
        });
      }
    }

    const category = await perLayer('category', layer);
    if (category) {
      L.has.category = true;
      L.categories = (meta(category, 'revcor.category.categories') as string[]) ?? [];
      const col = (n: string) => category.getChild(n);
      for (const [ch, r] of rowsOf(category, layer)) {
        const cell = col('top_files')?.get(r) as Iterable<string | null> | null | undefined;
        const filesArr = cell ? Array.from(cell, (f) => String(f ?? '')) : [];
        const resp = list(col('top_responses')?.get(r));
        const top: [number, number | null][] = [];
        filesArr.forEach((f, k) => {
          if (!f) return;
          let idx = imageIndex.get(f);
          if (idx === undefined) {
            idx = images.length;
            imageIndex.set(f, idx);
            images.push({ category: f.includes('/') ? f.slice(0, f.indexOf('/')) : '', file: f, uri: null });
          }
          top.push([idx, num(resp[k])]);
        });
        Object.assign(unit(ch), {
          pc: String(col('preferred_category')?.get(r) ?? ''),
          csi: num(col('csi')?.get(r)),
          sp: num(col('sparseness')?.get(r)),
          q: num(col('q_value')?.get(r)),
          sel: num(col('selective')?.get(r)),
          mu: list(col('category_means')?.get(r)).map(num),
          ti: top,
        });
      }
    }

    const awa = await perLayer('awa', layer);
    const pending: Promise<unknown>[] = [];
    if (awa) {
      L.has.awa = true;
      const col = (n: string) => awa.getChild(n);
      for (const [ch, r] of rowsOf(awa, layer)) {
        const map = floats(col('awa')?.get(r));
        const side = Math.round(Math.sqrt(map.length / colour));
        L.awaSide = side;
        const sd = Number(col('null_sd')?.get(r));
        let peak = 0;
        for (const v of map) peak = Math.max(peak, Math.abs(v));
        const u = unit(ch);
        Object.assign(u, {
          as: num(col('significant')?.get(r)),
          z: num(col('z_max')?.get(r)),
          na: num(col('n_active')?.get(r)),
          at: num(col('theta_pred')?.get(r)),
          af: num(col('f_pred')?.get(r)),
        });
        // limits ±max(|AWA|, zThreshold·null SD): a map that is not significant shows at low contrast
        const scale = Math.max(peak, Number.isFinite(sd) ? zThr * sd : 0);
        if (side > 0) {
          const images = u['im'] as Record<string, unknown>;
          images['a'] = null; // key order fixed now, not by which PNG finishes first (reproducible report.html)
          pending.push(png({ values: map, side, channels: colour, kind: 'diverging', scale }).then((uri) => (images['a'] = uri)));
        }
      }
    }

    const awcIds = src.shardInfo('awc').filter((s) => s.params['layer'] === layer).sort((a, b) => Number(a.params['start']) - Number(b.params['start']));
    for (const info of awcIds) {
      L.has.awc = true;
      const t = await src.read('awc', info.id);
      const col = (n: string) => t.getChild(n);
      for (const [ch, r] of rowsOf(t, layer)) {
        const u = unit(ch);
        const eig = list(col('eig_top')?.get(r));
        const sig = list(col('top_significant')?.get(r));
        const eigB = list(col('eig_bottom')?.get(r));
        const sigB = list(col('bottom_significant')?.get(r));
        const energy = floats(col('energy')?.get(r));
        const pixels = energy.length;
        const side = Math.round(Math.sqrt(pixels / colour));
        L.awcSide = side;
        Object.assign(u, {
          ev: eig.map(num),
          es: sig,
          eb: eigB.map(num),
          bs: sigB,
          nu: num(col('null_upper')?.get(r)),
          nl: num(col('null_lower')?.get(r)),
          ns: num(col('n_sig_top')?.get(r)),
          nb: num(col('n_sig_bottom')?.get(r)),
          ct: num(col('awc_theta_pred')?.get(r)),
          cf: num(col('awc_f_pred')?.get(r)),
        });
        const im = u['im'] as Record<string, unknown>;
        const vecImages = (column: string, count: number, keep: (k: number) => boolean, key: 't' | 'b') => {
          const all = floats(col(column)?.get(r));
          const urls: (string | null)[] = new Array(count).fill(null);
          im[key] = urls;
          for (let k = 0; k < count; k++) {
            if (!keep(k) || pixels === 0) continue;
            const v = all.subarray(k * pixels, (k + 1) * pixels);
            let peak = 0;
            for (const x of v) peak = Math.max(peak, Math.abs(x));
            pending.push(png({ values: v, side, channels: colour, kind: 'diverging', scale: peak }).then((uri) => (urls[k] = uri)));
          }
        };
        // the two leading excitatory directions always (even when not significant), the others when significant
        vecImages('eigvec_top', eig.length, (k) => k < 2 || sig[k] === 1, 't');
        vecImages('eigvec_bottom', eigB.length, (k) => sigB[k] === 1, 'b');
        let peak = 0;
        for (const x of energy) peak = Math.max(peak, x);
        if (peak > 0 && side > 0) {
          im['e'] = null; // key order fixed now, not by which PNG finishes first
          pending.push(png({ values: energy, side, channels: colour, kind: 'sequential', scale: peak }).then((uri) => (im['e'] = uri)));
        }
      }
      await Promise.all(pending.splice(0)); // one awc shard's maps in memory at a time
    }
    await Promise.all(pending);

    // reconstructed flags with the run's tolerances (the summary stage's definition)
    for (const u of units.values()) {
      const tp = (u['tp'] as number | null) ?? NaN;
      const fp = (u['fp'] as number | null) ?? NaN;
      if (L.has.awa) {
        const m = matchFlags({ thetaDeg: (u['at'] as number | null) ?? NaN, fCpp: (u['af'] as number | null) ?? NaN }, tp, fp, tol);
        Object.assign(u, { amt: +m.theta, amf: +m.f, ra: +(u['as'] === 1 && m.theta && m.f) });
      }
      if (L.has.awc) {
        const m = matchFlags({ thetaDeg: (u['ct'] as number | null) ?? NaN, fCpp: (u['cf'] as number | null) ?? NaN }, tp, fp, tol);
        Object.assign(u, { cmt: +m.theta, cmf: +m.f, rc: +(((u['ns'] as number | null) ?? 0) > 0 && m.theta && m.f) });
      }
    }
    L.units = [...units.values()].sort((a, b) => (a['c'] as number) - (b['c'] as number));
    out.push(L);
    opts.onLayer?.(layer, L.units.length);
  }
  cache.clear();

  // thumbnails of the natural images the top lists name, from the image folder of the run
  const imageDir = src.config.stimuli.images.enabled ? src.config.stimuli.images.dir : null;
  if (imageDir && images.length) {
    const thumbs = new PQueue({ concurrency: 4 });
    await Promise.all(images.map((im) => thumbs.add(async () => void (im.uri = await imageThumbnail(imageDir, im.file)))));
  }
  return { layers: out, images, imageDir };
}
