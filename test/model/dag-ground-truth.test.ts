// docs/method.md §7 ground truth through a DAG: the synthetic linear Gabor unit, the energy-model complex cell and a unit that
// ignores its input, written as an ONNX graph behind a residual block (identity path + a 3×3 → ReLU → 1×1 branch
// whose last conv is zero-initialised) and run through the whole pipeline. The branch adds nothing to the response
// but widens the theoretical RF by one pixel on each side: the Gabor must be recovered inside the 12×12 crop.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allStages } from '../../stages/index.ts';
import { cli } from '../cli/helpers.ts';
import { onnxBytes, OnnxGraphBuilder } from '../fixtures/onnx-builder.ts';
import { gabor, maxPrincipalAngle, pearson } from '../fixtures/synthetic-units.ts';

const r = 10; // the Gabor's support, as in test/science/revcor-ground-truth.test.ts
const theta = 30;
const f = 0.2;
const g0 = gabor(r, theta, f, 0, 2);
const g90 = gabor(r, theta, f, 90, 2);
const crop = r + 2; // + the residual branch's 3×3 conv

/** A 10×10 kernel map g placed at offset 1 of a 12×12 crop (where the 10×10 conv sees the block's input). */
function embed(g: Float64Array): Float64Array {
  const out = new Float64Array(crop * crop);
  for (let y = 0; y < r; y++) for (let x = 0; x < r; x++) out[(y + 1) * crop + x + 1] = g[y * r + x]!;
  return out;
}

/** OIHW kernel of a 10×10 conv over 3 grey channels: output channel o = maps[o]/3 on each input channel (or zeros). */
function kernel(maps: (Float64Array | null)[]): Float32Array {
  const k = new Float32Array(maps.length * 3 * r * r);
  maps.forEach((m, o) => {
    if (m) for (let c = 0; c < 3; c++) for (let d = 0; d < r * r; d++) k[(o * 3 + c) * r * r + d] = m[d]! / 3;
  });
  return k;
}

/** The graph: input → x + branch(x) (branch = 3×3 conv, ReLU, zero 1×1 conv) → the units. */
function groundTruthGraph(): Uint8Array {
  const b = new OnnxGraphBuilder('ground_truth_dag', 9);
  const branch = b.conv('block/conv2', b.relu('block/relu', b.conv('block/conv1', b.input, 3, 3, 3, { pads: 1 })), 3, 3, 1, { kernel: new Float32Array(9), biasValues: new Float32Array(3) });
  const x = b.node('Add', 'block', [b.input, branch]);
  // the even 10×10 kernel takes asymmetric pads (4 before, 5 after): the linear unit [g0·s]₊ and a unit that ignores its input
  b.relu('linear', b.conv('linear/conv', x, 3, 2, r, { pads: [4, 4, 5, 5], kernel: kernel([g0, null]), biasValues: Float32Array.of(0, 1) }));
  // energy model: (g0·s)² + (g90·s)² as a quadrature conv, a product of the map with itself and a 1×1 sum
  const q = b.conv('energy/quadrature', x, 3, 2, r, { pads: [4, 4, 5, 5], kernel: kernel([g0, g90]), biasValues: new Float32Array(2) });
  const energy = b.conv('energy', b.node('Mul', 'energy/square', [q, q]), 2, 1, 1, { kernel: Float32Array.of(1, 1), biasValues: new Float32Array(1) });
  return onnxBytes(b.model(['/linear/Relu_output_0', energy]));
}

const experiment = `name: ground-truth-dag
model:
  arch: onnx
  weights: ground-truth.onnx
  layers: ['/linear/Relu_output_0', '/energy/Conv_output_0']
  inputSize: 32
  preprocessing: { mean: [127.5, 127.5, 127.5], std: [48, 48, 48] }   # (s − 127.5)/σ, as the synthetic units
stimuli:
  images: { enabled: false }
  noise: { count: 20000, seed: 7 }
activations: { shardSize: 5000 }
run: { out: out }
`;

describe('docs/method.md §7 ground truth behind a residual block (ONNX graph, whole pipeline, N = 20,000)', () => {
  let dir: string;
  const tables: Record<string, Table> = {};
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-gt-dag-'));
    await writeFile(join(dir, 'ground-truth.onnx'), groundTruthGraph());
    await writeFile(join(dir, 'exp.yaml'), experiment);
    const res = await cli(['run', join(dir, 'exp.yaml'), '--out', join(dir, 'out'), '--quiet'], allStages);
    expect(res.code, res.stderr).toBe(0);
    for (const [key, file] of [['awaLinear', 'awa/linear.Relu.arrow'], ['awaEnergy', 'awa/energy.Conv.arrow'], ['awcLinear', 'awc/linear.Relu-0000-0002.arrow'], ['awcEnergy', 'awc/energy.Conv-0000-0001.arrow']] as const) {
      tables[key] = tableFromIPC(await readFile(join(dir, 'out', file)));
    }
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const row = (t: string, column: string, r: number) => tables[t]!.getChild(column)!.get(r);
  const list = (t: string, column: string, r: number) => Array.from((row(t, column, r) as { toArray(): ArrayLike<number> }).toArray());

  it('the RF crop is the residual block’s: 12×12, the Gabor one pixel in', () => {
    expect(list('awaLinear', 'awa', 0).length).toBe(crop * crop);
    expect(list('awcEnergy', 'energy', 0).length).toBe(crop * crop);
  });

  it('linear Gabor unit: AWA recovers the filter in place (r ≥ 0.9), significant, predicts θ and f', () => {
    const awa = list('awaLinear', 'awa', 0);
    expect(pearson(awa, embed(g0))).toBeGreaterThan(0.9);
    expect(row('awaLinear', 'significant', 0)).toBe(true);
    expect(row('awaLinear', 'z_max', 0)).toBeGreaterThan(8);
    expect([row('awcLinear', 'awa_theta_match', 0), row('awcLinear', 'awa_f_match', 0)]).toEqual([true, true]);
  });

  it('energy-model complex cell: AWA not significant; the top-2 AWC eigenvectors span the quadrature pair; θ and f predicted', () => {
    expect(row('awaEnergy', 'significant', 0)).toBe(false);
    expect(list('awcEnergy', 'top_significant', 0)).toEqual([1, 1, 0, 0]);
    const vectors = list('awcEnergy', 'eigvec_top', 0);
    const D = crop * crop;
    const angle = maxPrincipalAngle([vectors.slice(0, D), vectors.slice(D, 2 * D)], [embed(g0), embed(g90)]);
    console.log(`energy unit behind the residual block: top-2 AWC eigenvectors ${angle.toFixed(1)}° from the quadrature pair (D = ${D}, N = 20,000)`);
    expect(angle).toBeLessThan(15);
    expect([row('awcEnergy', 'awc_theta_match', 0), row('awcEnergy', 'awc_f_match', 0)]).toEqual([true, true]);
  });

  it('the unit that ignores its input: nothing significant', () => {
    expect(row('awaLinear', 'significant', 1)).toBe(false);
    expect(row('awcLinear', 'n_sig_top', 1)).toBe(0);
    expect(list('awcLinear', 'top_significant', 1)).toEqual([0, 0, 0, 0]);
  });
});
