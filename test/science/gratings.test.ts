// Gratings (docs/method.md §2): list order, analytic pixel values, period, orientation convention (θ = wave vector, bars at θ+90°).
import { describe, expect, it } from 'vitest';
import { gratingAxes, gratingImage, gratingImageInto, gratingIndex, gratingList, gratingLuminance } from '../../science/gratings.ts';

const defaults = { orientations: 12, kMin: -8, kMax: -1.5, kStep: 0.5, phases: 8, contrast: 1 };
const g = (thetaDeg: number, sfCpp: number, phaseDeg = 0, contrast = 1) => ({ thetaDeg, sfCpp, phaseDeg, contrast });

/** Grey value of pixel (x, y) of an HWC RGB image of width W (checks R = G = B). */
function px(img: Float32Array, W: number, x: number, y: number): number {
  const i = (y * W + x) * 3;
  expect(img[i + 1]).toBe(img[i]);
  expect(img[i + 2]).toBe(img[i]);
  return img[i];
}

describe('grating list', () => {
  it('default set: 12 θ × 14 f × 8 φ = 1,344 in the documented order', () => {
    const list = gratingList(defaults);
    expect(list.length).toBe(1344);
    const axes = gratingAxes(defaults);
    expect(axes.thetasDeg).toEqual([0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165]);
    expect(axes.ks).toEqual([-8, -7.5, -7, -6.5, -6, -5.5, -5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5]);
    expect(axes.sfsCpp[0]).toBe(1 / 256);
    expect(axes.sfsCpp[13]).toBeCloseTo(2 ** -1.5, 15);
    expect(axes.phasesDeg).toEqual([0, 45, 90, 135, 180, 225, 270, 315]);
    list.forEach((d, i) => expect(d.stimulus).toBe(i));
    // stimulus = (iθ·nF + iF)·nΦ + iΦ
    const d = list[gratingIndex(axes, 5, 3, 6)];
    expect(d.stimulus).toBe((5 * 14 + 3) * 8 + 6);
    expect(d).toEqual({ stimulus: 590, thetaDeg: 75, sfCpp: 2 ** -6.5, phaseDeg: 270, contrast: 1 });
    expect(list[1]).toMatchObject({ thetaDeg: 0, sfCpp: 1 / 256, phaseDeg: 45 });
    expect(list[8]).toMatchObject({ thetaDeg: 0, sfCpp: 2 ** -7.5, phaseDeg: 0 });
    expect(list[112]).toMatchObject({ thetaDeg: 15, sfCpp: 1 / 256, phaseDeg: 0 });
  });

  it('small sets and rejected ranges', () => {
    expect(gratingList({ ...defaults, orientations: 4, kMin: -4, kMax: -2, kStep: 1, phases: 2 }).length).toBe(4 * 3 * 2);
    expect(gratingAxes({ ...defaults, kMin: -3, kMax: -3 }).ks).toEqual([-3]);
    expect(gratingAxes({ ...defaults, kMin: -3, kMax: -2, kStep: 0.3 }).ks.length).toBe(4); // −3, −2.7, −2.4, −2.1
    expect(() => gratingAxes({ ...defaults, kMin: -1, kMax: -2 })).toThrow(/kMin/);
  });
});

describe('grating pixels', () => {
  it('analytic values at chosen pixels (θ = 0, f = 1/8)', () => {
    const img = gratingImage(g(0, 1 / 8), 16, 4);
    expect(px(img, 16, 0, 0)).toBeCloseTo(255, 4); // cos 0 = 1
    expect(px(img, 16, 2, 3)).toBeCloseTo(127.5, 4); // cos π/2 = 0
    expect(px(img, 16, 4, 1)).toBeCloseTo(0, 4); // cos π = −1
    expect(px(img, 16, 1, 0)).toBeCloseTo(127.5 * (1 + Math.SQRT1_2), 4);
    // Phase 90°: L(0, 0) = 127.5(1 + cos 90°) = 127.5; L(2, 0) = 127.5(1 + cos 180°) = 0.
    const shifted = gratingImage(g(0, 1 / 8, 90), 16, 1);
    expect(px(shifted, 16, 0, 0)).toBeCloseTo(127.5, 4);
    expect(px(shifted, 16, 2, 0)).toBeCloseTo(0, 4);
    // Contrast 0.5 halves the swing.
    const low = gratingImage(g(0, 1 / 8, 0, 0.5), 16, 1);
    expect(px(low, 16, 0, 0)).toBeCloseTo(191.25, 4);
    expect(px(low, 16, 4, 0)).toBeCloseTo(63.75, 4);
  });

  it('matches the formula at every pixel of an offset window, for oblique θ', () => {
    for (const d of [g(30, 0.07, 45), g(105, 2 ** -1.5, 315), g(165, 1 / 256, 180, 0.3)]) {
      const [x0, y0, W, H] = [13, 57, 21, 17];
      const img = gratingImage(d, W, H, x0, y0);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        expect(Math.abs(px(img, W, x, y) - gratingLuminance(d, x0 + x, y0 + y))).toBeLessThan(2e-5 * 255);
      }
      // A window of the full image equals the image generated at that origin (absolute coordinates).
      const full = gratingImage(d, 64, 80);
      expect(px(full, 64, 13 + 5, 57 + 9)).toBeCloseTo(px(img, W, 5, 9), 3);
    }
  });

  it('has period 1/f along the wave vector and is constant along the bars', () => {
    const d = g(30, 1 / 16, 10);
    const t = (30 * Math.PI) / 180;
    for (const [x, y] of [[0, 0], [3.3, 7.1], [100, 20]]) {
      expect(gratingLuminance(d, x + 16 * Math.cos(t), y + 16 * Math.sin(t))).toBeCloseTo(gratingLuminance(d, x, y), 9);
      expect(gratingLuminance(d, x + 8 * Math.cos(t), y + 8 * Math.sin(t))).toBeCloseTo(255 - gratingLuminance(d, x, y), 9);
      // Along the bars (θ + 90°) nothing changes.
      expect(gratingLuminance(d, x - 5 * Math.sin(t), y + 5 * Math.cos(t))).toBeCloseTo(gratingLuminance(d, x, y), 9);
    }
    const img = gratingImage(g(0, 1 / 8), 32, 2);
    for (let x = 0; x < 24; x++) expect(px(img, 32, x + 8, 1)).toBeCloseTo(px(img, 32, x, 1), 3);
  });

  it('orientation convention: θ = 0 gives vertical bars, θ = 90° horizontal bars, θ = 45° bars along (−1, 1)', () => {
    const W = 24;
    const v = gratingImage(g(0, 0.1), W, W);
    const h = gratingImage(g(90, 0.1), W, W);
    const o = gratingImage(g(45, 0.1), W, W);
    for (let y = 0; y < W - 1; y++) {
      for (let x = 1; x < W - 1; x++) {
        expect(px(v, W, x, y + 1)).toBeCloseTo(px(v, W, x, y), 3); // constant down a column
        expect(px(h, W, x + 1, y)).toBeCloseTo(px(h, W, x, y), 3); // constant along a row
        expect(px(o, W, x - 1, y + 1)).toBeCloseTo(px(o, W, x, y), 3); // constant along 135°
      }
    }
    expect(Math.abs(px(v, W, 1, 0) - px(v, W, 0, 0))).toBeGreaterThan(10);
    expect(Math.abs(px(h, W, 0, 1) - px(h, W, 0, 0))).toBeGreaterThan(10);
    expect(Math.abs(px(o, W, 1, 1) - px(o, W, 0, 0))).toBeGreaterThan(10);
  });

  it('its 2-D DFT peaks at k ∝ (cos θ, sin θ): θ = atan2(k_y, k_x) mod 180°, f = |k|/N', () => {
    const N = 64;
    for (const [thetaDeg, kx, ky] of [[0, 8, 0], [90, 0, 8], [45, 4, 4], [135, -4, 4]]) {
      const f = Math.hypot(kx, ky) / N;
      const img = gratingImage(g(thetaDeg, f), N, N);
      let best = { p: -1, kx: 0, ky: 0 };
      for (let qy = -12; qy <= 12; qy++) for (let qx = 0; qx <= 12; qx++) {
        if (qx === 0 && qy <= 0) continue; // half plane, DC excluded
        let re = 0;
        let im = 0;
        for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
          const a = (-2 * Math.PI * (qx * x + qy * y)) / N;
          const v = img[(y * N + x) * 3] - 127.5;
          re += v * Math.cos(a);
          im += v * Math.sin(a);
        }
        const p = re * re + im * im;
        if (p > best.p) best = { p, kx: qx, ky: qy };
      }
      const sign = kx < 0 || (kx === 0 && ky < 0) ? -1 : 1; // the peak found in the half plane qx ≥ 0
      expect([best.kx, best.ky]).toEqual([sign * kx, sign * ky]);
      const thetaPred = (((Math.atan2(best.ky, best.kx) * 180) / Math.PI) % 180 + 180) % 180;
      expect(thetaPred).toBeCloseTo(thetaDeg, 6);
    }
  });

  it('Into writes at an offset and rejects a buffer that is too small', () => {
    const d = g(60, 0.05, 30);
    const a = gratingImage(d, 5, 4, 2, 3);
    const buf = new Float32Array(7 + a.length);
    gratingImageInto(buf, 7, d, 5, 4, 2, 3);
    expect(buf.subarray(7)).toEqual(a);
    expect(() => gratingImageInto(new Float32Array(10), 0, d, 5, 4)).toThrow(/do not fit/);
  });
});

describe('grating set edges', () => {
  it('rejects a non-positive or missing kStep and kMin above kMax, naming the key', () => {
    for (const kStep of [0, -0.5, NaN]) expect(() => gratingAxes({ ...defaults, kStep })).toThrow(`stimuli.gratings.kStep: expected a positive number, got ${kStep}`);
    expect(() => gratingAxes({ ...defaults, kMin: -1, kMax: -2 })).toThrow('stimuli.gratings.kMin: expected ≤ kMax (-2), got -1');
  });

  it('counts k = kMin … kMax inclusive although (kMax − kMin)/kStep rounds below the integer', () => {
    expect((-0.8 - -1.5) / 0.1).toBeLessThan(7); // 6.999999999999999
    const ks = gratingAxes({ ...defaults, kMin: -1.5, kMax: -0.8, kStep: 0.1 }).ks;
    expect(ks.length).toBe(8);
    expect(ks[7]).toBeCloseTo(-0.8, 12);
    expect(gratingAxes({ ...defaults, kMin: -2, kMax: -1.75, kStep: 0.5 }).ks).toEqual([-2]); // a step beyond kMax is not taken
  });

  it('every grating carries the set’s contrast; a 3 × 2 × 1 set lists θ, then f', () => {
    const list = gratingList({ orientations: 3, kMin: -3, kMax: -2, kStep: 1, phases: 1, contrast: 0.3 });
    expect(list).toEqual([
      { stimulus: 0, thetaDeg: 0, sfCpp: 1 / 8, phaseDeg: 0, contrast: 0.3 },
      { stimulus: 1, thetaDeg: 0, sfCpp: 1 / 4, phaseDeg: 0, contrast: 0.3 },
      { stimulus: 2, thetaDeg: 60, sfCpp: 1 / 8, phaseDeg: 0, contrast: 0.3 },
      { stimulus: 3, thetaDeg: 60, sfCpp: 1 / 4, phaseDeg: 0, contrast: 0.3 },
      { stimulus: 4, thetaDeg: 120, sfCpp: 1 / 8, phaseDeg: 0, contrast: 0.3 },
      { stimulus: 5, thetaDeg: 120, sfCpp: 1 / 4, phaseDeg: 0, contrast: 0.3 },
    ]);
  });

  it('any window is bit-identical to that window of the whole image (shards and crops see the same stimulus)', () => {
    for (const d of [g(30, 0.07, 45), g(165, 2 ** -1.5, 315, 0.3)]) {
      const W = 40;
      const full = gratingImage(d, W, W);
      for (const [x0, y0, w, h] of [[0, 0, W, W], [7, 3, 11, 13], [39, 39, 1, 1], [20, 0, 20, 40]]) {
        const win = gratingImage(d, w, h, x0, y0);
        const want = new Float32Array(w * h * 3);
        for (let r = 0; r < h; r++) want.set(full.subarray(((y0 + r) * W + x0) * 3, ((y0 + r) * W + x0 + w) * 3), r * w * 3);
        expect(win).toEqual(want);
      }
    }
  });

  it('Into: an output that fits exactly is written, a negative offset is refused with the sizes', () => {
    const d = g(60, 0.05, 30);
    const buf = new Float32Array(2 * 3 * 3);
    gratingImageInto(buf, 0, d, 3, 2, 4, 5);
    expect(buf).toEqual(gratingImage(d, 3, 2, 4, 5));
    expect(() => gratingImageInto(buf, -1, d, 1, 1)).toThrow('grating output: 1×1×3 values at offset -1 do not fit in 18');
    expect(() => gratingImageInto(buf, 1, d, 3, 2)).toThrow('grating output: 3×2×3 values at offset 1 do not fit in 18');
    // room before and after the window stays untouched
    const big = new Float32Array(4 + 18 + 9).fill(-1);
    gratingImageInto(big, 4, d, 3, 2, 4, 5);
    expect(Array.from(big.subarray(0, 4))).toEqual([-1, -1, -1, -1]);
    expect(big.subarray(4, 22)).toEqual(buf);
    expect(Array.from(big.subarray(22))).toEqual(new Array(9).fill(-1));
  });

  it('the origin shifts the phase by 2πf(x0 cos θ + y0 sin θ): pixel (0, 0) of a window at (x0, y0) is L(x0, y0)', () => {
    // θ = 0, f = 1/8: x0 = 4 is half a period (cos π = −1); θ = 90°: y0 = 4 likewise; x0 moves nothing at θ = 90°
    expect(gratingImage(g(0, 1 / 8), 1, 1, 4, 0)[0]).toBeCloseTo(0, 4);
    expect(gratingImage(g(90, 1 / 8), 1, 1, 0, 4)[0]).toBeCloseTo(0, 4);
    expect(gratingImage(g(90, 1 / 8), 1, 1, 4, 0)[0]).toBeCloseTo(255, 4);
    expect(gratingImage(g(0, 1 / 8), 1, 1, 0, 4)[0]).toBeCloseTo(255, 4);
    expect(gratingLuminance(g(0, 1 / 8), 4, 0)).toBeCloseTo(0, 9);
    expect(gratingLuminance(g(90, 1 / 8), 0, 2)).toBeCloseTo(127.5, 9);
    expect(gratingLuminance(g(90, 1 / 8, 0, 0.4), 0, 4)).toBeCloseTo(127.5 * 0.6, 9);
  });
});
