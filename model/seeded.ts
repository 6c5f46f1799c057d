// Deterministic seeded He-normal weights (docs/method.md §1): the same (seed, architecture) gives bit-identical weights.
// Tested in test/model/auto-weights.test.ts.
import type { Network } from './network.ts';
import type { NetworkWeights } from './weights.ts';

/** xoshiro128** seeded through splitmix32: a small, fast, well-mixed 32-bit generator. */
function generator(seed: number, stream: number): () => number {
  let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    return result;
  };
}

function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}

/** Fills `out` with N(0, sd²) draws (Box–Muller on 32-bit uniforms in (0, 1)). */
function fillNormal(out: Float32Array, sd: number, next: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (next() + 0.5) / 4294967296;
    const u2 = (next() + 0.5) / 4294967296;
    const rad = Math.sqrt(-2 * Math.log(u1)) * sd;
    out[i] = rad * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = rad * Math.sin(2 * Math.PI * u2);
  }
}

/**
 * He-normal conv weights for every conv of the network: kernel ~ N(0, 2 / fan_in) with fan_in = (in/groups)·k²,
 * bias 0; layer l uses its own stream of the seeded generator, so adding layers never changes earlier ones.
 */
export function seededWeights(net: Network, seed: number): NetworkWeights {
  const layers: NetworkWeights['layers'] = new Map();
  let stream = 0;
  for (const op of net.ops) {
    if (op.op !== 'conv') continue;
    const fanIn = (op.inChannels / (op.group ?? 1)) * op.kernel * op.kernel;
    const kernel = new Float32Array(op.outChannels * fanIn);
    fillNormal(kernel, Math.sqrt(2 / fanIn), generator(seed, stream++));
    layers.set(op.name, { kernel, bias: new Float32Array(op.outChannels) });
  }
  return { source: { kind: 'seeded', seed }, layers };
}
