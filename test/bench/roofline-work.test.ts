// The roofline bench's work model: FLOPs counted from what shards computed (their metadata), by hand for small
// cases, and the stage times (Σ seconds, wall span) from the records.
import { describe, expect, it } from 'vitest';
import { activationsWork, awaWork, awcWork, stageRoofline, weightBytes, type ShardFacts } from '../../bench/roofline-work.ts';
import { convFlops, selectLayers, vggNetwork } from '../../model/network.ts';

const facts = (stage: string, rows: number, meta: Record<string, unknown>, seconds = 1, finishedAt = '2026-01-01T00:00:10.000Z'): ShardFacts => ({
  stage,
  shard: `${stage}-x`,
  rows,
  seconds,
  finishedAt,
  meta: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
});

describe('roofline work model', () => {
  it('activations: rows × the conv FLOPs at the side the shard ran; pixels, readouts and weights per batch', () => {
    const net = vggNetwork('vgg16');
    const [l1, l2] = selectLayers(net, ['block1_conv1', 'block1_conv2']);
    const f = facts('activations', 10, { 'revcor.activations.input_size': '8', 'revcor.activations.geometry': [{ name: 'block1_conv1', channels: 64 }, { name: 'block1_conv2', channels: 2 }] });
    const w = activationsWork(net, l2!.outputIndex, f, 4);
    // block1: two 3×3 convs (3→64, 64→64), 'same', on 8×8
    expect(w.flops).toBe(10 * 2 * 64 * (3 * 9 + 64 * 9) * 64);
    expect(w.flops).toBe(10 * convFlops(net, l2!.outputIndex, 8));
    expect(weightBytes(net, l2!.outputIndex)).toBe(4 * (64 * 28 + 64 * 577));
    expect(w.bytes).toBe(10 * 8 * 8 * 3 * 4 + 10 * 66 * 4 + 3 * weightBytes(net, l2!.outputIndex));
    expect(l1!.outputIndex).toBeLessThan(l2!.outputIndex);
    expect(() => activationsWork(net, 0, facts('activations', 1, {}), 1)).toThrow(/input size/);
  });

  it('awa: 2·N·D·(U + 1) for the product with the ones column; samples read once', () => {
    const w = awaWork(facts('awa', 4, { 'revcor.awa.layer': { crop: { size: 5 }, samples: 100, channels: 1 } }));
    expect(w.flops).toBe(2 * 100 * 25 * 5);
    expect(w.bytes).toBe(4 * (100 * 25 + 100 * 4 + 4 * 25));
  });

  it('awc: Krylov blocks capped at ⌊D/b⌋, projections, CholQR2 and Ritz vectors; dense Gram for the full solver', () => {
    const sub = awcWork(facts('awc', 2, { 'revcor.awc.shard': { D: 100, samples: 200, solver: 'subspace', block: 8, steps: 12 } }));
    const [N, D, b, m] = [200, 100, 8, 12]; // 13 steps asked, 100/8 = 12 blocks fit
    const s = b * m;
    expect(sub.flops).toBe(2 * (2 * N * D + m * 4 * N * D * b + m * 8 * D * s * b + (m - 1) * 8 * D * b * b + 2 * D * s * 6));
    expect(sub.gemmFlops).toBe(sub.flops);
    expect(sub.bytes).toBe(4 * N * D * (1 + 2 * m));
    const shuffled = awcWork(facts('awc', 2, { 'revcor.awc.shard': { D: 100, samples: 200, solver: 'subspace', block: 8, steps: 12, shuffles: 3 } }));
    expect(shuffled.flops).toBe(4 * sub.flops); // every unit and its 3 shuffles is an operator
    const full = awcWork(facts('awc', 3, { 'revcor.awc.shard': { D: 10, samples: 50, solver: 'full', block: 8, steps: 12 } }));
    expect(full.gemmFlops).toBe(3 * (2 * 50 * 10 + 2 * 50 * 100));
    expect(full.flops).toBe(full.gemmFlops + 3 * 9 * 1000);
  });

  it('a stage row sums the work and times; the span runs from the first start to the last end', () => {
    const awa = { 'revcor.awa.layer': { crop: { size: 2 }, samples: 10, channels: 1 } };
    const row = stageRoofline('awa', [facts('awa', 1, awa, 4, '2026-01-01T00:00:10.000Z'), facts('awa', 1, awa, 3, '2026-01-01T00:00:12.000Z')], awaWork);
    expect(row.flops).toBe(2 * (2 * 10 * 4 * 2));
    expect(row.computeSeconds).toBe(7);
    expect(row.spanSeconds).toBe(6); // 00:06 → 00:12
    expect(row.rate).toBe(row.flops / 6);
  });
});

describe('roofline timed run', () => {
  it('times a run into a new directory (revcor refuses one holding other files) and leaves the peaks in it', async () => {
    const { mkdtempSync, existsSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { peaksBeforeFile, timedRun } = await import('../../bench/roofline.ts');
    const { ensureBuilt } = await import('../fixtures/build.ts');
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'revcor-roofline-'));
    try {
      const out = join(dir, 'nested', 'run');
      const peaks = { threads: 1, matmul: [] as number[], forward: {}, load: [] as number[] };
      const seen: boolean[] = [];
      // a stand-in for the peak measurement: records whether the pre-run peaks were saved beside the run while it went
      const measure = async () => {
        seen.push(existsSync(peaksBeforeFile(out)));
        peaks.matmul.push(100 + peaks.matmul.length);
      };
      await timedRun(join(import.meta.dirname, '../../config/smoke.yaml'), out, peaks, measure, () => undefined);
      expect(seen).toEqual([false, true]);
      const saved = JSON.parse(readFileSync(join(out, 'roofline.json'), 'utf8'));
      expect(saved.matmul).toEqual([100, 101]);
      expect(saved.wallSeconds).toBeGreaterThan(0);
      expect(existsSync(peaksBeforeFile(out))).toBe(false);
      expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('roofline stage order', () => {
  it('lists a run\'s stages in the pipeline\'s order, every registered stage included (v1 after awc, summary last)', async () => {
    const { pipelineOrder } = await import('../../bench/roofline.ts');
    const { allStages } = await import('../../stages/index.ts');
    expect(pipelineOrder(['summary', 'v1', 'awc', 'stimuli', 'tuning', 'awa', 'activations', 'category', 'v1'])).toEqual(['stimuli', 'activations', 'awa', 'tuning', 'category', 'awc', 'v1', 'summary']);
    const all = allStages().map((s) => s.name);
    expect(pipelineOrder([...all].reverse()).at(-1)).toBe('summary');
    expect(pipelineOrder([...all].reverse())[0]).toBe('stimuli');
    expect(pipelineOrder(['zeta', 'stimuli'])).toEqual(['stimuli', 'zeta']);
  });
});

describe('roofline table', () => {
  it('states each stage against its floor over the wall span and over the core time its shards took', async () => {
    const { rooflineTable } = await import('../../bench/roofline.ts');
    const { ExperimentSchema } = await import('../../config/schema.ts');
    const config = ExperimentSchema.parse({ name: 'toy' });
    // awa: 156 GFLOP of GEMM at a 156 GFLOP/s peak = a 1-s floor; 8 s of shard time over a 4-s span on 2 threads
    const row = { stage: 'awa', shards: 2, flops: 156e9, gemmFlops: 156e9, bytes: 1e9, computeSeconds: 8, spanSeconds: 4, rate: 39e9 };
    const empty = { stage: 'tuning', shards: 1, flops: 0, gemmFlops: 0, bytes: 0, computeSeconds: 1, spanSeconds: 1, rate: 0 };
    const table = rooflineTable([row, empty], [], config, { threads: 2, matmul: [150, 162], forward: {}, load: [1, 1], wallSeconds: 10 }, () => 0);
    const lines = table.split('\n');
    expect(lines[0]).toContain('| of roof (span) | of roof (core time) |');
    const awa = lines.find((l) => l.startsWith('| awa |'))!.split('|').map((c) => c.trim());
    expect(awa.slice(-3, -1)).toEqual(['25 %', '25 %']); // 1 s / 4 s; 1 s × 2 threads / 8 s
    const tuning = lines.find((l) => l.startsWith('| tuning |'))!.split('|').map((c) => c.trim());
    expect(tuning.slice(-3, -1)).toEqual(['—', '—']);
    // shards that shared the cores with another stage: a longer span, the same core time
    const shared = rooflineTable([{ ...row, spanSeconds: 8 }], [], config, { threads: 2, matmul: [156], forward: {}, load: [1], wallSeconds: 10 }, () => 0);
    expect(shared.split('\n').find((l) => l.startsWith('| awa |'))!.split('|').map((c) => c.trim()).slice(-3, -1)).toEqual(['13 %', '25 %']);
  });
});
