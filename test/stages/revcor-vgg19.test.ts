// Real VGG19 (shared ImageNet weights): block1–2 centre units' AWA from white noise predicts their grating
// orientation preference for most oriented units (issue 5). Noise and gratings are both presented on the
// stride-aligned noise canvas, which gives the centre units exactly their full-image responses (docs/method.md §6).
// Skips where ../shared is absent. Prints the per-layer docs/method.md §5 table.
import { requireOrSkip } from '../fixtures/require.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { noiseCanvas } from '../../model/geometry.ts';
import { loadModel } from '../../model/load.ts';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import { ModelSession } from '../../model/session.ts';
import { awaLayer } from '../../science/awa.ts';
import { awcLayer } from '../../science/awc.ts';
import { gratingAxes, gratingImageInto, gratingList } from '../../science/gratings.ts';
import { featureLayout, noiseSource } from '../../science/noise-source.ts';
import { noiseImageRGBInto } from '../../science/noise.ts';
import { matchFlags, orientationDifference, predictAwaFft, predictAwcFft, predictByModel, spearman, thetaAgreement } from '../../science/predict.ts';
import { gratingTuning } from '../../science/tuning.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const weights = path.join(path.resolve(repoRoot, '../shared'), 'models/vgg19_imagenet_notop.h5');
const present = existsSync(weights);
requireOrSkip('shared', present, `revcor-vgg19: ${weights} is absent, skipping the real-network AWA/AWC check`);

const N = 6000;

describe.skipIf(!present)('VGG19 block1–2: reconstructed RFs predict grating tuning', () => {
  const mm = new OrtMatMul({ threads: 2 });
  afterAll(() => mm.dispose());

  it('most oriented units with a significant AWA have θ_pred within 15° of θ_pref (model response; FFT coarser)', async () => {
    const config = ExperimentSchema.parse({
      model: { arch: 'vgg19', weights, layers: ['block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2'] },
    });
    const model = await loadModel(config.model);
    const canvas = noiseCanvas(model.geometry);
    const session = await ModelSession.create(
      { net: model.net, weights: model.weights, layers: model.layers, inputSize: canvas.size, readout: 'centre', unitIndex: canvas.centreIndex },
      { threads: 2, batch: 256 },
    );
    const S = canvas.size;
    const run = async (count: number, fill: (out: Float32Array, offset: number, i: number) => void) => {
      const out: Record<string, Float32Array[]> = {};
      for (let i0 = 0; i0 < count; i0 += 512) {
        const n = Math.min(512, count - i0);
        const px = new Float32Array(n * S * S * 3);
        for (let i = 0; i < n; i++) fill(px, i * S * S * 3, i0 + i);
        const acts = await session.run(px, n);
        for (const [k, v] of Object.entries(acts)) (out[k] ??= []).push(v);
      }
      const merged: Record<string, Float32Array> = {};
      for (const [k, parts] of Object.entries(out)) {
        merged[k] = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        let at = 0;
        for (const p of parts) {
          merged[k].set(p, at);
          at += p.length;
        }
      }
      return merged;
    };
    const noise = { seed: 1, sigma: 48, color: 'grey' as const, check: 1 };
    const noiseActs = await run(N, (out, off, n) => noiseImageRGBInto(out, off, noise, n, canvas.x0, canvas.y0, S, S));
    const gratings = gratingList(config.stimuli.gratings);
    const gratingActs = await run(gratings.length, (out, off, i) => gratingImageInto(out, off, gratings[i]!, S, S, canvas.x0, canvas.y0));
    await session.release();
    const set = { thetaDeg: gratings.map((g) => g.thetaDeg), sfCpp: gratings.map((g) => g.sfCpp), phaseDeg: gratings.map((g) => g.phaseDeg) };

    const lines = ['| layer | units | % responsive | % sig AWA | % ≥1 sig AWC | AWA θ / f match, fft (% of sig) | AWA θ / f match, model | AWC θ / f match (% of sig) | θ agreement (AWA) | Spearman log f (AWA) |', '|---|---|---|---|---|---|---|---|---|---|'];
    let orientedSig = 0;
    let orientedMatched = 0;
    let orientedMatchedModel = 0;
    const axes = gratingAxes(config.stimuli.gratings);
    for (const g of model.geometry) {
      const C = g.channels;
      const tune = gratingTuning(gratingActs[g.name]!, C, set).indices;
      const crop = { x0: g.cropX0, y0: g.cropY0, size: g.cropSize };
      const src = noiseSource(noise, Int32Array.from({ length: N }, (_, i) => i), crop, featureLayout(noise, crop, 'pixels'));
      const A = noiseActs[g.name]!;
      const awa = await awaLayer(src, A, C, mm, { zThreshold: 5 });
      const awc = await awcLayer(src, A, C, mm, { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 0, level: 0.99, solver: src.D <= 128 ? 'full' : 'subspace', block: 8, steps: 12, seed: 1 }, awa);
      const rf = { r: g.cropSize, channels: 1, x0: crop.x0, y0: crop.y0 };
      let resp = 0;
      let sigAwa = 0;
      let sigAwc = 0;
      let awaTheta = 0;
      let modelTheta = 0;
      let modelF = 0;
      let awaF = 0;
      let awcTheta = 0;
      let awcF = 0;
      const tp: number[] = [];
      const tq: number[] = [];
      const fp: number[] = [];
      const fq: number[] = [];
      for (let u = 0; u < C; u++) {
        if (tune.responsive[u]) resp++;
        const tol = { thetaDeg: 15, octaves: 0.5 };
        if (awa.significant[u] && tune.responsive[u]) {
          sigAwa++;
          const p = predictAwaFft(awa.awa.subarray(u * src.D, (u + 1) * src.D), rf);
          const m = matchFlags(p, tune.thetaPref[u]!, tune.sfPref[u]!, tol);
          awaTheta += +m.theta;
          awaF += +m.f;
          const pm = predictByModel('awa', [awa.awa.subarray(u * src.D, (u + 1) * src.D)], [1], rf, axes);
          const mm2 = matchFlags(pm, tune.thetaPref[u]!, tune.sfPref[u]!, tol);
          modelTheta += +mm2.theta;
          modelF += +mm2.f;
          tp.push(p.thetaDeg);
          tq.push(tune.thetaPref[u]!);
          fp.push(Math.log2(p.fCpp));
          fq.push(Math.log2(tune.sfPref[u]!));
          // "oriented": sharply orientation-tuned (circular variance < 0.5)
          if (tune.circularVariance[u]! < 0.5) {
            orientedSig++;
            if (orientationDifference(p.thetaDeg, tune.thetaPref[u]!) <= 15) orientedMatched++;
            if (orientationDifference(pm.thetaDeg, tune.thetaPref[u]!) <= 15) orientedMatchedModel++;
          }
        }
        const unit = awc.units[u]!;
        const k = unit.topSignificant.filter(Boolean).length;
        if (unit.responsive && k > 0 && tune.responsive[u]) {
          sigAwc++;
          const vs = unit.topVectors.filter((_, i) => unit.topSignificant[i]);
          const ls = Array.from(unit.top).filter((_, i) => unit.topSignificant[i]);
          const m = matchFlags(predictAwcFft(vs, ls, rf), tune.thetaPref[u]!, tune.sfPref[u]!, tol);
          awcTheta += +m.theta;
          awcF += +m.f;
        }
      }
      const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(0) : '–');
      lines.push(
        `| ${g.name} | ${C} | ${pct(resp, C)} | ${pct(sigAwa, C)} | ${pct(sigAwc, C)} | ${pct(awaTheta, sigAwa)} / ${pct(awaF, sigAwa)} | ${pct(modelTheta, sigAwa)} / ${pct(modelF, sigAwa)} | ${pct(awcTheta, sigAwc)} / ${pct(awcF, sigAwc)} | ${thetaAgreement(tp, tq).toFixed(2)} | ${spearman(fp, fq).toFixed(2)} |`,
      );
    }
    console.log(`VGG19 centre units, N = ${N} noise stimuli (docs/method.md §5 table; matches among significant, responsive units):\n${lines.join('\n')}\noriented (CV < 0.5) units with significant AWA: ${orientedMatched}/${orientedSig} θ-matched (fft), ${orientedMatchedModel}/${orientedSig} (model response)`);
    expect(orientedSig).toBeGreaterThan(20);
    // docs/method.md §5: the FFT of a 3–14 px RF is coarse (a few frequency bins); the model response is not.
    // Measured (N = 6,000, with the former hann window): 75/135 model, 70/135 fft; block2_conv1 (after the first max-pool) matches worst.
    expect(orientedMatchedModel / orientedSig).toBeGreaterThan(0.5);
    expect(orientedMatched / orientedSig).toBeGreaterThan(0.4);
  }, 300_000); // ~50 s alone; a loaded machine (other jobs on the 2 cores) must not fail it on time alone
});
