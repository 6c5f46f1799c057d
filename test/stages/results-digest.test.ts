// The speed work must not change results beyond float reordering: config/smoke.yaml run by this code against the
// digest of the same run made with the code before it (main at 04ed875: test/fixtures/smoke-digest.json, fLoc
// images from ../shared). Per column the count, NaNs, sum, sum of squares, min and max agree to a relative 1e-6
// (measured: every value agrees to ≤ 1.9e-5 relative in `revcor diff`, eigenvalues to ≤ 7.7e-7). Eigenvectors
// are compared by their norms (sum of squares) only: the orientation of eigenvectors of (nearly) equal
// eigenvalues is set by rounding, so a reordered float sum may rotate them.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareDigests, runDigest, type RunDigest } from '../../pipeline/run-diff.ts';
import { allStages } from '../../stages/index.ts';
import { cli, REPO } from '../cli/helpers.ts';

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

describe.skipIf(!existsSync(FLOC))('results unchanged by the speed work (smoke run vs the digest of the code before)', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`every checkpoint agrees with the committed digest within ${TOLERANCE}`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-digest-'));
    const r = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', dir, '--quiet', '--set', `stimuli.images.dir=${FLOC}`], allStages);
    expect(r.code, r.stderr).toBe(0);
    const expected = eigenvectorNorms(JSON.parse(readFileSync(join(REPO, 'test/fixtures/smoke-digest.json'), 'utf8')) as RunDigest);
    expect(compareDigests(expected, eigenvectorNorms(await runDigest(dir)), TOLERANCE)).toEqual([]);
  }, 120_000);
});

if (!existsSync(FLOC)) console.log(`results-digest: skipped, ${FLOC} is absent (the committed digest includes the fLoc images)`);
