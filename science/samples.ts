// Where reverse correlation reads its stimuli from: N samples of D values each (RF-crop pixels or noise
// checks), served in row chunks so that large crops can be streamed (regenerated) instead of held in memory.

/** N stimuli × D values, readable in row ranges. */
export interface SampleSource {
  /** Number of samples (stimuli). */
  readonly N: number;
  /** Values per sample (pixels of the crop, or checks). */
  readonly D: number;
  /**
   * Rows n0 ≤ n < n1 as a row-major (n1 − n0)×D array (may be a view: do not modify). A source that makes its rows
   * writes them into `into` when given (at least (n1 − n0)×D floats; the result is then a view of it), so a caller
   * reading chunk after chunk reuses one buffer instead of touching fresh memory for each.
   */
  rows(n0: number, n1: number, into?: Float32Array): Float32Array;
  /** A constant already subtracted from every value (rows hold stimulus − offset); absent = 0. */
  readonly offset?: number;
}

/** A sample source over a matrix already in memory (row-major N×D). */
export function arraySource(X: Float32Array, N: number, D: number): SampleSource {
  if (X.length !== N * D) throw new Error(`arraySource: ${X.length} values, expected ${N}×${D}`);
  return { N, D, rows: (n0, n1) => X.subarray(n0 * D, n1 * D) };
}

/** A sample source that generates rows on demand (e.g. from the noise seed) and keeps nothing; `row` writes every value of its row. */
export function generatedSource(N: number, D: number, row: (n: number, out: Float32Array) => void): SampleSource {
  return {
    N,
    D,
    rows(n0, n1, into) {
      const out = rowBuffer(n1 - n0, D, into);
      for (let n = n0; n < n1; n++) row(n, out.subarray((n - n0) * D, (n - n0 + 1) * D));
      return out;
    },
  };
}

/** (n1 − n0)×D floats to write rows into: the start of `into` when given (checked for size), else a new array. */
export function rowBuffer(rows: number, D: number, into?: Float32Array): Float32Array {
  if (!into) return new Float32Array(rows * D);
  if (into.length < rows * D) throw new RangeError(`sample rows: a buffer of ${into.length} floats cannot hold ${rows}×${D}`);
  return into.subarray(0, rows * D);
}

/** Reads a whole source into memory (only for sizes that fit); a source that makes its rows writes them in place. */
export function materialise(src: SampleSource, chunk = 2048): Float32Array {
  const X = new Float32Array(src.N * src.D);
  for (let n0 = 0; n0 < src.N; n0 += chunk) {
    const n1 = Math.min(src.N, n0 + chunk);
    const at = X.subarray(n0 * src.D, n1 * src.D);
    const r = src.rows(n0, n1, at);
    if (r.buffer !== X.buffer || r.byteOffset !== at.byteOffset) X.set(r, n0 * src.D);
  }
  return X;
}

/** Row chunk boundaries [n0, n1) covering 0..N with at most `chunk` rows each. */
export function chunks(N: number, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += chunk) out.push([n0, Math.min(N, n0 + chunk)]);
  return out;
}

// IEEE half-precision storage for cached samples: noise values (0–255) keep |error| ≤ 0.0625 grey levels,
// a quantisation variance ~10⁻³ against σ² ≈ 2,300 — negligible for AWA/AWC — at half the memory of float32.
const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Nearest half-precision bit pattern of a float (round half to even; overflow → ±Infinity). */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Float value of a half-precision bit pattern. */
export function fromHalf(h: number): number {
  return F16_TABLE[h & 0xffff]!;
}

/**
 * Reads a source once and keeps it in memory, as float32 or (half the memory) float16, minus a constant
 * `offset` (e.g. the noise mid-grey, so that stored values are small and products need no centring copy);
 * rows are served as float32 (decoded per call for float16) with `offset` set.
 */
export function storedSource(src: SampleSource, precision: 'f32' | 'f16', chunk = 2048, offset = 0): SampleSource {
  const { N, D } = src;
  const shift = offset - (src.offset ?? 0);
  if (precision === 'f32') {
    const X = materialise(src, chunk);
    if (shift !== 0) for (let i = 0; i < X.length; i++) X[i] -= shift;
    return { ...arraySource(X, N, D), offset };
  }
  const H = new Uint16Array(N * D);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const n1 = Math.min(N, n0 + chunk);
    const X = src.rows(n0, n1);
    const off = n0 * D;
    for (let i = 0; i < X.length; i++) H[off + i] = toHalf(X[i]! - shift);
  }
  return {
    N,
    D,
    offset,
    rows(n0, n1, into) {
      const out = rowBuffer(n1 - n0, D, into);
      const off = n0 * D;
      for (let i = 0; i < out.length; i++) out[i] = F16_TABLE[H[off + i]!]!;
      return out;
    },
  };
}
