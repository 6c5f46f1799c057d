// Analytic vs shuffle AWC null for chosen units of a finished run: reads the run's noise activations, regenerates
// the layer's noise crops (bins as the awc stage would) and prints λ₁ / null edge and the significant count under
// both nulls. Usage: `npm run bench -- null-check <run dir> <layer> <ch,ch,…>` (never part of the tests).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { OrtMatMul } from '../model/ort-matmul.ts';
import { awaLayer, effectiveSampleSizes } from '../science/awa.ts';
import { awcLayer } from '../science/awc.ts';
import { featureLayout, noiseSource } from '../science/noise-source.ts';
import { storedSource } from '../science/samples.ts';
import { analysisBin } from '../science/noise-source.ts';
import { layerNoise, unitColumns } from '../stages/revcor-input.ts';

/** Runs the comparison for `<dir> <layer> <channels>` (after the bench name in argv); returns the report lines. */
export async function benchNullCheck(args: readonly string[]): Promise<string> {
  const [runDir, layer, list] = args;
  if (!runDir || !layer || !list) return 'null-check: usage: npm run bench -- null-check <run dir> <layer> <ch,ch,…>';
  const dir = join(runDir, 'activations');
  const tables = readdirSync(dir).filter((f) => f.startsWith('noise') && f.endsWith('.arrow')).sort().map((f) => tableFromIPC(readFileSync(join(dir, f))));
  const chans = list.split(',').map(Number);
  const ln = layerNoise(tables, layer, 'null-check');
  const N = ln.noiseIndex.length;
  const layout = featureLayout(ln.noise, ln.crop, 'checks', analysisBin(ln.crop.size, ln.noise.color === 'rgb' ? 3 : 1, ln.noise.check, 4096));
  const src = storedSource(noiseSource(ln.noise, ln.noiseIndex, ln.crop, layout, ln.offsets), 'f32', 2048, 127.5);
  const A = new Float32Array(N * chans.length);
  chans.forEach((c, j) => {
    const col = unitColumns(ln.A, N, ln.channels, c, c + 1);
    for (let n = 0; n < N; n++) A[n * chans.length + j] = col[n]!;
  });
  const mm = new OrtMatMul({ threads: 2 });
  const lines: string[] = [];
  try {
    const awa = await awaLayer(src, A, chans.length, mm, { zThreshold: 5 });
    const nEff = effectiveSampleSizes(awa);
    for (const nullKind of ['marchenko-pastur', 'shuffle'] as const) {
      const res = await awcLayer(src, A, chans.length, mm, { top: 4, bottom: 2, nullKind, shuffles: 20, level: 0.99, solver: 'subspace', block: 8, steps: 12, seed: 1 }, awa);
      lines.push(`${layer} D ${layout.D} ${nullKind}: ` + res.units.map((u, j) => `ch${chans[j]} n_eff ${nEff[j]!.toFixed(0)} λ1/edge ${(u.top[0]! / u.bounds.upper).toFixed(2)} sig ${u.topSignificant.filter(Boolean).length}`).join('; '));
    }
  } finally {
    await mm.dispose();
  }
  return lines.join('\n');
}
