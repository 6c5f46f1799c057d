// `npm run bench -- roofline <run dir | config.yaml> [--out DIR] [--doc FILE] [--runs N]`: per stage the FLOPs and
// bytes of the work (bench/roofline-work.ts, counted from what the shards computed), the achieved rate over the
// stage's wall span, and its fraction of the machine's peaks measured in the same run: ONNX Runtime's MatMul
// peak (awa, awc) and its forward rate for the network at the sides the activations stage used (activations).
// Given a config, it measures the peaks, runs the experiment from an empty directory (under /usr/bin/time for the
// peak memory), measures the peaks again and reports the run against their mean; given a run directory, it reads
// its records and the peaks saved by that timed run (roofline.json), or measures them now.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RecordBatchReader } from 'apache-arrow';
import { loadExperiment } from '../config/load.ts';
import type { Experiment } from '../config/schema.ts';
import { loadNetwork } from '../model/load.ts';
import { seededWeights } from '../model/seeded.ts';
import { ModelSession } from '../model/session.ts';
import { convFlops } from '../model/network.ts';
import { orderStages } from '../pipeline/dag.ts';
import { readStageRecords } from '../pipeline/manifest.ts';
import { recordedStages, resolvedConfigFile } from '../pipeline/rundir.ts';
import { batchFor } from '../stages/activations.ts';
import { allStages } from '../stages/index.ts';
import { matmulPeak } from './forward.ts';
import { activationsWork, awaWork, awcWork, stageRoofline, type ShardFacts, type StageRoofline } from './roofline-work.ts';

/** Peaks measured around a timed run. */
export interface Peaks {
  threads: number;
  /** ORT MatMul GFLOP/s (best square size), before and after the run. */
  matmul: number[];
  /** Forward GFLOP/s of the configured network per input side, before and after. */
  forward: Record<string, number[]>;
  /** 1-minute load averages before and after. */
  load: number[];
  /** Peak resident memory of the run (bytes), when measured. */
  maxRssBytes?: number;
  /** Wall seconds of the whole run, when timed here. */
  wallSeconds?: number;
}

const REPO = resolve(import.meta.dirname, '..');
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Median GFLOP/s of `runs` forward passes of a batch at one side (one warm-up), the network as configured. */
async function forwardRate(config: Experiment, side: number, runs: number, threads: number): Promise<number> {
  const model = await loadNetwork(config.model);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const batch = batchFor(config, side);
  const session = await ModelSession.create({ net: model.net, weights: seededWeights(model.net, 0), layers: model.layers, inputSize: side, channels: config.model.channels }, { threads, batch });
  const pixels = new Float32Array(batch * side * side * 3).map((_, i) => (i * 2654435761) % 256);
  await session.run(pixels, batch);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(pixels, batch);
    times.push((performance.now() - t) / 1000);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return (batch * convFlops(model.net, last, side)) / times[Math.floor(times.length / 2)]! / 1e9;
}

/** Measures the MatMul peak and the forward rate at each side into `peaks` (appending one sample each). */
async function measurePeaks(config: Experiment, sides: readonly number[], runs: number, peaks: Peaks, log: (s: string) => void): Promise<void> {
  peaks.load.push(loadavg()[0]!);
  const mm = await matmulPeak(peaks.threads, runs);
  peaks.matmul.push(mm.gflops);
  for (const side of sides) (peaks.forward[side] ??= []).push(await forwardRate(config, side, runs, peaks.threads));
  log(`peaks: MatMul ${mm.gflops.toFixed(0)} GFLOP/s; forward ${sides.map((s) => `${s} px ${peaks.forward[s]!.at(-1)!.toFixed(0)}`).join(', ')} GFLOP/s; load ${peaks.load.at(-1)!.toFixed(1)}`);
}

/** The finished shards of a run directory (its records: also of a run still going or stopped) with their checkpoints' schema metadata. */
export async function runFacts(outDir: string): Promise<ShardFacts[]> {
  const facts: ShardFacts[] = [];
  const stages = await recordedStages(outDir);
  for (const stage of stages.sort()) {
    for (const r of (await readStageRecords(outDir, stage)).values()) {
      let meta: Record<string, string> = {};
      if (stage === 'activations' || stage === 'awa' || stage === 'awc') {
        const reader = RecordBatchReader.from(await readFile(join(outDir, r.file)));
        reader.open();
        meta = Object.fromEntries(reader.schema.metadata);
      }
      facts.push({ stage, shard: r.shard, rows: r.rows, seconds: r.seconds, finishedAt: r.finishedAt, meta });
    }
  }
  return facts;
}

/** Stage names in the pipeline's order (the stage registry's, as `revcor status` lists them); unknown names last. */
export function pipelineOrder(names: Iterable<string>): string[] {
  const order = orderStages(allStages()).map((s) => s.name);
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Per-stage roofline rows of a run (every stage of the manifest, in pipeline order). */
export async function runRoofline(config: Experiment, facts: readonly ShardFacts[]): Promise<StageRoofline[]> {
  const model = await loadNetwork(config.model);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const kept = { top: config.awc.top, bottom: config.awc.bottom };
  return pipelineOrder(facts.map((f) => f.stage)).map((stage) => {
    const shards = facts.filter((f) => f.stage === stage);
    const work =
      stage === 'activations'
        ? (f: ShardFacts) => activationsWork(model.net, last, f, batchFor(config, Number(f.meta['revcor.activations.input_size'])))
        : stage === 'awa'
          ? awaWork
          : stage === 'awc'
            ? (f: ShardFacts) => awcWork(f, kept)
            : () => ({ flops: 0, gemmFlops: 0, bytes: 0 });
    return stageRoofline(stage, shards, work);
  });
}

const fmtTime = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${s.toFixed(1)} s`);
const fmtNum = (x: number, unit: number, digits = 1) => (x > 0 ? (x / unit).toFixed(digits) : '—');

/** Sides the activations stage ran at (from the shards' metadata). */
function activationSides(facts: readonly ShardFacts[]): number[] {
  return [...new Set(facts.filter((f) => f.stage === 'activations').map((f) => Number(f.meta['revcor.activations.input_size'])))].sort((a, b) => a - b);
}

/** The roofline table (Markdown) of a run against the peaks. */
export function rooflineTable(rows: readonly StageRoofline[], facts: readonly ShardFacts[], config: Experiment, peaks: Peaks, netFlops: (side: number) => number): string {
  const mm = mean(peaks.matmul);
  // activations: the floor is every stimulus at the forward rate measured for its side
  let actFloor = 0;
  for (const f of facts.filter((x) => x.stage === 'activations')) {
    const side = Number(f.meta['revcor.activations.input_size']);
    actFloor += (f.rows * netFlops(side)) / (mean(peaks.forward[side] ?? [mm]) * 1e9);
  }
  const lines = [
    `| stage | shards | work (GFLOP) | bytes (GB) | FLOP/byte | roof | floor | wall span | compute Σ shards | achieved GFLOP/s (span) | of roof (span) | of roof (core time) |`,
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  let floorSum = 0;
  for (const r of rows) {
    const isAct = r.stage === 'activations';
    const floor = isAct ? actFloor : r.gemmFlops / (mm * 1e9);
    floorSum += floor;
    const roof = r.flops === 0 ? '—' : isAct ? `forward ${activationSides(facts).map((s) => `${s} px ${mean(peaks.forward[s] ?? []).toFixed(0)}`).join(', ')}` : `MatMul ${mm.toFixed(0)}`;
    const frac = r.flops > 0 && r.spanSeconds > 0 ? `${((100 * floor) / r.spanSeconds).toFixed(0)} %` : '—';
    // the floor's core time (floor × threads of the peak) against the core time the shards took: what the span hides
    // when another stage's shards share the cores
    const core = r.flops > 0 && r.computeSeconds > 0 ? `${((100 * floor * peaks.threads) / r.computeSeconds).toFixed(0)} %` : '—';
    lines.push(
      `| ${r.stage} | ${r.shards} | ${fmtNum(r.flops, 1e9, 0)} | ${fmtNum(r.bytes, 1e9, 2)} | ${r.bytes > 0 ? (r.flops / r.bytes).toFixed(0) : '—'} | ${roof} | ${r.flops > 0 ? fmtTime(floor) : '—'} | ${fmtTime(r.spanSeconds)} | ${fmtTime(r.computeSeconds)} | ${fmtNum(r.rate, 1e9, 0)} | ${frac} | ${core} |`,
    );
  }
  const whole = peaks.wallSeconds ?? Math.max(0, ...facts.map((f) => Date.parse(f.finishedAt))) / 1000 - Math.min(...facts.map((f) => Date.parse(f.finishedAt) / 1000 - f.seconds));
  const rss = peaks.maxRssBytes ? `, peak memory ${(peaks.maxRssBytes / 2 ** 30).toFixed(1)} GiB` : '';
  lines.push(
    '',
    `Whole run ${fmtTime(whole)}${rss}; sum of the stage floors ${fmtTime(floorSum)} (${((100 * floorSum) / whole).toFixed(0)} % of the run). ` +
      `Peaks measured in the same run (${peaks.threads} threads), ${peaks.matmul.length > 1 ? 'mean of before and after' : 'once'}: ORT MatMul ${peaks.matmul.map((x) => x.toFixed(0)).join(' / ')} GFLOP/s; ` +
      `forward ${Object.entries(peaks.forward).map(([s, v]) => `${s} px ${v.map((x) => x.toFixed(0)).join(' / ')}`).join(', ')} GFLOP/s; 1-min load ${peaks.load.map((x) => x.toFixed(1)).join(' / ')}. ` +
      `Config ${config.name}: ${config.stimuli.noise.count} noise samples per unit, positions ${config.stimuli.noise.positions}.`,
  );
  return lines.join('\n');
}

/** Replaces the block between `<!-- roofline:NAME -->` and `<!-- /roofline:NAME -->` in a Markdown file. */
export function updateDocBlock(text: string, name: string, block: string): string {
  const open = `<!-- roofline:${name} -->`;
  const close = `<!-- /roofline:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) return `${text.trimEnd()}\n\n${open}\n${block}\n${close}\n`;
  return `${text.slice(0, a + open.length)}\n${block}\n${text.slice(b)}`;
}

/** Runs the bench; returns the table. */
export async function benchRoofline(argv: readonly string[]): Promise<string> {
  const log = (s: string) => console.error(`  ${s}`);
  const args = argv.slice(argv.indexOf('roofline') + 1);
  const target = args.find((a) => !a.startsWith('--'));
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!target) return 'roofline: usage: npm run bench -- roofline <run dir | config.yaml> [--out=DIR] [--doc=FILE] [--runs=N]';
  const runs = Number(opt('runs') ?? 5);
  const threads = availableParallelism();
  let outDir: string;
  let peaks: Peaks = { threads, matmul: [], forward: {}, load: [] };
  let config: Experiment;
  if (existsSync(resolvedConfigFile(target))) {
    outDir = resolve(target);
    config = (await loadExperiment(resolvedConfigFile(outDir))).config;
    const saved = [join(outDir, 'roofline.json'), peaksBeforeFile(outDir)].find((f) => existsSync(f));
    if (saved) peaks = JSON.parse(readFileSync(saved, 'utf8')) as Peaks;
    else await measurePeaks(config, activationSides(await runFacts(outDir)), runs, peaks, log);
  } else {
    const loaded = await loadExperiment(resolve(target));
    config = loaded.config;
    outDir = resolve(opt('out') ?? config.run.out);
    if (existsSync(resolvedConfigFile(outDir))) throw new Error(`roofline: ${outDir} already holds a run; expected an empty directory for a timed run (or pass the directory to report it)`);
    const sides = await plannedSides(config);
    await timedRun(resolve(target), outDir, peaks, () => measurePeaks(config, sides, runs, peaks, log), log);
  }
  const facts = await runFacts(outDir);
  const rows = await runRoofline(config, facts);
  const model = await loadNetwork(config.model);
  const last = Math.max(...model.layers.map((l) => l.outputIndex));
  const table = rooflineTable(rows, facts, config, peaks, (side) => convFlops(model.net, last, side));
  console.log(table);
  const doc = opt('doc');
  if (doc) {
    writeFileSync(doc, updateDocBlock(readFileSync(doc, 'utf8'), config.name, table));
    log(`updated ${doc} (block roofline:${config.name})`);
  }
  return table;
}

/** Where a timed run's peaks wait while it runs: beside its directory, which revcor creates and must find empty. */
export function peaksBeforeFile(outDir: string): string {
  return `${outDir}.roofline-peaks.json`;
}

/**
 * Times `revcor run CONFIG --out OUTDIR` between two peak measurements: the peaks measured before are kept beside the
 * directory while the run goes (to report a stopped run), and all of them go to OUTDIR/roofline.json at the end.
 */
export async function timedRun(config: string, outDir: string, peaks: Peaks, measure: () => Promise<void>, log: (s: string) => void): Promise<void> {
  await measure();
  const before = peaksBeforeFile(outDir);
  mkdirSync(dirname(outDir), { recursive: true });
  writeFileSync(before, `${JSON.stringify(peaks, null, 2)}\n`);
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-v'] : [];
  const cmd = [...time, process.execPath, join(REPO, 'bin/revcor.js'), 'run', config, '--out', outDir, '--quiet'];
  log(`running: ${cmd.join(' ')}`);
  const t0 = performance.now();
  const res = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], maxBuffer: 64 * 2 ** 20 });
  peaks.wallSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(res.stderr.split('\n').filter((l) => !/^\t/.test(l)).join('\n'));
  if (res.status !== 0) throw new Error(`roofline: the run failed (exit ${res.status}); the peaks measured before it are in ${before}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr);
  if (rss) peaks.maxRssBytes = Number(rss[1]) * 1024;
  await measure();
  writeFileSync(join(outDir, 'roofline.json'), `${JSON.stringify(peaks, null, 2)}\n`);
  rmSync(before, { force: true });
}

/** The input sides the activations stage will run at for a config (canvas / full image / interior image). */
async function plannedSides(config: Experiment): Promise<number[]> {
  const { noiseCanvas } = await import('../model/geometry.ts');
  const { interiorImageSize } = await import('../stages/noise-plan.ts');
  const model = await loadNetwork(config.model);
  const canvas = noiseCanvas(model.geometry).size;
  const s = config.stimuli;
  const sides = new Set<number>();
  if (s.gratings.enabled) sides.add(canvas);
  if (s.images.enabled) sides.add(config.category.spatial === 'centre' ? canvas : model.inputSize);
  if (s.noise.enabled) sides.add(s.noise.positions === 'interior' ? interiorImageSize(config) : canvas);
  return [...sides].sort((a, b) => a - b);
}
