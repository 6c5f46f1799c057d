import { describe, expect, it } from 'vitest';
import { effectiveCrop } from '../../science/effective-rf.ts';

describe('effectiveCrop', () => {
  it('finds the centred square holding the requested share of a Gaussian excess-variance blob', () => {
    const r = 21;
    const U = 30;
    const z = new Float32Array(U * r * r);
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
    for (let u = 0; u < U; u++)
      for (let y = 0; y < r; y++)
        for (let x = 0; x < r; x++) {
          const signal = 6 * Math.exp(-((x - 10) ** 2 + (y - 10) ** 2) / (2 * 2 ** 2));
          const noise = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
          z[u * r * r + y * r + x] = signal + noise;
        }
    const e = effectiveCrop(z, new Array(U).fill(1), r, 1, 10, 0.95);
    // 95% of a 2-D Gaussian (σ = 2) of squared amplitude (σ_eff = √2) lies within about ±2.8 px: side ≈ 6–8
    expect(e.size).toBeGreaterThanOrEqual(5);
    expect(e.size).toBeLessThanOrEqual(9);
    expect(e.dx).toBe(10 - Math.round((e.size - 1) / 2));
    expect(e.coverage).toBeGreaterThanOrEqual(0.95);
    // nothing to measure: the full crop
    expect(effectiveCrop(z, new Array(U).fill(0), r, 1, 10, 0.95)).toMatchObject({ dx: 0, size: r, units: 0 });
  });
});
