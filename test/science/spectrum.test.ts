// The FFT predictor's windows (science/spectrum.ts, docs/method.md §5) and the default window chosen from ground truth:
// on a small seeded set of synthetic Gabor units (test/fixtures/window-study.ts; `npm run bench -- window` runs
// the full comparison) the default prediction.window matches the units' measured tuning more often than the
// edge-vanishing Hann window it replaced.
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import { DEFAULT_FFT_WINDOW, FFT_WINDOWS, fft2Power, hann2d, window1d, window2d } from '../../science/spectrum.ts';
import { pairedBoth, studyMatches, windowStudy } from '../fixtures/window-study.ts';

describe('window1d', () => {
  it('3-px weights: hann ¼ 1 ¼ (pixel centres), hann-nonzero ½ 1 ½ (numpy hanning(5)[1:-1]), tukey ¾ 1 ¾, none 1 1 1', () => {
    const w = (k: (typeof FFT_WINDOWS)[number]) => [...window1d(3, k)].map((x) => Math.round(x * 1e12) / 1e12);
    expect(w('hann')).toEqual([0.25, 1, 0.25]);
    expect(w('hann-nonzero')).toEqual([0.5, 1, 0.5]);
    expect(w('tukey')).toEqual([0.75, 1, 0.75]);
    expect(w('none')).toEqual([1, 1, 1]);
    // numpy: hanning(12)[1:-1] for r = 10
    const np = Array.from({ length: 12 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 11)).slice(1, -1);
    [...window1d(10, 'hann-nonzero')].forEach((v, i) => expect(v).toBeCloseTo(np[i]!, 12));
    // tukey (α = 0.5): flat over the central half, symmetric
    const t = window1d(16, 'tukey');
    for (let i = 4; i < 12; i++) expect(t[i]).toBe(1);
    for (let i = 0; i < 8; i++) expect(t[i]).toBeCloseTo(t[15 - i]!, 12);
    expect(t[0]).toBeGreaterThan(0);
  });
  it('window2d is the outer product; hann2d is the hann window', () => {
    const w = window2d(5, 'tukey');
    const w1 = window1d(5, 'tukey');
    expect(w[2 * 5 + 1]).toBeCloseTo(w1[2]! * w1[1]!, 15);
    expect([...hann2d(4)]).toEqual([...window2d(4, 'hann')]);
  });
});

describe('the default FFT window, chosen from ground truth', () => {
  const mm = new OrtMatMul({ threads: 1 });
  afterAll(() => mm.dispose());

  it('on 72 seeded Gabor units (r = 3–5, f an r-px RF can carry) the default window matches θ and f more often than hann', async () => {
    const window = ExperimentSchema.parse({}).prediction.window;
    expect(window).toBe(DEFAULT_FFT_WINDOW); // the science functions' default is the config's
    const units = await windowStudy({ sizes: [3, 4, 5], unitsPerSize: 12, N: 3000, seed: 5, windows: ['hann', window], mm, carriedOnly: true });
    const both = (e: 'awa' | 'awc', w: string) => studyMatches(units, e, (u) => u[e][w]).both;
    const gain = both('awa', window) + both('awc', window) - both('awa', 'hann') - both('awc', 'hann');
    const awa = pairedBoth(units, 'awa', (u) => u.awa[window], (u) => u.awa['hann']);
    const awc = pairedBoth(units, 'awc', (u) => u.awc[window], (u) => u.awc['hann']);
    // measured: none 24 + 33 of 36 + 36 units with θ and f matched, hann 18 + 26; paired +15 / −2
    expect(studyMatches(units, 'awa', (u) => u.awa[window]).n).toBe(36);
    expect(gain).toBeGreaterThanOrEqual(8);
    expect(awa.onlyA + awc.onlyA).toBeGreaterThanOrEqual(4 * (awa.onlyB + awc.onlyB)); // hann rarely matches where the default does not
  }, 60_000);
});

describe('fft2Power', () => {
  it('equals the direct 2-D DFT power, with zero rows among and below the map (which skip their row transform)', () => {
    const n = 8;
    const img = new Float64Array(n * n);
    // rows 0, 2 and 4 hold values, row 1 is zero inside the map, rows 5–7 are the zero padding
    for (const y of [0, 2, 4]) for (let x = 0; x < 5; x++) img[y * n + x] = Math.sin(1.3 * x + 0.7 * y) + 0.25 * y;
    const power = fft2Power(img, n);
    for (let ky = 0; ky < n; ky++) {
      for (let kx = 0; kx < n; kx++) {
        let re = 0;
        let im = 0;
        for (let y = 0; y < n; y++) {
          for (let x = 0; x < n; x++) {
            const a = (-2 * Math.PI * (kx * x + ky * y)) / n;
            re += img[y * n + x]! * Math.cos(a);
            im += img[y * n + x]! * Math.sin(a);
          }
        }
        expect(power[ky * n + kx]).toBeCloseTo(re * re + im * im, 9);
      }
    }
    expect(fft2Power(new Float64Array(n * n), n).every((v) => v === 0)).toBe(true);
  });
});
