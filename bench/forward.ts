// Forward-pass throughput of the ONNX graphs revcor runs (img/s, GFLOP/s) at 224×224 and at each layer's crop
// size, beside the machine's matrix-product peak measured in the same run with ONNX Runtime (a big MatMul graph).
// Medians of several timed runs. Never part of the tests (`npm run bench`).
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { layerGeometry, noiseCanvas } from '../model/geometry.ts';
import { convFlops, convLayers, selectLayers, vggNetwork, type Network } from '../model/network.ts';
import { DataType, encodeModel, floatTensor } from '../model/onnx-proto.ts';
import { seededWeights } from '../model/seeded.ts';
import { ModelSession, openRunner } from '../model/session.ts';
import type { Readout } from '../model/graph.ts';

/** Options of the forward bench. */
export interface ForwardBenchOptions {
  threads?: number;
  /** Timed runs per row (median reported). */
  runs?: number;
  /** Skip the per-layer crop rows (quick mode). */
  quick?: boolean;
  log?: (line: string) => void;
}

/** One row of the result table. */
export interface BenchRow {
  what: string;
  inputSize: number;
  batch: number;
  imgPerSec: number;
  gflops: number;
  /** gflops / peak. */
  ofPeak: number;
  /** GFLOP per process CPU-second × threads: what the row would reach with the cores to itself. */
  cpuGflops: number;
  /** cpuGflops / the peak's cpuGflops. */
  cpuOfPeak: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median seconds per call of fn (one warm-up, then `runs` timed calls): wall clock, and process CPU time. */
async function timeIt(fn: () => Promise<unknown>, runs: number): Promise<{ wall: number; cpu: number }> {
  await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/**
 * The machine's float32 matrix-product peak through ONNX Runtime: Y = A·B with B a constant initializer (as conv
 * weights are), square sizes, run like the forward graphs (worker thread, same threads); the best median GFLOP/s.
 */
export async function matmulPeak(threads: number, runs: number): Promise<{ gflops: number; what: string; all: Record<string, number>; cpuGflops: number }> {
  const all: Record<string, number> = {};
  const cpuNorm: Record<string, number> = {};
  let best = { gflops: 0, what: '' };
  let bestCpu = 0;
  for (const n of [1024, 2048, 4096]) {
    const b = new Float32Array(n * n).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
    const dims = (d: number[]) => ({ dim: d.map((v) => ({ dimValue: v })) });
    const bytes = encodeModel({
      irVersion: 8, producerName: 'revcor-bench', opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'matmul', node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['Y'] }],
        initializer: [floatTensor('B', [n, n], b)],
        input: [{ name: 'A', type: { tensorType: { elemType: DataType.FLOAT, shape: dims([n, n]) } } }],
        output: [{ name: 'Y', type: { tensorType: { elemType: DataType.FLOAT, shape: dims([n, n]) } } }],
      },
    });
    const runner = await openRunner({ bytes, input: 'A', outputs: [{ name: 'Y', channels: n, width: n }] }, threads);
    const a = new Float32Array(n * n).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
    const t = await timeIt(() => runner.run(a.slice(), [n, n]), runs);
    await runner.release();
    all[`MatMul ${n}²`] = (2 * n * n * n) / t.wall / 1e9;
    cpuNorm[`MatMul ${n}²`] = ((2 * n * n * n) / t.cpu / 1e9) * threads;
    if (all[`MatMul ${n}²`] > best.gflops) best = { gflops: all[`MatMul ${n}²`], what: `MatMul ${n}²` };
    if (cpuNorm[`MatMul ${n}²`] > bestCpu) bestCpu = cpuNorm[`MatMul ${n}²`];
  }
  return { ...best, all, cpuGflops: bestCpu };
}

/** Times one forward graph: the network up to `layers`' deepest, `batch` images of side `size`. */
async function forwardRow(
  what: string, net: Network, layers: ReturnType<typeof convLayers>, size: number, batch: number, threads: number, runs: number,
  opts: { unitIndex?: Record<string, number>; readout?: Readout; inputLayout?: 'nhwc' | 'nchw'; subsample?: boolean; worker?: boolean } = {},
): Promise<Omit<BenchRow, 'ofPeak' | 'cpuOfPeak'>> {
  const weights = seededWeights(net, 0);
  const { worker, ...graphOpts } = opts;
  const session = await ModelSession.create({ net, weights, layers, inputSize: size, ...graphOpts }, { threads, batch, worker });
  const pixels = new Float32Array(batch * size * size * 3).map((_, i) => (i * 2654435761) % 256);
  const t = await timeIt(() => session.run(pixels, batch), runs);
  await session.release();
  const last = Math.max(...layers.map((l) => l.outputIndex));
  const flops = convFlops(net, last, size) * batch;
  return { what, inputSize: size, batch, imgPerSec: batch / t.wall, gflops: flops / t.wall / 1e9, cpuGflops: (flops / t.cpu / 1e9) * threads };
}

/** Runs the forward bench and returns its rows (and the peak). */
export async function forwardBench(o: ForwardBenchOptions = {}): Promise<{ peak: number; peakCpu: number; peakWhat: string; peakAll: Record<string, number>; rows: BenchRow[]; threads: number }> {
  const threads = o.threads && o.threads > 0 ? o.threads : availableParallelism();
  const runs = o.runs ?? 5;
  const log = o.log ?? (() => undefined);
  const peak = await matmulPeak(threads, runs);
  log(`matmul peak: ${Object.entries(peak.all).map(([n, g]) => `${n}: ${g.toFixed(0)}`).join(', ')} GFLOP/s; cpu-normalised ${peak.cpuGflops.toFixed(0)}`);
  const rows: Omit<BenchRow, 'ofPeak' | 'cpuOfPeak'>[] = [];
  const push = (r: Omit<BenchRow, 'ofPeak' | 'cpuOfPeak'>) => {
    rows.push(r);
    log(`${r.what.padEnd(40)} ${String(r.inputSize).padStart(4)} px  ${r.imgPerSec.toFixed(1).padStart(8)} img/s  ${r.gflops.toFixed(0).padStart(5)} GFLOP/s  ${((100 * r.gflops) / peak.gflops).toFixed(0)}%  cpu-normalised ${r.cpuGflops.toFixed(0)} (${((100 * r.cpuGflops) / peak.cpuGflops).toFixed(0)}%)`);
  };
  for (const arch of ['vgg16', 'vgg19'] as const) {
    const net = vggNetwork(arch);
    const layers = convLayers(net);
    push(await forwardRow(`${arch} all layers, centre units`, net, layers, 224, 16, threads, runs));
    if (arch === 'vgg16') {
      push(await forwardRow(`${arch} all layers, NCHW input`, net, layers, 224, 16, threads, runs, { inputLayout: 'nchw' }));
      push(await forwardRow(`${arch} all layers, plain Slice readout`, net, layers, 224, 16, threads, runs, { subsample: false }));
      push(await forwardRow(`${arch} deepest layer only`, net, layers.slice(-1), 224, 16, threads, runs));
      push(await forwardRow(`${arch} all layers, ORT on the main thread`, net, layers, 224, 16, threads, runs, { worker: false }));
      push(await forwardRow(`${arch} all layers, spatial max`, net, layers, 224, 16, threads, runs, { readout: 'max' }));
      const canvas = noiseCanvas(layerGeometry(net, layers, 224));
      push(await forwardRow(`${arch} noise canvas (all layers)`, net, layers, canvas.size, 16, threads, runs, { unitIndex: canvas.centreIndex }));
    }
  }
  if (!o.quick) {
    const net = vggNetwork('vgg16');
    for (const g of layerGeometry(net, convLayers(net), 224)) {
      const chosen = selectLayers(net, [g.name]);
      const x0 = Math.floor(g.cropX0 / g.stride) * g.stride;
      const side = g.cropX0 + g.cropSize - x0;
      const flops = convFlops(net, chosen[0].outputIndex, side);
      // Enough images per call that a call does ≥ ~20 GFLOP or 1024 images.
      const batch = Math.max(16, Math.min(1024, Math.round(2e10 / flops)));
      push(await forwardRow(`vgg16 ${g.name} crop`, net, chosen, side, batch, threads, runs, { unitIndex: { [g.name]: g.centreIndex - x0 / g.stride } }));
    }
  }
  return { peak: peak.gflops, peakCpu: peak.cpuGflops, peakWhat: peak.what, peakAll: peak.all, threads, rows: rows.map((r) => ({ ...r, ofPeak: r.gflops / peak.gflops, cpuOfPeak: r.cpuGflops / peak.cpuGflops })) };
}

/** The bench's result as a Markdown table. */
export function forwardTable(r: Awaited<ReturnType<typeof forwardBench>>): string {
  const lines = [
    `ONNX Runtime ${ort.env.versions.common}, ${r.threads} threads; matrix-product peak ${r.peak.toFixed(0)} GFLOP/s = best ORT MatMul (${Object.entries(r.peakAll).map(([n, g]) => `${n}: ${g.toFixed(0)}`).join('; ')}), medians`,
    '',
    `CPU-normalised (GFLOP per process CPU-second × threads, robust to other load): peak ${r.peakCpu.toFixed(0)} GFLOP/s`,
    '',
    '| forward pass | input px | batch | img/s | GFLOP/s | of peak | CPU-norm. GFLOP/s | of CPU-norm. peak |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.what} | ${x.inputSize} | ${x.batch} | ${x.imgPerSec.toFixed(1)} | ${x.gflops.toFixed(0)} | ${(100 * x.ofPeak).toFixed(0)}% | ${x.cpuGflops.toFixed(0)} | ${(100 * x.cpuOfPeak).toFixed(0)}% |`),
  ];
  return lines.join('\n');
}

/** `npm run bench -- forward [--quick] [--runs=N]`: prints progress to stderr and the table to stdout. */
export async function benchForward(argv: readonly string[] = process.argv.slice(2)): Promise<string> {
  const runs = Number(argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);
  const result = await forwardBench({ quick: argv.includes('--quick'), runs, log: (l) => console.error(`  ${l}`) });
  const table = forwardTable(result);
  console.log(table);
  return table;
}
