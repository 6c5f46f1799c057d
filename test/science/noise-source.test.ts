// Noise crops as analysis samples: check and bin layouts and their features computed by hand on small crops, the
// check-space layout reproduces every pixel, and AWC on checks recovers an energy unit's quadrature pair (expanded
// back to pixels).
import { describe, expect, it } from 'vitest';
import { analysisBin, binnedSide, featureLayout, NoiseImageCache, imageRuns, noiseSource, toPixels } from '../../science/noise-source.ts';
import { noiseCrop } from '../../science/noise.ts';
import { awcTask } from '../../stages/revcor-worker.ts';
import { gabor, maxPrincipalAngle } from '../fixtures/synthetic-units.ts';

// the exact, fast tests first: under mutation testing a mutant is done at its first failing test
describe('feature layouts, exactly', () => {
  const grey = { seed: 6, sigma: 48, color: 'grey' as const, check: 2 };

  it('checks: a 3-px crop at x0 = −1 on 2×2 checks meets 2×2 checks; each pixel maps to its check, each check to its first pixel', () => {
    // columns x = −1 | 0, 1 → checks −1 | 0; rows y = 1 | 2, 3 → checks 0 | 1
    const l = featureLayout(grey, { x0: -1, y0: 1, size: 3 }, 'checks');
    expect([l.kind, l.D, l.pixelD, l.checks]).toEqual(['checks', 4, 9, true]);
    expect(Array.from(l.pixelToFeature)).toEqual([0, 1, 1, 2, 3, 3, 2, 3, 3]);
    expect(Array.from(l.featureToPixel)).toEqual([0, 1, 3, 4]);
    expect(Array.from(l.pixelWeight)).toEqual(new Array(9).fill(1));
    // rgb: the channel is the fastest index of both
    const c = featureLayout({ ...grey, color: 'rgb' }, { x0: 0, y0: 0, size: 3 }, 'checks');
    expect([c.D, c.pixelD]).toEqual([12, 27]);
    expect(Array.from(c.pixelToFeature.subarray(0, 9))).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5]);
    expect(Array.from(c.featureToPixel)).toEqual([0, 1, 2, 6, 7, 8, 9 * 2, 9 * 2 + 1, 9 * 2 + 2, 24, 25, 26]);
  });

  it('bins: a 5-px crop on 2×2 bins has 3×3 bins of 4, 2 and 1 pixels, weighted 1/√k', () => {
    const l = featureLayout({ ...grey, check: 1 }, { x0: 9, y0: 9, size: 5 }, 'checks', 2);
    expect([l.kind, l.D, l.pixelD, l.checks]).toEqual(['bins', 9, 25, false]);
    expect(Array.from(l.pixelToFeature)).toEqual([0, 0, 1, 1, 2, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8]);
    expect(Array.from(l.featureToPixel)).toEqual([0, 2, 4, 10, 12, 14, 20, 22, 24]);
    const w = [0.5, 0.5, Math.SQRT1_2, 0.5, 0.5, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, 1].map(Math.fround);
    expect(Array.from(l.pixelWeight.subarray(0, 5))).toEqual([w[0], w[0], w[1], w[1], w[2]]);
    expect(l.pixelWeight[24]).toBe(1);
    expect(l.pixelWeight[20]).toBe(Math.fround(Math.SQRT1_2));
  });

  it('the identity where neither checks nor bins apply', () => {
    const crop = { x0: 0, y0: 0, size: 4 };
    for (const l of [
      featureLayout(grey, crop, 'pixels'), // checks present but pixel features asked for
      featureLayout(grey, crop, 'pixels', 2), // bins only in the check mode
      featureLayout({ ...grey, check: 1 }, crop, 'pixels', 2), // … also on pixel noise (AWA reads pixels)
      featureLayout({ ...grey, check: 1 }, crop, 'checks'), // bin 1
      featureLayout({ ...grey, check: 1 }, crop, 'checks', 1),
    ]) {
      expect([l.kind, l.D, l.pixelD, l.checks]).toEqual(['pixels', 16, 16, false]);
      expect(Array.from(l.pixelToFeature)).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(Array.from(l.featureToPixel)).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(Array.from(l.pixelWeight)).toEqual(new Array(16).fill(1));
    }
    expect(featureLayout(grey, crop, 'checks', 2).kind).toBe('checks'); // noise checks win over bins
  });

  it('binnedSide = ⌈size/b⌉; analysisBin: the smallest b with ⌈size/b⌉²·channels ≤ maxDim, 1 with checks, at most size', () => {
    expect([binnedSide(7, 3), binnedSide(6, 3), binnedSide(1, 3), binnedSide(5, 1)]).toEqual([3, 2, 1, 5]);
    expect(analysisBin(20, 1, 1, 400)).toBe(1);
    expect(analysisBin(20, 1, 1, 399)).toBe(2);
    expect(analysisBin(20, 1, 1, 100)).toBe(2);
    expect(analysisBin(20, 1, 1, 99)).toBe(3); // 7² = 49
    expect(analysisBin(20, 3, 1, 100)).toBe(4); // 3·10² > 100, 3·7² = 147 > 100, 3·5² = 75
    expect(analysisBin(20, 1, 2, 10)).toBe(1);
    expect(analysisBin(20, 1, 1, 0)).toBe(20);
  });
});

describe('noise sources, exactly', () => {
  const grey = { seed: 6, sigma: 48, color: 'grey' as const, check: 1 };

  it('bin features are Σ (s − 127.5)/√k over each bin, from the noise crop (grey and rgb, one bin and many)', () => {
    for (const [color, size, bin] of [['grey', 5, 2], ['rgb', 5, 2], ['grey', 3, 4], ['rgb', 3, 3]] as const) {
      const p = { ...grey, color };
      const C = color === 'rgb' ? 3 : 1;
      const crop = { x0: 2, y0: -3, size };
      const layout = featureLayout(p, crop, 'checks', bin);
      const nb = Math.ceil(size / bin);
      expect(layout.D).toBe(nb * nb * C);
      const src = noiseSource(p, [4, 8], crop, layout);
      expect(src.offset).toBe(127.5);
      const rows = src.rows(0, 2);
      for (let n = 0; n < 2; n++) {
        const pix = noiseCrop(p, [4, 8][n]!, crop.x0, crop.y0, size, size);
        for (let by = 0; by < nb; by++) for (let bx = 0; bx < nb; bx++) for (let k = 0; k < C; k++) {
          let s = 0;
          let cnt = 0;
          for (let y = by * bin; y < Math.min(size, (by + 1) * bin); y++) for (let x = bx * bin; x < Math.min(size, (bx + 1) * bin); x++) {
            s += pix[(y * size + x) * C + k]! - 127.5;
            cnt++;
          }
          expect(rows[n * layout.D + (by * nb + bx) * C + k]).toBeCloseTo(s / Math.sqrt(cnt), 4);
        }
      }
    }
  });

  it('pixel and check features: raw grey levels, or minus 127.5 when centred (the source announces it); any row range', () => {
    const crop = { x0: 1, y0: 2, size: 4 };
    const idx = [3, 1, 4, 1, 5];
    for (const p of [grey, { ...grey, color: 'rgb' as const, check: 2 }]) {
      for (const layout of [featureLayout(p, crop, 'pixels'), featureLayout(p, crop, 'checks')]) {
        const raw = noiseSource(p, idx, crop, layout);
        expect(raw.offset).toBeUndefined();
        expect([raw.N, raw.D]).toEqual([5, layout.D]);
        const centred = noiseSource(p, idx, crop, layout, null, { centred: true });
        expect(centred.offset).toBe(127.5);
        const rows = raw.rows(1, 4);
        for (let n = 1; n < 4; n++) {
          const pix = noiseCrop(p, idx[n]!, crop.x0, crop.y0, crop.size, crop.size);
          const want = Array.from(layout.featureToPixel, (i) => pix[i]!);
          expect(Array.from(rows.subarray((n - 1) * layout.D, n * layout.D))).toEqual(want);
        }
        expect(Array.from(centred.rows(1, 4))).toEqual(Array.from(rows, (v) => Math.fround(v - 127.5)));
      }
    }
  });

  it('refuses offsets of the wrong length and offsets with check features, saying why', () => {
    const crop = { x0: 0, y0: 0, size: 4 };
    expect(() => noiseSource(grey, [1, 2], crop, featureLayout(grey, crop, 'pixels'), [0, 0, 0])).toThrow('noise offsets: expected 2 per sample (4), got 3');
    const p = { ...grey, check: 2 };
    expect(() => noiseSource(p, [1], crop, featureLayout(p, crop, 'checks'), [0, 0])).toThrow(/cut noise checks differently/);
  });

  it('whole images: crops touching the image edge are served, one pixel beyond (on any side) is refused', () => {
    const crop = { x0: 2, y0: 3, size: 4 };
    const layout = featureLayout(grey, crop, 'pixels');
    const cache = new NoiseImageCache();
    // 9 crops of image 7 on a 1-px grid: their 6×6 region costs less than 9 × 16 px, so it is shared
    const offsets: number[] = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) offsets.push(x + 4, y + 5);
    const idx = new Array(9).fill(7);
    expect(imageRuns(idx, offsets, 4, 0, 9)[0]).toMatchObject({ shared: true, dx0: 4, dy0: 5, width: 6, height: 6 });
    // the run covers x 6..11, y 8..13: a 14-px image holds it exactly
    const rows = noiseSource(grey, idx, crop, layout, offsets, { images: { side: 14, cache } }).rows(0, 9);
    const want = noiseSource(grey, idx, crop, layout, offsets).rows(0, 9);
    expect(Array.from(rows)).toEqual(Array.from(want));
    // a range ending at a crop with image rows below it (written to the end of the output, not beyond)
    expect(Array.from(noiseSource(grey, idx, crop, layout, offsets, { images: { side: 14, cache } }).rows(2, 5))).toEqual(Array.from(want.subarray(32, 80)));
    expect(Array.from(noiseSource(grey, idx, crop, layout, offsets).rows(2, 5))).toEqual(Array.from(want.subarray(32, 80)));
    expect(() => noiseSource(grey, idx, crop, layout, offsets, { images: { side: 13, cache } }).rows(0, 9)).toThrow('noise crops: samples 0–8 reach outside the 13-px noise image');
    const right = offsets.map((v, i) => (i % 2 ? v - 1 : v + 2)); // x 8..13, y 7..12: only the right edge is out
    expect(() => noiseSource(grey, idx, crop, layout, right, { images: { side: 13, cache } }).rows(0, 9)).toThrow(/outside the 13-px/);
    const left = offsets.map((v, i) => (i % 2 ? v : v - 7)); // x from −1
    expect(() => noiseSource(grey, idx, crop, layout, left, { images: { side: 40, cache } }).rows(0, 9)).toThrow(/outside/);
    const up = offsets.map((v, i) => (i % 2 ? v - 9 : v)); // y from −1
    expect(() => noiseSource(grey, idx, crop, layout, up, { images: { side: 40, cache } }).rows(0, 9)).toThrow(/outside/);
    const topLeft = offsets.map((v, i) => (i % 2 ? v - 8 : v - 6)); // the run starts at (0, 0): accepted
    expect(Array.from(noiseSource(grey, idx, crop, layout, topLeft, { images: { side: 6, cache } }).rows(0, 9))).toEqual(
      Array.from(noiseSource(grey, idx, crop, layout, topLeft).rows(0, 9)),
    );
  });

  it('whole images serve crops that barely overlap too (the image is kept anyway): no crop-by-crop generation', () => {
    const crop = { x0: 0, y0: 0, size: 3 };
    const layout = featureLayout(grey, crop, 'pixels');
    const idx = [4, 4, 9];
    const offsets = [0, 0, 20, 17, 5, 1]; // image 4: two 3-px crops 20 px apart (a 23×20 region: not shared)
    expect(imageRuns(idx, offsets, 3, 0, 3).map((r) => r.shared)).toEqual([false, false]);
    const cache = new NoiseImageCache();
    const rows = noiseSource(grey, idx, crop, layout, offsets, { centred: true, images: { side: 32, cache } }).rows(0, 3);
    expect(Array.from(rows)).toEqual(Array.from(noiseSource(grey, idx, crop, layout, offsets, { centred: true }).rows(0, 3)));
    expect(cache.size).toBe(4); // images 4 and 9, grey-level and centred: read from the kept images
    // and held to the image's bounds like shared runs
    expect(() => noiseSource(grey, idx, crop, layout, offsets, { images: { side: 22, cache } }).rows(0, 2)).toThrow('noise crops: samples 0–1 reach outside the 22-px noise image');
  });

  it('imageRuns: a region costing as many pixels as its crops is not shared; runs split at every change of image', () => {
    // two 2-px crops side by side: region 4×2 = 8 = 2 crops × 4 px
    expect(imageRuns([5, 5], [0, 0, 2, 0], 2, 0, 2)).toEqual([{ start: 0, end: 2, shared: false, dx0: 0, dy0: 0, width: 4, height: 2 }]);
    // overlapping by one column: 3×2 = 6 < 8
    expect(imageRuns([5, 5], [0, 0, 1, 0], 2, 0, 2)).toEqual([{ start: 0, end: 2, shared: true, dx0: 0, dy0: 0, width: 3, height: 2 }]);
    // negative offsets, bounding box from the smallest and largest of each axis
    expect(imageRuns([1, 1, 1], [3, -2, -1, 4, 0, 0], 3, 0, 3)).toEqual([{ start: 0, end: 3, shared: true, dx0: -1, dy0: -2, width: 7, height: 9 }].map((r) => ({ ...r, shared: 7 * 9 < 27 })));
    // image 2, 3, 2 again: three runs; a range inside the list
    const runs = imageRuns([2, 3, 2, 2], [0, 0, 0, 0, 1, 1, 0, 1], 4, 1, 4);
    expect(runs.map((r) => [r.start, r.end])).toEqual([[1, 2], [2, 4]]);
    expect(runs[1]).toMatchObject({ dx0: 0, dy0: 1, width: 5, height: 4, shared: true });
    expect(imageRuns([2], [0, 0], 4, 1, 1)).toEqual([]);
  });

  it('NoiseImageCache: one image per (seed, σ, colour, check, side, index), reused, least recently used dropped over the budget', () => {
    const bytes = 8 * 8 * 4;
    const cache = new NoiseImageCache(2 * bytes);
    expect(cache.maxBytes).toBe(2 * bytes);
    const a = cache.get(grey, 1, 8);
    expect(Array.from(a)).toEqual(Array.from(noiseCrop(grey, 1, 0, 0, 8, 8)));
    expect(cache.get(grey, 1, 8)).toBe(a);
    for (const other of [{ ...grey, seed: 7 }, { ...grey, sigma: 30 }, { ...grey, check: 2 }]) expect(new NoiseImageCache().get(other, 1, 8)).not.toEqual(a);
    const fresh = new NoiseImageCache();
    expect(fresh.get(grey, 1, 4)).not.toBe(fresh.get(grey, 1, 8));
    expect(fresh.get({ ...grey, color: 'rgb' }, 1, 8).length).toBe(192);
    expect(fresh.get(grey, 2, 8)).not.toBe(fresh.get(grey, 1, 8));
    expect(fresh.size).toBe(4);
    const b = cache.get(grey, 2, 8);
    expect(cache.size).toBe(2);
    expect(cache.get(grey, 1, 8)).toBe(a); // a is now the most recent
    cache.get(grey, 3, 8); // over budget: b (least recent) goes
    expect(cache.size).toBe(2);
    expect(cache.get(grey, 1, 8)).toBe(a);
    expect(cache.get(grey, 2, 8)).not.toBe(b);
    // an image larger than the budget is kept alone
    const tiny = new NoiseImageCache(10);
    const t1 = tiny.get(grey, 1, 8);
    expect(tiny.size).toBe(1);
    expect(tiny.get(grey, 1, 8)).toBe(t1);
    tiny.get(grey, 2, 8);
    expect(tiny.size).toBe(1);
    expect(tiny.get(grey, 1, 8)).not.toBe(t1);
    expect(new NoiseImageCache().maxBytes).toBe(256 * 2 ** 20);
  });

  it('NoiseImageCache: the centred image is s − 127.5 in float32, kept apart from the grey-level one and reused', () => {
    const cache = new NoiseImageCache();
    const rgb = { ...grey, color: 'rgb' as const };
    const raw = cache.get(rgb, 4, 9);
    const c = cache.get(rgb, 4, 9, true);
    expect(c).not.toBe(raw);
    expect(Array.from(c)).toEqual(Array.from(noiseCrop(rgb, 4, 0, 0, 9, 9), (v) => Math.fround(v - 127.5)));
    expect(cache.get(rgb, 4, 9, true)).toBe(c);
    expect(cache.get(rgb, 4, 9)).toBe(raw); // the grey-level image is unchanged
    expect(Array.from(raw)).toEqual(Array.from(noiseCrop(rgb, 4, 0, 0, 9, 9)));
    expect(cache.size).toBe(2);
    // made from a fresh cache too (the grey-level image generated on the way)
    expect(Array.from(new NoiseImageCache().get(rgb, 4, 9, true))).toEqual(Array.from(c));
  });

  it('toPixels: checks replicate (unit norm when asked; a zero vector stays zero), bins apply 1/√k, pixels copy', () => {
    const checks = featureLayout({ ...grey, check: 2 }, { x0: -1, y0: 1, size: 3 }, 'checks'); // checks of 1, 2, 2, 4 pixels
    expect(Array.from(toPixels([1, 2, 3, 4], checks, false))).toEqual([1, 2, 2, 3, 4, 4, 3, 4, 4]);
    const n = Math.sqrt(1 + 2 * 4 + 2 * 9 + 4 * 16);
    expect(Array.from(toPixels([1, 2, 3, 4], checks, true))).toEqual([1, 2, 2, 3, 4, 4, 3, 4, 4].map((v) => Math.fround(Math.fround(v) / n)));
    expect(Array.from(toPixels([0, 0, 0, 0], checks, true))).toEqual(new Array(9).fill(0));
    const bins = featureLayout(grey, { x0: 0, y0: 0, size: 3 }, 'checks', 2); // bins of 4, 2, 2, 1 pixels
    expect(Array.from(toPixels([2, 2, 2, 2], bins, true))).toEqual([1, 1, Math.SQRT2, 1, 1, Math.SQRT2, Math.SQRT2, Math.SQRT2, 2].map(Math.fround));
    const pix = featureLayout(grey, { x0: 0, y0: 0, size: 2 }, 'pixels');
    expect(Array.from(toPixels([3, 0, 0, 4], pix, true))).toEqual([3, 0, 0, 4]);
  });
});

describe('noise sources', () => {
  it('check layout: every pixel equals its check value; crops not aligned to the check grid', () => {
    for (const color of ['grey', 'rgb'] as const) {
      const p = { seed: 4, sigma: 48, color, check: 3 };
      const crop = { x0: 5, y0: 7, size: 10 }; // checks 1..4 × 2..5 partially covered
      const layout = featureLayout(p, crop, 'checks');
      const ch = color === 'rgb' ? 3 : 1;
      expect(layout.D).toBe(4 * 4 * ch);
      const src = noiseSource(p, [11, 12], crop, layout);
      const rows = src.rows(0, 2);
      for (let n = 0; n < 2; n++) {
        const pix = noiseCrop(p, 11 + n, crop.x0, crop.y0, crop.size, crop.size);
        const back = toPixels(rows.subarray(n * layout.D, (n + 1) * layout.D), layout, false);
        expect(Array.from(back)).toEqual(Array.from(pix));
      }
    }
    const id = featureLayout({ seed: 1, sigma: 48, color: 'grey', check: 1 }, { x0: 0, y0: 0, size: 4 }, 'checks');
    expect(id.checks).toBe(false);
    expect(id.D).toBe(16);
  });

  it('AWC on 2×2 checks finds the energy unit’s quadrature pair (≤ 15°, in pixel space)', async () => {
    const noise = { seed: 8, sigma: 48, color: 'grey' as const, check: 2 };
    const crop = { x0: 20, y0: 20, size: 20 }; // 10×10 checks
    const N = 20000;
    const r = crop.size;
    const g0 = gabor(r, 45, 0.1, 0, 4);
    const g90 = gabor(r, 45, 0.1, 90, 4);
    const A = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      const s = noiseCrop(noise, n, crop.x0, crop.y0, r, r);
      let p0 = 0;
      let p90 = 0;
      for (let i = 0; i < s.length; i++) {
        p0 += (s[i]! - 127.5) * g0[i]!;
        p90 += (s[i]! - 127.5) * g90[i]!;
      }
      A[n] = (p0 / 48) ** 2 + (p90 / 48) ** 2;
    }
    const res = await awcTask({
      noise,
      noiseIndex: Int32Array.from({ length: N }, (_, i) => i),
      A,
      U: 1,
      unitOffset: 0,
      crop,
      solver: 'auto',
      fullMaxDim: 128,
      options: { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 0, level: 0.99, block: 8, steps: 12, seed: 1, cacheBytes: 2 ** 28 },
      prediction: { method: 'fft', axes: { thetasDeg: [0], sfsCpp: [0.1], phasesDeg: [0] } },
      threads: 1,
    });
    expect(res.D).toBe(100);
    expect(res.pixelD).toBe(400);
    expect(Array.from(res.topSignificant)).toEqual([1, 1, 0, 0]);
    const P = res.pixelD;
    const vecs = [res.topVectors.subarray(0, P), res.topVectors.subarray(P, 2 * P)];
    // what the unit sees of each filter through 2×2 checks: the filter averaged over every check
    const layout = featureLayout(noise, crop, 'checks');
    const onChecks = (g: Float64Array) => {
      const sum = new Float64Array(layout.D);
      const cnt = new Float64Array(layout.D);
      g.forEach((v, i) => {
        sum[layout.pixelToFeature[i]!] += v;
        cnt[layout.pixelToFeature[i]!]++;
      });
      return toPixels(sum.map((v, f) => v / cnt[f]!), layout, true);
    };
    expect(maxPrincipalAngle(vecs, [onChecks(g0), onChecks(g90)])).toBeLessThan(15);
    expect(Math.abs(res.thetaPred[0]! - 45)).toBeLessThanOrEqual(15);
  });

  it('bins: orthonormal pooling of s − 127.5; unit feature vectors expand to unit pixel vectors', () => {
    const p = { seed: 2, sigma: 48, color: 'grey' as const, check: 1 };
    const crop = { x0: 3, y0: 4, size: 7 }; // 3×3 bins of 3 px: the last row/column of bins holds 1 px
    const layout = featureLayout(p, crop, 'checks', 3);
    expect(layout.kind).toBe('bins');
    expect(layout.D).toBe(9);
    const norms = new Float64Array(layout.D);
    layout.pixelWeight.forEach((w, i) => (norms[layout.pixelToFeature[i]!] += w * w));
    for (const n of norms) expect(n).toBeCloseTo(1, 6);
    const src = noiseSource(p, [5], crop, layout);
    expect(src.offset).toBe(127.5);
    const f = src.rows(0, 1);
    const pix = noiseCrop(p, 5, crop.x0, crop.y0, crop.size, crop.size);
    const expected = new Float64Array(layout.D);
    pix.forEach((v, i) => (expected[layout.pixelToFeature[i]!] += (v - 127.5) * layout.pixelWeight[i]!));
    for (let k = 0; k < layout.D; k++) expect(f[k]).toBeCloseTo(expected[k]!, 3);
    const e = new Float32Array(layout.D).fill(0);
    e[4] = 0.6;
    e[8] = 0.8;
    const back = toPixels(e, layout, true);
    expect(Math.hypot(...back)).toBeCloseTo(1, 6);
  });

  it('AWC on 2×2 bins of pixel noise finds the energy unit’s (binned) quadrature pair', async () => {
    const noise = { seed: 9, sigma: 48, color: 'grey' as const, check: 1 };
    const crop = { x0: 16, y0: 16, size: 20 };
    const N = 20000;
    const r = crop.size;
    const g0 = gabor(r, 120, 0.08, 0, 4);
    const g90 = gabor(r, 120, 0.08, 90, 4);
    const A = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      const s = noiseCrop(noise, n, crop.x0, crop.y0, r, r);
      let p0 = 0;
      let p90 = 0;
      for (let i = 0; i < s.length; i++) {
        p0 += (s[i]! - 127.5) * g0[i]!;
        p90 += (s[i]! - 127.5) * g90[i]!;
      }
      A[n] = (p0 / 48) ** 2 + (p90 / 48) ** 2;
    }
    const res = await awcTask({
      noise,
      noiseIndex: Int32Array.from({ length: N }, (_, i) => i),
      A,
      U: 1,
      unitOffset: 0,
      crop,
      bin: 2,
      solver: 'auto',
      fullMaxDim: 128,
      options: { top: 4, bottom: 2, nullKind: 'marchenko-pastur', shuffles: 0, level: 0.99, block: 8, steps: 12, seed: 1, cacheBytes: 2 ** 28 },
      prediction: { method: 'fft', axes: { thetasDeg: [0], sfsCpp: [0.1], phasesDeg: [0] } },
      threads: 1,
    });
    expect(res.features).toBe('bins');
    expect(res.D).toBe(100);
    expect(Array.from(res.topSignificant)).toEqual([1, 1, 0, 0]);
    const P = res.pixelD;
    const vecs = [res.topVectors.subarray(0, P), res.topVectors.subarray(P, 2 * P)];
    // the pair compressed onto the bins: Q Qᵀ g
    const layout = featureLayout(noise, crop, 'checks', 2);
    const onBins = (g: Float64Array) => {
      const f = new Float64Array(layout.D);
      g.forEach((v, i) => (f[layout.pixelToFeature[i]!] += v * layout.pixelWeight[i]!));
      return toPixels(f, layout, false);
    };
    expect(maxPrincipalAngle(vecs, [onBins(g0), onBins(g90)])).toBeLessThan(15);
    expect(maxPrincipalAngle(vecs, [g0, g90])).toBeLessThan(25); // and close to the pixel filters themselves
    const orient = Math.abs(((res.thetaPred[0]! - 120 + 90) % 180 + 180) % 180 - 90);
    expect(orient).toBeLessThanOrEqual(15);
    let energy = 0;
    for (let i = 0; i < P; i++) energy += res.energy[i]!;
    expect(energy).toBeCloseTo(res.top[0]! + res.top[1]!, 0);
  });

  it('interior offsets: crops gathered from each image region generated once are the bits of crop-by-crop generation', () => {
    // 3 images; image 0 holds overlapping crops on a 2-px grid (one region is cheaper), image 1 two far-apart crops
    // (crop by crop is cheaper), image 2 a single crop; chunk boundaries split image 0's run
    const size = 6;
    const offsets: number[] = [];
    const index: number[] = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) (index.push(4), offsets.push(2 * x, 2 * y));
    index.push(9, 9, 2);
    offsets.push(0, 0, 30, 21, 5, 3);
    const runs = imageRuns(index, offsets, size, 0, index.length);
    expect(runs.map((r) => [r.start, r.end, r.shared])).toEqual([[0, 12, true], [12, 14, false], [14, 15, false]]);
    expect(runs[0]).toMatchObject({ dx0: 0, dy0: 0, width: 12, height: 10 });
    for (const color of ['grey', 'rgb'] as const) {
      const p = { seed: 3, sigma: 48, color, check: 1 };
      const crop = { x0: 7, y0: 5, size };
      for (const layout of [featureLayout(p, crop, 'pixels'), featureLayout(p, crop, 'checks', 4)]) {
        const src = noiseSource(p, index, crop, layout, offsets);
        const want = new Float32Array(index.length * layout.D);
        index.forEach((img, n) => {
          const one = noiseSource(p, [img], { x0: crop.x0 + offsets[2 * n]!, y0: crop.y0 + offsets[2 * n + 1]!, size }, layout);
          want.set(one.rows(0, 1), n * layout.D);
        });
        for (const [n0, n1] of [[0, 15], [0, 5], [5, 13], [13, 15]] as const) {
          expect(Array.from(src.rows(n0, n1)), `${color} ${layout.kind} rows ${n0}–${n1}`).toEqual(Array.from(want.subarray(n0 * layout.D, n1 * layout.D)));
        }
        // the whole image kept for every layer's crops (interior sampling): the same bits
        const cache = new NoiseImageCache(3 * 48 * 48 * 4 * (color === 'rgb' ? 3 : 1)); // room for 3 images
        const whole = noiseSource(p, index, crop, layout, offsets, { images: { side: 48, cache } });
        expect(Array.from(whole.rows(2, 15))).toEqual(Array.from(want.subarray(2 * layout.D, 15 * layout.D)));
        expect(Array.from(whole.rows(0, 15))).toEqual(Array.from(want));
        expect(cache.size).toBeLessThanOrEqual(3); // least recently used images dropped beyond the budget
        expect(() => noiseSource(p, index, crop, layout, offsets, { images: { side: 16, cache } }).rows(0, 12)).toThrow(/outside the 16-px noise image/);
        // centred: pixels minus 127.5 (bins always are), announced as the source's offset
        const centred = noiseSource(p, index, crop, layout, offsets, { centred: true });
        expect(centred.offset).toBe(127.5);
        const shift = layout.kind === 'pixels' ? 127.5 : 0;
        expect(Array.from(centred.rows(3, 14))).toEqual(Array.from(want.subarray(3 * layout.D, 14 * layout.D), (v) => Math.fround(v - shift)));
        // rows written into a reused buffer holding other values: every value is written
        const dirty = new Float32Array(15 * layout.D).fill(NaN);
        expect(Array.from(src.rows(5, 13, dirty))).toEqual(Array.from(want.subarray(5 * layout.D, 13 * layout.D)));
        expect(Array.from(whole.rows(0, 15, dirty.fill(-3)))).toEqual(Array.from(want));
        // centred crops of whole images (pixels: row copies of the image kept as s − 127.5): the same bits
        const centredWhole = noiseSource(p, index, crop, layout, offsets, { centred: true, images: { side: 48, cache: new NoiseImageCache() } });
        expect(Array.from(centredWhole.rows(0, 15)), `${color} ${layout.kind} centred whole`).toEqual(Array.from(centred.rows(0, 15)));
        expect(Array.from(centredWhole.rows(4, 9))).toEqual(Array.from(centred.rows(4, 9)));
      }
    }
  });
});
