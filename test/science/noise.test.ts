// Noise contract (docs/method.md §4, §6): regenerable windows, check anchoring, channel layout, moments vs the analytic clipped normal.
import { describe, expect, it } from 'vitest';
import {
  clippedNormalMoments,
  noiseCrop,
  noiseCropInto,
  noiseImageRGB,
  noiseImageRGBInto,
  noiseChannels,
  noiseMoments,
  normalCdf,
  normalPdf,
  type NoiseParams,
} from '../../science/noise.ts';
import { philox4x32 } from '../../science/philox.ts';

const grey: NoiseParams = { seed: 1, sigma: 48, color: 'grey', check: 1 };
const rgb: NoiseParams = { ...grey, color: 'rgb' };

function stats(a: ArrayLike<number>): { mean: number; sd: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(v / (a.length - 1)) };
}

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = stats(a);
  const sb = stats(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += (a[i] - sa.mean) * (b[i] - sb.mean);
  return c / (a.length - 1) / (sa.sd * sb.sd);
}

/** Window (x, y, w, h) of an HWC image of width W with C channels. */
function window(img: Float32Array, W: number, C: number, x: number, y: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * C);
  for (let r = 0; r < h; r++) out.set(img.subarray(((y + r) * W + x) * C, ((y + r) * W + x + w) * C), r * w * C);
  return out;
}

describe('noise regeneration', () => {
  it.each([
    ['grey', grey, 1],
    ['rgb', rgb, 3],
    ['grey checks 3', { ...grey, check: 3 }, 1],
    ['rgb checks 4', { ...rgb, check: 4 }, 3],
  ] as const)('any sub-window equals that window of a larger generation (%s)', (_name, p, C) => {
    const big = noiseCrop(p, 7, 0, 0, 64, 48);
    expect(big.length).toBe(64 * 48 * C);
    for (const [x, y, w, h] of [[0, 0, 64, 48], [5, 7, 10, 9], [13, 2, 1, 1], [63, 47, 1, 1], [20, 30, 44, 18]]) {
      expect(noiseCrop(p, 7, x, y, w, h)).toEqual(window(big, 64, C, x, y, w, h));
    }
  });

  it('is identical on every call and across the Into variants', () => {
    const a = noiseCrop(rgb, 3, 10, 20, 17, 11);
    expect(noiseCrop(rgb, 3, 10, 20, 17, 11)).toEqual(a);
    const buf = new Float32Array(5 + a.length);
    noiseCropInto(buf, 5, rgb, 3, 10, 20, 17, 11);
    expect(buf.subarray(5)).toEqual(a);
    const img = noiseImageRGB(grey, 9, 3, 4, 8, 6);
    const buf2 = new Float32Array(img.length + 2);
    noiseImageRGBInto(buf2, 2, grey, 9, 3, 4, 8, 6);
    expect(buf2.subarray(2)).toEqual(img);
    expect(buf2[0]).toBe(0);
  });

  it('differs between stimuli and between seeds, with no correlation', () => {
    const a = noiseCrop(grey, 0, 0, 0, 100, 100);
    const b = noiseCrop(grey, 1, 0, 0, 100, 100);
    const c = noiseCrop({ ...grey, seed: 2 }, 0, 0, 0, 100, 100);
    const d = noiseCrop({ ...grey, seed: 2 ** 32 + 1 }, 0, 0, 0, 100, 100);
    expect(Math.abs(corr(a, b))).toBeLessThan(0.05);
    expect(Math.abs(corr(a, c))).toBeLessThan(0.05);
    expect(Math.abs(corr(a, d))).toBeLessThan(0.05);
  });

  it('neighbouring pixels are uncorrelated (no spatial structure from the counter layout)', () => {
    const W = 200;
    const a = noiseCrop(grey, 4, 0, 0, W, W);
    const left = window(a, W, 1, 0, 0, W - 1, W);
    const right = window(a, W, 1, 1, 0, W - 1, W);
    const up = window(a, W, 1, 0, 0, W, W - 1);
    const down = window(a, W, 1, 0, 1, W, W - 1);
    expect(Math.abs(corr(left, right))).toBeLessThan(0.02);
    expect(Math.abs(corr(up, down))).toBeLessThan(0.02);
    // Same pixel across consecutive stimuli n, n+1 (the samples reverse correlation averages over).
    const series = Array.from({ length: 4000 }, (_, n) => noiseCrop(grey, n, 5, 5, 1, 1)[0]);
    expect(Math.abs(corr(series.slice(0, -1), series.slice(1)))).toBeLessThan(0.05);
  });

  it('handles negative origins (pixels left of / above the image) deterministically', () => {
    const a = noiseCrop({ ...grey, check: 4 }, 2, -6, -5, 12, 10);
    expect(noiseCrop({ ...grey, check: 4 }, 2, -6, -5, 12, 10)).toEqual(a);
    // Check anchored at (0,0): pixels x = -4..-1 form one check, x = 0..3 the next.
    expect(a[5 * 12 + 2]).toBe(a[5 * 12 + 5]); // x = -4 and x = -1, y = 0
    expect(a[5 * 12 + 5]).not.toBe(a[5 * 12 + 6]); // x = -1 vs x = 0
  });
});

describe('noise checks and channels', () => {
  it('is constant within c×c checks anchored at (0, 0) and changes across check borders', () => {
    const c = 3;
    const p = { ...grey, check: c };
    const W = 30;
    const a = noiseCrop(p, 5, 0, 0, W, W);
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        expect(a[y * W + x]).toBe(a[Math.floor(y / c) * c * W + Math.floor(x / c) * c]);
      }
    }
    let borders = 0;
    for (let x = c; x < W; x += c) if (a[x] !== a[x - 1]) borders++;
    expect(borders).toBeGreaterThanOrEqual(8);
    // A crop starting mid-check (x0 = 4) still follows the absolute grid: x = 4, 5 share a check, 6 starts the next.
    const crop = noiseCrop(p, 5, 4, 0, 5, 1);
    expect([...crop]).toEqual([...a.subarray(4, 9)]);
    expect(crop[0]).toBe(crop[1]);
  });

  it('rgb: three independent channels with the noise moments; grey: one channel, replicated for the network', () => {
    const W = 200;
    const a = noiseCrop(rgb, 11, 0, 0, W, W);
    const ch = [0, 1, 2].map((k) => Float32Array.from({ length: W * W }, (_, i) => a[3 * i + k]));
    expect(Math.abs(corr(ch[0], ch[1]))).toBeLessThan(0.02);
    expect(Math.abs(corr(ch[0], ch[2]))).toBeLessThan(0.02);
    expect(Math.abs(corr(ch[1], ch[2]))).toBeLessThan(0.02);
    const expected = noiseMoments(rgb);
    for (const c of ch) {
      const s = stats(c);
      expect(Math.abs(s.mean - expected.mean)).toBeLessThan(0.6);
      expect(Math.abs(s.sd - expected.sd)).toBeLessThan(0.5);
    }
    const g = noiseCrop(grey, 11, 0, 0, 10, 10);
    expect(g.length).toBe(100);
    const img = noiseImageRGB(grey, 11, 0, 0, 10, 10);
    for (let i = 0; i < 100; i++) expect([img[3 * i], img[3 * i + 1], img[3 * i + 2]]).toEqual([g[i], g[i], g[i]]);
    const imgRgb = noiseImageRGB(rgb, 11, 0, 0, 10, 10);
    expect(imgRgb).toEqual(noiseCrop(rgb, 11, 0, 0, 10, 10));
  });

  it('values are clipped to [0, 255] and clipping happens at the expected rate', () => {
    const p = { ...grey, sigma: 120 };
    const a = noiseCrop(p, 0, 0, 0, 300, 300);
    let lo = 0;
    let hi = 0;
    let outside = 0;
    for (const v of a) {
      if (v < 0 || v > 255) outside++;
      if (v === 0) lo++;
      if (v === 255) hi++;
    }
    expect(outside).toBe(0);
    const expectedRate = normalCdf(-127.5 / 120); // ≈ 0.144 per side
    expect(lo / a.length).toBeCloseTo(expectedRate, 2);
    expect(hi / a.length).toBeCloseTo(expectedRate, 2);
  });
});

describe('noise moments', () => {
  it('the analytic clipped-normal moments agree with numerical integration', () => {
    for (const [mu, sigma, lo, hi] of [[127.5, 48, 0, 255], [127.5, 120, 0, 255], [100, 30, 0, 255], [0, 1, -1, 2]]) {
      // Trapezoid over ξ ∈ [−12, 12] of clip(μ + σξ)·φ(ξ).
      const steps = 200000;
      let m1 = 0;
      let m2 = 0;
      for (let i = 0; i <= steps; i++) {
        const xi = -12 + (24 * i) / steps;
        const w = (i === 0 || i === steps ? 0.5 : 1) * (24 / steps) * Math.exp(-0.5 * xi * xi) / Math.sqrt(2 * Math.PI);
        const v = Math.min(hi, Math.max(lo, mu + sigma * xi));
        m1 += w * v;
        m2 += w * v * v;
      }
      const m = clippedNormalMoments(mu, sigma, lo, hi);
      expect(m.mean).toBeCloseTo(m1, 4);
      expect(m.sd).toBeCloseTo(Math.sqrt(m2 - m1 * m1), 4);
    }
  });

  it('σ = 48: mean 127.5, SD slightly under σ; 10^6 generated pixels match both', () => {
    const m = noiseMoments({ sigma: 48 });
    expect(m.mean).toBeCloseTo(127.5, 10);
    expect(m.sd).toBeLessThan(48);
    expect(m.sd).toBeGreaterThan(47);
    const a = noiseCrop(grey, 0, 0, 0, 1000, 1000);
    const s = stats(a);
    // Standard errors at N = 10^6: mean ≈ 0.048, SD ≈ 0.034.
    expect(Math.abs(s.mean - m.mean)).toBeLessThan(0.2);
    expect(Math.abs(s.sd - m.sd)).toBeLessThan(0.15);
    // And a clearly wrong SD (unclipped σ) is distinguishable at this N only when clipping is strong:
    const strong = { ...grey, sigma: 120 };
    const ss = stats(noiseCrop(strong, 0, 0, 0, 500, 500));
    expect(Math.abs(ss.sd - noiseMoments(strong).sd)).toBeLessThan(0.3);
    expect(120 - ss.sd).toBeGreaterThan(20);
  });

  it('rejects invalid arguments', () => {
    expect(() => noiseCrop(grey, -1, 0, 0, 2, 2)).toThrow(/noise index/);
    expect(() => noiseCrop(grey, 0.5, 0, 0, 2, 2)).toThrow(/noise index/);
    expect(() => noiseCrop({ ...grey, check: 0 }, 0, 0, 0, 2, 2)).toThrow(/check/);
    expect(() => noiseCrop(grey, 0, 0.5, 0, 2, 2)).toThrow(/origin/);
    expect(() => noiseCropInto(new Float32Array(3), 0, grey, 0, 0, 0, 2, 2)).toThrow(/do not fit/);
  });
});

// The documented generator written out independently: counter (⌊x/c⌋, ⌊y/c⌋, n, 0) as uint32, key (seed mod 2^32,
// ⌊seed/2^32⌋), u = (w + 0.5)/2^32, Box–Muller, clip to [0, 255]; Philox4x32-10 itself is checked against Random123's
// known answers in philox.test.ts.
function documentedPixel(p: NoiseParams, n: number, x: number, y: number): [number, number, number] {
  const w = new Uint32Array(4);
  philox4x32(Math.floor(x / p.check) >>> 0, Math.floor(y / p.check) >>> 0, n, 0, p.seed % 2 ** 32, Math.floor(p.seed / 2 ** 32), w);
  const u = Array.from(w, (v) => (v + 0.5) / 2 ** 32);
  const clip = (v: number) => Math.min(255, Math.max(0, v));
  const r = Math.sqrt(-2 * Math.log(u[0]!));
  const r2 = Math.sqrt(-2 * Math.log(u[2]!));
  return [
    clip(127.5 + p.sigma * r * Math.cos(2 * Math.PI * u[1]!)),
    clip(127.5 + p.sigma * r * Math.sin(2 * Math.PI * u[1]!)),
    clip(127.5 + p.sigma * r2 * Math.cos(2 * Math.PI * u[3]!)),
  ];
}

describe('noise values (the documented generator)', () => {
  it('seed 0, stimulus 0, check (0, 0): Philox4x32-10 known answer 0 through the uniforms and Box–Muller', () => {
    // Random123 kat_vectors: philox4x32_10(ctr 0, key 0) = 6627e8d5 e169c58d bc57ac4c 9b00dbd8
    const u = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8].map((w) => (w + 0.5) / 2 ** 32);
    const xi = [
      Math.sqrt(-2 * Math.log(u[0]!)) * Math.cos(2 * Math.PI * u[1]!), // 0.99114
      Math.sqrt(-2 * Math.log(u[0]!)) * Math.sin(2 * Math.PI * u[1]!), // −0.92466
      Math.sqrt(-2 * Math.log(u[2]!)) * Math.cos(2 * Math.PI * u[3]!), // −0.61761
    ];
    expect(xi[0]).toBeCloseTo(0.99114, 5);
    const p0 = { seed: 0, sigma: 48, color: 'rgb' as const, check: 3 };
    const a = noiseCrop(p0, 0, 0, 0, 3, 3);
    for (let i = 0; i < 9; i++) for (let k = 0; k < 3; k++) expect(a[3 * i + k]).toBeCloseTo(127.5 + 48 * xi[k]!, 4);
    const g = noiseCrop({ ...p0, color: 'grey', sigma: 20 }, 0, 0, 0, 3, 3);
    for (const v of g) expect(v).toBeCloseTo(127.5 + 20 * xi[0]!, 4);
    // clipped: σ = 200 puts G (127.5 − 184.9) below 0
    const c = noiseCrop({ ...p0, sigma: 200, check: 1 }, 0, 0, 0, 1, 1);
    expect(Array.from(c)).toEqual([255, 0, Math.fround(127.5 + 200 * xi[2]!)]);
  });

  it.each([
    ['grey, checks 3, seed ≥ 2^32, negative origin', { seed: 5 * 2 ** 32 + 7, sigma: 48, color: 'grey', check: 3 }, 123456, -4, -5],
    ['rgb, checks 1', { seed: 2 ** 32 - 1, sigma: 60, color: 'rgb', check: 1 }, 2 ** 32 - 1, 250, 3],
    ['rgb, checks 2, seed 2^53 − 1', { seed: Number.MAX_SAFE_INTEGER, sigma: 100, color: 'rgb', check: 2 }, 9, -3, 6],
    ['grey, checks 2, a window wholly left of the image, partly above it', { seed: 3, sigma: 48, color: 'grey', check: 2 }, 0, -70, -9],
  ] as const)('every pixel of a window equals the documented generator, to the last float32 bit (%s)', (_name, p, n, x0, y0) => {
    // 64×64 windows: a change of the uniforms by 2^-32 (u = w/2^32 or (w + 1)/2^32) moves a grey level by ~1e-7,
    // below float32's resolution (~8e-6 near 128) except for the ~1 % of values next to a rounding boundary
    const [W, H] = [64, 64];
    const C = p.color === 'rgb' ? 3 : 1;
    const a = noiseCrop(p, n, x0, y0, W, H);
    const img = noiseImageRGB(p, n, x0, y0, W, H);
    const want = new Float32Array(W * H * C);
    const wantImg = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = documentedPixel(p, n, x0 + x, y0 + y);
        const i = y * W + x;
        want.set(v.slice(0, C), i * C);
        wantImg.set(C === 3 ? v : [v[0], v[0], v[0]], 3 * i);
      }
    }
    expect(a).toEqual(want);
    expect(img).toEqual(wantImg);
  });

  it('Into writes exactly its window: values before and after it in the buffer stay untouched', () => {
    for (const p of [grey, { ...rgb, check: 2 }]) {
      const C = p.color === 'rgb' ? 3 : 1;
      const buf = new Float32Array(3 + 5 * 4 * C + 7).fill(-1);
      noiseCropInto(buf, 3, p, 2, 1, 1, 5, 4);
      expect(Array.from(buf.subarray(0, 3))).toEqual([-1, -1, -1]);
      expect(buf.subarray(3, 3 + 20 * C)).toEqual(noiseCrop(p, 2, 1, 1, 5, 4));
      expect(Array.from(buf.subarray(3 + 20 * C))).toEqual(new Array(7).fill(-1));
      const img = new Float32Array(2 + 5 * 4 * 3 + 4).fill(-1);
      noiseImageRGBInto(img, 2, p, 2, 1, 1, 5, 4);
      expect(Array.from(img.subarray(0, 2))).toEqual([-1, -1]);
      expect(img.subarray(2, 62)).toEqual(noiseImageRGB(p, 2, 1, 1, 5, 4));
      expect(Array.from(img.subarray(62))).toEqual([-1, -1, -1, -1]);
    }
  });
});

describe('noise arguments', () => {
  const ok = () => new Float32Array(4);
  it.each([
    ['seed −1', { ...grey, seed: -1 }, 0, /noise seed: expected an integer ≥ 0, got -1/],
    ['seed 1.5', { ...grey, seed: 1.5 }, 0, /noise seed/],
    ['seed 2^53', { ...grey, seed: 2 ** 53 }, 0, /noise seed/],
    ['sigma 0', { ...grey, sigma: 0 }, 0, /noise sigma: expected a positive number, got 0/],
    ['sigma NaN', { ...grey, sigma: NaN }, 0, /noise sigma/],
    ['check 1.5', { ...grey, check: 1.5 }, 0, /noise check: expected a positive integer, got 1.5/],
    ['check 0', { ...grey, check: 0 }, 0, /noise check/],
    ['color', { ...grey, color: 'blue' as 'grey' }, 0, /noise color: expected grey or rgb, got blue/],
    ['n 2^32', grey, 2 ** 32, /noise index: expected an integer in \[0, 2\^32\), got 4294967296/],
  ] as const)('rejects %s', (_name, p, n, message) => {
    expect(() => noiseCropInto(ok(), 0, p, n, 0, 0, 2, 2)).toThrow(message);
  });

  it('rejects a fractional origin or size, a negative size, and output that does not fit; accepts the edges', () => {
    expect(() => noiseCrop(grey, 0, 0, 0.5, 2, 2)).toThrow(/noise crop origin: expected integers, got \(0, 0.5\)/);
    expect(() => noiseCropInto(ok(), 0, grey, 0, 0, 0, 1.5, 2)).toThrow(/noise crop size: expected integers ≥ 0, got 1.5×2/);
    expect(() => noiseCropInto(ok(), 0, grey, 0, 0, 0, 2, 1.5)).toThrow(/noise crop size/);
    expect(() => noiseCropInto(ok(), 0, grey, 0, 0, 0, -1, 2)).toThrow(/noise crop size/);
    expect(() => noiseCropInto(ok(), 0, grey, 0, 0, 0, 2, -1)).toThrow(/noise crop size/);
    expect(() => noiseCropInto(ok(), -1, grey, 0, 0, 0, 1, 1)).toThrow(/noise output: 1×1×1 values at offset -1 do not fit in 4/);
    expect(() => noiseCropInto(ok(), 1, grey, 0, 0, 0, 2, 2)).toThrow(/do not fit/);
    expect(() => noiseImageRGBInto(new Float32Array(11), 0, grey, 0, 0, 0, 2, 2)).toThrow(/2×2×3 values at offset 0 do not fit in 11/);
    // exactly fitting, the largest seed and index, empty crops
    const buf = new Float32Array(5);
    noiseCropInto(buf, 1, { ...grey, seed: Number.MAX_SAFE_INTEGER }, 2 ** 32 - 1, 0, 0, 2, 2);
    expect(buf[0]).toBe(0);
    expect(buf.subarray(1).every((v) => v > 0)).toBe(true);
    expect(noiseCrop(grey, 0, 3, 3, 0, 5).length).toBe(0);
    expect(noiseCrop(rgb, 0, 3, 3, 5, 0).length).toBe(0);
    const edge = new Float32Array(2);
    noiseCropInto(edge, 2, grey, 0, 0, 0, 0, 4);
    expect(Array.from(edge)).toEqual([0, 0]);
  });

  it('noiseChannels: 1 for grey, 3 for rgb', () => {
    expect(noiseChannels(grey)).toBe(1);
    expect(noiseChannels(rgb)).toBe(3);
  });
});

describe('normal distribution helpers', () => {
  it('Φ and φ at known points', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(normalPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
    expect(normalPdf(2)).toBeCloseTo(Math.exp(-2) / Math.sqrt(2 * Math.PI), 15);
    expect(normalPdf(-2)).toBe(normalPdf(2));
  });

  it('clipped-normal moments: no clipping leaves (μ, σ); an interval far below or above gives the clip value and SD 0', () => {
    const free = clippedNormalMoments(3, 2, -1e6, 1e6);
    expect(free.mean).toBeCloseTo(3, 12);
    expect(free.sd).toBeCloseTo(2, 12);
    expect(clippedNormalMoments(1000, 1, 0, 255)).toEqual({ mean: 255, sd: 0 });
    expect(clippedNormalMoments(-1000, 1, 0, 255)).toEqual({ mean: 0, sd: 0 });
    // clip(ξ, 0, ∞): mean φ(0) = 1/√(2π), second moment E[ξ²; ξ > 0] = 1/2
    const half = clippedNormalMoments(0, 1, 0, 1e6);
    expect(half.mean).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 12);
    expect(half.sd).toBeCloseTo(Math.sqrt(0.5 - 1 / (2 * Math.PI)), 12);
  });
});
