// A 2 × 2 grid (stimuli.noise.count × awc.crop) on the seeded smoke network, through the real command line and
// stages: every shard several points share is computed once (asserted on the records and the cache, not on time),
// every point's checkpoints are byte-identical to the same point run alone, kill -9 mid-grid then the same command
// gives identical outputs, status and compare show every point, cache gc keeps what the points reference, a damaged
// cache entry is detected and recomputed, and two grids running at once on one cache both end right.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFinalizers } from '../../report/finalizers.ts';
import { sha256 } from '../../pipeline/cache-key.ts';
import { CheckpointCache } from '../../pipeline/cache-store.ts';
import { readStageRecords, type ShardRecord } from '../../pipeline/manifest.ts';
import { recordedStages } from '../../pipeline/rundir.ts';
import { allStages } from '../../stages/index.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { cli, REPO } from './helpers.ts';
import { ensureBuilt } from '../fixtures/build.ts';

const POINTS = ['count=100,crop=theoretical', 'count=100,crop=effective', 'count=150,crop=theoretical', 'count=150,crop=effective'];
const SOLO: Record<string, string[]> = Object.fromEntries(POINTS.map((p) => [p, ['--set', `stimuli.noise.count=${/count=(\d+)/.exec(p)![1]}`, '--set', `awc.crop=${/crop=(\w+)/.exec(p)![1]}`]]));

let dir: string;
let sweep: string;
let grid: string;
let cacheDir: string;
let ref: Map<string, Buffer>;
/** Different cache keys over the grid's points (what an uninterrupted grid computes). */
let distinct: number;

const real = (args: string[]) => cli(args, allStages, allFinalizers);

/** Checkpoints of every point of a grid directory (or of one run directory): relative path → bytes. */
async function arrows(root: string, sub = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(join(root, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.name === '.revcor') continue;
    if (e.isDirectory()) for (const [k, v] of await arrows(root, rel)) out.set(k, v);
    else if (e.name.endsWith('.arrow')) out.set(rel, await readFile(join(root, rel)));
  }
  return out;
}

/** Every record of a run directory. */
async function records(outDir: string): Promise<ShardRecord[]> {
  const out: ShardRecord[] = [];
  for (const s of await recordedStages(outDir)) out.push(...(await readStageRecords(outDir, s)).values());
  return out;
}

/** Expects the checkpoints under `root` to equal the reference grid's, file for file. */
function expectSame(got: Map<string, Buffer>, want: Map<string, Buffer>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k)!.equals(v), `${k} differs`).toBe(true);
}

/** `node bin/revcor.js ARGS` with JSON events on stdout, parsed as they arrive. */
function revcor(args: string[]) {
  const proc = spawn(process.execPath, ['bin/revcor.js', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, any>[] = [];
  let err = '';
  let buf = '';
  let wake: (() => void) | undefined;
  proc.stderr.on('data', (d) => (err += d));
  proc.stdout.on('data', (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
      try {
        events.push(JSON.parse(buf.slice(0, nl)));
      } catch {
        events.push({ type: 'text', line: buf.slice(0, nl) });
      }
      wake?.();
    }
  });
  const exit = new Promise<number | string>((res) => proc.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  const waitFor = async (pred: (e: Record<string, any>) => boolean): Promise<void> => {
    while (!events.some(pred)) {
      const woke = new Promise<void>((r) => (wake = r));
      if ((await Promise.race([woke.then(() => 'event'), exit.then(() => 'exit')])) === 'exit' && !events.some(pred)) throw new Error(`exited before the event; stderr:\n${err}`);
    }
  };
  return { proc, events, exit, waitFor, stderr: () => err };
}

beforeAll(async () => {
  dir = await tempDir('revcor-grid-');
  sweep = join(dir, 'sweep.yaml');
  grid = join(dir, 'grid');
  cacheDir = join(dir, 'cache');
  await writeFile(
    sweep,
    [`extends: ${join(REPO, 'config', 'smoke.yaml')}`, 'stimuli:', '  images: { enabled: false }', 'grid:', '  stimuli.noise.count: [100, 150]', '  awc.crop: [theoretical, effective]', ''].join('\n'),
  );
  const r = await real(['run', sweep, '--out', grid, '--cache', cacheDir, '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  ref = await arrows(grid);
  distinct = (await (await CheckpointCache.existing(cacheDir)).scan()).entries.length;
}, 300_000);
afterAll(() => cleanup(dir));

describe('a 2 × 2 grid on the smoke network', () => {
  it('is one run directory per point, named by its settings; every shared shard was computed once', async () => {
    expect((await readdir(grid)).filter((n) => !n.startsWith('.')).sort()).toEqual([...POINTS].sort());
    const byKey = new Map<string, ShardRecord[]>();
    for (const p of POINTS) for (const r of await records(join(grid, p))) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const computedTwice = [...byKey].filter(([, rs]) => rs.filter((r) => !r.cached).length !== 1).map(([, rs]) => `${rs[0]!.stage}/${rs[0]!.shard}`);
    expect(computedTwice).toEqual([]);
    const shared = [...byKey.values()].filter((rs) => rs.length > 1);
    expect(new Set(shared.map((rs) => rs[0]!.stage))).toEqual(new Set(['stimuli', 'activations', 'tuning', 'awa'])); // tuning and gratings everywhere, noise per count, awa per count
    expect([...byKey.values()].filter((rs) => rs[0]!.stage === 'awc').every((rs) => rs.length === 1)).toBe(true);
    const cache = await CheckpointCache.existing(cacheDir);
    const { entries } = await cache.scan();
    expect(entries.map((e) => e.key).sort()).toEqual([...byKey.keys()].sort());
    for (const e of entries) expect(sha256(await readFile(cache.objectPath(e.key)))).toBe(e.sha256);
    // without --cache a grid uses the user's cache directory: in tests $REVCOR_CACHE_DIR (vitest.config.ts), never ~/.cache
    const fallback = JSON.parse((await real(['run', sweep, '--out', grid, '--dry-run', '--json'])).stdout);
    expect(fallback.cache).toBe(process.env.REVCOR_CACHE_DIR);
    expect(process.env.REVCOR_CACHE_DIR).toContain(tmpdir());
    const dry = await real(['run', sweep, '--out', grid, '--cache', cacheDir, '--dry-run', '--json']);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ type: 'dry-run-grid', toCompute: 0 });
    expect(plan.stages.find((s: any) => s.stage === 'stimuli')).toMatchObject({ shards: 8, distinct: 3, shared: 3, unique: 0 });
    expect(plan.stages.find((s: any) => s.stage === 'awc')).toMatchObject({ shards: 8, distinct: 8, shared: 0, unique: 8 });
  });

  it('every point’s checkpoints are byte-identical to the same point run alone', async () => {
    for (const p of POINTS) {
      const solo = join(dir, `solo-${p}`);
      const r = await real(['run', join(REPO, 'config', 'smoke.yaml'), '--set', 'stimuli.images.enabled=false', ...SOLO[p]!, '--out', solo, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const want = new Map([...ref].filter(([k]) => k.startsWith(`${p}/`)).map(([k, v]) => [k.slice(p.length + 1), v]));
      expectSame(await arrows(solo), want);
      await rm(solo, { recursive: true });
    }
  }, 300_000);

  it('status shows every point with the compute the sharing saved; compare prints each point with n and interval', async () => {
    const s = await real(['status', grid]);
    expect(s.code, s.stderr).toBe(0);
    for (const p of POINTS) expect(s.stdout).toMatch(new RegExp(`^  ${p.replace(/[.=,]/g, '\\$&')}\\s+\\d+ of \\d+ shards done`, 'm'));
    expect(s.stdout).toMatch(/^Compute: .* for the grid \(shared shards computed once\), .* had each point run alone; disk: .* \(hard links counted once\), .* summed over the points$/m);
    const json = JSON.parse((await real(['status', grid, '--json'])).stdout);
    expect(json.points.map((p: any) => p.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(json.cost.computeSeconds).toBeLessThan(json.cost.aloneSeconds);
    expect(json.cost.bytes).toBeLessThan(json.cost.aloneBytes);
    const c = await real(['compare', grid, '--stat', 'pct_awa_significant', '--format', 'csv', '--no-html']);
    expect(c.code, c.stderr).toBe(0);
    const lines = c.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('point,stimuli.noise.count,awc.crop,layer,statistic,value,lo,hi,n');
    expect(lines).toHaveLength(1 + 4 * 2);
    expect(lines[1]).toMatch(/^"count=100,crop=theoretical",100,theoretical,block1_conv1,pct_awa_significant,[\d.]+,[\d.]+,[\d.]+,4$/);
  });

  it('the compiled command writes compare.html too (its stylesheet found as a package file, not next to the bundle chunk)', () => {
    ensureBuilt();
    const html = join(grid, 'compare.html');
    const r = spawnSync(process.execPath, ['bin/revcor.js', 'compare', grid, '--stat', 'pct_awa_significant', '--format', 'csv'], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/ENOENT|style\.css/);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('<style>');
  }, 120_000);

  it('kill -9 mid-grid, then the same command: identical outputs, only the rest computed', async () => {
    const g2 = join(dir, 'grid-killed');
    const c2 = join(dir, 'cache-killed');
    const args = ['run', sweep, '--out', g2, '--cache', c2, '--json'];
    const victim = revcor(args);
    await victim.waitFor((e) => e.type === 'shard-done' && e.pointIndex === 1 && !e.cached);
    victim.proc.kill('SIGKILL');
    expect(await victim.exit).toBe('SIGKILL');
    expect(existsSync(join(g2, POINTS[3]!))).toBe(false); // stopped inside the second point
    const before = victim.events.filter((e) => e.type === 'shard-done' && !e.cached).length;
    const rerun = await real(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    const events = rerun.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const after = events.filter((e) => e.type === 'shard-done' && !e.cached).length;
    expect(before + after).toBeLessThanOrEqual(distinct + 2); // an uninterrupted grid's work, plus at most the shards in flight at the kill
    expect(events.filter((e) => e.type === 'log' && e.message.startsWith(`took over the lock left by process ${victim.proc.pid}`)).length).toBe(2); // the grid's and the point's
    expectSame(await arrows(g2), ref);
    const left = (await readdir(join(c2, 'objects'), { recursive: true })).filter((n) => String(n).endsWith('.revcor-tmp'));
    expect(left.length).toBeLessThanOrEqual(1); // at most the killed process's own partial file, which gc removes
    expect((await real(['cache', 'gc', c2])).code).toBe(0);
    expect((await readdir(join(c2, 'objects'), { recursive: true })).filter((n) => String(n).endsWith('.revcor-tmp'))).toEqual([]);
  }, 300_000);

  it('a damaged cache entry (bytes changed in place) is detected and recomputed once; outputs stay identical', async () => {
    const cache = await CheckpointCache.existing(cacheDir);
    const gratings = (await readStageRecords(join(grid, POINTS[0]!), 'stimuli')).get('gratings')!;
    const obj = cache.objectPath(gratings.key);
    const bytes = await readFile(obj);
    bytes[bytes.length - 40] ^= 0xff;
    await writeFile(obj, bytes); // in place: every point's hard link to it sees the damage too
    const r = await real(['run', sweep, '--out', grid, '--cache', cacheDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'shard-done' && !e.cached).map((e) => `${e.stage}/${e.shard}`)).toEqual(['stimuli/gratings']);
    expect(events.some((e) => e.type === 'log' && /^cache entry [0-9a-f]{12}… is corrupt: expected sha256 /.test(e.message))).toBe(true);
    expectSame(await arrows(grid), ref);
    expect(sha256(await readFile(obj))).toBe((await cache.entry(gratings.key))!.sha256);
  }, 300_000);

  it('cache gc keeps what the points reference; a removed point frees only its own shards', async () => {
    let gc = await real(['cache', 'gc', cacheDir, '--json']);
    expect(JSON.parse(gc.stdout)).toMatchObject({ removed: 0 });
    const gone = POINTS[3]!;
    const others = new Set((await Promise.all(POINTS.slice(0, 3).map((p) => records(join(grid, p))))).flat().map((r) => r.key));
    const own = (await records(join(grid, gone))).filter((r) => !others.has(r.key));
    expect(own.map((r) => r.stage).sort()).toEqual(['awc', 'awc', 'summary']);
    await rm(join(grid, gone), { recursive: true });
    gc = await real(['cache', 'gc', cacheDir, '--json']);
    expect(JSON.parse(gc.stdout)).toMatchObject({ removed: own.length, forgotten: 1 });
    const cache = await CheckpointCache.existing(cacheDir);
    for (const r of own) expect(await cache.entry(r.key)).toBeUndefined();
    const r = await real(['run', sweep, '--out', grid, '--cache', cacheDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const computed = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done' && !e.cached);
    expect(computed.map((e) => e.stage).sort()).toEqual(['awc', 'awc', 'summary']);
    expectSame(await arrows(grid), ref);
  }, 300_000);

  it('two grids at once on one cache: both finish with the reference outputs, one consistent entry per key', async () => {
    const shared = join(dir, 'cache-concurrent');
    const a = revcor(['run', sweep, '--out', join(dir, 'ga'), '--cache', shared, '--json']); // another process …
    const b = await real(['run', sweep, '--out', join(dir, 'gb'), '--cache', shared, '--quiet']); // … and this one
    expect(b.code, b.stderr).toBe(0);
    expect(await a.exit, a.stderr()).toBe(0);
    expectSame(await arrows(join(dir, 'ga')), ref);
    expectSame(await arrows(join(dir, 'gb')), ref);
    const cache = await CheckpointCache.existing(shared);
    const { entries, leftovers } = await cache.scan();
    expect(leftovers).toEqual([]);
    expect(entries).toHaveLength(new Set((await Promise.all(POINTS.map((p) => records(join(dir, 'ga', p))))).flat().map((r) => r.key)).size);
    for (const e of entries) expect(sha256(await readFile(cache.objectPath(e.key)))).toBe(e.sha256);
  }, 300_000);
});
