// Does the analytic AWC null hold on interior samples at deep-layer geometry? Units blind to the stimulus
// (activations independent of the noise) analysed on N RF crops of a VGG16 block5_conv3-sized RF (196 px,
// 4×4 bins → D = 2,401) taken (a) from N separate noise images (centre units) and (b) from the interior
// positions of 384-px images on the layer's 16-px stride grid (positions: interior). Prints how many units
// each null flags; nominal: ~0.5 % per tail. Never part of the tests (`npm run bench -- interior-null`).
import { OrtMatMul } from '../model/ort-matmul.ts';
import { sampleIndex, type LayerPositions } from '../model/positions.ts';
import { awaLayer } from '../science/awa.ts';
import { awcLayer } from '../science/awc.ts';
import { featureLayout, noiseSource } from '../science/noise-source.ts';
import { storedSource } from '../science/samples.ts';

/** Runs the comparison; returns the report lines. */
export async function benchInteriorNull(argv: readonly string[] = process.argv.slice(2)): Promise<string> {
  const num = (flag: string, def: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const N = num('--samples', 20000);
  const U = num('--units', 32);
  const r = num('--rf', 196);
  const bin = num('--bin', 4);
  const stride = num('--stride', 16);
  const size = num('--image', 384);
  const noise = { seed: 21, sigma: 48, color: 'grey' as const, check: 1 };
  const crop = { x0: 0, y0: 0, size: r };
  const layout = featureLayout(noise, crop, 'checks', bin);
  const count = Math.floor((size - r) / stride) + 1;
  const grid: LayerPositions = { name: 'deep', first: 0, step: 1, count, x0: 0, pixelStep: stride, rfSize: r };
  const { noiseIndex: interiorIndex, offsets } = sampleIndex(grid, N);
  const centreIndex = Int32Array.from({ length: N }, (_, n) => n);
  // stimulus-blind units: rectified uniform activations, about half the samples active
  let seed = 12345;
  const A = new Float32Array(N * U);
  for (let i = 0; i < A.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    A[i] = Math.max(0, seed / 2 ** 32 - 0.5) * 4;
  }
  const mm = new OrtMatMul({ threads: num('--threads', 2) });
  const lines = [`interior-null: N = ${N}, ${U} stimulus-blind units, RF ${r} px on ${bin}×${bin} bins (D = ${layout.D}); interior: ${count}² positions per ${size}-px image every ${stride} px (${Math.ceil(N / count ** 2)} images)`];
  try {
    for (const [name, index, off] of [['centre', centreIndex, null], ['interior', interiorIndex, offsets]] as const) {
      const t0 = Date.now();
      const src = storedSource(noiseSource(noise, index, crop, layout, off), 'f32', 2048, 127.5);
      const awa = await awaLayer(src, A, U, mm, { zThreshold: 5 });
      const res = await awcLayer(src, A, U, mm, { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 20, level: 0.99, solver: 'subspace', block: 8, steps: 12, seed: 3 }, awa);
      const top = res.units.filter((u) => u.topSignificant.some(Boolean)).length;
      const bottom = res.units.filter((u) => u.bottomSignificant.some(Boolean)).length;
      const ratio = res.units.map((u) => u.top[0]! / u.bounds.upper).sort((a, b) => a - b);
      lines.push(
        `  ${name.padEnd(8)} AWA significant ${awa.significant.reduce((a, b) => a + b, 0)}/${U}; AWC top significant ${top}/${U}, bottom ${bottom}/${U}; λ₁ / null edge median ${ratio[Math.floor(U / 2)]!.toFixed(3)}, max ${ratio[U - 1]!.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
  } finally {
    await mm.dispose();
  }
  return lines.join('\n');
}
