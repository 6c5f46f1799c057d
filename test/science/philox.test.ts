// Philox4x32-10 against Random123's known-answer vectors (tests/kat_vectors) and mulhi32 against BigInt.
import { describe, expect, it } from 'vitest';
import { mulhi32, philox4x32 } from '../../science/philox.ts';

const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

describe('philox4x32-10', () => {
  it.each(KAT.map((k, i) => [i, ...k] as const))('matches Random123 known answer %i', (_i, ctr, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out);
    expect([...out]).toEqual(expected);
  });

  it('mulhi32 equals the BigInt high word', () => {
    let s = 12345;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    const pairs = [[0xffffffff, 0xffffffff], [0, 0xffffffff], [0x10000, 0x10000], [0xd2511f53, 0xcd9e8d57]];
    for (let i = 0; i < 2000; i++) pairs.push([next(), next()]);
    for (const [a, b] of pairs) {
      expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    }
  });
});
