// Real-network check of issue 4 (not a CI test: ~2,900 forward passes at 224 px, a few minutes):
// VGG19 with the shared ImageNet weights on the default gratings and on fLoc; per layer % responsive,
// median circular variance, % category-selective (ANOVA, BH FDR 0.01 within the layer) and the
// face-selective count (preferred adult|child and selective). Uses the tuning/category stages' table
// builders on activations from the model session (centre unit, post-ReLU).
//
//   node bin/run-ts.js bench/vgg19-tuning.ts [--readout centre|max|mean] [--per-category N] [--no-cache]
//
// Activations are cached under artifacts/bench-vgg19/ so the analysis can be re-run in seconds.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ExperimentSchema } from '../config/schema.ts';
import { loadModel } from '../model/load.ts';
import { selectLayers, vggNetwork } from '../model/network.ts';
import { ModelSession } from '../model/session.ts';
import { gratingImageInto, gratingList } from '../science/gratings.ts';
import { categoryTable } from '../stages/category.ts';
import { tuningOptions, tuningTable } from '../stages/tuning.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, '../shared');
const weightsFile = path.join(shared, 'models/vgg19_imagenet_notop.h5');
const flocDir = path.join(shared, 'datasets/floc');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const readout = (arg('readout') ?? 'centre') as 'centre' | 'max' | 'mean';
const perCategory = Number(arg('per-category') ?? Infinity);
const useCache = !process.argv.includes('--no-cache');
const cacheDir = path.join(repoRoot, 'artifacts/bench-vgg19');
const SIZE = 224;
const CHUNK = 32;

/** [stimulus × channels] activations per layer, cached as raw float32 with a JSON index. */
type Acts = Record<string, { matrix: Float32Array; channels: number }>;

function loadCache(name: string): Acts | undefined {
  const idx = path.join(cacheDir, `${name}.json`);
  if (!useCache || !existsSync(idx)) return undefined;
  const meta = JSON.parse(readFileSync(idx, 'utf8')) as { layers: { name: string; channels: number; offset: number; length: number }[] };
  const buf = readFileSync(path.join(cacheDir, `${name}.bin`));
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return Object.fromEntries(meta.layers.map((l) => [l.name, { matrix: all.slice(l.offset, l.offset + l.length), channels: l.channels }]));
}

function saveCache(name: string, acts: Acts): void {
  mkdirSync(cacheDir, { recursive: true });
  let offset = 0;
  const layers = Object.entries(acts).map(([n, a]) => {
    const l = { name: n, channels: a.channels, offset, length: a.matrix.length };
    offset += a.matrix.length;
    return l;
  });
  const all = new Float32Array(offset);
  for (const l of layers) all.set(acts[l.name]!.matrix, l.offset);
  writeFileSync(path.join(cacheDir, `${name}.bin`), Buffer.from(all.buffer));
  writeFileSync(path.join(cacheDir, `${name}.json`), JSON.stringify({ layers }));
}

// Runs `count` images produced by fill(i, out, offset) through the session in chunks.
async function forward(session: ModelSession, count: number, fill: (i: number, out: Float32Array, offset: number) => Promise<void> | void, label: string): Promise<Acts> {
  const acts: Acts = Object.fromEntries(session.outputs.map((o) => [o.name, { matrix: new Float32Array(count * o.channels), channels: o.channels }]));
  const per = session.imageLength;
  const t0 = performance.now();
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const pixels = new Float32Array(n * per);
    for (let i = 0; i < n; i++) await fill(start + i, pixels, i * per);
    const out = await session.run(pixels, n);
    for (const o of session.outputs) acts[o.name]!.matrix.set(out[o.name]!, start * o.channels);
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`\r${label}: ${start + n}/${count} images, ${s.toFixed(0)} s (${((start + n) / s).toFixed(1)} img/s)   `);
  }
  process.stderr.write('\n');
  return acts;
}

// fLoc images sorted by category then file; resize short side to 256, centre-crop 224, grey → RGB.
function listImages(): { category: string; file: string }[] {
  const out: { category: string; file: string }[] = [];
  for (const category of readdirSync(flocDir).filter((d) => !d.startsWith('.')).sort()) {
    const files = readdirSync(path.join(flocDir, category)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    for (const f of files.slice(0, perCategory)) out.push({ category, file: `${category}/${f}` });
  }
  return out;
}

async function imageInto(file: string, out: Float32Array, offset: number): Promise<void> {
  const meta = await sharp(path.join(flocDir, file)).metadata();
  const w = meta.width!;
  const h = meta.height!;
  const scale = 256 / Math.min(w, h);
  const rw = Math.round(w * scale);
  const rh = Math.round(h * scale);
  const { data, info } = await sharp(path.join(flocDir, file))
    .resize(rw, rh)
    .extract({ left: Math.floor((rw - SIZE) / 2), top: Math.floor((rh - SIZE) / 2), width: SIZE, height: SIZE })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const c = info.channels;
  for (let p = 0; p < SIZE * SIZE; p++) {
    for (let k = 0; k < 3; k++) out[offset + p * 3 + k] = data[p * c + (c === 1 ? 0 : k)]!;
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (k: number, n: number) => (n === 0 ? 'n/a' : `${((100 * k) / n).toFixed(1)}%`);

// Why early layers pass the ANOVA: the image centre's low-level statistics differ across fLoc categories.
// Mean luminance and RMS contrast of the centre patch (RF sizes of block1_conv1, block2_conv2, block3_conv4,
// block4_conv4) as pseudo-units through the same ANOVA.
async function lowLevelControl(images: { file: string }[], set: { categories: string[]; labels: Int32Array }): Promise<void> {
  const sizes = [3, 14, 48, 116];
  const feats = new Float32Array(images.length * sizes.length * 2);
  const px = new Float32Array(SIZE * SIZE * 3);
  for (let i = 0; i < images.length; i++) {
    await imageInto(images[i]!.file, px, 0);
    sizes.forEach((r, k) => {
      const x0 = Math.floor(SIZE / 2) - Math.floor(r / 2);
      let s = 0;
      let s2 = 0;
      for (let y = x0; y < x0 + r; y++) for (let x = x0; x < x0 + r; x++) {
        const v = px[(y * SIZE + x) * 3]!;
        s += v;
        s2 += v * v;
      }
      const m = s / (r * r);
      feats[i * sizes.length * 2 + 2 * k] = m;
      feats[i * sizes.length * 2 + 2 * k + 1] = Math.sqrt(Math.max(0, s2 / (r * r) - m * m));
    });
  }
  const { oneWayAnova, groupMeans } = await import('../science/stats.ts');
  const K = set.categories.length;
  const a = oneWayAnova(feats, sizes.length * 2, set.labels, K);
  const g = groupMeans(feats, sizes.length * 2, set.labels, K);
  console.log('\nlow-level control: centre patch statistics as pseudo-units (ANOVA across categories)');
  console.log(`| patch | statistic | F | p | category means (${set.categories.join(', ')}) |`);
  console.log('|---|---|---|---|---|');
  sizes.forEach((r, k) => {
    for (const [j, name] of [[0, 'mean luminance'], [1, 'RMS contrast']] as const) {
      const u = 2 * k + j;
      const mu = Array.from({ length: K }, (_, c) => g.means[u * K + c]!.toFixed(0)).join(', ');
      console.log(`| ${r}×${r} | ${name} | ${a.F[u]!.toFixed(1)} | ${a.p[u]!.toExponential(1)} | ${mu} |`);
    }
  });
}

async function main(): Promise<void> {
  if (!existsSync(weightsFile) || !existsSync(flocDir)) {
    console.warn(`SKIP: ${weightsFile} or ${flocDir} is missing (../shared is not on this machine)`);
    return;
  }
  const config = ExperimentSchema.parse({ model: { arch: 'vgg19', weights: weightsFile, layers: 'all' } });
  const gratings = gratingList(config.stimuli.gratings);
  const images = listImages();
  let gActs = loadCache('gratings');
  let iActs = loadCache(`images-${readout}-${perCategory}`);
  if (!gActs || !iActs) {
    const model = await loadModel(config.model);
    console.log(model.notice);
    const spec = { net: model.net, weights: model.weights, layers: model.layers, inputSize: SIZE };
    if (!gActs) {
      const session = await ModelSession.create({ ...spec, readout: 'centre' }, { threads: config.model.threads, batch: 16 });
      gActs = await forward(session, gratings.length, (i, out, off) => gratingImageInto(out, off, gratings[i]!, SIZE, SIZE), 'gratings');
      await session.release();
      saveCache('gratings', gActs);
    }
    if (!iActs) {
      const session = await ModelSession.create({ ...spec, readout }, { threads: config.model.threads, batch: 16 });
      iActs = await forward(session, images.length, (i, out, off) => imageInto(images[i]!.file, out, off), `fLoc (${readout})`);
      await session.release();
      saveCache(`images-${readout}-${perCategory}`, iActs);
    }
  }
  const set = {
    thetaDeg: gratings.map((g) => g.thetaDeg),
    sfCpp: gratings.map((g) => g.sfCpp),
    phaseDeg: gratings.map((g) => g.phaseDeg),
  };
  const cats = [...new Set(images.map((i) => i.category))].sort();
  const imageSet = {
    stimulus: Int32Array.from(images, (_, i) => i),
    files: images.map((i) => i.file),
    categories: cats,
    labels: Int32Array.from(images, (i) => cats.indexOf(i.category)),
  };
  const fdr = 0.01;
  // Number of selective units (q ≤ fdr within the layer) for a subset of the images.
  const ct0 = (layer: string, m: Float32Array, n: number, set: typeof imageSet) =>
    (categoryTable(layer, m, n, set, { topN: 1, fdr, fdrFamily: 'layer', spatial: readout }).getChild('selective')!.toArray() as boolean[]).filter(Boolean).length;
  const faces = new Set(['adult', 'child']);
  console.log(`\nVGG19 (shared ImageNet weights), ${gratings.length} gratings, ${images.length} fLoc images (${cats.length} categories), readout ${readout} for images`);
  console.log('| layer | units | % responsive | median CV | median OSI | median F1/F0 | % category-selective (q ≤ 0.01) | … and CSI ≥ 1/3 | … at 24 img/category | median CSI (image-responsive) | face-selective | preferred (selective units) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  // Subsample: the first 24 images of every category (ANOVA power at the size of many physiology studies).
  const subRows = [...Array(images.length).keys()].filter((i) => images.slice(0, i).filter((x) => x.category === images[i]!.category).length < 24);
  const tTune = performance.now();
  let tuneMs = 0;
  let catMs = 0;
  // VGG's blocks are its pooling stages (from the architecture, not parsed from the layer names)
  const stageOf = new Map(selectLayers(vggNetwork('vgg19'), 'all').map((l) => [l.name, l.poolStage]));
  const blockFaces: Record<string, number> = {};
  for (const [layer, g] of Object.entries(gActs)) {
    let t = performance.now();
    const tt = tuningTable(layer, g.matrix, g.channels, set, tuningOptions(config));
    tuneMs += performance.now() - t;
    t = performance.now();
    const im = iActs[layer]!;
    const ct = categoryTable(layer, im.matrix, im.channels, imageSet, { topN: 10, fdr, fdrFamily: 'layer', spatial: readout });
    catMs += performance.now() - t;
    const resp = tt.getChild('responsive')!.toArray() as boolean[];
    const cv = tt.getChild('circular_variance')!.toArray() as Float64Array;
    const osi = tt.getChild('osi')!.toArray() as Float64Array;
    const f1f0 = tt.getChild('f1f0')!.toArray() as Float64Array;
    const sel = ct.getChild('selective')!.toArray() as boolean[];
    const pref = ct.getChild('preferred_category')!.toArray() as string[];
    const csi = ct.getChild('csi')!.toArray() as Float64Array;
    const n = g.channels;
    const nResp = [...resp].filter(Boolean).length;
    const sub = new Float32Array(subRows.length * n);
    subRows.forEach((r, j) => sub.set(im.matrix.subarray(r * n, (r + 1) * n), j * n));
    const subSet = { ...imageSet, stimulus: Int32Array.from(subRows), files: subRows.map((r) => imageSet.files[r]!), labels: Int32Array.from(subRows, (r) => imageSet.labels[r]!) };
    const subSel = ct0(layer, sub, n, subSet);
    const means = ct.getChild('category_means')!;
    const imageResponsive = [...Array(n).keys()].filter((u) => Math.max(...(means.get(u)!.toArray() as Float32Array)) > 0);
    const selIdx = [...Array(n).keys()].filter((u) => sel[u]);
    const nFace = selIdx.filter((u) => faces.has(pref[u]!)).length;
    const block = `block${stageOf.get(layer) ?? '?'}`;
    blockFaces[block] = (blockFaces[block] ?? 0) + nFace;
    const prefCounts: Record<string, number> = {};
    for (const u of selIdx) prefCounts[pref[u]!] = (prefCounts[pref[u]!] ?? 0) + 1;
    const top = Object.entries(prefCounts).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c, k]) => `${c} ${k}`).join(', ');
    console.log(
      `| ${layer} | ${n} | ${pct(nResp, n)} | ${median([...cv]).toFixed(3)} | ${median([...osi]).toFixed(3)} | ${median([...f1f0]).toFixed(2)} | ${pct(selIdx.length, n)} | ${pct(selIdx.filter((u) => csi[u]! >= 1 / 3).length, n)} | ${pct(subSel, n)} | ${median(imageResponsive.map((u) => csi[u]!)).toFixed(3)} | ${nFace} | ${top} |`,
    );
  }
  if (process.argv.includes('--control')) await lowLevelControl(images, imageSet);
  console.log(`\nface-selective units per block: ${Object.entries(blockFaces).map(([b, k]) => `${b} ${k}`).join(', ')}`);
  console.log(`analysis time: tuning ${(tuneMs / 1000).toFixed(2)} s, category ${(catMs / 1000).toFixed(2)} s (all layers; total ${((performance.now() - tTune) / 1000).toFixed(2)} s)`);
}

await main();
