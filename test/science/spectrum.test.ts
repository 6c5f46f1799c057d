// The FFT predictor's windows (science/spectrum.ts, docs/method.md §5) and the default window chosen from ground truth:
// on a small seeded set of synthetic Gabor units (test/fixtures/window-study.ts; `npm run bench -- window` runs
// the full comparison) the default prediction.window matches the units' measured tuning more often than the
// edge-vanishing Hann window it replaced. The describes marked "(analytic)" pin windows, pad sizes, fft2Power, the
// channel and eigenvalue sums and spectralPeak's search and tie rule to exact values (issue 20's Stryker survivors).
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { OrtMatMul } from '../../model/ort-matmul.ts';
import {
  DEFAULT_FFT_WINDOW,
  FFT_WINDOWS,
  eigenSpectrum,
  eigenSpectrumHalf,
  fft2Power,
  fft2PowerHalf,
  halfColumns,
  hann2d,
  mapSpectrum,
  mapSpectrumHalf,
  mirrorHalf,
  padSize,
  spectralPeak,
  spectralPeakHalf,
  window1d,
  window2d,
} from '../../science/spectrum.ts';
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
    const want = dftPower(img, n);
    for (let i = 0; i < n * n; i++) expect(power[i]).toBeCloseTo(want[i]!, 9);
    expect(fft2Power(new Float64Array(n * n), n).every((v) => v === 0)).toBe(true);
  });
});

describe('half-plane spectra (the predictors\' path)', () => {
  /** An r×r map padded into an n×n array at the top left. */
  const padded = (map: ArrayLike<number>, r: number, n: number) => {
    const img = new Float64Array(n * n);
    for (let y = 0; y < r; y++) for (let x = 0; x < r; x++) img[y * n + x] = map[y * r + x]!;
    return img;
  };
  it('fft2PowerHalf of an r×r image is the kx = 0…n/2 half of the padded image\'s DFT power; mirrorHalf gives the rest', () => {
    const n = 8;
    expect(halfColumns(n)).toBe(5);
    const map = Float64Array.from({ length: 9 }, (_, i) => Math.cos(0.9 * i) + 0.1 * i);
    const want = dftPower(padded(map, 3, n), n);
    const half = fft2PowerHalf(map, 3, 3, n);
    expect(half.length).toBe(n * 5);
    for (let y = 0; y < n; y++) for (let x = 0; x < 5; x++) expect(half[y * 5 + x]).toBeCloseTo(want[y * n + x]!, 9);
    expectClose(mirrorHalf(half, n), want);
  });
  it('a narrower image after a wider one of the same pad size reads none of the wider one\'s values (buffers are reused)', () => {
    const n = 16;
    const wide = fft2PowerHalf(dense(n), n, n, n); // fills every entry of the reused row buffer
    expect(wide.some((v) => v > 0)).toBe(true);
    const map = Float64Array.from({ length: 25 }, (_, i) => Math.sin(2.1 * i) - 0.2);
    expectClose(mirrorHalf(fft2PowerHalf(map, 5, 5, n), n), dftPower(padded(map, 5, n), n));
    // and a wide one after a narrow one, with a zero row in the middle (skipped) and rows below the image
    const sparse = Float64Array.from({ length: 6 * 10 }, (_, i) => (Math.floor(i / 10) === 2 ? 0 : Math.cos(i)));
    const img = new Float64Array(n * n);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) img[y * n + x] = sparse[y * 10 + x]!;
    expectClose(mirrorHalf(fft2PowerHalf(sparse, 6, 10, n), n), dftPower(img, n));
    expect([...fft2Power(dense(n), n)]).toEqual([...mirrorHalf(wide, n)]);
  });
  it('mapSpectrumHalf and eigenSpectrumHalf mirror to mapSpectrum and eigenSpectrum, bit for bit (grey and rgb, windows)', () => {
    for (const ch of [1, 3]) {
      for (const w of ['none', 'hann', 'tukey'] as const) {
        const map = Float64Array.from({ length: 36 * ch }, (_, i) => Math.sin(0.37 * i * i) + 0.05);
        expect([...mirrorHalf(mapSpectrumHalf(map, 6, ch, 16, w), 16)]).toEqual([...mapSpectrum(map, 6, ch, 16, w)]);
        const vs = [map, map.map((v) => v * v - 0.3)];
        expect([...mirrorHalf(eigenSpectrumHalf(vs, [1.5, 0.25], 6, ch, 16, w), 16)]).toEqual([...eigenSpectrum(vs, [1.5, 0.25], 6, ch, 16, w)]);
      }
    }
    // the channel sum and eigen sum against the ground truth (mapSpectrum's tests pin the full-plane forms)
    const rgb = Float64Array.from({ length: 27 }, (_, i) => Math.cos(1.1 * i));
    const sum = new Float64Array(64);
    for (let c = 0; c < 3; c++) dftPower(padded(Float64Array.from({ length: 9 }, (_, i) => rgb[3 * i + c]!), 3, 8), 8).forEach((v, i) => (sum[i] += v));
    expectClose(mirrorHalf(mapSpectrumHalf(rgb, 3, 3, 8), 8), sum);
    expect(mapSpectrumHalf(rgb, 3, 0, 8)).toEqual(new Float64Array(8 * 5));
  });
  it('spectralPeakHalf finds what spectralPeak finds on the mirrored plane: random spectra, planted peaks, ties and zero', () => {
    const n = 8;
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 200; t++) {
      const half = Float64Array.from({ length: n * 5 }, () => (t % 3 === 0 ? Math.floor(rand() * 4) : rand())); // t % 3: many exact ties
      const full = mirrorHalf(half, n);
      expect(spectralPeakHalf(half, n)).toEqual(spectralPeak(full, n));
    }
    // a peak stored only in the half plane, found at its ky ≥ 0 mirror: (ky, kx) = (−2, 3) is (2, −3)
    const half = new Float64Array(n * 5);
    half[6 * 5 + 3] = 2; // ky = −2, kx = 3
    const p = spectralPeakHalf(half, n);
    expect([Math.round(p.thetaDeg * 1e9) / 1e9, p.fCpp, p.power]).toEqual([Math.round((((Math.atan2(2, -3) * 180) / Math.PI + 180) % 180) * 1e9) / 1e9, Math.hypot(2, 3) / n, 2]);
    expect(spectralPeakHalf(new Float64Array(n * 5), n)).toEqual({ thetaDeg: NaN, fCpp: NaN, power: 0 });
  });
  it('a chain of near-ties, each within 1e-12 of the one before, ends where the scan ends it: every cell is visited once, the mirrored half of row 0 too', () => {
    const n = 8;
    const b = 1e12; // 1e-12·b = 1
    const half = new Float64Array(n * 5);
    half[0 * 5 + 1] = b; // (0, ±1), scanned first
    half[1 * 5 + 2] = b - 0.75; // (1, 2) and its mirror (−1, −2): a tie with b, larger ky: kept
    half[2 * 5 + 3] = b - 1.5; // (2, 3) and (−2, −3): a tie with b − 0.75, larger ky: kept, though 1.5 below b
    // the mirrors of the negative rows lose their ties (smaller ky); (0, −1) was passed over in row 0 and is not seen again
    const want = { thetaDeg: expect.closeTo((Math.atan2(2, 3) * 180) / Math.PI, 12), fCpp: Math.hypot(2, 3) / n, power: b - 1.5 };
    expect(spectralPeak(mirrorHalf(half, n), n)).toEqual(want);
    expect(spectralPeakHalf(half, n)).toEqual(want);
  });
});

/** Direct 2-D DFT power of a real n×n array (row-major), the ground truth for fft2Power. */
function dftPower(img: Float64Array, n: number): Float64Array {
  const power = new Float64Array(n * n);
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
      power[ky * n + kx] = re * re + im * im;
    }
  }
  return power;
}

/** An n×n row-major array whose entries are a fixed, irregular function of the index (no zero entries). */
function dense(n: number): Float64Array {
  return Float64Array.from({ length: n * n }, (_, i) => Math.sin(1.7 * i + 0.3) + 1.5);
}

function expectClose(a: Float64Array, b: Float64Array, digits = 9): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, digits));
}

describe('windows and pad sizes (analytic)', () => {
  it('FFT_WINDOWS lists the four windows, each with its documented 3-px weights; the default is none', () => {
    const weights = Object.fromEntries(FFT_WINDOWS.map((k) => [k, [...window1d(3, k)].map((x) => Math.round(x * 1e12) / 1e12)]));
    expect(weights).toEqual({ hann: [0.25, 1, 0.25], 'hann-nonzero': [0.5, 1, 0.5], tukey: [0.75, 1, 0.75], none: [1, 1, 1] });
    expect(FFT_WINDOWS).toHaveLength(4);
    // the default window leaves the map unweighted: mapSpectrum's default equals the 'none' spectrum, not the tukey one
    const map = Float64Array.from({ length: 9 }, (_, i) => i + 1);
    expect([...mapSpectrum(map, 3, 1, 8)]).toEqual([...mapSpectrum(map, 3, 1, 8, 'none')]);
    expect(mapSpectrum(map, 3, 1, 8)[0]).toBeCloseTo(45 ** 2, 9); // DC = (Σ map)²
    expect(DEFAULT_FFT_WINDOW).toBe('none');
  });
  it('tukey and hann at chosen pixels: r = 8 tukey ½(1 − cos π/4), ½(1 + cos π/4), then 1; hann r = 4 ½(1 − cos π/4)', () => {
    const c = Math.SQRT1_2;
    const t = window1d(8, 'tukey');
    const expected = [0.5 * (1 - c), 0.5 * (1 + c), 1, 1, 1, 1, 0.5 * (1 + c), 0.5 * (1 - c)];
    t.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14));
    // r = 2: the pixel centres sit at exactly α/2 = ¼ of r from the edge, where taper and flat top agree (1)
    expect([...window1d(2, 'tukey')]).toEqual([1, 1]);
    const h = window1d(4, 'hann');
    [0.5 * (1 - c), 0.5 * (1 + c), 0.5 * (1 + c), 0.5 * (1 - c)].forEach((e, i) => expect(h[i]).toBeCloseTo(e, 14));
    const w = window2d(8, 'tukey');
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect(w[y * 8 + x]).toBe(t[y]! * t[x]!);
  });
  it('padSize is the smallest power of two ≥ max(2r, minPad), for r = 1…20 and several minPad', () => {
    const expected = (r: number) => (r <= 4 ? 8 : r <= 8 ? 16 : r <= 16 ? 32 : 64);
    for (let r = 1; r <= 20; r++) expect(padSize(r)).toBe(expected(r));
    expect(padSize(1, 2)).toBe(2);
    expect(padSize(1, 1)).toBe(2);
    expect(padSize(2, 2)).toBe(4);
    expect(padSize(3, 2)).toBe(8);
    expect(padSize(10, 4)).toBe(32);
    expect(padSize(2, 64)).toBe(64);
    expect(padSize(5, 33)).toBe(64);
    expect(padSize(4, 8)).toBe(8);
  });
});

describe('fft2Power on edge cases (analytic)', () => {
  it('dense inputs at nPad = 2, 4, 8 equal the direct DFT power', () => {
    for (const n of [2, 4, 8]) expectClose(fft2Power(dense(n), n), dftPower(dense(n), n));
    // nPad = 2 by hand: [[a, b], [c, d]] → |a+b+c+d|², |a−b+c−d|², |a+b−c−d|², |a−b−c+d|²
    expect([...fft2Power(Float64Array.from([1, 2, 3, 5]), 2)]).toEqual([121, 9, 25, 1]);
  });
  it('a single pixel off the first row and column has flat power 1; the only nonzero row first or last', () => {
    const n = 8;
    const one = new Float64Array(n * n);
    one[1 * n + 1] = 1;
    fft2Power(one, n).forEach((v) => expect(v).toBeCloseTo(1, 12));
    for (const y of [0, n - 1]) {
      const img = new Float64Array(n * n);
      for (let x = 0; x < n; x++) img[y * n + x] = x + 1; // a full row: no zero to end the zero-row check early
      expectClose(fft2Power(img, n), dftPower(img, n));
    }
    const img4 = new Float64Array(16);
    img4[3 * 4 + 2] = 3; // nPad = 4, one pixel on the last row
    expectClose(fft2Power(img4, 4), dftPower(img4, 4));
  });
});

describe('mapSpectrum and eigenSpectrum sums (analytic)', () => {
  it('an RGB map\'s spectrum is the sum of its three channels\' spectra', () => {
    const r = 3;
    const rgb = Float64Array.from({ length: r * r * 3 }, (_, i) => Math.cos(0.9 * i) + (i % 3) * 0.5);
    const channel = (c: number) => Float64Array.from({ length: r * r }, (_, p) => rgb[p * 3 + c]!);
    for (const w of ['none', 'tukey'] as const) {
      const sum = new Float64Array(64);
      for (let c = 0; c < 3; c++) mapSpectrum(channel(c), r, 1, 8, w).forEach((v, i) => (sum[i] += v));
      expectClose(mapSpectrum(rgb, r, 3, 8, w), sum);
    }
  });
  it('eigenSpectrum = Σ λₖ mapSpectrum(eₖ)', () => {
    const r = 3;
    const vs = [0, 1, 2].map((k) => Float64Array.from({ length: r * r }, (_, i) => Math.sin(i * (k + 1) + k)));
    const lambdas = [2, 0.5, 3];
    const sum = new Float64Array(64);
    vs.forEach((v, k) => mapSpectrum(v, r, 1, 8, 'hann').forEach((p, i) => (sum[i] += lambdas[k]! * p)));
    expectClose(eigenSpectrum(vs, lambdas, r, 1, 8, 'hann'), sum);
  });
});

describe('spectralPeak (analytic)', () => {
  const n = 8;
  /** A spectrum with the given powers at wave vectors (ky, kx) (negative k stored at n + k) and zero elsewhere. */
  const spec = (...peaks: [ky: number, kx: number, p: number][]) => {
    const s = new Float64Array(n * n);
    for (const [ky, kx, p] of peaks) s[((ky + n) % n) * n + ((kx + n) % n)] = p;
    return s;
  };
  const deg = (y: number, x: number) => ((((Math.atan2(y, x) * 180) / Math.PI) % 180) + 180) % 180;
  const peak = (s: Float64Array) => {
    const p = spectralPeak(s, n);
    return [p.thetaDeg, p.fCpp, p.power];
  };

  it('a single planted peak in each quadrant, on the Nyquist row and column, and on the axes', () => {
    const cases: [number, number][] = [
      [1, 2], [2, -1], [-1, -3], [-3, 1], [0, 1], [1, 0], [0, -3], [-2, 0], [3, 3], [-1, 3],
      [-4, 1], [-4, -1], [-4, 0], [1, -4], [-1, -4], [0, -4], [-4, -4], [-4, 3],
    ];
    for (const [ky, kx] of cases) {
      const [theta, f, power] = peak(spec([ky, kx, 0.5]));
      expect([ky, kx, theta]).toEqual([ky, kx, expect.closeTo(deg(ky, kx), 9)]);
      expect([ky, kx, f]).toEqual([ky, kx, expect.closeTo(Math.hypot(ky, kx) / n, 12)]);
      expect(power).toBe(0.5); // a peak below 1 is found (the search starts below every power)
      expect(theta).toBeGreaterThanOrEqual(0);
      expect(theta).toBeLessThan(180);
    }
    expect(peak(spec([1, 1, 1]))[0]).toBeCloseTo(45, 12);
    expect(peak(spec([1, -1, 1]))[0]).toBeCloseTo(135, 12);
    expect(peak(spec([-4, 0, 2]))).toEqual([90, 0.5, 2]);
  });
  it('the DC term is excluded however large', () => {
    expect(peak(spec([0, 0, 100], [2, 1, 1]))).toEqual([deg(2, 1), Math.hypot(2, 1) / n, 1]);
  });
  it('an all-zero spectrum gives NaN θ and f and power 0', () => {
    const p = spectralPeak(new Float64Array(n * n), n);
    expect(p).toEqual({ thetaDeg: NaN, fCpp: NaN, power: 0 });
  });
  it('exact ties keep the larger ky, then the larger kx: a real input\'s ±k pair keeps θ in [0°, 180°) on the ky ≥ 0 side', () => {
    // a real map's spectrum: its ±k pair ties exactly
    const img = new Float64Array(n * n);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) img[y * n + x] = Math.cos((2 * Math.PI * (2 * x - y)) / n);
    const s = fft2Power(img, n);
    const { thetaDeg, fCpp } = spectralPeak(s, n);
    const [by, bx] = [Math.round(Math.sin((thetaDeg * Math.PI) / 180) * fCpp * n), Math.round(Math.cos((thetaDeg * Math.PI) / 180) * fCpp * n)];
    expect(s[((by + n) % n) * n + ((bx + n) % n)]).toBe(s[((-by + n) % n) * n + ((-bx + n) % n)]);
    expect(by).toBeGreaterThan(0);
    // planted ties, scanned in the order ky = 0, 1, 2, 3, −4, −3, −2, −1 and kx = 0, 1, 2, 3, −4, −3, −2, −1
    expect(peak(spec([1, 1, 1], [-1, 2, 1]))[0]).toBeCloseTo(45, 12); // a later tie with smaller ky loses
    expect(peak(spec([1, 1, 1], [2, 1, 1]))[0]).toBeCloseTo(deg(2, 1), 12); // a later tie with larger ky wins
    expect(peak(spec([2, 1, 1], [-1, 2, 1]))[0]).toBeCloseTo(deg(2, 1), 12); // larger kx does not beat larger ky
    expect(peak(spec([1, 1, 1], [1, -1, 1]))[0]).toBeCloseTo(45, 12); // same ky: a later smaller kx loses
    expect(peak(spec([1, 1, 1], [1, 2, 1]))[0]).toBeCloseTo(deg(1, 2), 12); // same ky: a later larger kx wins
    expect(peak(spec([1, -4, 1], [1, -1, 1]))[0]).toBeCloseTo(135, 12);
  });
  it('near-ties: within 1e-12 relative is a tie (inclusive), beyond it the larger power wins', () => {
    const b = 1e12; // 1e-12·b = 1 exactly
    // just inside, and exactly at the edge: the later, larger ky wins although its power is smaller or larger
    expect(peak(spec([1, 1, b], [2, 1, b - 1]))[0]).toBeCloseTo(deg(2, 1), 12);
    expect(peak(spec([1, 1, b], [2, 1, b + 1]))[0]).toBeCloseTo(deg(2, 1), 12);
    expect(peak(spec([1, 1, b], [-1, 2, b + 1]))[0]).toBeCloseTo(45, 12); // at the edge, not above it: smaller ky loses
    // exactly b·(1 + 1e-12), the threshold itself, is neither a tie nor larger: the earlier peak stays
    expect(peak(spec([1, 1, b], [-1, 2, b * (1 + 1e-12)]))[0]).toBeCloseTo(45, 12);
    // just outside: the power decides
    expect(peak(spec([1, 1, b], [2, 1, b - 2]))[0]).toBeCloseTo(45, 12);
    expect(peak(spec([1, 1, b], [-1, 2, b + 2]))).toEqual([deg(-1, 2), Math.hypot(1, 2) / n, b + 2]);
    // the band is relative to the power: at power 1e-3 a difference of 5e-12 is not a tie
    expect(peak(spec([1, 1, 1e-3], [2, 1, 1e-3 - 5e-12]))[0]).toBeCloseTo(45, 12);
    expect(peak(spec([1, 1, 4], [2, 1, 4 - 3e-12]))[0]).toBeCloseTo(deg(2, 1), 12);
  });
});
