// Philox4x32-10 (Salmon et al. 2011, Random123): a counter-based generator, four 32-bit words per (counter, key).
// Pure 32-bit arithmetic so any counter can be evaluated independently (noise stimuli regenerate per pixel).

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
// 16-bit halves of the multipliers: hi32(M·x) = ⌊(M_H·x + ⌊M_L·x / 2^16⌋) / 2^16⌋, every step exact in float64.
const M0H = M0 >>> 16;
const M0L = M0 & 0xffff;
const M1H = M1 >>> 16;
const M1L = M1 & 0xffff;

/** High 32 bits of the 64-bit product of two uint32 (exact, via 16-bit halves). */
export function mulhi32(a: number, b: number): number {
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const bH = b >>> 16;
  const bL = b & 0xffff;
  const mid = aH * bL + aL * bH + ((aL * bL) >>> 16);
  return (aH * bH + Math.floor(mid / 65536)) >>> 0;
}

/** Philox4x32-10 of counter (c0..c3) and key (k0, k1), written as four uint32 into out[0..3]. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      key0 = (key0 + W0) >>> 0;
      key1 = (key1 + W1) >>> 0;
    }
    const hi0 = Math.floor((M0H * x0 + Math.floor((M0L * x0) / 65536)) / 65536);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = Math.floor((M1H * x2 + Math.floor((M1L * x2) / 65536)) / 65536);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}
