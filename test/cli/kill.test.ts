// kill -9 and Ctrl-C with real child processes: the rerun computes only what is missing, and the final
// artifacts are byte-identical to an uninterrupted run's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { pidAlive } from '../../pipeline/lock.ts';
import { cli, REPO, spawnToy, type ToyChild } from './helpers.ts';

const ALL = [
  ...['0000-0004', '0004-0008', '0008-0012', '0012-0016', '0016-0020', '0020-0024'].flatMap((r) => [`source/src-${r}`, `square/sq-${r}`]),
  'total/all',
].sort();

let dir: string;
let cfg: string;
const refs: Record<string, Map<string, Buffer>> = {};
const refKeys: Record<string, Map<string, string>> = {};

/** Every file under `out` (relative path → bytes), except the engine's bookkeeping. */
async function tree(out: string, sub = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const e of await readdir(join(out, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) for (const [k, v] of await tree(out, rel)) files.set(k, v);
    else files.set(rel, await readFile(join(out, rel)));
  }
  return files;
}

/** The checkpoints (Arrow files) of an output directory. */
async function arrows(out: string): Promise<Map<string, Buffer>> {
  return new Map([...(await tree(out))].filter(([k]) => k.endsWith('.arrow')));
}

/**
 * Shards that have a manifest record, with their cache keys. Only the records themselves: a kill -9 can leave a
 * record's temporary file (`.<shard>.json.<pid>.<random>.revcor-tmp`, possibly empty), which is not a record.
 */
async function recordKeys(out: string): Promise<Map<string, string>> {
  const recs = [...(await tree(join(out, '.revcor', 'records')))].filter(([k]) => k.endsWith('.json'));
  return new Map(recs.map(([k, v]) => [k.replace(/\.json$/, ''), JSON.parse(v.toString()).key as string]));
}

/** Shards that have a manifest record. */
async function recorded(out: string): Promise<string[]> {
  return [...(await recordKeys(out)).keys()].sort();
}

const done = (c: ToyChild) => c.events.filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`).sort();
const nth = (n: number) => {
  let seen = 0;
  return (e: Record<string, any>) => e.type === 'shard-done' && ++seen === n;
};

async function killed(out: string, env: Record<string, string>, when: (e: Record<string, any>) => boolean, extra: string[] = []): Promise<ToyChild> {
  const child = spawnToy(['run', cfg, '--out', out, '--json', ...extra], env);
  await child.waitFor(when);
  child.proc.kill('SIGKILL');
  expect(await child.exit).toBe('SIGKILL');
  return child;
}

async function resumed(out: string, extra: string[] = []): Promise<ToyChild> {
  const child = spawnToy(['run', cfg, '--out', out, '--json', ...extra]);
  expect(await child.exit, child.stderr()).toBe(0);
  return child;
}

/** After a kill -9 and a rerun: only the unrecorded shards ran, the lock was taken over, outputs are identical. */
async function expectCleanResume(out: string, victim: ToyChild, refName = 'base', extra: string[] = []): Promise<ToyChild> {
  const ref = refs[refName];
  // Current = recorded with the key an uninterrupted run of the same config records (stale records do not count).
  const before = [...(await recordKeys(out))].filter(([s, k]) => refKeys[refName].get(s) === k).map(([s]) => s);
  expect(existsSync(join(out, '.revcor', 'lock'))).toBe(true);
  expect(pidAlive(victim.proc.pid!)).toBe(false);
  const rerun = await resumed(out, extra);
  expect(done(rerun)).toEqual(ALL.filter((s) => !before.includes(s)));
  expect(rerun.events.some((e) => e.type === 'log' && e.message.startsWith(`took over the lock left by process ${victim.proc.pid}`))).toBe(true);
  const files = await tree(out);
  expect([...files.keys()].filter((k) => k.includes('revcor-tmp'))).toEqual([]);
  expect(existsSync(join(out, '.revcor', 'lock'))).toBe(false);
  const got = await arrows(out);
  expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
  for (const [k, v] of ref) expect(got.get(k)!.equals(v), `${k} differs from the uninterrupted run`).toBe(true);
  return rerun;
}

beforeAll(async () => {
  dir = await tempDir('revcor-kill-');
  cfg = join(dir, 'exp.yaml');
  await writeFile(cfg, 'stimuli:\n  noise: { count: 24, seed: 3 }\nactivations: { shardSize: 4 }\nrun: { out: ./out, concurrency: 2 }\n');
  for (const [name, extra] of [['base', []], ['z6', ['--set', 'awa.zThreshold=6']]] as const) {
    const r = await cli(['run', cfg, '--out', join(dir, `ref-${name}`), '--quiet', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    refs[name] = await arrows(join(dir, `ref-${name}`));
    refKeys[name] = await recordKeys(join(dir, `ref-${name}`));
  }
  expect([...refs.base.keys()].map((k) => k.replace(/\.arrow$/, '')).sort()).toEqual(ALL);
});
afterAll(() => cleanup(dir));

const SLOW = { TOY_SLEEP_MS: '80' };

describe('kill -9, then the same command again', () => {
  it.each([
    ['early in the first stage', 1],
    ['mid-stage, with two stages in flight', 8],
  ])('killed %s (after %i finished shards)', async (_label, n) => {
    const out = join(dir, `mid-${n}`);
    const victim = await killed(out, SLOW, nth(n));
    const rec = await recorded(out);
    expect(rec.length).toBeGreaterThanOrEqual(n);
    expect(rec.length).toBeLessThan(ALL.length);
    expect(rec).toEqual(expect.arrayContaining(done(victim)));
    await expectCleanResume(out, victim);
  });

  it('killed mid-write of a checkpoint: no partial file is ever taken for a checkpoint', async () => {
    const out = join(dir, 'mid-write');
    const victim = await killed(out, { TOY_PAUSE: 'mid-write:square/sq-0008-0012' }, (e) => e.type === 'test-paused');
    const sq = await readdir(join(out, 'square'));
    expect(sq.filter((f) => f.startsWith('.sq-0008-0012.arrow.') && f.endsWith('.revcor-tmp'))).toHaveLength(1);
    expect(sq).not.toContain('sq-0008-0012.arrow');
    const rerun = await expectCleanResume(out, victim);
    expect(done(rerun)).toContain('square/sq-0008-0012');
  });

  it('killed after the rename but before the manifest record: the unrecorded file is recomputed', async () => {
    const out = join(dir, 'before-record');
    const victim = await killed(out, { TOY_PAUSE: 'before-record:total/all' }, (e) => e.type === 'test-paused');
    expect(existsSync(join(out, 'total', 'all.arrow'))).toBe(true);
    expect(await recorded(out)).toEqual(ALL.filter((s) => s !== 'total/all'));
    const rerun = await expectCleanResume(out, victim);
    expect(done(rerun)).toEqual(['total/all']);
  });

  it('killed mid-write while replacing a stale checkpoint: the old file stays whole, the rerun replaces it', async () => {
    const out = join(dir, 'before-record'); // complete from the previous test
    const old = await readFile(join(out, 'square', 'sq-0000-0004.arrow'));
    const z6 = ['--set', 'awa.zThreshold=6'];
    const victim = await killed(out, { TOY_PAUSE: 'mid-write:square/sq-0000-0004' }, (e) => e.type === 'test-paused', z6);
    expect((await readFile(join(out, 'square', 'sq-0000-0004.arrow'))).equals(old)).toBe(true);
    expect(await recorded(out)).not.toContain('square/sq-0000-0004');
    const current = [...(await recordKeys(out))].filter(([sh, k]) => refKeys.z6.get(sh) === k).map(([sh]) => sh);
    expect(current.filter((sh) => sh.startsWith('source/'))).toHaveLength(6); // source is unaffected by awa.zThreshold
    expect(current).not.toContain('square/sq-0000-0004');
    expect(current).not.toContain('total/all');
    const rerun = await expectCleanResume(out, victim, 'z6', z6);
    expect(done(rerun)).toContain('square/sq-0000-0004');
    expect(done(rerun)).toContain('total/all');
  });
});

describe('Ctrl-C', () => {
  it('SIGINT stops cleanly, exits 130 and prints the exact command that resumes; that command finishes the run', async () => {
    const out = join(dir, 'sigint');
    const child = spawnToy(['run', cfg, '--out', out, '--json', '--force', 'source'], { TOY_SLEEP_MS: '400' });
    await child.waitFor((e) => e.type === 'shard-start');
    child.proc.kill('SIGINT');
    expect(await child.exit).toBe(130);
    const err = child.stderr();
    const resume = `node bin/run-ts.js test/fixtures/toy-cli.ts run ${cfg} --out ${out} --json`;
    expect(err).toContain('SIGINT: stopping after the shards in flight finish');
    expect(err).toMatch(/error: Interrupted: \d+ of 13 shards finished this run and are kept\./);
    expect(err).toContain(`Resume with: ${resume}`);
    expect(err).not.toMatch(/\n\s+at /);
    expect(child.events.some((e) => e.type === 'interrupted' && e.resume === resume)).toBe(true);
    expect(existsSync(join(out, '.revcor', 'lock'))).toBe(false);
    const files = await tree(out);
    expect([...files.keys()].filter((k) => k.includes('revcor-tmp'))).toEqual([]);
    const again = spawn('sh', ['-c', resume], { cwd: REPO, stdio: 'ignore' });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    const got = await arrows(out);
    for (const [k, v] of refs.base) expect(got.get(k)?.equals(v), k).toBe(true);
  });

  it('SIGTERM does the same', async () => {
    const out = join(dir, 'sigterm');
    const child = spawnToy(['run', cfg, '--out', out], { TOY_SLEEP_MS: '400' });
    while (!child.stderr().includes('Running')) await new Promise((r) => setTimeout(r, 50));
    child.proc.kill('SIGTERM');
    expect(await child.exit).toBe(130);
    expect(child.stderr()).toContain(`Resume with: node bin/run-ts.js test/fixtures/toy-cli.ts run ${cfg} --out ${out}`);
    expect(relative(dir, out)).toBe('sigterm');
  });
});
