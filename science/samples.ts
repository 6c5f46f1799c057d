// Where reverse correlation reads its stimuli from: N samples of D values each (RF-crop pixels or noise
// checks), served in row chunks so that large crops can be streamed (regenerated) instead of held in memory.

/** N stimuli × D values, readable in row ranges. */
export interface SampleSource {
  /** Number of samples (stimuli). */
  readonly N: number;
  /** Values per sample (pixels of the crop, or checks). */
  readonly D: number;
  /** Rows n0 ≤ n < n1 as a row-major (n1 − n0)×D array (may be a view: do not modify). */
  rows(n0: number, n1: number): Float32Array;
}

/** A sample source over a matrix already in memory (row-major N×D). */
export function arraySource(X: Float32Array, N: number, D: number): SampleSource {
  if (X.length !== N * D) throw new Error(`arraySource: ${X.length} values, expected ${N}×${D}`);
  return { N, D, rows: (n0, n1) => X.subarray(n0 * D, n1 * D) };
}

/** A sample source that generates rows on demand (e.g. from the noise seed) and keeps nothing. */
export function generatedSource(N: number, D: number, row: (n: number, out: Float32Array) => void): SampleSource {
  return {
    N,
    D,
    rows(n0, n1) {
      const out = new Float32Array((n1 - n0) * D);
      for (let n = n0; n < n1; n++) row(n, out.subarray((n - n0) * D, (n - n0 + 1) * D));
      return out;
    },
  };
}

/** Reads a whole source into memory (only for sizes that fit). */
export function materialise(src: SampleSource, chunk = 2048): Float32Array {
  const X = new Float32Array(src.N * src.D);
  for (let n0 = 0; n0 < src.N; n0 += chunk) {
    const n1 = Math.min(src.N, n0 + chunk);
    X.set(src.rows(n0, n1), n0 * src.D);
  }
  return X;
}

/** Row chunk boundaries [n0, n1) covering 0..N with at most `chunk` rows each. */
export function chunks(N: number, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += chunk) out.push([n0, Math.min(N, n0 + chunk)]);
  return out;
}
