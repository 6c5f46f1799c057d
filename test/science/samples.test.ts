import { describe, expect, it } from 'vitest';
import { arraySource, fromHalf, storedSource, toHalf } from '../../science/samples.ts';

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
