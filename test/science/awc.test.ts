// The batched AWC operator (science/awc.ts krylovOperator and its parts) against the dense definition
// M_l = Yᵀdiag(a_l)Y/Σa_l − m_l m_lᵀ (Y = X − s̄, m_l = Yᵀa_l/Σa_l), computed directly in float64: for raw samples
// (centred per chunk) and for samples stored minus 127.5 (the −δ corrections), across row chunks.
import { describe, expect, it } from 'vitest';
import { centredChunks, fromWide, krylovOperator, toWide } from '../../science/awc.ts';
import { JsMatMul } from '../../science/gemm.ts';
import { arraySource, storedSource } from '../../science/samples.ts';
import { lcg } from '../fixtures/synthetic-units.ts';

const N = 97;
const D = 6;
const cols = 4; // column 2 never responds: no operator
const b = 3;
const rand = lcg(9);
const X = Float32Array.from({ length: N * D }, () => Math.round(127.5 + 90 * (rand() - 0.5)));
const W = Float32Array.from({ length: N * cols }, (_, i) => (i % cols === 2 ? 0 : Math.max(0, rand() - 0.3) * (1 + (i % cols))));
const liveCols = [0, 1, 3];
const L = liveCols.length;

/** s̄, and per live column Σa, m and the dense M (float64). */
function dense() {
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mean[d] += X[n * D + d]! / N;
  const sums = new Float64Array(L);
  const means = new Float64Array(L * D);
  const M = liveCols.map(() => new Float64Array(D * D));
  liveCols.forEach((c, l) => {
    for (let n = 0; n < N; n++) sums[l] += W[n * cols + c]!;
    for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) means[l * D + d] += (W[n * cols + c]! * (X[n * D + d]! - mean[d]!)) / sums[l]!;
    for (let n = 0; n < N; n++) {
      const a = W[n * cols + c]! / sums[l]!;
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) M[l]![i * D + j] += a * (X[n * D + i]! - mean[i]!) * (X[n * D + j]! - mean[j]!);
    }
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) M[l]![i * D + j] -= means[l * D + i]! * means[l * D + j]!;
  });
  return { mean, sums, means, M };
}

describe('the batched AWC operator', () => {
  const ref = dense();
  const V = Float32Array.from({ length: L * D * b }, () => rand() - 0.5);

  it('toWide / fromWide are inverse relayouts (identity operator: Σa = 1, no mean)', () => {
    const wide = toWide(V, L, D, b);
    expect(wide[2 * (L * b) + 1 * b + 0]).toBe(V[1 * D * b + 2 * b + 0]); // row d = 2, unit 1, column 0
    expect(Array.from(fromWide(wide, V, L, D, b, new Float64Array(L).fill(1), new Float64Array(L * D)))).toEqual(Array.from(V));
  });

  for (const stored of [false, true]) {
    it(`applies M_l to every unit's block (${stored ? 'samples stored − 127.5' : 'raw samples'}, chunks of 20 rows)`, async () => {
      const src = stored ? storedSource(arraySource(X, N, D), 'f32', 16, 127.5) : arraySource(X, N, D);
      const Y = centredChunks(src, ref.mean, 20, 2 ** 20);
      expect(Y.delta !== null).toBe(stored);
      let calls = 0;
      const op = krylovOperator({ Y, W, cols, liveCols, sums: ref.sums, means: ref.means, D }, new JsMatMul(), () => calls++);
      expect([op.units, op.dim]).toEqual([L, D]);
      const out = await op.apply(V, b);
      expect(calls).toBe(1);
      for (let l = 0; l < L; l++) {
        for (let d = 0; d < D; d++) {
          for (let c = 0; c < b; c++) {
            let want = 0;
            for (let k = 0; k < D; k++) want += ref.M[l]![d * D + k]! * V[l * D * b + k * b + c]!;
            expect(out[l * D * b + d * b + c], `unit ${l} row ${d} col ${c}`).toBeCloseTo(want, 2);
          }
        }
      }
    });
  }
});
