import { describe, expect, it } from 'vitest';
import { effectiveCrop } from '../../science/effective-rf.ts';

describe('effectiveCrop', () => {
  it('finds the centred square holding the requested share of a Gaussian excess-variance blob', () => {
    const r = 21;
    const U = 30;
    const z = new Float32Array(U * r * r);
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
    for (let u = 0; u < U; u++)
      for (let y = 0; y < r; y++)
        for (let x = 0; x < r; x++) {
          const signal = 6 * Math.exp(-((x - 10) ** 2 + (y - 10) ** 2) / (2 * 2 ** 2));
          const noise = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
          z[u * r * r + y * r + x] = signal + noise;
        }
    const e = effectiveCrop(z, new Array(U).fill(1), r, 1, 10, 0.95);
    // 95% of a 2-D Gaussian (σ = 2) of squared amplitude (σ_eff = √2) lies within about ±2.8 px: side ≈ 6–8
    expect(e.size).toBeGreaterThanOrEqual(5);
    expect(e.size).toBeLessThanOrEqual(9);
    expect(e.dx).toBe(10 - Math.round((e.size - 1) / 2));
    expect(e.coverage).toBeGreaterThanOrEqual(0.95);
    // nothing to measure: the full crop
    expect(effectiveCrop(z, new Array(U).fill(0), r, 1, 10, 0.95)).toMatchObject({ dx: 0, size: r, units: 0 });
  });
});

/** z-maps (U × r²·channels, HWC) whose excess z² − 1 is `excess(u, x, y, c)` exactly (z = √(1 + excess)). */
function zFromExcess(U: number, r: number, channels: number, excess: (u: number, x: number, y: number, c: number) => number): Float64Array {
  const z = new Float64Array(U * r * r * channels);
  for (let u = 0; u < U; u++)
    for (let y = 0; y < r; y++)
      for (let x = 0; x < r; x++)
        for (let c = 0; c < channels; c++) z[((u * r + y) * r + x) * channels + c] = Math.sqrt(1 + excess(u, x, y, c));
  return z;
}

/** Chebyshev distance of (x, y) from (cx, cy): the ring a pixel is on around a centre. */
const ring = (x: number, y: number, cx: number, cy: number) => Math.max(Math.abs(x - cx), Math.abs(y - cy));

describe('effectiveCrop on exact excess maps', () => {
  // r = 7, centre 3: excess 1/2 on the centre pixel, 1/4 spread over ring 1 (8 px), 1/4 over ring 2 (16 px); ring 3
  // none (z = √(1 + excess) gives the excess back to ~1e-16, so coverages are asked for ± 1e-12)
  const r = 7;
  const excessAt = (x: number, y: number) => [0.5, 0.25 / 8, 0.25 / 16, 0][ring(x, y, 3, 3)]!;

  it('the smallest centred square whose share reaches the coverage', () => {
    const z = zFromExcess(1, r, 1, (_u, x, y) => excessAt(x, y));
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5 - 1e-12)).toMatchObject({ dx: 3, dy: 3, size: 1, units: 1 });
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5 - 1e-12).coverage).toBeCloseTo(0.5, 14);
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5 + 1e-12).size).toBe(2);
    expect(effectiveCrop(z, [1], r, 1, 3, 0.75 - 1e-12)).toMatchObject({ dx: 2, dy: 2, size: 3, units: 1 });
    expect(effectiveCrop(z, [1], r, 1, 3, 0.75 - 1e-12).coverage).toBeCloseTo(0.75, 14);
    expect(effectiveCrop(z, [1], r, 1, 3, 0.75 + 1e-12).size).toBe(4);
    // an even side: the square of side 2 starts at round(3 − 1/2) = 3 (pixels 3–4) and holds 1/2 + 3 of ring 1's px
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5 + (3 * 0.25) / 8 - 1e-9)).toMatchObject({ dx: 3, dy: 3, size: 2 });
    // the whole excess within side 5: coverage 1 (to rounding) is reached there, not at the full crop
    expect(effectiveCrop(z, [1], r, 1, 3, 1 - 1e-12)).toMatchObject({ dx: 1, dy: 1, size: 5, units: 1 });
    expect(effectiveCrop(z, [1], r, 1, 3, 1 - 1e-12).coverage).toBeCloseTo(1, 14);
  });

  it('sums z² − 1 over every channel of a pixel (HWC) and over the units flagged, true or 1', () => {
    // 3 channels: the centre's 1/2 in channel 2 only, rings in channel 0; a second unit (not flagged) with all its
    // excess in a corner would move the crop there
    const z = zFromExcess(2, r, 3, (u, x, y, c) => (u === 1 ? (x === 0 && y === 0 && c === 1 ? 100 : 0) : ring(x, y, 3, 3) === 0 ? (c === 2 ? 0.5 : 0) : c === 0 ? excessAt(x, y) : 0));
    expect(effectiveCrop(z, [1, 0], r, 3, 3, 0.5 - 1e-12)).toMatchObject({ dx: 3, dy: 3, size: 1, units: 1 });
    expect(effectiveCrop(z, [true, false], r, 3, 3, 0.75 - 1e-12)).toMatchObject({ dx: 2, size: 3, units: 1 });
    // a later unit's maps start at u · r² · channels: unit 1 alone puts its crop in its own corner
    expect(effectiveCrop(z, [0, 1], r, 3, 0, 0.99)).toEqual({ dx: 0, dy: 0, size: 1, coverage: 1, units: 1 });
    // with the corner unit: total 101, the centre square never reaches 0.5 before the full crop
    expect(effectiveCrop(z, [1, 1], r, 3, 3, 0.5)).toEqual({ dx: 0, dy: 0, size: r, coverage: 1, units: 2 });
  });

  it('clamps the square inside the crop near its border; rounds the start to the nearest pixel', () => {
    // all excess on pixel (6, 6), centre given at 6: side 1 at 6; side 3 would start at 5 → clamped to r − 3 = 4
    const z = zFromExcess(1, r, 1, (_u, x, y) => (x === 6 && y === 6 ? 1 : 0));
    expect(effectiveCrop(z, [1], r, 1, 6, 1)).toMatchObject({ dx: 6, dy: 6, size: 1 });
    const corner = zFromExcess(1, r, 1, (_u, x, y) => (x === 0 && y === 0 ? 1 : x <= 1 && y <= 1 ? 1 / 3 : 0));
    // centre 0: sides 1 and 2 start at 0 (round(0 − 1/2) = −0 → 0); side 2 holds everything
    expect(effectiveCrop(corner, [1], r, 1, 0, 0.99)).toMatchObject({ dx: 0, dy: 0, size: 2 });
    // centre 6 with the excess at the far corner: no square smaller than the crop holds it
    expect(effectiveCrop(corner, [1], r, 1, 6, 0.99)).toMatchObject({ dx: 0, size: r, coverage: 1 });
    // a fractional centre (even crops): 2.5 → side 2 starts at round(2.5 − 0.5) = 2, side 1 at round(2.5) = 3
    const at = zFromExcess(1, 6, 1, (_u, x, y) => (x === 3 && y === 3 ? 1 : 0));
    expect(effectiveCrop(at, [1], 6, 1, 2.5, 1)).toMatchObject({ dx: 3, size: 1 });
  });

  it('a share exactly at the coverage is enough (z = 3: excess 8, exact)', () => {
    // excess 8 on the centre and 8 on one pixel of ring 1 (z = 3, z² − 1 = 8 exactly), 0 elsewhere: side 1 holds 1/2
    const z = new Float64Array(r * r).fill(1);
    z[3 * r + 3] = 3;
    z[2 * r + 2] = 3;
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5)).toEqual({ dx: 3, dy: 3, size: 1, coverage: 0.5, units: 1 });
    // side 2 starts at 3 (pixels 3–4) and misses (2, 2); side 3 holds both
    expect(effectiveCrop(z, [1], r, 1, 3, 1)).toEqual({ dx: 2, dy: 2, size: 3, coverage: 1, units: 1 });
  });

  it('near the far border the square is clamped to end at the crop’s edge', () => {
    // equal excess on (5, 5) and (6, 6), centre 6: side 2 would start at round(5.5) = 6, clamped to r − 2 = 5
    const z = new Float64Array(r * r).fill(1);
    z[5 * r + 5] = 3;
    z[6 * r + 6] = 3;
    expect(effectiveCrop(z, [1], r, 1, 6, 1)).toEqual({ dx: 5, dy: 5, size: 2, coverage: 1, units: 1 });
  });

  it('excess that sums to exactly 0 (as much below the null as above): the full crop', () => {
    const z = new Float64Array(r * r).fill(1);
    z[3 * r + 3] = 3; // +8
    z[0] = 0; // −1 on 8 pixels: 8 × (0 − 1) = −8
    for (let p = 1; p < 8; p++) z[p] = 0;
    expect(effectiveCrop(z, [1], r, 1, 3, 0.5)).toEqual({ dx: 0, dy: 0, size: r, coverage: 1, units: 1 });
  });

  it('no positive excess (z = ±1 everywhere, or below the null): the full crop, with the units counted', () => {
    const ones = new Float64Array(r * r).fill(-1);
    expect(effectiveCrop(ones, [1], r, 1, 3, 0.5)).toEqual({ dx: 0, dy: 0, size: r, coverage: 1, units: 1 });
    const below = new Float64Array(r * r).fill(0.5);
    expect(effectiveCrop(below, [1], r, 1, 3, 0.5)).toEqual({ dx: 0, dy: 0, size: r, coverage: 1, units: 1 });
  });
});
