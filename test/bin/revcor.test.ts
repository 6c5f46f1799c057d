// bin/revcor.js: the installed command runs the compiled bundle while it is current, the TypeScript sources once one
// changed after the build; and the compiled command runs compiled code in its worker threads too (no tsx anywhere).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTimes, STAMP } from '../../bin/build-state.js';
import { ensureBuilt } from '../fixtures/build.ts';
import { REPO } from '../cli/helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'revcor-bin-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bin/revcor.js', () => {
  it('runs dist/ while it is current, and the sources through tsx once a source changed', () => {
    // a package with a one-line "compiled" CLI and a one-line TypeScript one
    const pkg = join(dir, 'pkg');
    for (const d of ['bin', 'cli', 'dist/cli']) mkdirSync(join(pkg, d), { recursive: true });
    for (const f of ['revcor.js', 'build-state.js']) copyFileSync(join(REPO, 'bin', f), join(pkg, 'bin', f));
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
    writeFileSync(join(pkg, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(pkg, 'dist/cli/main.js'), "console.log('compiled');\n");
    writeFileSync(join(pkg, 'cli/main.ts'), "const from: string = 'sources';\nconsole.log(from);\n");
    writeFileSync(join(pkg, STAMP), JSON.stringify({ sources: sourceTimes(pkg) }));
    const run = () => spawnSync(process.execPath, [join(pkg, 'bin/revcor.js')], { encoding: 'utf8' });

    expect(run()).toMatchObject({ status: 0, stdout: 'compiled\n', stderr: '' });
    const later = Date.now() / 1000 + 5;
    utimesSync(join(pkg, 'cli/main.ts'), later, later);
    // not a terminal: no notice on stderr
    expect(run()).toMatchObject({ status: 0, stdout: 'sources\n', stderr: '' });
  }, 60_000);

  it('runs compiled code in every thread of a run: the pool and ONNX Runtime threads load no tsx', () => {
    ensureBuilt();
    // tsx keeps its transform cache in $TMPDIR/tsx-<uid>: a TMPDIR of our own shows whether any thread used it
    const tmp = (name: string): string => {
      mkdirSync(join(dir, name));
      return join(dir, name);
    };
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, ['bin/revcor.js', 'run', 'config/smoke.yaml', '--out', out, '--quiet'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: tmp('tmp-compiled') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'awc')).some((f) => f.endsWith('.arrow'))).toBe(true); // the pool ran tasks
    expect(readdirSync(join(dir, 'tmp-compiled')).filter((f) => f.startsWith('tsx'))).toEqual([]);
    // the probe works: running a TypeScript file through tsx leaves its cache there
    const control = spawnSync(process.execPath, ['bin/run-ts.js', 'test/fixtures/pool-task.ts'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: tmp('tmp-sources') },
    });
    expect(control.status, control.stderr).toBe(0);
    expect(readdirSync(join(dir, 'tmp-sources')).filter((f) => f.startsWith('tsx')).length).toBe(1);
  }, 180_000);
});
