// Real-network reverse correlation (issue 5, docs/method.md §5 table): VGG19 with the shared ImageNet weights, centre
// units of blocks 1–3 (default), white noise and the default gratings presented on the stride-aligned noise
// canvas (exact for centre units, docs/method.md §6). Per layer: % responsive, % significant AWA, % with ≥ 1 significant
// AWC eigenvalue, θ/f matches (AWA: fft and model response; AWC: fft), θ agreement (mean cos 2Δθ) of θ_pred with θ_pref
// and Spearman of log f — with the theoretical crop and with the effective crop. Not a CI test (minutes).
//
//   node bin/run-ts.js bench/revcor-vgg19.ts [--n 10000] [--layers block1_conv1,...] [--check 1]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExperimentSchema } from '../config/schema.ts';
import { noiseCanvas, type LayerGeometry } from '../model/geometry.ts';
import { loadModel } from '../model/load.ts';
import { OrtMatMul } from '../model/ort-matmul.ts';
import { selectLayers, vggNetwork } from '../model/network.ts';
import { ModelSession } from '../model/session.ts';
import { awaLayer, type AwaResult } from '../science/awa.ts';
import { awcLayer } from '../science/awc.ts';
import { effectiveCrop } from '../science/effective-rf.ts';
import { gratingAxes, gratingImageInto, gratingList } from '../science/gratings.ts';
import { featureLayout, noiseSource, toPixels, type CropWindow } from '../science/noise-source.ts';
import { noiseImageRGBInto, type NoiseParams } from '../science/noise.ts';
import { matchFlags, predictAwaFft, predictAwcFft, predictByModel, spearman, thetaAgreement, type Prediction } from '../science/predict.ts';
import { gratingTuning, type TuningIndices } from '../science/tuning.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const weights = path.join(path.resolve(repoRoot, '../shared'), 'models/vgg19_imagenet_notop.h5');

/** Options of the VGG19 reverse-correlation run. */
export interface Vgg19RevcorOptions {
  N?: number;
  layers?: string[];
  check?: number;
  threads?: number;
  log?: (line: string) => void;
}

const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(0) : '–');

/** One layer's docs/method.md §5 row for one crop. */
async function layerRow(
  g: LayerGeometry,
  crop: CropWindow,
  noise: NoiseParams,
  N: number,
  A: Float32Array,
  tune: TuningIndices,
  axes: ReturnType<typeof gratingAxes>,
  mm: OrtMatMul,
  awaTheoretical: AwaResult | null,
): Promise<{ row: string; awa: AwaResult }> {
  const C = g.channels;
  const idx = Int32Array.from({ length: N }, (_, i) => i);
  const awaSrc = noiseSource(noise, idx, crop, featureLayout(noise, crop, 'pixels'));
  const awa = awaTheoretical ?? (await awaLayer(awaSrc, A, C, mm, { zThreshold: 5 }));
  const layout = featureLayout(noise, crop, 'checks');
  const src = noiseSource(noise, idx, crop, layout);
  const mom = layout.checks || awaTheoretical ? undefined : awa;
  const awc = await awcLayer(src, A, C, mm, { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 0, level: 0.99, solver: src.D <= 128 ? 'full' : 'subspace', block: 8, steps: 12, seed: 1, cacheBytes: 2 ** 31 }, mom);
  const rf = { r: crop.size, channels: 1, x0: crop.x0, y0: crop.y0 };
  const rfAwa = { r: g.cropSize, channels: 1, x0: g.cropX0, y0: g.cropY0 };
  const tol = { thetaDeg: 15, octaves: 0.5 };
  let resp = 0;
  const s = { awa: 0, awc: 0, awaT: 0, awaF: 0, modT: 0, modF: 0, awcT: 0, awcF: 0 };
  const pairs = { awa: [[], [], [], []] as number[][], awc: [[], [], [], []] as number[][] };
  const push = (k: 'awa' | 'awc', p: Prediction, u: number) => {
    pairs[k][0]!.push(p.thetaDeg);
    pairs[k][1]!.push(tune.thetaPref[u]!);
    pairs[k][2]!.push(Math.log2(p.fCpp));
    pairs[k][3]!.push(Math.log2(tune.sfPref[u]!));
  };
  for (let u = 0; u < C; u++) {
    if (!tune.responsive[u]) continue;
    resp++;
    if (awa.significant[u]) {
      s.awa++;
      const map = awa.awa.subarray(u * awa.D, (u + 1) * awa.D);
      const p = predictAwaFft(map, rfAwa);
      const m = matchFlags(p, tune.thetaPref[u]!, tune.sfPref[u]!, tol);
      const mm2 = matchFlags(predictByModel('awa', [map], [1], rfAwa, axes), tune.thetaPref[u]!, tune.sfPref[u]!, tol);
      s.awaT += +m.theta;
      s.awaF += +m.f;
      s.modT += +mm2.theta;
      s.modF += +mm2.f;
      push('awa', p, u);
    }
    const unit = awc.units[u]!;
    const sig = unit.topVectors.map((v, k) => ({ v, l: unit.top[k]!, s: unit.topSignificant[k] })).filter((x) => x.s && x.l > 0);
    if (sig.length > 0) {
      s.awc++;
      const p = predictAwcFft(sig.map((x) => toPixels(x.v, layout, true)), sig.map((x) => x.l), rf);
      const m = matchFlags(p, tune.thetaPref[u]!, tune.sfPref[u]!, tol);
      s.awcT += +m.theta;
      s.awcF += +m.f;
      push('awc', p, u);
    }
  }
  const cc = (k: 'awa' | 'awc') => thetaAgreement(pairs[k][0]!, pairs[k][1]!).toFixed(2);
  const sp = (k: 'awa' | 'awc') => spearman(pairs[k][2]!, pairs[k][3]!).toFixed(2);
  const row = `| ${g.name} | ${crop.size}${crop.size !== g.cropSize ? ` of ${g.cropSize}` : ''} | ${pct(resp, C)} | ${pct(s.awa, resp)} | ${pct(s.awc, resp)} | ${pct(s.awaT, s.awa)} / ${pct(s.awaF, s.awa)} | ${pct(s.modT, s.awa)} / ${pct(s.modF, s.awa)} | ${pct(s.awcT, s.awc)} / ${pct(s.awcF, s.awc)} | ${cc('awa')} / ${cc('awc')} | ${sp('awa')} / ${sp('awc')} |`;
  return { row, awa };
}

/** Runs VGG19 on noise and gratings and prints the docs/method.md §5 table for the theoretical and the effective crop. */
export async function benchRevcorVgg19(o: Vgg19RevcorOptions = {}): Promise<string> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (!existsSync(weights)) {
    log(`revcor-vgg19: ${weights} is absent; nothing to do`);
    return '';
  }
  const N = o.N ?? 10000;
  // default: the layers of pooling stages 1–3 (VGG19's blocks 1–3), from the architecture
  const layers = o.layers ?? selectLayers(vggNetwork('vgg19'), 'all').filter((l) => l.poolStage <= 3).map((l) => l.name);
  const config = ExperimentSchema.parse({ model: { arch: 'vgg19', weights, layers } });
  const model = await loadModel(config.model);
  const canvas = noiseCanvas(model.geometry);
  const threads = o.threads ?? 2;
  const session = await ModelSession.create(
    { net: model.net, weights: model.weights, layers: model.layers, inputSize: canvas.size, readout: 'centre', unitIndex: canvas.centreIndex },
    { threads, batch: 64 },
  );
  const S = canvas.size;
  const run = async (count: number, fill: (out: Float32Array, offset: number, i: number) => void) => {
    const parts: Record<string, Float32Array[]> = {};
    for (let i0 = 0; i0 < count; i0 += 256) {
      const n = Math.min(256, count - i0);
      const px = new Float32Array(n * S * S * 3);
      for (let i = 0; i < n; i++) fill(px, i * S * S * 3, i0 + i);
      for (const [k, v] of Object.entries(await session.run(px, n))) (parts[k] ??= []).push(v);
    }
    const out: Record<string, Float32Array> = {};
    for (const [k, ps] of Object.entries(parts)) {
      out[k] = new Float32Array(ps.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of ps) {
        out[k].set(p, at);
        at += p.length;
      }
    }
    return out;
  };
  const noise: NoiseParams = { seed: 1, sigma: 48, color: 'grey', check: o.check ?? 1 };
  const t0 = performance.now();
  const noiseActs = await run(N, (out, off, n) => noiseImageRGBInto(out, off, noise, n, canvas.x0, canvas.y0, S, S));
  const gratings = gratingList(config.stimuli.gratings);
  const gratingActs = await run(gratings.length, (out, off, i) => gratingImageInto(out, off, gratings[i]!, S, S, canvas.x0, canvas.y0));
  await session.release();
  log(`VGG19 on a ${S}-px canvas: ${N} noise + ${gratings.length} gratings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const set = { thetaDeg: gratings.map((g) => g.thetaDeg), sfCpp: gratings.map((g) => g.sfCpp), phaseDeg: gratings.map((g) => g.phaseDeg) };
  const axes = gratingAxes(config.stimuli.gratings);
  const mm = new OrtMatMul({ threads });
  const head = [
    `VGG19 centre units, N = ${N}, noise check ${noise.check}; matches among responsive units with a significant RF (AWA: max|z| ≥ 5; AWC: ≥ 1 significant excitatory eigenvalue, Marchenko–Pastur null at 99%)`,
    '| layer | crop | % responsive | % sig AWA | % ≥1 sig AWC | AWA θ / f match, fft | AWA θ / f, model response | AWC θ / f match, fft | θ agreement mean cos 2Δθ (AWA / AWC) | Spearman log f (AWA / AWC) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const lines = [...head];
  for (const g of model.geometry) {
    const t1 = performance.now();
    const tune = gratingTuning(gratingActs[g.name]!, g.channels, set).indices;
    const A = noiseActs[g.name]!;
    const crop = { x0: g.cropX0, y0: g.cropY0, size: g.cropSize };
    const theo = await layerRow(g, crop, noise, N, A, tune, axes, mm, null);
    lines.push(theo.row);
    const z = Float32Array.from(theo.awa.z);
    const eff = effectiveCrop(z, theo.awa.significant, g.cropSize, 1, g.rfCentre - g.cropX0, 0.95);
    if (eff.size < g.cropSize) {
      const ecrop = { x0: crop.x0 + eff.dx, y0: crop.y0 + eff.dy, size: eff.size };
      lines.push((await layerRow(g, ecrop, noise, N, A, tune, axes, mm, theo.awa)).row);
    }
    log(`  ${g.name} done in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  }
  await mm.dispose();
  const table = lines.join('\n');
  log(table);
  return table;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  await benchRevcorVgg19({ N: arg('n') ? Number(arg('n')) : undefined, layers: arg('layers')?.split(','), check: arg('check') ? Number(arg('check')) : undefined });
}
