// Effective receptive field (docs/method.md §5: "a smaller effective RF measured from the AWA/AWC variance maps"): the
// smallest square, centred on the RF centre, that holds a given share of a layer's AWA excess variance
// Σ_u (z_u² − 1) over its units with significant AWA (z² − 1 has mean 0 under the null, so noise pixels add
// nothing on average). One square per layer keeps the layer's units on one shared crop (docs/method.md §6).

/** An effective crop inside a theoretical crop of side r: offset of its top-left pixel and its side. */
export interface EffectiveCrop {
  dx: number;
  dy: number;
  size: number;
  /** Share of the excess variance inside (1 for the full crop). */
  coverage: number;
  /** Units whose z-maps were used (0: nothing to measure, the full crop is returned). */
  units: number;
}

/**
 * The effective crop of a layer from its units' z-maps (U × r²·channels, HWC), using units flagged in
 * `use`; `centre` is the RF centre in crop pixels (x = y for centre units), `coverage` in (0, 1].
 */
export function effectiveCrop(
  z: ArrayLike<number>,
  use: ArrayLike<number | boolean>,
  r: number,
  channels: number,
  centre: number,
  coverage: number,
): EffectiveCrop {
  const D = r * r * channels;
  const excess = new Float64Array(r * r);
  let units = 0;
  for (let u = 0; u < use.length; u++) {
    if (!use[u]) continue;
    units++;
    for (let p = 0; p < r * r; p++) {
      for (let c = 0; c < channels; c++) {
        const v = z[u * D + p * channels + c];
        excess[p] += v * v - 1;
      }
    }
  }
  const full: EffectiveCrop = { dx: 0, dy: 0, size: r, coverage: 1, units };
  if (units === 0) return full;
  // integral image for square sums
  const I = new Float64Array((r + 1) * (r + 1));
  for (let y = 0; y < r; y++) for (let x = 0; x < r; x++) I[(y + 1) * (r + 1) + x + 1] = excess[y * r + x] + I[y * (r + 1) + x + 1] + I[(y + 1) * (r + 1) + x] - I[y * (r + 1) + x];
  const sq = (x0: number, y0: number, s: number) => I[(y0 + s) * (r + 1) + x0 + s] - I[y0 * (r + 1) + x0 + s] - I[(y0 + s) * (r + 1) + x0] + I[y0 * (r + 1) + x0];
  const total = sq(0, 0, r);
  if (!(total > 0)) return full;
  const place = (s: number) => Math.min(r - s, Math.max(0, Math.round(centre - (s - 1) / 2)));
  for (let s = 1; s < r; s++) {
    const o = place(s);
    const share = sq(o, o, s) / total;
    if (share >= coverage) return { dx: o, dy: o, size: s, coverage: share, units };
  }
  return full;
}
