// Reverse-correlation benchmark (issue 5): matrix-product peak of this machine, weighted-covariance and
// Krylov-operator throughput beside it, and per-layer AWA + AWC time at N = 20,000 for VGG16's centre-unit
// crops, extrapolated to all 4,224 units; says where the time goes (noise generation, products, JS work).
// Synthetic ReLU-like activations (cost does not depend on what the unit computes). Medians of repeats.
import { availableParallelism } from 'node:os';
import { OrtMatMul } from '../model/ort-matmul.ts';
import { layerGeometry } from '../model/geometry.ts';
import { selectLayers, vggNetwork } from '../model/network.ts';
import { awaLayer } from '../science/awa.ts';
import { awcLayer } from '../science/awc.ts';
import type { GemmOptions, MatMul } from '../science/gemm.ts';
import { arraySource, materialise } from '../science/samples.ts';
import { binnedSide, featureLayout, noiseSource } from '../science/noise-source.ts';
import { analysisBin } from '../science/noise-source.ts';
import { AwcSchema } from '../config/schema.ts';

/** Options of the revcor benchmark. */
export interface RevcorBenchOptions {
  /** Noise stimuli per layer (default 20,000). */
  N?: number;
  /** Units measured per layer (extrapolated to the layer's channels). */
  unitsMeasured?: number;
  /** Largest D measured at full N; bigger crops are measured at N·(this/D) and scaled linearly in N. */
  fullNMaxD?: number;
  /** ORT intra-op threads (default: all cores). */
  threads?: number;
  /** Krylov settings (defaults as config/schema.ts). */
  block?: number;
  steps?: number;
  fullMaxDim?: number;
  log?: (line: string) => void;
}

/** A MatMul that records time and flops spent in each kind of product. */
class TimedMatMul implements MatMul {
  readonly name: string;
  seconds = 0;
  flops = 0;
  constructor(private readonly inner: MatMul) {
    this.name = `timed-${inner.name}`;
  }
  private async time<T>(flops: number, f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    const r = await f();
    this.seconds += (performance.now() - t) / 1000;
    this.flops += flops;
    return r;
  }
  gemm(A: Float32Array, B: Float32Array, m: number, k: number, n: number, o?: GemmOptions) {
    return this.time(2 * m * k * n, () => this.inner.gemm(A, B, m, k, n, o));
  }
  gemmBatched(b: number, A: Float32Array, B: Float32Array, m: number, k: number, n: number, o?: GemmOptions) {
    return this.time(2 * b * m * k * n, () => this.inner.gemmBatched(b, A, B, m, k, n, o));
  }
  weightedGram(X: Float32Array, a: Float32Array, N: number, D: number) {
    return this.time(2 * N * D * D, () => this.inner.weightedGram(X, a, N, D));
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function timeIt(reps: number, f: () => Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await f();
    t.push((performance.now() - s) / 1000);
  }
  return median(t);
}

function rand(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

/** ReLU-like activations: half zeros, the rest exponential. */
function activations(N: number, U: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return Float32Array.from({ length: N * U }, () => (r() < 0.5 ? 0 : -Math.log(r())));
}

/** One row of the per-layer table. */
export interface LayerBench {
  layer: string;
  channels: number;
  D: number;
  solver: 'full' | 'subspace';
  /** Seconds at N for all channels: noise generation (once), AWA products, AWC compute. */
  noiseGen: number;
  awa: number;
  awc: number;
  /** Share of AWC time inside matrix products, and their GFLOP/s. */
  awcProductShare: number;
  awcGflops: number;
}

/** Runs the benchmark and returns its figures (also logged as a table). */
export async function benchRevcor(opts: RevcorBenchOptions = {}) {
  const log = opts.log ?? ((l: string) => console.log(l));
  const N = opts.N ?? 20000;
  const Um = opts.unitsMeasured ?? 64;
  const fullNMaxD = opts.fullNMaxD ?? 1600;
  const threads = opts.threads ?? availableParallelism();
  const block = opts.block ?? 8;
  const steps = opts.steps ?? 12;
  const fullMaxDim = opts.fullMaxDim ?? 128;
  const defaultMaxDim = AwcSchema.parse({}).maxDim;
  const ort = new OrtMatMul({ threads });
  log(`# revcor bench: N = ${N}, ORT threads = ${threads}, Krylov block ${block} × ${steps + 1} steps, full solver up to D = ${fullMaxDim}`);

  // 1. the machine's matrix-product peak: square sgemm through the same runtime
  const S = 2048;
  const A = rand(S * S, 1);
  const B = rand(S * S, 2);
  await ort.gemm(A, B, S, S, S);
  const tGemm = await timeIt(5, () => ort.gemm(A, B, S, S, S));
  await ort.gemmBatched(1, A, B, S, S, S);
  const tMatMul = await timeIt(5, () => ort.gemmBatched(1, A, B, S, S, S));
  // the tall-skinny transposed product AWC's Gram and Krylov passes are made of: Xᵀ X, 10,000 × 3,072
  const [tn, td] = [10000, 3072];
  const Xt = rand(tn * td, 6);
  await ort.gemm(Xt, Xt, td, tn, td, { transA: true });
  const tTall = await timeIt(3, () => ort.gemm(Xt, Xt, td, tn, td, { transA: true }));
  const shapes = { [`Gemm ${S}³`]: (2 * S ** 3) / tGemm / 1e9, [`MatMul ${S}³`]: (2 * S ** 3) / tMatMul / 1e9, [`Gemm XᵀX ${tn}×${td}`]: (2 * tn * td * td) / tTall / 1e9 };
  const peak = Math.max(...Object.values(shapes));
  log(`matrix-product peak: ${peak.toFixed(1)} GFLOP/s (best of ${Object.entries(shapes).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; medians)`);

  // 2. weighted covariance Xᵀ diag(a) X at 10,000 × 3,072 (the issue's reference size) and 20,000 × 576
  const covFigures: Record<string, number> = {};
  for (const [n, d] of [[10000, 3072], [N, 576]] as const) {
    const X = rand(n * d, 3);
    const a = Float32Array.from(rand(n, 4), (v) => Math.max(0, v));
    await ort.weightedGram(X, a, n, d);
    const t = await timeIt(3, () => ort.weightedGram(X, a, n, d));
    covFigures[`${n}x${d}`] = (2 * n * d * d) / t / 1e9;
    log(`weighted covariance ${n}×${d}: ${covFigures[`${n}x${d}`]!.toFixed(1)} GFLOP/s = ${((100 * covFigures[`${n}x${d}`]!) / peak).toFixed(0)}% of peak`);
  }

  // 3. noise generation rate (per pixel and per check-4 pixel)
  const crop = { x0: 14, y0: 14, size: 196 };
  const genRate = (check: number) => {
    const p = { seed: 1, sigma: 48, color: 'grey' as const, check };
    const src = noiseSource(p, Int32Array.from({ length: 200 }, (_, i) => i), crop, featureLayout(p, crop, 'pixels'));
    const t = performance.now();
    src.rows(0, 200);
    return (performance.now() - t) / 1000 / (200 * crop.size ** 2);
  };
  genRate(1);
  const nsPerPixel = genRate(1) * 1e9;
  const nsPerPixelCheck2 = genRate(2) * 1e9;
  log(`noise generation: ${nsPerPixel.toFixed(1)} ns/pixel (check 1), ${nsPerPixelCheck2.toFixed(1)} ns/pixel (check 2)`);

  // 4. per layer at N (VGG16 centre units, theoretical crops): measure AWA and AWC on Um units for each
  // distinct D (at full N up to fullNMaxD, above at N·fullNMaxD/D, scaled linearly in N) and extrapolate
  const net = vggNetwork('vgg16');
  const geometry = layerGeometry(net, selectLayers(net, 'all'), 224);
  type Measured = { solver: 'full' | 'subspace'; perUnitAwa: number; perUnitAwc: number; awcProductShare: number; awcGflops: number };
  const seen = new Map<number, Measured>();
  const runOnce = async (D: number, Nb: number) => {
    const X = rand(Nb * D, 5).map((v) => 127.5 + 48 * 3.4641 * v); // uniform noise with SD 48: cost-equivalent
    const src = arraySource(X, Nb, D);
    const Am = activations(Nb, Um, 7);
    const timed = new TimedMatMul(ort);
    const tAwa0 = performance.now();
    const mom = await awaLayer(src, Am, Um, timed, { zThreshold: 5 });
    const tAwa = (performance.now() - tAwa0) / 1000;
    const solver: 'full' | 'subspace' = D <= fullMaxDim ? 'full' : 'subspace';
    const before = { s: timed.seconds, f: timed.flops };
    const t0 = performance.now();
    await awcLayer(src, Am, Um, timed, { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 0, level: 0.99, solver, block, steps, seed: 1, cacheBytes: 0 }, mom);
    const tAwc = (performance.now() - t0) / 1000;
    return { solver, tAwa, tAwc, prodS: timed.seconds - before.s, prodF: timed.flops - before.f };
  };
  const measure = async (D: number): Promise<Measured> => {
    const known = seen.get(D);
    if (known) return known;
    let m: Measured;
    if (D <= fullNMaxD) {
      const r = await runOnce(D, N);
      m = { solver: r.solver, perUnitAwa: r.tAwa / Um, perUnitAwc: r.tAwc / Um, awcProductShare: r.prodS / r.tAwc, awcGflops: r.prodF / r.prodS / 1e9 };
      log(`  measured D = ${D} (${r.solver}) at N = ${N}, ${Um} units: AWA ${r.tAwa.toFixed(2)} s, AWC ${r.tAwc.toFixed(2)} s (${(100 * m.awcProductShare).toFixed(0)}% in products at ${m.awcGflops.toFixed(1)} GFLOP/s)`);
    } else {
      // time = a + b·N from two sample counts: the N-independent part (projections, Ritz) is not scaled up
      const N1 = Math.max(1000, Math.round((N * fullNMaxD) / D / 2));
      const N2 = 2 * N1;
      const r1 = await runOnce(D, N1);
      const r2 = await runOnce(D, N2);
      // a non-positive slope means the two timings were disturbed (shared machine): scale the larger linearly
      const at = (v1: number, v2: number) => (v2 > v1 ? v2 + ((v2 - v1) / (N2 - N1)) * (N - N2) : (Math.max(v1, v2) * N) / N2);
      const tAwc = at(r1.tAwc, r2.tAwc);
      const prodS = at(r1.prodS, r2.prodS);
      const prodF = Math.max(r2.prodF, r2.prodF + ((r2.prodF - r1.prodF) / (N2 - N1)) * (N - N2));
      m = { solver: r2.solver, perUnitAwa: at(r1.tAwa, r2.tAwa) / Um, perUnitAwc: tAwc / Um, awcProductShare: prodS / tAwc, awcGflops: prodF / prodS / 1e9 };
      log(`  measured D = ${D} (${r2.solver}) at N = ${N1} and ${N2}, ${Um} units: AWC ${r1.tAwc.toFixed(2)} s, ${r2.tAwc.toFixed(2)} s → ${tAwc.toFixed(1)} s at N = ${N} (${(100 * m.awcProductShare).toFixed(0)}% in products at ${m.awcGflops.toFixed(1)} GFLOP/s)`);
    }
    seen.set(D, m);
    return m;
  };
  const scenario = async (label: string, checkFor: (poolStage: number) => number, maxDim = Infinity) => {
    const rows: LayerBench[] = [];
    for (const g of geometry) {
      const c = checkFor(g.poolStage);
      const bin = c === 1 && Number.isFinite(maxDim) ? analysisBin(g.cropSize, 1, 1, maxDim) : 1;
      // checks meeting the crop (worst alignment), or bins of pixel noise
      const side = c === 1 ? binnedSide(g.cropSize, bin) : Math.ceil((g.cropSize - 1) / c) + 1;
      const D = side * side;
      const m = await measure(D);
      // noise is generated per pixel (per check row for c > 1) once per layer and worker: twice at most (2 workers)
      const noiseGen = (2 * N * g.cropSize ** 2 * (c === 1 ? nsPerPixel : nsPerPixelCheck2)) / 1e9;
      rows.push({ layer: g.name, channels: g.channels, D, solver: m.solver, noiseGen, awa: m.perUnitAwa * g.channels, awc: m.perUnitAwc * g.channels, awcProductShare: m.awcProductShare, awcGflops: m.awcGflops });
    }
    log('');
    log(`${label}:`);
    log('| layer | ch | D | solver | noise gen (s) | AWA (s) | AWC (s) | AWC in products | AWC GFLOP/s (% peak) |');
    log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      log(`| ${r.layer} | ${r.channels} | ${r.D} | ${r.solver} | ${r.noiseGen.toFixed(1)} | ${r.awa.toFixed(1)} | ${r.awc.toFixed(1)} | ${(100 * r.awcProductShare).toFixed(0)}% | ${r.awcGflops.toFixed(0)} (${((100 * r.awcGflops) / peak).toFixed(0)}%) |`);
    }
    const sum = (f: (r: LayerBench) => number) => rows.reduce((a, r) => a + f(r), 0);
    const minutes = { noise: sum((r) => r.noiseGen) / 60, awa: sum((r) => r.awa) / 60, awc: sum((r) => r.awc) / 60, total: 0 };
    minutes.total = minutes.noise + minutes.awa + minutes.awc;
    log(`all ${sum((r) => r.channels)} VGG16 units at N = ${N}, ${threads} threads: noise ${minutes.noise.toFixed(1)} min + AWA ${minutes.awa.toFixed(1)} min + AWC ${minutes.awc.toFixed(1)} min = ${minutes.total.toFixed(1)} min (goal ≤ 30)`);
    return { rows, minutes };
  };
  const pixels = await scenario('pixel noise, per-pixel AWC everywhere (awc.maxDim ≥ 38416), theoretical crops', () => 1);
  // pooling stages 4–5 are VGG16's blocks 4–5 (the layers whose RFs are too large for a per-pixel AWC)
  const checks = await scenario('2×2 noise checks for pooling stages 4–5 (VGG blocks 4–5; the AWC runs on checks), pixels for stages 1–3', (s) => (s >= 4 ? 2 : 1));
  const binned = await scenario(`pixel noise, defaults: AWC on b×b bins where r² > awc.maxDim = ${defaultMaxDim}`, () => 1, defaultMaxDim);
  await ort.dispose();
  return { peak, covFigures, nsPerPixel, nsPerPixelCheck2, pixels, checks, binned };
}

// Run directly: node bin/run-ts.js bench/revcor.ts
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  await benchRevcor();
}
