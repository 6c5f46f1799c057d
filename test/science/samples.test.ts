import { describe, expect, it } from 'vitest';
import { arraySource, chunks, fromHalf, generatedSource, materialise, rowBuffer, storedSource, toHalf } from '../../science/samples.ts';

describe('half-precision sample storage', () => {
  it('round-trips exactly representable values and rounds others to the nearest half', () => {
    for (const v of [0, 1, -2, 0.5, 127.5, 255, 65504, 2 ** -24]) expect(fromHalf(toHalf(v))).toBe(v);
    expect(fromHalf(toHalf(100000))).toBe(Infinity);
    for (let i = 0; i < 2000; i++) {
      const v = (i * 0.12739) % 255;
      expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(0.0625);
    }
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1); // tie → even
    expect(fromHalf(toHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
  });

  it('a stored source serves the same rows (f32 exactly, f16 within 1/16 grey level)', () => {
    const N = 50;
    const D = 7;
    const X = Float32Array.from({ length: N * D }, (_, i) => (i * 37.77) % 255);
    const src = arraySource(X, N, D);
    expect(Array.from(storedSource(src, 'f32', 8).rows(3, 20))).toEqual(Array.from(X.subarray(21, 140)));
    const h = storedSource(src, 'f16', 8).rows(0, N);
    for (let i = 0; i < X.length; i++) expect(Math.abs(h[i]! - X[i]!)).toBeLessThanOrEqual(0.0625);
  });
});

describe('sample sources', () => {
  it('arraySource serves row ranges of the matrix and rejects a matrix of another size', () => {
    const X = Float32Array.from({ length: 12 }, (_, i) => i);
    const src = arraySource(X, 4, 3);
    expect([src.N, src.D, src.offset]).toEqual([4, 3, undefined]);
    expect(Array.from(src.rows(1, 3))).toEqual([3, 4, 5, 6, 7, 8]);
    expect(src.rows(2, 2).length).toBe(0);
    expect(() => arraySource(X, 4, 4)).toThrow('arraySource: 12 values, expected 4×4');
  });

  it('generatedSource calls the generator once per row, on that row of the output', () => {
    const calls: number[] = [];
    const src = generatedSource(9, 2, (n, out) => {
      calls.push(n);
      expect(out.length).toBe(2);
      out[0] = 10 * n;
      out[1] = 10 * n + 1;
    });
    expect([src.N, src.D, src.offset]).toEqual([9, 2, undefined]);
    expect(Array.from(src.rows(2, 5))).toEqual([20, 21, 30, 31, 40, 41]);
    expect(calls).toEqual([2, 3, 4]);
    expect(src.rows(4, 4).length).toBe(0);
  });

  it('materialise reads every row once, in chunks that need not divide N', () => {
    const seen: number[] = [];
    const src = generatedSource(10, 2, (n, out) => out.set([n, -n]));
    const rows = src.rows.bind(src);
    const X = materialise({ ...src, rows: (n0, n1) => (seen.push(n0, n1), rows(n0, n1)) }, 4);
    expect(Array.from(X)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? -1 : 1) * Math.floor(i / 2)));
    expect(seen).toEqual([0, 4, 4, 8, 8, 10]);
    expect(materialise(src)).toEqual(X); // default chunk 2048: one read
    seen.length = 0;
    expect(materialise({ ...src, rows: (n0, n1) => (seen.push(n0, n1), rows(n0, n1)) }, 5)).toEqual(X);
    expect(seen).toEqual([0, 5, 5, 10]); // a chunk dividing N: no empty read at the end
  });

  it('rows into a caller\'s buffer: generated and f16 rows are written there (a view of it), stored f32 rows stay views', () => {
    const src = generatedSource(9, 2, (n, out) => out.set([n, -n]));
    const into = new Float32Array(10).fill(NaN);
    const r = src.rows(2, 5, into);
    expect(r.buffer).toBe(into.buffer);
    expect(r.byteOffset).toBe(0);
    expect(Array.from(r)).toEqual([2, -2, 3, -3, 4, -4]);
    expect(Array.from(into.subarray(6))).toEqual([NaN, NaN, NaN, NaN]); // nothing past the rows
    expect(() => src.rows(0, 6, into)).toThrow('sample rows: a buffer of 10 floats cannot hold 6×2');
    const f16 = storedSource(src, 'f16', 4);
    const h = f16.rows(1, 4, into);
    expect(h.buffer).toBe(into.buffer);
    expect(Array.from(h)).toEqual([1, -1, 2, -2, 3, -3]);
    const f32 = storedSource(src, 'f32', 4);
    expect(f32.rows(1, 4, into).buffer).not.toBe(into.buffer); // a view of the stored samples
    expect(Array.from(f32.rows(1, 4, into))).toEqual([1, -1, 2, -2, 3, -3]);
    expect(rowBuffer(2, 3).length).toBe(6);
    expect(rowBuffer(2, 3, into).length).toBe(6);
    expect(rowBuffer(2, 5, into).length).toBe(10); // exactly full
  });

  it('materialise has a generating source write each chunk in place, and copies the rows of a source that serves views', () => {
    const gen = generatedSource(10, 2, (n, out) => out.set([n, -n]));
    const want = Array.from({ length: 20 }, (_, i) => (i % 2 ? -1 : 1) * Math.floor(i / 2));
    const given: boolean[] = [];
    const X = materialise({ ...gen, rows: (n0, n1, into) => (given.push(!!into && into.length === (n1 - n0) * 2), gen.rows(n0, n1, into)) }, 4);
    expect(Array.from(X)).toEqual(want);
    expect(given).toEqual([true, true, true]);
    const views = arraySource(Float32Array.from(want), 10, 2);
    expect(Array.from(materialise({ ...views, rows: (n0, n1) => views.rows(n0, n1) }, 3))).toEqual(want);
    // a source that ignores the buffer and returns new arrays is copied too
    expect(Array.from(materialise({ N: 10, D: 2, rows: (n0, n1) => gen.rows(n0, n1) }, 4))).toEqual(want);
  });

  it('chunks cover 0..N with at most `chunk` rows each', () => {
    expect(chunks(10, 4)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(chunks(8, 4)).toEqual([[0, 4], [4, 8]]);
    expect(chunks(3, 5)).toEqual([[0, 3]]);
    expect(chunks(0, 4)).toEqual([]);
  });

  it('storedSource subtracts offset − (the source’s own offset) and announces offset; f16 and f32 agree', () => {
    const N = 11;
    const D = 3;
    const X = Float32Array.from({ length: N * D }, (_, i) => 100 + (i % 7) * 4.5); // exact in half precision after − 27.5 / − 127.5
    const raw = arraySource(X, N, D);
    const minus = (d: number) => Array.from(X.subarray(6, 24), (v) => v - d);
    for (const precision of ['f32', 'f16'] as const) {
      const plain = storedSource(raw, precision, 4);
      expect(plain.offset).toBe(0);
      expect([plain.N, plain.D]).toEqual([N, D]);
      expect(Array.from(plain.rows(2, 8))).toEqual(minus(0));
      const centred = storedSource(raw, precision, 4, 127.5);
      expect(centred.offset).toBe(127.5);
      expect(Array.from(centred.rows(2, 8))).toEqual(minus(127.5));
      // a source that already holds s − 100: stored as s − 127.5, i.e. its rows minus 27.5
      const shifted = { ...arraySource(Float32Array.from(X, (v) => v - 100), N, D), offset: 100 };
      const re = storedSource(shifted, precision, 4, 127.5);
      expect(re.offset).toBe(127.5);
      expect(Array.from(re.rows(2, 8))).toEqual(minus(127.5));
      expect(Array.from(re.rows(0, N))).toEqual(Array.from(X, (v) => v - 127.5));
      expect(Array.from(storedSource(shifted, precision).rows(0, N))).toEqual(Array.from(X)); // default chunk, offset 0: s − 100 + 100
    }
  });

  it('f16 storage holds the nearest half of each value minus the offset; the source is read once, chunk by chunk', () => {
    const N = 10;
    const D = 2;
    const X = Float32Array.from({ length: N * D }, (_, i) => 100.03 + i * 7.77); // not representable in half precision
    const seen: number[] = [];
    const src = arraySource(X, N, D);
    const counted = { ...src, rows: (n0: number, n1: number) => (seen.push(n0, n1), src.rows(n0, n1)) };
    const h = storedSource(counted, 'f16', 5, 127.5);
    expect(seen).toEqual([0, 5, 5, 10]);
    const want = Array.from(X, (v) => fromHalf(toHalf(v - 127.5)));
    expect(want.some((v, i) => v !== Math.fround(X[i]! - 127.5))).toBe(true);
    expect(Array.from(h.rows(0, N))).toEqual(want);
    expect(Array.from(h.rows(3, 7))).toEqual(want.slice(6, 14));
    seen.length = 0;
    storedSource(counted, 'f32', 4);
    expect(seen).toEqual([0, 4, 4, 8, 8, 10]);
  });
});

describe('half precision (IEEE 754 binary16)', () => {
  it('decodes known bit patterns', () => {
    const known: [number, number][] = [
      [0x0000, 0], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x3555, 0.333251953125],
      [0x3bff, 1 - 2 ** -11], [0x3c00, 1], [0x3c01, 1 + 2 ** -10], [0x4000, 2], [0x57f8, 127.5], [0x7bff, 65504],
      [0x7c00, Infinity], [0xc000, -2], [0x8001, -(2 ** -24)], [0xfbff, -65504], [0xfc00, -Infinity],
    ];
    for (const [h, v] of known) expect(fromHalf(h), h.toString(16)).toBe(v);
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
    for (const h of [0x7c01, 0x7e00, 0x7fff, 0xfe00]) expect(fromHalf(h)).toBeNaN();
    expect(fromHalf(0x13c00)).toBe(1); // only the low 16 bits
  });

  it('decodes every finite pattern in increasing order, spaced 2^(e − 25) within exponent e (2^-24 for subnormals)', () => {
    const wrong: string[] = []; // one expect at the end: 2 × 31,743 patterns
    for (let h = 1; h <= 0x7bff; h++) {
      const e = Math.max(1, (h - 1) >> 10); // the binade of the lower neighbour
      if (fromHalf(h) - fromHalf(h - 1) !== 2 ** (e - 25)) wrong.push(`step to ${h.toString(16)}`);
      if (fromHalf(h | 0x8000) !== -fromHalf(h)) wrong.push(`sign of ${h.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('toHalf is exact on every half value and rounds each midpoint to the even neighbour, the rest to the nearest', () => {
    const ulp32 = (v: number) => 2 ** (Math.floor(Math.log2(v)) - 23);
    const wrong: string[] = [];
    const check = (x: number, want: number) => {
      if (toHalf(x) !== want) wrong.push(`toHalf(${x}) = ${toHalf(x).toString(16)}, expected ${want.toString(16)}`);
    };
    for (let h = 0; h < 0x7c00; h++) {
      const v = fromHalf(h);
      check(v, h);
      check(-v, h | 0x8000);
      if (h === 0x7bff) continue;
      const mid = (v + fromHalf(h + 1)) / 2; // exact in float32
      check(mid, h % 2 === 0 ? h : h + 1);
      check(mid - ulp32(mid), h);
      check(mid + ulp32(mid), h + 1);
    }
    expect(wrong).toEqual([]);
  });

  it('toHalf: overflow to ±∞ from 65520 (the midpoint above 65504), underflow to ±0 at and below 2^-25, NaN stays NaN', () => {
    expect(toHalf(65504 + 15.99)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00);
    expect(toHalf(-65520)).toBe(0xfc00);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(2 ** 16)).toBe(0x7c00);
    expect(toHalf(Infinity)).toBe(0x7c00);
    expect(toHalf(-Infinity)).toBe(0xfc00);
    expect(toHalf(2 ** -25)).toBe(0); // tie between 0 and 2^-24: even
    expect(toHalf(2 ** -25 * 1.0001)).toBe(1);
    expect(toHalf(2 ** -26)).toBe(0);
    expect(toHalf(2 ** -30)).toBe(0);
    expect(toHalf(-(2 ** -30))).toBe(0x8000);
    expect(toHalf(1e-45)).toBe(0); // a float32 subnormal
    for (let k = 26; k < 149; k++) {
      // every exponent below the half subnormals (a shift of 32 bits would wrap around in JavaScript)
      expect(toHalf(1.5 * 2 ** -k), `1.5·2^-${k}`).toBe(0);
      expect(toHalf(-(2 ** -k)), `−2^-${k}`).toBe(0x8000);
    }
    expect(toHalf(NaN)).toBe(0x7e00);
    expect(fromHalf(toHalf(NaN))).toBeNaN();
  });
});
