import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { invocation, resumeArgs, resumeCommand, shellQuote } from '../../cli/shell.ts';
import { lockPath } from '../../pipeline/lock.ts';
import { writeDerived } from '../../pipeline/rundir.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { runCounts } from '../fixtures/toy-stages.ts';
import { cli, TOY_INVOCATION } from './helpers.ts';

let dir: string;
let cfg: string;
let out: string;
beforeEach(async () => {
  dir = await tempDir('revcor-cli-');
  cfg = join(dir, 'exp.yaml');
  out = join(dir, 'out');
  await writeFile(cfg, 'stimuli:\n  noise: { count: 8, seed: 3 }\nactivations: { shardSize: 4 }\nrun: { out: ./out }\n');
  for (const k of Object.keys(runCounts)) delete runCounts[k];
});
afterEach(() => cleanup(dir));

describe('revcor run', () => {
  it('runs, records config.resolved.yaml, and an unchanged rerun says there is nothing to do', async () => {
    const first = await cli(['run', cfg, '--workers', '1']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('Plan for');
    expect(first.stderr).toMatch(/Done: 5 shards computed in [\d.]+ s; outputs in /);
    expect((await readdir(join(out, 'source'))).sort()).toEqual(['src-0000-0004.arrow', 'src-0004-0008.arrow']);
    const resolved = parse(await readFile(join(out, 'config.resolved.yaml'), 'utf8'));
    expect(resolved.awc.shuffles).toBe(20);
    expect(resolved.run.out).toBe(out);
    const again = await cli(['run', cfg]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`Nothing to do: all 5 shards of 3 stages in ${out} are up to date.`);
    expect(runCounts).toEqual({ source: 2, square: 2, total: 1 });
  });

  it('--dry-run explains which config key changed and writes nothing', async () => {
    await cli(['run', cfg]);
    const manifest = await readFile(join(out, 'manifest.json'), 'utf8');
    const dry = await cli(['run', cfg, '--set', 'awc.shuffles=30', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Dry run: 1 of 5 shards would run in ${out}`);
    expect(dry.stdout).toMatch(/total +1 shard: 0 done, 1 stale → would run 1\n +- config awc\.shuffles: 20 → 30\n/);
    expect(dry.stdout).toMatch(/source +2 shards: 2 done, .* → nothing to run/);
    const seed = await cli(['run', cfg, '--set', 'stimuli.noise.seed=4', '--dry-run', '--json']);
    const plan = JSON.parse(seed.stdout);
    expect(plan.toRun).toBe(5);
    expect(plan.stages[0].reasons).toEqual({ 'config stimuli.noise.seed: 3 → 4': 2 });
    expect(plan.stages[2].reasons).toEqual({ 'upstream square changed (upstream source changed (config stimuli.noise.seed: 3 → 4))': 1 });
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(runCounts.source).toBe(2);
  });

  it('--json prints one event per line on stdout', async () => {
    const r = await cli(['run', cfg, '--json']);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].type).toBe('plan');
    expect(events.filter((e) => e.type === 'shard-done')).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ type: 'run-done', ran: 5, upToDate: false });
    expect(r.stderr).toBe('');
  });

  it('--quiet prints nothing on success', async () => {
    const r = await cli(['run', cfg, '--quiet']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a config mistake is one message with file:line:column, no stack, exit 2', async () => {
    await writeFile(cfg, 'stimuli:\n  noise: { cout: 8 }\n');
    const r = await cli(['run', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*exp\.yaml:2:\d+: stimuli\.noise\.cout: unknown key, did you mean `stimuli\.noise\.count`\?/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unusable output directory is a clear error (a file in the way; read-only when not root)', async () => {
    const r = await cli(['run', cfg, '--out', join(cfg, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: Cannot write output directory ${join(cfg, 'sub')}: expected a writable directory, got ENOTDIR\nChoose another directory with --out DIR (or run.out in the YAML).\n`);
    if (process.getuid?.() === 0) return; // root writes anywhere
    const ro = join(dir, 'ro');
    await mkdir(ro);
    await chmod(ro, 0o500);
    const r2 = await cli(['run', cfg, '--out', join(ro, 'sub')]);
    await chmod(ro, 0o700);
    expect(r2.stderr).toContain('expected a writable directory, got EACCES');
  });

  it('a second concurrent run is refused with a message naming the other process; finished checkpoints stay', async () => {
    await cli(['run', cfg]);
    await writeFile(lockPath(out), JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 'now', command: 'revcor run other.yaml' }));
    const r = await cli(['run', cfg, '--force', 'source']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: Output directory is locked by process ${process.ppid} on ${hostname()} (started now: revcor run other.yaml)`);
    expect((await readdir(join(out, 'source'))).length).toBe(2);
    expect(runCounts.source).toBe(2);
  });

  it('usage mistakes exit 2 with a hint', async () => {
    const r = await cli(['run', cfg, '--frm', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: Unknown argument: frm');
    expect(r.stderr).toContain('revcor --help');
    expect((await cli([])).stderr).toContain('Expected a command (run, status, validate, inspect, clean), got none');
    expect((await cli(['run', cfg, '--only', 'nope'])).stderr).toContain('--only nope: expected one of the stages source, square, total, got an unknown stage');
  });

  it('--help shows commands and examples', async () => {
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a.join(' ')));
    try {
      expect((await cli(['--help'])).code).toBe(0);
      expect((await cli(['run', '--help'])).code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(logged[0]).toMatch(/revcor run \[config\] +Run an experiment/);
    expect(logged[0]).toContain('Examples:');
    expect(logged[1]).toContain('--dry-run');
    expect(logged[1]).toContain('revcor run my.yaml --set awc.shuffles=30 --dry-run');
  });
});

describe('revcor status, validate, inspect, clean', () => {
  it('status: per stage done/stale/pending, bytes and time, with reasons', async () => {
    await cli(['run', cfg]);
    let s = await cli(['status', out]);
    expect(s.stdout).toMatch(new RegExp(`^${out}: 5 of 5 shards done \\([\\d.]+ kB, [\\d.]+ s of compute\\)\\n`));
    expect(s.stdout).toMatch(/source +2 shards: 2 done, [\d.]+ kB, [\d.]+ s( \([\d.]+ s wall\))?\n/);
    await writeFile(join(out, 'square', 'sq-0000-0004.arrow'), 'garbage');
    s = await cli(['status', out, '--json']);
    const st = JSON.parse(s.stdout);
    expect(st.toRun).toBe(1);
    expect(st.stages[1]).toMatchObject({ stage: 'square', done: 1, stale: 1, pending: 0, reasons: { 'checkpoint corrupt: expected 898 bytes, got 7': 1 } });
    expect(st.stages[1].bytes).toBeGreaterThan(0);
    expect((await cli(['status', dir])).stderr).toContain(`error: ${dir}: Expected a revcor output directory, got a directory without .revcor/ or config.resolved.yaml`);
  });

  it('validate: reports the plan of a good file and the mistakes of a bad one', async () => {
    const ok = await cli(['validate', cfg]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${cfg} is valid (out: ${out}); 5 shards planned:`);
    await writeFile(cfg, 'stimuli:\n  noise:\n    count: -3\n');
    const bad = await cli(['validate', cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/exp\.yaml:3:\d+: stimuli\.noise\.count: Expected .*, got -3/);
  });

  it('validate: a grid file is checked point by point', async () => {
    const g = join(dir, 'grid.yaml');
    await writeFile(g, `extends: exp.yaml\ngrid:\n  awc.shuffles: [3, 7]\n`);
    const ok = await cli(['validate', g]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`${g} is a valid grid of 2 points (varies awc.shuffles):\n  shuffles=3\n  shuffles=7\n`);
    await writeFile(g, `extends: exp.yaml\ngrid:\n  awc.shuffles: [3, -7]\n`);
    const bad = await cli(['validate', g]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/grid\.yaml:3:21: awc\.shuffles: Expected .*, got -7\./);
  });

  it('inspect: schema, metadata, manifest check and rows', async () => {
    await cli(['run', cfg]);
    const file = join(out, 'square', 'sq-0004-0008.arrow');
    const r = await cli(['inspect', file, '--rows', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${file}: 4 rows, 2 columns, 1 record batches`);
    expect(r.stdout).toMatch(/Manifest: sha256 matches/);
    expect(r.stdout).toContain('  i: Int32');
    expect(r.stdout).toContain('  revcor.stage: square');
    expect(r.stdout).toContain('  revcor.params: {"end":8,"start":4}');
    expect(r.stdout).toMatch(/First 2 rows:\n  i +sq\n  4 +[\d.e-]+\n  5 +[\d.e-]+\n/);
    const bad = await cli(['inspect', cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`error: ${cfg}: Expected an Arrow IPC file, got unreadable data`);
  });

  it('clean: one stage, then everything', async () => {
    await cli(['run', cfg]);
    const c = await cli(['clean', out, '--stage', 'square']);
    expect(c.stdout).toMatch(/Removed the checkpoints of square \([\d.]+ kB\)/);
    expect(existsSync(join(out, 'square'))).toBe(false);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.stages).sort()).toEqual(['source', 'total']);
    const again = await cli(['run', cfg, '--json']);
    const ran = again.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done').map((e) => e.stage);
    expect(ran).toEqual(['square', 'square']);
    await writeDerived(out, 'report.html', '<html>a report derived from the checkpoints</html>');
    expect((await cli(['clean', out])).code).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect((await cli(['clean', dir])).stderr).toContain('Expected a revcor output directory, got a directory without .revcor/ or config.resolved.yaml');
  });

  it('clean removes only what the run recorded: a user file in the directory or a stage folder stays', async () => {
    await cli(['run', cfg]);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await writeFile(join(out, 'square', 'mine.arrow'), 'my data');
    const c = await cli(['clean', out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/Removed every checkpoint \([\d.]+ kB\) from .*; kept 2 entries revcor did not write \(notes\.txt, square\)/);
    expect((await readdir(out)).sort()).toEqual(['notes.txt', 'square']);
    expect(await readdir(join(out, 'square'))).toEqual(['mine.arrow']);
  });
});

describe('revcor fork', () => {
  const shardsRun = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done').map((e) => e.stage);

  it('a new run directory from hard links: a changed downstream key recomputes only downstream, beside the original', async () => {
    await cli(['run', cfg]);
    const totalBefore = await readFile(join(out, 'total', 'all.arrow'));
    const out2 = join(dir, 'out2');
    const f = await cli(['fork', out, out2]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^Forked \d+ files \([\d.]+ kB, hard-linked, no extra space\) of source, square, total from /);
    expect(f.stdout).toContain(`Next: ${TOY_INVOCATION} run <config> --out ${out2}`);
    expect((await stat(join(out2, 'square', 'sq-0000-0004.arrow'))).ino).toBe((await stat(join(out, 'square', 'sq-0000-0004.arrow'))).ino);
    expect((await cli(['status', out2])).stdout).toMatch(/5 of 5 shards done/);
    // the fork's resolved config points at the fork: rerunning it writes there, not into the original
    expect(parse(await readFile(join(out2, 'config.resolved.yaml'), 'utf8')).run.out).toBe(out2);
    const r = await cli(['run', cfg, '--out', out2, '--set', 'awc.shuffles=7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(shardsRun(r.stdout)).toEqual(['total']);
    // the original is untouched: same bytes, and still complete for its own config
    expect(Buffer.compare(await readFile(join(out, 'total', 'all.arrow')), totalBefore)).toBe(0);
    expect(Buffer.compare(await readFile(join(out2, 'total', 'all.arrow')), totalBefore)).not.toBe(0);
    expect(shardsRun((await cli(['run', cfg, '--json'])).stdout)).toEqual([]);
  });

  it('forks only checkpoints that match their records: a damaged one is left out and recomputed in the fork', async () => {
    await cli(['run', cfg]);
    const bad = join(out, 'square', 'sq-0004-0008.arrow');
    const bytes = await readFile(bad);
    bytes[bytes.length - 30] ^= 0xff;
    await writeFile(join(dir, 'tmp.arrow'), bytes);
    const { rename } = await import('node:fs/promises');
    await rename(join(dir, 'tmp.arrow'), bad); // SRC's own file replaced (a fork must not link the damage)
    const out2 = join(dir, 'out2');
    const f = await cli(['fork', out, out2]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^Forked 4 files /);
    expect(f.stdout).toMatch(/Not forked \(the run into .* recomputes them\): square\/sq-0004-0008: corrupt: expected sha256 [0-9a-f]{12}…, got [0-9a-f]{12}…/);
    expect(existsSync(join(out2, 'square', 'sq-0004-0008.arrow'))).toBe(false);
    const r = await cli(['run', cfg, '--out', out2, '--json']);
    expect(shardsRun(r.stdout)).toEqual(['square']); // total's key names square's key, not its bytes
  });

  it('--stage keeps only the named stages; refuses a non-run source, a non-empty target and unknown stages', async () => {
    await cli(['run', cfg]);
    const out3 = join(dir, 'out3');
    expect((await cli(['fork', out, out3, '--stage', 'source'])).code).toBe(0);
    expect(shardsRun((await cli(['run', cfg, '--out', out3, '--json'])).stdout).sort()).toEqual(['square', 'square', 'total']);
    const notRun = await cli(['fork', dir, join(dir, 'x')]);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toContain(`error: ${dir}: Expected a revcor output directory, got a directory without .revcor/ or config.resolved.yaml`);
    const full = await cli(['fork', out, out3]);
    expect(full.code).toBe(2);
    expect(full.stderr).toContain('Expected a new or empty directory to fork into, got one with files');
    const unknown = await cli(['fork', out, join(dir, 'y'), '--stage', 'sqare']);
    expect(unknown.stderr).toContain('--stage sqare: expected one of source, square, total, got an unknown stage');
    expect(existsSync(join(dir, 'y'))).toBe(false);
  });
});

describe('resume command', () => {
  it('repeats the arguments minus --force and --dry-run, quoted for the shell', () => {
    expect(resumeArgs(['run', 'a.yaml', '--force', 'awc', '--set', 'x=1', '--force=tuning', '--dry-run'])).toEqual(['run', 'a.yaml', '--set', 'x=1']);
    expect(resumeCommand(['run', 'my exp.yaml', '--set', "name=it's"], 'npx revcor')).toBe(`npx revcor run 'my exp.yaml' --set 'name=it'\\''s'`);
    expect(shellQuote('a/b-c.yaml')).toBe('a/b-c.yaml');
    expect(TOY_INVOCATION).toContain('toy-cli.ts');
  });

  it('names the invocation the way the user typed it', () => {
    expect(invocation(['node', '/x/node_modules/.bin/revcor'], { npm_command: 'exec' })).toBe('npx revcor');
    expect(invocation(['node', '/x/bin/revcor.js'], { npm_command: 'run-script', npm_lifecycle_event: 'revcor' })).toBe('npm run revcor --');
    expect(invocation(['node', '/usr/local/bin/revcor'], {})).toBe('revcor');
    expect(invocation(['node', join(process.cwd(), 'bin', 'revcor.js')], {})).toBe('node bin/revcor.js');
  });
});
