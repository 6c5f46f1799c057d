// bin/build-state.js: dist/ counts as current exactly while every source it was compiled from is unchanged.
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildState, sourceTimes, STAMP } from '../../bin/build-state.js';

let root: string;

/** A whole second, so that moving a file's time back and forth restores it exactly. */
const T0 = 1_700_000_000;

function write(rel: string, text = '// x\n'): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
  utimesSync(join(root, rel), T0, T0);
}

/** Records the current sources as a build would. */
function stamp(): void {
  write(STAMP, JSON.stringify({ sources: sourceTimes(root) }));
}

/** Moves a file's modification time by `seconds`. */
function touch(rel: string, seconds: number): void {
  const t = statSync(join(root, rel)).mtime.getTime() / 1000 + seconds;
  utimesSync(join(root, rel), t, t);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'revcor-build-state-'));
  write('cli/main.ts');
  write('pipeline/distributed/job.ts');
  write('bin/build.js');
  write('dist/cli/main.js');
  stamp();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('buildState', () => {
  it('is fresh right after a build', () => {
    expect(buildState(root)).toEqual({ fresh: true });
    expect(Object.keys(sourceTimes(root))).toEqual(['bin/build.js', 'cli/main.ts', 'pipeline/distributed/job.ts']);
  });

  it('is stale when a source changed, in either direction of time, until the sources match the build again', () => {
    touch('pipeline/distributed/job.ts', 5);
    expect(buildState(root)).toEqual({ fresh: false, reason: 'pipeline/distributed/job.ts changed after the last build' });
    touch('pipeline/distributed/job.ts', -10); // e.g. a file restored with an older time
    expect(buildState(root).fresh).toBe(false);
    touch('pipeline/distributed/job.ts', 5);
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('is stale when a source was added or removed, or the build settings changed', () => {
    write('stages/new.ts');
    expect(buildState(root)).toEqual({ fresh: false, reason: 'stages/new.ts was added after the last build' });
    rmSync(join(root, 'stages/new.ts'));
    rmSync(join(root, 'cli/main.ts'));
    expect(buildState(root)).toEqual({ fresh: false, reason: 'cli/main.ts was removed after the last build' });
    write('cli/main.ts');
    stamp();
    touch('bin/build.js', 3);
    expect(buildState(root)).toEqual({ fresh: false, reason: 'bin/build.js changed after the last build' });
  });

  it('counts TypeScript in any top-level folder (a new folder such as results/), not in tests, benches, outputs or packages', () => {
    write('results/columns.ts');
    expect(buildState(root)).toEqual({ fresh: false, reason: 'results/columns.ts was added after the last build' });
    stamp();
    touch('results/columns.ts', 2);
    expect(buildState(root)).toEqual({ fresh: false, reason: 'results/columns.ts changed after the last build' });
    touch('results/columns.ts', -2);
    for (const f of ['test/x.test.ts', 'bench/b.ts', 'dist/cli/chunk.ts', 'node_modules/p/i.ts', 'artifacts/a.ts', 'runs/r.ts', 'docs/d.ts', '.git/h.ts']) write(f);
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('ignores files that are not compiled (JavaScript workers, report assets, YAML, declarations)', () => {
    write('report/client.js');
    write('config/default.yaml');
    write('model/types.d.ts');
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('is stale without a build: no stamp, or no compiled entry', () => {
    rmSync(join(root, 'dist/cli/main.js'));
    expect(buildState(root)).toEqual({ fresh: false, reason: 'no compiled build in dist/' });
    rmSync(join(root, 'dist'), { recursive: true });
    expect(buildState(root)).toEqual({ fresh: false, reason: 'no compiled build in dist/' });
  });
});
