// Refactors and speed work must not change results beyond float reordering: config/smoke.yaml run by this code
// against the committed digest of the same run (test/fixtures/smoke-digest.json, written by
// test/fixtures/smoke-digest.ts; fLoc images from ../shared). Per column the count, NaNs, sum, sum of squares, min
// and max agree to a relative 1e-6 (measured between the code before and after the speed work: every value agrees
// to ≤ 1.9e-5 relative in `revcor diff`, eigenvalues to ≤ 7.7e-7). Eigenvectors are compared by their norms (sum of
// squares) only: the orientation of eigenvectors of (nearly) equal eigenvalues is set by rounding, so a reordered
// float sum may rotate them. A change that alters results on purpose regenerates the digest and says so.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareDigests, type RunDigest } from '../../pipeline/run-diff.ts';
import { REPO } from '../cli/helpers.ts';
import { requireOrSkip } from '../fixtures/require.ts';
import { smokeDigest } from '../fixtures/smoke-digest.ts';

const FLOC = join(REPO, '..', 'shared', 'datasets', 'floc');
const TOLERANCE = 1e-6;

/** Eigenvector columns keep only their value count, NaNs and sum of squares (rotation-invariant). */
function eigenvectorNorms(d: RunDigest): RunDigest {
  for (const shard of Object.values(d)) {
    for (const [name, c] of Object.entries(shard.columns)) {
      if (!name.startsWith('eigvec')) continue;
      delete c.sum;
      delete c.min;
      delete c.max;
    }
  }
  return d;
}

requireOrSkip('shared', existsSync(FLOC), `results-digest: ${FLOC} is absent (the committed digest includes the fLoc images)`);

describe.skipIf(!existsSync(FLOC))('results unchanged (the smoke run vs its committed digest)', () => {
  it(`every checkpoint agrees with the committed digest within ${TOLERANCE}`, async () => {
    const expected = eigenvectorNorms(JSON.parse(readFileSync(join(REPO, 'test/fixtures/smoke-digest.json'), 'utf8')) as RunDigest);
    expect(compareDigests(expected, eigenvectorNorms(await smokeDigest(FLOC)), TOLERANCE)).toEqual([]);
  }, 120_000);
});
