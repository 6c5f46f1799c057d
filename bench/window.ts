// `npm run bench -- window`: which window should the FFT predictor use (docs/method.md §5, config prediction.window)?
// Synthetic Gabor units (linear [g·s]₊ and energy-model complex cells) with r = 3…14 px RFs and random θ, f
// across the grating set's range, through the real AWA / AWC estimators on the project's white noise
// (test/fixtures/window-study.ts); every window's θ / f match rate against the units' measured grating tuning,
// with 95% Wilson intervals and n, overall and by RF size, and the model-response method for reference.
//
//   npm run bench -- window [--n 10000] [--units 32] [--seed 1]   (~2–4 min on 2 cores)
import { OrtMatMul } from '../model/ort-matmul.ts';
import { proportionEstimate } from '../science/intervals.ts';
import { FFT_WINDOWS } from '../science/spectrum.ts';
import { pairedBoth, studyMatches, windowStudy, type StudyUnit } from '../test/fixtures/window-study.ts';

/** A numeric --flag value from argv, or the default. */
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && Number.isFinite(Number(process.argv[i + 1])) ? Number(process.argv[i + 1]) : fallback;
}

/** "72 [65, 78]" for k of n. */
function pct(k: number, n: number): string {
  const e = proportionEstimate(k, n);
  return n > 0 ? `${e.value.toFixed(0)} [${e.lo.toFixed(0)}, ${e.hi.toFixed(0)}]` : '–';
}

/** The comparison table of one subset of units (Markdown). */
function table(units: readonly StudyUnit[], title: string): string[] {
  const rows: [string, (u: StudyUnit, e: 'awa' | 'awc') => ReturnType<typeof studyMatches>][] = [
    ...FFT_WINDOWS.map((w) => [`fft, ${w}`, (_u: StudyUnit, e: 'awa' | 'awc') => studyMatches(units, e, (x) => x[e][w])] as [string, (u: StudyUnit, e: 'awa' | 'awc') => ReturnType<typeof studyMatches>]),
    ['model response (reference)', (_u, e) => studyMatches(units, e, (x) => (e === 'awa' ? x.awaModel : x.awcModel))],
  ];
  const lines = [
    `**${title}**`,
    '',
    '| predictor | AWA n | AWA θ % | AWA f % | AWA both % | AWC n | AWC θ % | AWC f % | AWC both % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, m] of rows) {
    const a = m(units[0]!, 'awa');
    const c = m(units[0]!, 'awc');
    lines.push(`| ${name} | ${a.n} | ${pct(a.theta, a.n)} | ${pct(a.f, a.n)} | ${pct(a.both, a.n)} | ${c.n} | ${pct(c.theta, c.n)} | ${pct(c.f, c.n)} | ${pct(c.both, c.n)} |`);
  }
  lines.push('', 'Paired against hann on the same units (θ and f both matched): units only this window matches / only hann matches, exact McNemar p.', '');
  for (const w of FFT_WINDOWS.filter((x) => x !== 'hann')) {
    const cell = (e: 'awa' | 'awc') => {
      const p = pairedBoth(units, e, (x) => x[e][w], (x) => x[e]['hann']);
      return `+${p.onlyA} / −${p.onlyB} (p = ${p.p < 0.001 ? p.p.toExponential(1) : p.p.toFixed(3)})`;
    };
    lines.push(`- ${w} vs hann: AWA ${cell('awa')}; AWC ${cell('awc')}`);
  }
  lines.push('');
  return lines;
}

/** Runs the study and prints the tables. */
export async function benchWindow(): Promise<string> {
  const N = flag('n', 10000);
  const K = flag('units', 32);
  const seed = flag('seed', 1);
  const sizes = Array.from({ length: 12 }, (_, i) => i + 3);
  const mm = new OrtMatMul({ threads: 2 });
  const t0 = performance.now();
  let units: StudyUnit[];
  try {
    units = await windowStudy({ sizes, unitsPerSize: K, N, seed, windows: FFT_WINDOWS, mm, model: true });
  } finally {
    await mm.dispose();
  }
  // below half a cycle across the RF a Gabor is a blob or a ramp: no window lets an FFT that excludes DC find f
  const carried = units.filter((u) => u.f >= 1 / (2 * u.r));
  const lines = [
    `Window study: r = 3…14 px, ${K} linear + ${K} energy-model Gabor units per size (θ uniform, f log-uniform over the grating range 2^-8…2^-1.5, envelope SD r/4), N = ${N} noise samples (seed ${seed}), default 1,344 gratings; matches (|Δθ| ≤ 15°, |log2 f ratio| ≤ 0.5) among units with a significant RF that respond to gratings; [95% Wilson interval]. ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
    '',
    ...table(units, 'All units (AWA: the linear units, AWC: the energy-model units, where significant)'),
    ...table(carried, 'Units whose Gabor frequency an r-px RF can carry (f ≥ 1/2r), all sizes'),
    ...table(carried.filter((u) => u.r <= 5), 'f ≥ 1/2r, r = 3–5 (VGG block1)'),
    ...table(carried.filter((u) => u.r >= 6 && u.r <= 9), 'f ≥ 1/2r, r = 6–9'),
    ...table(carried.filter((u) => u.r >= 10), 'f ≥ 1/2r, r = 10–14 (VGG block2)'),
  ];
  // Larger crops with a smaller RF inside (deeper layers: a silent border of noise around the RF), AWA only
  const mm2 = new OrtMatMul({ threads: 2 });
  let large: StudyUnit[];
  try {
    large = await windowStudy({ sizes: [24, 32, 40], unitsPerSize: K, N, seed: seed + 1, windows: FFT_WINDOWS, mm: mm2, kinds: ['linear'], envelope: (r) => r / 8 });
  } finally {
    await mm2.dispose();
  }
  lines.push(...table(large.filter((u) => u.f >= 1 / (2 * u.r)), `Beyond the study's range: r = 24, 32, 40 with the RF in the central half (envelope SD r/8), linear units, f ≥ 1/2r`));
  const text = lines.join('\n');
  console.log(text);
  return text;
}
