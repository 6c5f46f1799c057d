// The AWC's products on prepared chunks (MatMul.fix: 1×1 convolutions on prepacked Y and Yᵀ) against plain Gemm
// calls, on real awc shards of a finished run: each shard runs in this process both ways (order alternated), one
// ORT thread, and the results are compared. Usage: `npm run bench -- awc-prepared <run dir> <layer> [shards]`
// (never part of the tests; quote the ratio of medians, measured in one run).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parse } from 'yaml';
import { OrtMatMul } from '../model/ort-matmul.ts';
import { readResolvedConfig } from '../pipeline/rundir.ts';
import { ExperimentSchema } from '../config/schema.ts';
import { analysisBin } from '../science/noise-source.ts';
import { awcTaskArgs } from '../stages/awc.ts';
import { layerNoise } from '../stages/revcor-input.ts';
import { awcTask, type AwcTaskResult } from '../stages/revcor-worker.ts';

/** Largest relative difference between two arrays over finite entries. */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1e-30, Math.abs(a[i]!), Math.abs(b[i]!)));
  return m;
}

/** Count of entries that differ (NaN equal to NaN). */
function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i] || (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))) n++;
  return n;
}

/** Median of a list. */
const median = (x: number[]) => x.slice().sort((p, q) => p - q)[x.length >> 1]!;

/** Runs the comparison for `<dir> <layer> [shards]` (after the bench name in argv); returns the report lines. */
export async function benchAwcPrepared(args: readonly string[]): Promise<string> {
  const [runDir, layer, shardArg] = args;
  if (!runDir || !layer) return 'awc-prepared: usage: npm run bench -- awc-prepared <run dir> <layer> [shards]';
  const dir = join(runDir, 'activations');
  const tables = readdirSync(dir).filter((f) => f.startsWith('noise') && f.endsWith('.arrow')).sort().map((f) => tableFromIPC(readFileSync(join(dir, f))));
  const cfg = ExperimentSchema.parse(parse(await readResolvedConfig(runDir)));
  const ln = layerNoise(tables, layer, 'awc-prepared');
  const per = cfg.awc.unitsPerShard;
  const shards = Math.min(Number(shardArg ?? 3), Math.ceil(ln.channels / per));
  const fix = OrtMatMul.prototype.fix;
  const cpu: Record<'prepared' | 'gemm', number[]> = { prepared: [], gemm: [] };
  const lines: string[] = [];
  // the stage's own task arguments, on the theoretical crop (an effective-crop run's crops are not re-measured here)
  const bin = analysisBin(ln.crop.size, ln.noise.color === 'rgb' ? 3 : 1, ln.noise.check, cfg.awc.maxDim);
  const task = (start: number, end: number) => awcTask(awcTaskArgs(cfg, ln, bin, start, end, 1, 'ort'));
  // the first task of a layer also generates and keeps its samples: run one untimed shard first
  await task(0, Math.min(per, ln.channels));
  for (let s = 0; s < shards; s++) {
    const start = s * per;
    const end = Math.min(ln.channels, start + per);
    const out: Partial<Record<'prepared' | 'gemm', AwcTaskResult>> = {};
    for (const mode of s % 2 ? (['prepared', 'gemm'] as const) : (['gemm', 'prepared'] as const)) {
      (OrtMatMul.prototype as { fix?: typeof fix }).fix = mode === 'prepared' ? fix : undefined;
      const c0 = process.cpuUsage();
      out[mode] = await task(start, end);
      const c = process.cpuUsage(c0);
      cpu[mode].push((c.user + c.system) / 1e6);
    }
    OrtMatMul.prototype.fix = fix;
    const [p, g] = [out.prepared!, out.gemm!];
    const flags = differing(p.topSignificant, g.topSignificant) + differing(p.bottomSignificant, g.bottomSignificant);
    lines.push(
      `  ${layer} units ${start}–${end - 1} (D = ${p.D}): CPU gemm ${cpu.gemm.at(-1)!.toFixed(1)} s, prepared ${cpu.prepared.at(-1)!.toFixed(1)} s; ` +
        `eig_top max rel ${maxRel(p.top, g.top).toExponential(1)}, eig_bottom ${maxRel(p.bottom, g.bottom).toExponential(1)}; flags differing ${flags}; θ/f predictions differing ${differing(p.thetaPred, g.thetaPred) + differing(p.fPred, g.fPred)}`,
    );
  }
  lines.push(`  median CPU per shard (n = ${shards} each): gemm ${median(cpu.gemm).toFixed(1)} s, prepared ${median(cpu.prepared).toFixed(1)} s, ratio ${(median(cpu.gemm) / median(cpu.prepared)).toFixed(2)}`);
  return lines.join('\n');
}
