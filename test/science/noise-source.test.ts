// Noise crops as analysis samples: the check-space layout reproduces every pixel, and AWC on checks recovers
// an energy unit's quadrature pair (expanded back to pixels).
import { describe, expect, it } from 'vitest';
import { featureLayout, NoiseImageCache, imageRuns, noiseSource, toPixels } from '../../science/noise-source.ts';
import { noiseCrop } from '../../science/noise.ts';
import { awcTask } from '../../stages/revcor-worker.ts';
import { gabor, maxPrincipalAngle } from '../fixtures/synthetic-units.ts';

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
      }
    }
  });
});
