// The batched AWC operator (science/awc.ts krylovOperator and its parts) against the dense definition
// M_l = Yᵀdiag(a_l)Y/Σa_l − m_l m_lᵀ (Y = X − s̄, m_l = Yᵀa_l/Σa_l), computed directly in float64: for raw samples
// (centred per chunk) and for samples stored minus 127.5 (the −δ corrections), across row chunks.
import { describe, expect, it } from 'vitest';
import { awcLayer, centredChunks, fromWide, krylovOperator, toWide, type AwcOptions } from '../../science/awc.ts';
import { gaussian, mulberry32, symEig } from '../../science/eigen.ts';
import { marchenkoPasturBounds, shuffleBounds, shufflePermutation } from '../../science/nulls.ts';
import { JsMatMul, type FixedOperand, type MatMul } from '../../science/gemm.ts';
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

  it('without a listener it applies all the same; with no samples it says so', async () => {
    const Y = centredChunks(arraySource(X, N, D), ref.mean, 20, 2 ** 20);
    const op = krylovOperator({ Y, W, cols, liveCols, sums: ref.sums, means: ref.means, D }, new JsMatMul());
    const out = await op.apply(V, b);
    let want = 0;
    for (let k = 0; k < D; k++) want += ref.M[0]![k]! * V[k * b]!;
    expect(out[0]).toBeCloseTo(want, 2);
    const none = centredChunks(arraySource(new Float32Array(0), 0, D), ref.mean, 20, 2 ** 20);
    const empty = krylovOperator({ Y: none, W, cols, liveCols, sums: ref.sums, means: ref.means, D }, new JsMatMul());
    await expect(empty.apply(V, b)).rejects.toThrow('awc: no samples');
  });

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

// awcLayer end to end on a small layer (D = 3): every unit's eigenpairs, null bounds, flags and energy map against
// the definition AWC = Σa(y − m)(y − m)ᵀ/Σa − σ²I (y = s − s̄, m = Σa·y/Σa) formed in float64 in the test and
// decomposed by symEig (test/science/eigen.test.ts checks it against closed forms).
describe('awcLayer against the dense definition', () => {
  const n = 3000;
  const d = 3;
  const g = gaussian(mulberry32(21));
  const sx = 20; // pixel SD
  const Xs = Float32Array.from({ length: n * d }, () => 100 + sx * g());
  const v = [1 / Math.SQRT2, 1 / Math.SQRT2, 0]; // the excitatory direction of unit 0
  const proj = (k: number, dir: number[]) => dir.reduce((s, x, i) => s + x * (Xs[k * d + i]! - 100), 0) / sx;
  // unit 0: energy along v (AWC ≈ 2σ²vvᵀ, a significant excitatory pair); unit 1: silent; unit 2: suppressed along
  // e₃ (a significant suppressive pair); unit 3: blind to the stimulus, silent on a fifth of the samples
  const U4 = 4;
  const rnd = lcg(4);
  const A4 = new Float32Array(n * U4);
  for (let k = 0; k < n; k++) {
    A4[k * U4] = proj(k, v) ** 2;
    A4[k * U4 + 2] = 2 * Math.exp(-(proj(k, [0, 0, 1]) ** 2) / 2);
    A4[k * U4 + 3] = rnd() < 0.2 ? 0 : rnd();
  }
  const unitA = (u: number) => Float64Array.from({ length: n }, (_, k) => A4[k * U4 + u]!);
  // shuffles > 0 as in every config: the Marchenko–Pastur null must not run them
  const opts: AwcOptions = { top: 2, bottom: 1, nullKind: 'marchenko-pastur', shuffles: 4, level: 0.99, solver: 'full', block: 3, steps: 2, seed: 5 };

  /** The definition in float64 for weights a, eigenvalues ascending with their vectors (columns). */
  const denseEig = (a: ArrayLike<number>) => {
    const mean = new Float64Array(d);
    for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) mean[i] += Xs[k * d + i]! / n;
    let S = 0;
    const m = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      S += a[k]!;
      for (let i = 0; i < d; i++) m[i] += a[k]! * (Xs[k * d + i]! - mean[i]!);
    }
    for (let i = 0; i < d; i++) m[i] /= S;
    const M = new Float64Array(d * d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) M[i * d + j] += (a[k]! * (Xs[k * d + i]! - mean[i]! - m[i]!) * (Xs[k * d + j]! - mean[j]! - m[j]!)) / S;
      }
    }
    let ss = 0;
    for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) ss += (Xs[k * d + i]! - mean[i]!) ** 2;
    const sigma2 = ss / (n * d);
    return { eig: symEig(M, d), sigma2 };
  };
  const col = (e: ReturnType<typeof symEig>, c: number) => Array.from({ length: d }, (_, r) => e.vectors![r * d + c]!);
  const sameAxis = (x: ArrayLike<number>, y: number[]) => Math.abs(y.reduce((s, yi, i) => s + yi * x[i]!, 0));

  /** Checks one responsive unit of a result against the definition; `bounds` are the expected null bounds. */
  const checkUnit = (res: Awaited<ReturnType<typeof awcLayer>>, u: number, tol: number) => {
    const { eig, sigma2 } = denseEig(unitA(u));
    const unit = res.units[u]!;
    expect(unit.responsive).toBe(true);
    expect(Math.abs(res.moments.sigma ** 2 / sigma2 - 1)).toBeLessThan(1e-6);
    const want = { top: [eig.values[2]! - sigma2, eig.values[1]! - sigma2], bottom: [eig.values[0]! - sigma2] };
    for (let k = 0; k < 2; k++) {
      expect(Math.abs(unit.top[k]! - want.top[k]!) / sigma2, `unit ${u} top ${k}`).toBeLessThan(tol);
      expect(sameAxis(unit.topVectors[k]!, col(eig, 2 - k)), `unit ${u} top vector ${k}`).toBeGreaterThan(1 - tol);
    }
    expect(Math.abs(unit.bottom[0]! - want.bottom[0]!) / sigma2, `unit ${u} bottom`).toBeLessThan(tol);
    expect(sameAxis(unit.bottomVectors[0]!, col(eig, 0)), `unit ${u} bottom vector`).toBeGreaterThan(1 - tol);
    expect(unit.topSignificant).toEqual(Array.from(unit.top, (x) => x > unit.bounds.upper));
    expect(unit.bottomSignificant).toEqual(Array.from(unit.bottom, (x) => x < unit.bounds.lower));
    // energy: Σ λₖ eₖ² over the significant positive excitatory pairs
    const energy = new Float64Array(d);
    unit.top.forEach((lam, k) => {
      if (unit.topSignificant[k] && lam > 0) for (let i = 0; i < d; i++) energy[i] += lam * unit.topVectors[k]![i]! ** 2;
    });
    for (let i = 0; i < d; i++) expect(unit.energy[i]).toBeCloseTo(energy[i]!, 3);
    return { sigma2, eig };
  };

  it('full solver, Marchenko–Pastur null: eigenpairs, bounds, flags and energy of each unit; a silent unit is empty', async () => {
    const mm = new JsMatMul();
    const res = await awcLayer(arraySource(Xs, n, d), A4, U4, mm, opts);
    expect(res.units.length).toBe(U4);
    for (const u of [0, 2, 3]) {
      const { sigma2 } = checkUnit(res, u, 1e-5);
      const mp = marchenkoPasturBounds(unitA(u), sigma2, d, 0.99);
      expect(Math.abs(res.units[u]!.bounds.upper - mp.upper) / sigma2).toBeLessThan(1e-6);
      expect(Math.abs(res.units[u]!.bounds.lower - mp.lower) / sigma2).toBeLessThan(1e-6);
    }
    // the planted structure: unit 0 excitatory along v with λ ≈ 2σ²; unit 2 suppressive along e₃; unit 3 nothing
    const [u0, u1, u2, u3] = res.units;
    expect(u0!.topSignificant).toEqual([true, false]);
    expect(u0!.top[0]! / (2 * sx * sx)).toBeGreaterThan(0.85);
    expect(u0!.top[0]! / (2 * sx * sx)).toBeLessThan(1.15);
    expect(sameAxis(u0!.topVectors[0]!, v)).toBeGreaterThan(0.99);
    expect(u0!.energy[2]! / u0!.energy[0]!).toBeLessThan(0.02);
    expect(u2!.bottomSignificant).toEqual([true]);
    expect(u2!.topSignificant).toEqual([false, false]);
    expect(Array.from(u2!.energy)).toEqual([0, 0, 0]);
    expect(sameAxis(u2!.bottomVectors[0]!, [0, 0, 1])).toBeGreaterThan(0.99);
    expect([...u3!.topSignificant, ...u3!.bottomSignificant]).toEqual([false, false, false]);
    expect(u1).toEqual({
      responsive: false, top: new Float64Array(0), topVectors: [], bottom: new Float64Array(0), bottomVectors: [],
      bounds: { upper: NaN, lower: NaN }, topSignificant: [], bottomSignificant: [], energy: new Float32Array(d),
    });
  });

  it('shuffle null: the bounds come from the extreme eigenvalues of the AWC under each shared shuffle', async () => {
    const mm = new JsMatMul();
    const S = 6;
    const res = await awcLayer(arraySource(Xs, n, d), A4, U4, mm, { ...opts, nullKind: 'shuffle', shuffles: S, seed: 8 });
    for (const u of [0, 2, 3]) {
      const { sigma2 } = checkUnit(res, u, 1e-5);
      const a = unitA(u);
      const maxima: number[] = [];
      const minima: number[] = [];
      for (let s = 0; s < S; s++) {
        const p = shufflePermutation(n, 8, s);
        const { eig } = denseEig(Float64Array.from(p, (k) => a[k]!));
        maxima.push(eig.values[d - 1]! - sigma2);
        minima.push(eig.values[0]! - sigma2);
      }
      const want = shuffleBounds(maxima, minima, 0.99);
      expect(Math.abs(res.units[u]!.bounds.upper - want.upper) / sigma2, `unit ${u} upper`).toBeLessThan(1e-5);
      expect(Math.abs(res.units[u]!.bounds.lower - want.lower) / sigma2, `unit ${u} lower`).toBeLessThan(1e-5);
    }
    expect(res.units[1]!.responsive).toBe(false);
  });

  it('subspace solver (a Krylov basis that fills the space) and samples stored minus 127.5 give the same pairs', async () => {
    const mm = new JsMatMul();
    const raw = arraySource(Xs, n, d);
    const stored = storedSource(raw, 'f32', 512, 127.5);
    for (const [src, solver] of [[raw, 'subspace'], [stored, 'full'], [stored, 'subspace']] as const) {
      const res = await awcLayer(src, A4, U4, mm, { ...opts, solver, chunk: 700, cacheBytes: 0 });
      for (const u of [0, 2, 3]) checkUnit(res, u, 1e-4);
      expect(res.units[1]!.responsive).toBe(false);
    }
  });

  it('subspace solver on prepared chunks (MatMul.fix): each chunk prepared once for every pass and released; the same pairs; only within 3·N·D·4 bytes', async () => {
    /** JsMatMul counting its prepared operands, their products and their releases. */
    class Counting extends JsMatMul {
      fixes = 0;
      products = 0;
      released = 0;
      override async fix(Y: Float32Array, rows: number, D: number) {
        this.fixes++;
        const f = await super.fix(Y, rows, D);
        return {
          times: (B: Float32Array, k: number) => (this.products++, f.times(B, k)),
          transposeTimes: (B: Float32Array, k: number, addTo?: Float32Array) => (this.products++, f.transposeTimes(B, k, addTo)),
          dispose: async () => void this.released++,
        };
      }
    }
    const raw = arraySource(Xs, n, d);
    const sub = { ...opts, solver: 'subspace' as const, block: 1, steps: 2, top: 1, bottom: 0, chunk: 700 }; // 5 chunks, 3 passes
    const plain = await awcLayer(raw, A4, U4, new JsMatMul(), { ...sub, prepareBytes: 0 });
    const mm = new Counting();
    const res = await awcLayer(raw, A4, U4, mm, { ...sub, prepareBytes: 3 * n * d * 4 });
    expect([mm.fixes, mm.products, mm.released]).toEqual([5, 5 * 3 * 2, 5]);
    for (const u of [0, 2, 3]) {
      expect(Array.from(res.units[u]!.top)).toEqual(Array.from(plain.units[u]!.top));
      expect(Array.from(res.units[u]!.topVectors[0]!)).toEqual(Array.from(plain.units[u]!.topVectors[0]!));
    }
    const over = new Counting();
    await awcLayer(raw, A4, U4, over, { ...sub, prepareBytes: 3 * n * d * 4 - 1 });
    expect(over.fixes).toBe(0);
    // the default budget is cacheBytes
    const byCache = new Counting();
    await awcLayer(raw, A4, U4, byCache, { ...sub, cacheBytes: 3 * n * d * 4 });
    expect(byCache.fixes).toBe(5);
    // prepared chunks the caller keeps: a second call on the same samples prepares nothing, and nothing is released
    const keep = new Counting();
    const shared = new Map<string, Promise<FixedOperand>>();
    const first = await awcLayer(raw, A4, U4, keep, { ...sub, prepareBytes: 3 * n * d * 4, prepared: shared });
    const second = await awcLayer(raw, A4.map((x) => 2 * x), U4, keep, { ...sub, prepareBytes: 3 * n * d * 4, prepared: shared });
    expect([keep.fixes, keep.products, keep.released, shared.size]).toEqual([5, 2 * 5 * 3 * 2, 0, 5]);
    expect(Array.from(first.units[0]!.top)).toEqual(Array.from(plain.units[0]!.top));
    expect(second.units[0]!.top[0]).toBeCloseTo(plain.units[0]!.top[0]!, 4); // AWC is invariant to scaling a
    // a failing pass still releases what was prepared
    const failing = new Counting();
    let calls = 0;
    const orig = failing.fix.bind(failing);
    failing.fix = async (Y, rows, D) => {
      const f = await orig(Y, rows, D);
      return { ...f, times: (B, k) => (++calls > 7 ? Promise.reject(new Error('backend failed')) : f.times(B, k)) };
    };
    await expect(awcLayer(raw, A4, U4, failing, { ...sub, prepareBytes: 3 * n * d * 4 })).rejects.toThrow('backend failed');
    expect(failing.released).toBe(5);
  });

  it('prepared chunks: a backend without fix runs on gemm; a failed preparation is raised as it is, released, and not kept for later calls; 512 MiB by default', async () => {
    const raw = arraySource(Xs, n, d);
    const sub = { ...opts, solver: 'subspace' as const, block: 1, steps: 2, top: 1, bottom: 0, chunk: 700 };
    const plain = await awcLayer(raw, A4, U4, new JsMatMul(), { ...sub, prepareBytes: 0 });
    // a MatMul with gemm but no fix (another backend): the budget allows preparing, the products run on gemm
    const js = new JsMatMul();
    const gemmOnly: MatMul = { name: 'gemm-only', gemm: js.gemm.bind(js), gemmBatched: js.gemmBatched.bind(js), weightedGram: js.weightedGram.bind(js) };
    const noFix = await awcLayer(raw, A4, U4, gemmOnly, { ...sub, prepareBytes: 2 ** 30 });
    expect(Array.from(noFix.units[0]!.top)).toEqual(Array.from(plain.units[0]!.top));
    // the preparation of chunk 2 fails once: the caller sees that error (not one from releasing), the chunks
    // prepared before it are released, and a shared map keeps no failed entry, so the next call prepares again
    let fixes = 0;
    let released = 0;
    let failOnce = true;
    const flaky = new JsMatMul();
    const orig = flaky.fix.bind(flaky);
    flaky.fix = async (Y, rows, D) => {
      fixes++;
      if (fixes === 3 && failOnce) {
        failOnce = false;
        throw new Error('preparation failed');
      }
      const f = await orig(Y, rows, D);
      return { ...f, dispose: async () => void released++ };
    };
    await expect(awcLayer(raw, A4, U4, flaky, { ...sub, prepareBytes: 2 ** 30 })).rejects.toThrow('preparation failed');
    expect(released).toBe(2);
    failOnce = true;
    fixes = 0;
    const shared = new Map<string, Promise<FixedOperand>>();
    await expect(awcLayer(raw, A4, U4, flaky, { ...sub, prepareBytes: 2 ** 30, prepared: shared })).rejects.toThrow('preparation failed');
    await new Promise((r) => setTimeout(r, 0));
    expect(shared.size).toBe(2);
    const again = await awcLayer(raw, A4, U4, flaky, { ...sub, prepareBytes: 2 ** 30, prepared: shared });
    expect(fixes).toBe(3 + 3); // the second call prepares chunks 2, 3 and 4 (0 and 1 are kept from the first)
    expect(shared.size).toBe(5);
    expect(Array.from(again.units[0]!.top)).toEqual(Array.from(plain.units[0]!.top));
    // no budget given at all: 512 MiB (these 36 kB are prepared)
    let byDefault = 0;
    const counting = new JsMatMul();
    const f0 = counting.fix.bind(counting);
    counting.fix = (Y, rows, D) => (byDefault++, f0(Y, rows, D));
    await awcLayer(raw, A4, U4, counting, { ...sub });
    expect(byDefault).toBe(5);
  });

  it('progress: 0.05 after the means, then per unit (full) or per operator application (subspace), 1 at the end', async () => {
    const mm = new JsMatMul();
    const seen: number[] = [];
    await awcLayer(arraySource(Xs, n, d), A4, U4, mm, { ...opts, progress: (f) => seen.push(f) });
    // three live units of four
    expect(seen.map((f) => f.toFixed(6))).toEqual([0.05, 0.05 + 0.95 / 3, 0.05 + (0.95 * 2) / 3, 1, 1].map((f) => f.toFixed(6)));
    // 0.9/(steps + 1) per application of the batched operator. A block of 1 is widened to top + bottom = 3 = D,
    // which fills the space with one application; a block of 1 for one pair needs three (steps + 1)
    const sub: number[] = [];
    await awcLayer(arraySource(Xs, n, d), A4, U4, mm, { ...opts, solver: 'subspace', block: 1, steps: 2, progress: (f) => sub.push(f) });
    expect(sub.map((f) => f.toFixed(6))).toEqual([0.05, 0.05 + 0.9 / 3, 1].map((f) => f.toFixed(6)));
    const one: number[] = [];
    await awcLayer(arraySource(Xs, n, d), A4, U4, mm, { ...opts, top: 1, bottom: 0, solver: 'subspace', block: 1, steps: 2, progress: (f) => one.push(f) });
    expect(one.map((f) => f.toFixed(6))).toEqual([0.05, 0.35, 0.65, 0.95, 1].map((f) => f.toFixed(6)));
  });

  it('a layer with no responsive unit: every unit empty, with either solver', async () => {
    const mm = new JsMatMul();
    for (const solver of ['full', 'subspace'] as const) {
      const res = await awcLayer(arraySource(Xs, n, d), new Float32Array(n * 2), 2, mm, { ...opts, solver });
      expect(res.units.map((u) => u.responsive)).toEqual([false, false]);
    }
  });

  it('shuffle null without suppressive pairs (bottom = 0): the upper bound from the maxima, no lower bound', async () => {
    const mm = new JsMatMul();
    const res = await awcLayer(arraySource(Xs, n, d), A4, U4, mm, { ...opts, bottom: 0, nullKind: 'shuffle', shuffles: 5, seed: 8 });
    const a = unitA(3);
    const { sigma2 } = denseEig(a);
    const maxima = Array.from({ length: 5 }, (_, s) => denseEig(Float64Array.from(shufflePermutation(n, 8, s), (k) => a[k]!)).eig.values[d - 1]! - sigma2);
    expect(res.units[3]!.bounds.lower).toBe(-Infinity);
    expect(Math.abs(res.units[3]!.bounds.upper - shuffleBounds(maxima, [], 0.99).upper) / sigma2).toBeLessThan(1e-5);
  });

  it('energy counts only positive eigenvalues: at a low level (5 %) in D = 1 the upper bound can be negative', async () => {
    // D = 1: the "AWC" is the weighted variance − σ². The MP upper bound at level 0.05 is the edge − 1.6 TW scales − σ²
    // ≈ −0.022σ² here (N = 3,000); a unit weighting by exp(−0.02·z²/2) has weighted variance σ²/1.02, λ ≈ −0.02σ²:
    // flagged, and it adds no energy
    const n1 = 3000;
    const g1 = gaussian(mulberry32(3));
    const X1 = Float32Array.from({ length: n1 }, () => 100 + 20 * g1());
    const A1 = Float32Array.from(X1, (x) => Math.exp((-0.02 * ((x - 100) / 20) ** 2) / 2));
    const res = await awcLayer(arraySource(X1, n1, 1), A1, 1, new JsMatMul(), { ...opts, top: 1, bottom: 1, level: 0.05 });
    const u = res.units[0]!;
    expect(u.bounds.upper).toBeLessThan(0);
    expect(u.top[0]).toBeLessThan(0);
    expect(u.topSignificant).toEqual([true]);
    expect(Array.from(u.energy)).toEqual([0]);
  });

  it('subspace solver on a basis smaller than D: a unit’s result does not depend on the units computed with it', async () => {
    // D = 16, one block of 2 and one step: 4 basis vectors, so the result depends on the unit's random start,
    // which is seeded by its global index (unitOffset + its index in the shard) and by the shuffle
    const D16 = 16;
    const g16 = gaussian(mulberry32(33));
    const X16 = Float32Array.from({ length: n * D16 }, () => 50 * g16());
    const U3 = 3;
    const r3 = lcg(8);
    const A3 = Float32Array.from({ length: n * U3 }, () => r3() ** 2);
    const src = arraySource(X16, n, D16);
    const o: AwcOptions = { ...opts, top: 1, bottom: 1, solver: 'subspace', block: 2, steps: 1, nullKind: 'shuffle', shuffles: 2 };
    const all = await awcLayer(src, A3, U3, new JsMatMul(), { ...o, unitOffset: 10 });
    const col = (u: number) => Float32Array.from({ length: n }, (_, k) => A3[k * U3 + u]!);
    for (const u of [0, 2]) {
      const alone = await awcLayer(src, col(u), 1, new JsMatMul(), { ...o, unitOffset: 10 + u });
      const [x, y] = [all.units[u]!, alone.units[0]!];
      expect(Math.abs(y.top[0]! / x.top[0]! - 1), `unit ${u} top`).toBeLessThan(1e-6);
      expect(Math.abs(y.bottom[0]! / x.bottom[0]! - 1), `unit ${u} bottom`).toBeLessThan(1e-6);
      expect(Math.abs(y.bounds.upper / x.bounds.upper - 1), `unit ${u} shuffle bound`).toBeLessThan(1e-6);
      // …while another global index (another start) gives another approximation
      const other = await awcLayer(src, col(u), 1, new JsMatMul(), { ...o, unitOffset: 11 + u });
      expect(Math.abs(other.units[0]!.top[0]! / x.top[0]! - 1), `unit ${u} at another index`).toBeGreaterThan(1e-4);
    }
  });
});
