// A stage whose declared output columns change must change its version: the version is part of every shard's cache
// key, so an unchanged version would let a resumed run keep checkpoints without the new columns (and its summary then
// fails on the missing column). Each stage's version is pinned here beside a fingerprint of its declared columns
// (name, type, optional, nullable — not the prose); a changed declaration fails until both are updated together.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS_GRATINGS, ACTIVATIONS_IMAGES, ACTIVATIONS_NOISE } from '../../results/activations.ts';
import { AWA } from '../../results/awa.ts';
import { AWC } from '../../results/awc.ts';
import { CATEGORY } from '../../results/category.ts';
import type { TableSpec } from '../../results/columns.ts';
import { STIMULI_BLANK, STIMULI_GRATINGS, STIMULI_IMAGES, STIMULI_NOISE } from '../../results/stimuli.ts';
import { SUMMARY } from '../../results/summary.ts';
import { TUNING } from '../../results/tuning.ts';
import { V1 } from '../../results/v1.ts';
import { allStages } from '../../stages/index.ts';

/** The tables each stage writes. */
const WRITES: Record<string, TableSpec[]> = {
  stimuli: [STIMULI_GRATINGS, STIMULI_BLANK, STIMULI_IMAGES, STIMULI_NOISE],
  activations: [ACTIVATIONS_GRATINGS, ACTIVATIONS_IMAGES, ACTIVATIONS_NOISE],
  tuning: [TUNING],
  category: [CATEGORY],
  awa: [AWA],
  awc: [AWC],
  v1: [V1],
  summary: [SUMMARY],
};

/** Version and column fingerprint each stage was released with; update both together (bump the version first). */
const PINNED: Record<string, { version: string; columns: string }> = {
  stimuli: { version: '1', columns: 'f6d7b6582eb0575b' },
  activations: { version: '1', columns: '0683ecdbd4243223' },
  tuning: { version: '3', columns: '245836007275d358' },
  category: { version: '3', columns: 'b9909250b6859e8d' },
  awa: { version: '3', columns: 'f96ab763f60b0795' },
  awc: { version: '4', columns: '6f9e31457a0db4f3' },
  v1: { version: '1', columns: '541be1db3025724c' },
  summary: { version: '4', columns: 'c636ae0d656f5b77' },
};

/** Fingerprint of the declared columns (what a reader relies on), not of their descriptions. */
function fingerprint(specs: TableSpec[]): string {
  const shape = specs.map((s) => [s.columns.map((c) => [c.name, c.type, c.optional ?? false, c.nullable ?? false]), s.dynamic?.type ?? null]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

describe('stage versions follow their declared columns', () => {
  it('every stage that writes a table is listed', () => {
    expect(Object.keys(WRITES).sort()).toEqual(allStages().map((s) => s.name).sort());
  });

  for (const [name, specs] of Object.entries(WRITES)) {
    it(`${name}: the declaration is the one its version was pinned with`, () => {
      const stage = allStages().find((s) => s.name === name)!;
      const now = { version: stage.version, columns: fingerprint(specs) };
      const pinned = PINNED[name]!;
      if (now.columns !== pinned.columns) {
        expect.fail(
          `${name}: the declared columns changed (fingerprint ${pinned.columns} → ${now.columns}). Expected the stage's version bumped ` +
            `(was '${pinned.version}', is '${stage.version}') so resumed runs recompute it; then pin { version: '${stage.version}', columns: '${now.columns}' } here.`,
        );
      }
      expect(now.version, `${name}: version changed without a column change; pin it here`).toBe(pinned.version);
    });
  }
});
