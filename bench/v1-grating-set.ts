// How well a grating set measures Brain-Score's V1 properties (docs/v1-comparison.md, "Grating set"): a population
// of V1-like sine-phase Gabor units with known orientation bandwidth, SF bandwidth and peak SF, measured by
// science/v1-properties.ts on the default grating set and on the V1 set of config/vgg19-v1.yaml. Not a test:
// prints the errors against the closed-form values. Seconds.
//
//   node bin/run-ts.js bench/v1-grating-set.ts [--units N] [--seed S]
//
// A sine Gabor g centred on image pixel (0, 0) answers a grating of phase φ with −127.5·sin φ·A(k), A ∝
// G(k − k0) − G(k + k0), G(d) = exp(−2π²σ²|d|²) (test/science/v1-properties.test.ts checks this against rendered
// gratings), so responses are written in closed form here. Every unit peaks at 1 and has a blank response 0: the
// affine map sends R to 32.98·A/A(k0) + 0.82 spikes/s for all of them.
import { GratingsSchema } from '../config/schema.ts';
import { gratingList, type GratingSetParams } from '../science/gratings.ts';
import { philox4x32 } from '../science/philox.ts';
import { v1UnitProperties, V1_CONSTANTS } from '../science/v1-properties.ts';

const DEG = Math.PI / 180;
const PPD = 28;
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

interface Unit {
  theta0: number;
  f0: number;
  sigma: number;
}

// V1-like population: peak SF log-uniform over 0.5–8 c/deg, σ·f0 log-uniform over 0.25–0.6 (orientation
// half-widths ~10–45°, SF bandwidths ~0.6–1.6 octaves), orientation uniform.
function population(n: number, seed: number): Unit[] {
  const w = new Uint32Array(4);
  return Array.from({ length: n }, (_, i) => {
    philox4x32(i, 0, 0, 0, seed, 0, w);
    const u = Array.from(w, (x) => x / 2 ** 32);
    const f0 = (0.5 * 16 ** u[0]!) / PPD;
    const sf = 0.25 * (0.6 / 0.25) ** u[1]!;
    return { theta0: u[2]! * 180, f0, sigma: sf / f0 };
  });
}

const A = (u: Unit, thetaDeg: number, f: number) => {
  const G = (dx: number, dy: number) => Math.exp(-2 * Math.PI ** 2 * u.sigma ** 2 * (dx * dx + dy * dy));
  const [kx, ky] = [f * Math.cos(thetaDeg * DEG), f * Math.sin(thetaDeg * DEG)];
  const [ax, ay] = [u.f0 * Math.cos(u.theta0 * DEG), u.f0 * Math.sin(u.theta0 * DEG)];
  return Math.abs(G(kx - ax, ky - ay) - G(kx + ax, ky + ay)) / (1 - G(2 * ax, 2 * ay));
};

// Closed-form truth of the mapped curve 32.98·A + 0.82: where it falls to 0.707 of its 33.8 peak.
const LEVEL = (0.707 * V1_CONSTANTS.medianMax - V1_CONSTANTS.medianBaseline) / (V1_CONSTANTS.medianMax - V1_CONSTANTS.medianBaseline);
function solve(g: (x: number) => number, lo: number, hi: number): number {
  if (g(lo) * g(hi) > 0) return NaN;
  for (let k = 0; k < 100; k++) {
    const mid = (lo + hi) / 2;
    if (g(lo) * g(mid) <= 0) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}
function truth(u: Unit) {
  const hw = solve((d) => A(u, u.theta0 + d, u.f0) - LEVEL, 0, 90);
  const l0 = Math.log2(u.f0);
  const lo = solve((l) => A(u, u.theta0, 2 ** l) - LEVEL, l0 - 4, l0);
  const hi = solve((l) => A(u, u.theta0, 2 ** l) - LEVEL, l0, l0 + 4);
  return { hw, ratio: 100 * 2 ** (lo - hi), fLow: 2 ** lo * PPD, fHigh: 2 ** hi * PPD, peak: u.f0 * PPD };
}

function measure(units: Unit[], params: GratingSetParams) {
  const list = gratingList(params);
  const U = units.length;
  const resp = new Float32Array(list.length * U);
  list.forEach((g, i) => {
    const rect = Math.max(0, Math.sin(g.phaseDeg * DEG));
    units.forEach((u, j) => (resp[i * U + j] = A(u, g.thetaDeg, g.sfCpp) * rect));
  });
  const set = { thetaDeg: list.map((g) => g.thetaDeg), sfCpp: list.map((g) => g.sfCpp), phaseDeg: list.map((g) => g.phaseDeg) };
  return v1UnitProperties(resp, U, set, new Float64Array(U), { pixelsPerDegree: PPD }).units;
}

const median = (v: number[]) => {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const p90 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(0.9 * (v.length - 1))] ?? NaN;

function report(name: string, units: Unit[], params: GratingSetParams) {
  const m = measure(units, params);
  const t = units.map(truth);
  const list = gratingList(params);
  const sfs = [...new Set(list.map((g) => g.sfCpp))].map((f) => f * PPD);
  const hwErr: number[] = [];
  const hwBias: number[] = [];
  const bwErr: number[] = [];
  const peakErr: number[] = [];
  let bwOpen = 0;
  let bwDefined = 0;
  let inRange = 0;
  units.forEach((_, i) => {
    hwErr.push(Math.abs(m.oriBandwidth[i]! - t[i]!.hw));
    hwBias.push(m.oriBandwidth[i]! - t[i]!.hw);
    peakErr.push(Math.abs(Math.log2(m.peakSf[i]! / t[i]!.peak)));
    const covered = t[i]!.fLow >= sfs[0]! && t[i]!.fHigh <= sfs[sfs.length - 1]!;
    if (covered) inRange++;
    if (Number.isFinite(m.sfBandwidth[i])) {
      bwDefined++;
      bwErr.push(Math.abs(Math.log2(m.sfBandwidth[i]! / t[i]!.ratio)));
    } else bwOpen++;
  });
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(
    `${name}: ${list.length} gratings, ${sfs.length} SFs ${f(sfs[0]!)}–${f(sfs[sfs.length - 1]!)} c/deg\n` +
      `  orientation half-width: median error ${f(median(hwBias))}°, |error| median ${f(median(hwErr))}°, 90th percentile ${f(p90(hwErr))}°\n` +
      `  peak SF |error|: median ${f(median(peakErr), 3)} octaves, 90th percentile ${f(p90(peakErr), 3)}\n` +
      `  SF bandwidth: both 0.707 crossings inside the set for ${inRange}/${units.length} units; measured (not open) ${bwDefined}/${units.length}; ` +
      `|error| of log2(100·f_low/f_high): median ${f(median(bwErr), 3)} octaves, 90th percentile ${f(p90(bwErr), 3)}`,
  );
}

const units = population(arg('units', 400), arg('seed', 1));
const t = units.map(truth);
console.log(
  `${units.length} Gabor units: orientation half-width median ${median(t.map((x) => x.hw)).toFixed(1)}°, SF bandwidth median ${median(t.map((x) => x.ratio)).toFixed(1)} ` +
    `(Schiller: 100·f_low/f_high), peak SF ${median(t.map((x) => x.peak)).toFixed(2)} c/deg (median)`,
);
report('default set (schema defaults)', units, GratingsSchema.parse({}));
const v1Set = { orientations: 12, kMin: -6.25, kMax: -1, kStep: 0.25, phases: 8, contrast: 1 };
report('V1 set (config/vgg19-v1.yaml)', units, v1Set);
report('V1 set with 24 orientations', units, { ...v1Set, orientations: 24 });
