// Every command of the README's command table, run through the real command line against a real run directory:
// config/smoke.yaml run by bin/revcor.js itself (the real stages: stimuli … summary, report.html), then each command
// as a user types it — the CLI's main() with the real stage registry and finalizers, arguments parsed from the
// command line by yargs. Commands that change a run work on their own copy of it, so the tests are independent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { main } from '../../cli/app.ts';
import { defaultDeps } from '../../cli/deps.ts';
import { readManifest } from '../../pipeline/manifest.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { mutantEnv } from '../fixtures/mutant-env.ts';
import { Capture, REPO } from './helpers.ts';

const SMOKE = join(REPO, 'config', 'smoke.yaml');
let dir: string;
let out: string;

/** `revcor ARGS` in this process: the real registry and finalizers, output captured. */
async function revcor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { ...(await defaultDeps()), invocation: 'revcor', stdout, stderr, handleSignals: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `node bin/revcor.js ARGS` as a child process. */
function bin(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/revcor.js', ...args], { cwd: REPO, env: { ...process.env, ...mutantEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

/** The stages and shards a `run --json` computed, in order. */
const ran = (stdout: string): string[] =>
  stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`);
const stagesRan = (stdout: string): string[] => [...new Set(ran(stdout).map((s) => s.split('/')[0]!))].sort();

/** A copy of the smoke run (for commands that change a run). */
async function copyOfRun(name: string): Promise<string> {
  const to = join(dir, name);
  await cp(out, to, { recursive: true });
  return to;
}

/** Shards per stage recorded in a run's manifest. */
async function recorded(runDir: string): Promise<Record<string, number>> {
  const m = await readManifest(runDir);
  return Object.fromEntries(Object.entries(m!.stages).map(([s, list]) => [s, list.length]));
}

beforeAll(async () => {
  dir = await tempDir('revcor-readme-');
  out = join(dir, 'smoke');
  const r = await bin('run', SMOKE, '--out', out, '--quiet');
  expect(r.code, r.stderr).toBe(0);
}, 600_000);
afterAll(() => cleanup(dir));

// README command → where it is run: here, or (needing a Redis server, a web server or a grid) in the named test file
const HERE = ['run', 'run --dry-run', 'status', 'validate', 'inspect', 'clean', 'fork', 'diff', 'summary', 'report', 'atlas', 'model info'];
const ELSEWHERE: Record<string, { file: string; needle: string }> = {
  'weights fetch': { file: 'test/cli/weights.test.ts', needle: "'weights', 'fetch'" },
  'run --redis': { file: 'test/cli/distributed.test.ts', needle: "'--redis'" },
  worker: { file: 'test/cli/distributed.test.ts', needle: "'worker'" },
  compare: { file: 'test/cli/grid.test.ts', needle: "'compare'" },
  cache: { file: 'test/cli/grid.test.ts', needle: "'cache', 'gc'" },
  export: { file: 'test/cli/export.test.ts', needle: "'export'" },
};

describe('the README command table', () => {
  it('names only commands that are run here or in the named test file', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## Configuration'));
    const firstCells = table.split('\n').filter((l) => l.startsWith('| `revcor')).map((l) => l.split(' | ')[0]!);
    const commands = firstCells.flatMap((cell) => [...cell.matchAll(/`revcor ([^`]+)`/g)]).map((m) => {
      const words = m[1]!.split(/\s+/);
      const name = words.filter((w, i) => i < 2 && /^[a-z]+$/.test(w)).join(' ');
      // `revcor run CONFIG --dry-run` and `revcor run … --redis URL` are rows of their own
      const flag = name === 'run' ? ['--dry-run', '--redis'].find((f) => words.includes(f)) : undefined;
      return flag ? `${name} ${flag}` : name;
    });
    expect(commands.length).toBeGreaterThanOrEqual(15);
    for (const c of new Set(commands)) {
      if (HERE.includes(c)) continue;
      expect(ELSEWHERE[c], `README command "revcor ${c}" is not run by any test`).toBeDefined();
      expect(await readFile(join(REPO, ELSEWHERE[c]!.file), 'utf8')).toContain(ELSEWHERE[c]!.needle);
    }
  });
});

describe('README commands on a real smoke run', () => {
  it('run: the run directory holds every planned shard; an unchanged rerun computes nothing', async () => {
    const v = await revcor('validate', SMOKE);
    expect(v.code, v.stderr).toBe(0);
    const planned = Number(/; (\d+) shards planned:/.exec(v.stdout)?.[1]);
    const rec = await recorded(out);
    expect(Object.values(rec).reduce((a, b) => a + b, 0)).toBe(planned);
    for (const s of ['stimuli', 'activations', 'tuning', 'awa', 'awc', 'summary']) expect(rec[s], s).toBeGreaterThan(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const again = await revcor('run', SMOKE, '--out', out, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(ran(again.stdout)).toEqual([]);
  });

  it('validate: the plan of the shipped smoke config per stage, with the resource estimate; a bad --set is refused', async () => {
    const v = await revcor('validate', SMOKE);
    expect(v.stdout).toContain(`${SMOKE} is valid`);
    const rec = await recorded(out);
    for (const [stage, n] of Object.entries(rec)) expect(v.stdout).toMatch(new RegExp(`\\n  ${stage} +${n} shards?\\n`));
    expect(v.stdout).toMatch(/Estimated needs: ≈ [\d,]+ shards, [\d.]+ [kMG]B of checkpoints, [\d.]+ [kMG]B peak memory per shard/);
    const bad = await revcor('validate', SMOKE, '--set', 'stimuli.noise.count=-5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/stimuli\.noise\.count: Expected .*, got -5/);
  });

  it('status: every stage of the real run done, as text and JSON', async () => {
    const s = await revcor('status', out, '--json');
    expect(s.code, s.stderr).toBe(0);
    const st = JSON.parse(s.stdout);
    expect(st.toRun).toBe(0);
    const rec = await recorded(out);
    for (const [stage, n] of Object.entries(rec)) expect(st.stages.find((x: { stage: string }) => x.stage === stage)).toMatchObject({ done: n, stale: 0, pending: 0 });
    const text = await revcor('status', out);
    const total = Object.values(rec).reduce((a, b) => a + b, 0);
    expect(text.stdout).toMatch(new RegExp(`^${out}: ${total} of ${total} shards done`));
  });

  it('run --dry-run on the real stages: names the changed key and what it reruns, writes nothing', async () => {
    const manifest = await readFile(join(out, 'manifest.json'));
    const awcFile = join(out, 'awc', 'block1_conv1-0000-0004.arrow');
    const before = (await stat(awcFile)).mtimeMs;
    const same = await revcor('run', SMOKE, '--out', out, '--dry-run');
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^Dry run: 0 of (\d+) shards would run/);
    const changed = await revcor('run', SMOKE, '--out', out, '--dry-run', '--set', 'awc.level=0.95');
    expect(changed.code, changed.stderr).toBe(0);
    const text = changed.stdout + changed.stderr;
    expect(text).toMatch(/awc\b.*\b2\b/);
    expect(text).toContain('config awc.level: 0.99 → 0.95');
    expect(text).toMatch(/summary[^\n]*\n?[^\n]*upstream awc changed/);
    expect(text).not.toMatch(/awa[^\n]*stale/);
    expect(await readFile(join(out, 'manifest.json'))).toEqual(manifest);
    expect((await stat(awcFile)).mtimeMs).toBe(before);
    expect(parseFloat((await readFile(join(out, 'config.resolved.yaml'), 'utf8')).match(/\n  level: ([\d.]+)/)![1]!)).toBe(0.99);
  });

  it('--force, --only and --from parsed from the command line choose what runs', async () => {
    const c = await copyOfRun('select');
    // --force S --only S: recompute S although it is up to date, and nothing else
    const forced = await revcor('run', SMOKE, '--out', c, '--force', 'awa', '--only', 'awa', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(ran(forced.stdout).sort()).toEqual(['awa/block1_conv1', 'awa/block2_conv1']);
    // --only S with a changed key of S: S alone; its downstream is left stale
    const only = await revcor('run', SMOKE, '--out', c, '--set', 'awc.level=0.95', '--only', 'awc', '--json');
    expect(only.code, only.stderr).toBe(0);
    expect(stagesRan(only.stdout)).toEqual(['awc']);
    const st = JSON.parse((await revcor('status', c, '--json')).stdout);
    expect(st.stages.find((x: { stage: string }) => x.stage === 'summary')).toMatchObject({ done: 0, stale: 1 });
    // --from S leaves the stages outside S's downstream alone: a changed tuning key (tuning feeds the summary) is an
    // error naming it (awc reads tuning), where a run without --from would recompute tuning
    const outside = await revcor('run', SMOKE, '--out', c, '--set', 'awc.level=0.95', '--set', 'tuning.response=max', '--from', 'awc', '--json');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/Cannot run stage awc: expected its upstream stage tuning done, got \d+ of \d+ shards stale/);
    // --from S: S and everything downstream that is not up to date (here the stale summary)
    const from = await revcor('run', SMOKE, '--out', c, '--set', 'awc.level=0.95', '--from', 'awc', '--json');
    expect(from.code, from.stderr).toBe(0);
    expect(ran(from.stdout)).toEqual(['summary/summary']);
    // --force S recomputes S and its downstream
    const down = await revcor('run', SMOKE, '--out', c, '--set', 'awc.level=0.95', '--force', 'awc', '--json');
    expect(stagesRan(down.stdout)).toEqual(['awc', 'summary']);
    // a stage that does not exist is a usage error naming the known ones
    const unknown = await revcor('run', SMOKE, '--out', c, '--only', 'awk');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/awk.*(expected|Expected) one of .*awc/);
  });

  it('inspect: a real checkpoint’s schema, revcor metadata, manifest check and rows; a damaged copy exits 2', async () => {
    const file = join(out, 'awa', 'block1_conv1.arrow');
    const r = await revcor('inspect', file);
    expect(r.code, r.stderr).toBe(0);
    const table = tableFromIPC(await readFile(file));
    expect(r.stdout).toContain(`${file}: ${table.numRows} rows, ${table.numCols} columns`);
    expect(r.stdout).toMatch(/Manifest: sha256 matches/);
    for (const col of ['z_max', 'significant', 'awa', 'theta_pred']) expect(r.stdout).toMatch(new RegExp(`\\n  ${col}: `));
    expect(r.stdout).toContain('  revcor.stage: awa');
    expect(r.stdout).toContain('  revcor.shard: block1_conv1');
    const c = await copyOfRun('inspect');
    // one stored value changed in place (the file still reads as Arrow): the manifest check must say so
    const bytes = await readFile(join(c, 'awa', 'block1_conv1.arrow'));
    const zMax = tableFromIPC(bytes).getChild('z_max')!.data[0]!.values as Float32Array | Float64Array;
    expect(zMax.buffer).toBe(bytes.buffer); // a view into the file's bytes, so the edit below alters the file
    zMax[0] = zMax[0]! + 1;
    await writeFile(join(c, 'awa', 'block1_conv1.arrow'), bytes);
    const bad = await revcor('inspect', join(c, 'awa', 'block1_conv1.arrow'));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/Manifest: sha256 MISMATCH/);
    expect(bad.stderr).toMatch(/expected the sha256 its record holds, got another/);
    // bytes that are not Arrow at all: a usage error naming the file, no stack trace
    await writeFile(join(c, 'awa', 'block1_conv1.arrow'), bytes.subarray(0, bytes.length - 200));
    const cut = await revcor('inspect', join(c, 'awa', 'block1_conv1.arrow'));
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/block1_conv1\.arrow: Expected an Arrow IPC file/);
    expect(cut.stderr).not.toMatch(/\n\s+at /);
  });

  it('summary in every format: the same layers and numbers as table, CSV, JSON and Markdown; CSV = summary/summary.csv', async () => {
    const json = await revcor('summary', out, '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.layer)).toEqual(['block1_conv1', 'block2_conv1']);
    const csv = await revcor('summary', out, '--format', 'csv');
    expect(csv.stdout).toBe(await readFile(join(out, 'summary', 'summary.csv'), 'utf8'));
    const [header, ...lines] = csv.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const cols = header!.split(',');
    const numeric = Object.keys(rows[0]!).filter((k) => typeof rows[0]![k] === 'number' && cols.includes(k));
    expect(numeric.length).toBeGreaterThan(5);
    for (const [i, line] of lines.entries()) {
      const cells = line.split(',');
      for (const k of numeric) expect(Number(cells[cols.indexOf(k)]), `${rows[i]!.layer} ${k}`).toBeCloseTo(rows[i]![k] as number, 3);
    }
    const md = await revcor('summary', out, '--format', 'markdown');
    expect(md.stdout).toMatch(/\n?\| *layer *\|/);
    expect(md.stdout).toMatch(/\|[ -:|]+\|\n/);
    expect(md.stdout).toContain('| block1_conv1 ');
    const table = await revcor('summary', out);
    expect(table.stdout.split('\n')[0]).toBe(`${out} — smoke`);
    for (const layer of ['block1_conv1', 'block2_conv1']) expect(table.stdout).toContain(layer);
    const bad = await revcor('summary', out, '--format', 'xml');
    expect(bad.code).toBe(2);
  });

  it('fork: hard links of the real run; a changed downstream key recomputes only awc and summary in the fork', async () => {
    const f = join(dir, 'fork');
    const r = await revcor('fork', out, f);
    expect(r.code, r.stderr).toBe(0);
    const awa = 'awa/block1_conv1.arrow';
    expect((await stat(join(f, awa))).ino).toBe((await stat(join(out, awa))).ino);
    const awcBefore = await readFile(join(out, 'awc', 'block1_conv1-0000-0004.arrow'));
    const again = await revcor('run', SMOKE, '--out', f, '--set', 'awc.level=0.95', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(stagesRan(again.stdout)).toEqual(['awc', 'summary']);
    expect(await readFile(join(out, 'awc', 'block1_conv1-0000-0004.arrow'))).toEqual(awcBefore);
    expect(existsSync(join(f, 'report.html'))).toBe(true);
    // diff: the fork differs from the original in awc (and the summary built on it), nowhere else
    const d = await revcor('diff', out, f);
    expect(d.code).toBe(1);
    const where = new Set(d.stdout.split('\n').filter((l) => /^\w+\/\S+: /.test(l)).map((l) => l.split('/')[0]));
    expect(d.stdout).toMatch(/\n\d+ shards compared: \d+ agree within 0, 3 differ/);
    expect([...where].sort(), d.stdout).toEqual(['awc', 'summary']);
    expect(d.stdout).toMatch(/awc\/block1_conv1-0000-0004\.null_upper: \d+ of \d+ values differ/);
    const same = await revcor('diff', out, f, '--stage', 'awa', '--stage', 'tuning', '--stage', 'activations');
    expect(same.code, same.stdout + same.stderr).toBe(0);
    const js = await revcor('diff', out, f, '--json');
    expect(js.code).toBe(1);
    const shards = JSON.parse(js.stdout.split('\n')[0]!) as { stage: string; within: boolean }[];
    expect(shards).toHaveLength(18);
    expect([...new Set(shards.filter((s) => !s.within).map((s) => s.stage))].sort()).toEqual(['awc', 'summary']);
    expect((await revcor('diff', out, out)).code).toBe(0);
  });

  it('clean: one stage of a real run (the next run recomputes exactly it), then the whole run', async () => {
    const c = await copyOfRun('clean');
    await writeFile(join(c, 'notes.txt'), 'mine');
    const one = await revcor('clean', c, '--stage', 'awc');
    expect(one.code, one.stderr).toBe(0);
    expect(existsSync(join(c, 'awc'))).toBe(false);
    const again = await revcor('run', SMOKE, '--out', c, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(ran(again.stdout).sort()).toEqual(['awc/block1_conv1-0000-0004', 'awc/block2_conv1-0000-0004']);
    const all = await revcor('clean', c);
    expect(all.code, all.stderr).toBe(0);
    expect(existsSync(join(c, 'awa'))).toBe(false);
    expect(existsSync(join(c, 'report.html'))).toBe(false);
    expect(await readFile(join(c, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('report, atlas and model info on the real run', async () => {
    const c = await copyOfRun('report');
    const html = join(c, 'report.html');
    await writeFile(html, 'stale');
    const rep = await revcor('report', c);
    expect(rep.code, rep.stderr).toBe(0);
    const text = await readFile(html, 'utf8');
    expect(text).toMatch(/^<!doctype html>/i);
    expect(text).toContain('block2_conv1');
    const png = join(dir, 'atlas.png');
    const atlas = await revcor('atlas', out, '--out', png);
    expect(atlas.code, atlas.stderr).toBe(0);
    expect((await readFile(png)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const info = await revcor('model', 'info', SMOKE);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/block1_conv1[^\n]*\b3\b/);
    expect(info.stdout).toMatch(/block2_conv1[^\n]*\b10\b/);
  });

  it('the installed binary prints the summary CSV to a pipe, like the in-process command line', async () => {
    const r = await bin('summary', out, '--format', 'csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(await readFile(join(out, 'summary', 'summary.csv'), 'utf8'));
  }, 120_000);
});
