// The work of every stage of a finished run, counted from what its shards computed (never from timing): FLOPs
// of the network's conv stack per stimulus at the side the activations stage ran, of the AWA product per layer,
// and of the AWC algorithm each awc shard used (dense Gram + EVD, or block Krylov with its projections), with
// the bytes of the data each must move at least; and the achieved rate from the records' times.
import type { Network } from '../model/network.ts';
import { convFlops } from '../model/network.ts';
import { wallSpan } from '../cli/format-plan.ts';

/** What one finished shard tells: its record and its checkpoint's schema metadata. */
export interface ShardFacts {
  stage: string;
  shard: string;
  rows: number;
  /** Wall-clock seconds of the shard (run + write). */
  seconds: number;
  finishedAt: string;
  /** Schema metadata of the checkpoint (revcor.* keys). */
  meta: Record<string, string>;
}

/** Work of one shard: floating-point operations and the bytes it must read and write at least. */
export interface ShardWork {
  flops: number;
  bytes: number;
  /** The part of `flops` in dense matrix products (what the MatMul peak bounds). */
  gemmFlops: number;
}

/** Per stage: the work, its times and the rates. */
export interface StageRoofline {
  stage: string;
  shards: number;
  flops: number;
  gemmFlops: number;
  bytes: number;
  /** Σ of the shards' seconds (work of 2 shards in flight counts twice). */
  computeSeconds: number;
  /** First shard start to last shard end. */
  spanSeconds: number;
  /** flops / spanSeconds (0 when nothing ran). */
  rate: number;
}

/** Conv-stack weights bytes (float32) up to an op index: read once per forward batch. */
export function weightBytes(net: Network, lastIndex: number): number {
  let n = 0;
  for (let i = 0; i <= lastIndex; i++) {
    const op = net.ops[i]!;
    if (op.op === 'conv') n += op.outChannels * (op.inChannels * op.kernel * op.kernel + 1);
  }
  return 4 * n;
}

/** Work of an activations shard: rows × the conv FLOPs at the side the stage ran; pixels in, readouts out, weights per batch. */
export function activationsWork(net: Network, lastIndex: number, f: ShardFacts, batch: number): ShardWork {
  const side = Number(f.meta['revcor.activations.input_size']);
  if (!(side > 0)) throw new Error(`roofline: activations shard ${f.shard} has no input size in its metadata`);
  const flops = f.rows * convFlops(net, lastIndex, side);
  const out = f.rows * outputWidth(f.meta) * 4;
  return { flops, gemmFlops: flops, bytes: f.rows * side * side * 3 * 4 + out + Math.ceil(f.rows / batch) * weightBytes(net, lastIndex) };
}

/** Values per stimulus the activations shard kept (all layer columns), from its geometry metadata. */
function outputWidth(meta: Record<string, string>): number {
  const geometry = JSON.parse(meta['revcor.activations.geometry'] ?? '[]') as { name: string; channels: number }[];
  const positions = meta['revcor.activations.positions'] ? (JSON.parse(meta['revcor.activations.positions']) as { layers: { name: string; count: number }[] }) : null;
  return geometry.reduce((a, g) => {
    const p = positions?.layers.find((l) => l.name === g.name);
    return a + g.channels * (p ? p.count * p.count : 1);
  }, 0);
}

/** Work of an awa shard (one layer, U units, N samples of D values): [A 1]ᵀ X, 2·N·D·(U + 1); X read once. */
export function awaWork(f: ShardFacts): ShardWork {
  const info = JSON.parse(f.meta['revcor.awa.layer'] ?? 'null') as { crop: { size: number }; samples: number; channels?: number } | null;
  if (!info) throw new Error(`roofline: awa shard ${f.shard} has no revcor.awa.layer metadata`);
  const U = f.rows;
  const N = info.samples;
  const D = info.crop.size * info.crop.size * (info.channels ?? 1);
  const flops = 2 * N * D * (U + 1);
  return { flops, gemmFlops: flops, bytes: 4 * (N * D + N * U + U * D) };
}

/** What an awc shard's metadata says about its algorithm. */
interface AwcShardInfo {
  D: number;
  samples: number;
  solver: 'full' | 'subspace';
  block: number;
  steps: number;
  shuffles?: number;
  top?: number;
  bottom?: number;
}

/**
 * Work of an awc shard, per operator (unit, and shuffles of it): the weighted mean (2·N·D) and then
 * - full: the weighted Gram Xᵀdiag(a)X (2·N·D²) and a dense symmetric EVD (≈ 9·D³, in JS: not a GEMM);
 * - subspace: m = min(steps + 1, ⌊D/b⌋) operator applications of 4·N·D·b (two products over the samples), the
 *   projections of each new block on the whole basis (8·D·s·b, s = m·b, two Gram–Schmidt passes of two
 *   products), CholQR2 of each block (8·D·b²) and the Ritz vectors (2·D·s·k).
 * Bytes: the samples (N·D·4) read once for the means and twice per operator application (the two products of a
 * row chunk), shared by all units of the shard.
 */
export function awcWork(f: ShardFacts, kept = { top: 4, bottom: 2 }): ShardWork {
  const info = JSON.parse(f.meta['revcor.awc.shard'] ?? 'null') as AwcShardInfo | null;
  if (!info) throw new Error(`roofline: awc shard ${f.shard} has no revcor.awc.shard metadata`);
  const ops = f.rows * (1 + (info.shuffles ?? 0));
  const { D, samples: N } = info;
  const mean = 2 * N * D;
  if (info.solver === 'full') {
    const gram = 2 * N * D * D;
    return { flops: ops * (mean + gram + 9 * D ** 3), gemmFlops: ops * (mean + gram), bytes: 4 * N * D * (1 + ops) };
  }
  const b = Math.max(1, Math.min(Math.max(info.block, kept.top + kept.bottom), D));
  const m = Math.max(1, Math.min(info.steps + 1, Math.floor(D / b)));
  const s = b * m;
  const k = Math.min(kept.top, s) + Math.min(kept.bottom, s);
  const krylov = m * 4 * N * D * b;
  const basis = m * 8 * D * s * b + (m - 1) * 8 * D * b * b + 2 * D * s * k;
  const gemm = ops * (mean + krylov + basis);
  return { flops: gemm, gemmFlops: gemm, bytes: 4 * N * D * (1 + 2 * m) };
}

/** Sums the work of a stage's shards and its times into one row. */
export function stageRoofline(stage: string, shards: readonly ShardFacts[], work: (f: ShardFacts) => ShardWork): StageRoofline {
  let flops = 0;
  let gemmFlops = 0;
  let bytes = 0;
  let computeSeconds = 0;
  for (const f of shards) {
    const w = work(f);
    flops += w.flops;
    gemmFlops += w.gemmFlops;
    bytes += w.bytes;
    computeSeconds += f.seconds;
  }
  const spanSeconds = wallSpan(shards);
  return { stage, shards: shards.length, flops, gemmFlops, bytes, computeSeconds, spanSeconds, rate: spanSeconds > 0 ? flops / spanSeconds : 0 };
}
