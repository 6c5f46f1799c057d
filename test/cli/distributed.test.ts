// Distributed runs with real processes on a real redis-server: `node bin/revcor.js run config/smoke.yaml --redis`
// with three `revcor worker`s, one SIGKILLed mid-shard (its job goes to another worker; the artifacts equal a local
// run's), a coordinator SIGKILLed and rerun (resumes, no duplicate jobs), and password + TLS with the password in
// no output, status or artifact. Skipped (with a message) where redis-server is absent; .ci/run installs it.
import { requireOrSkip } from '../fixtures/require.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { allStages } from '../../stages/index.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { HAS_OPENSSL, HAS_REDIS, makeCert, startRedis, type TestRedis } from '../fixtures/redis-server.ts';
import { cli, REPO, spawnToy, type ToyChild } from './helpers.ts';

requireOrSkip('redis', HAS_REDIS, 'test/cli/distributed.test.ts needs redis-server (apt-get install redis-server; .ci/run installs it)');

/** A child process whose stdout JSON lines are parsed as they arrive. */
interface Child {
  proc: ChildProcess;
  events: Record<string, any>[];
  stderr: () => string;
  stdout: () => string;
  waitFor(pred: (e: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  exit: Promise<number | string>;
}

const children: ChildProcess[] = [];

/** SIGKILLs every child process still running (coordinators, workers) and waits for them. */
async function killChildren(): Promise<void> {
  const alive = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(alive.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
}

/** Spawns `node bin/revcor.js ARGS` from the repository root. */
function revcor(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['bin/revcor.js', ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const events: Record<string, any>[] = [];
  const waiters: { pred: (e: Record<string, any>) => boolean; resolve: (e: Record<string, any>) => void; reject: (e: Error) => void }[] = [];
  let out = '';
  let err = '';
  let buf = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => {
    out += d;
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let e: Record<string, any>;
      try {
        e = JSON.parse(line);
      } catch {
        e = { type: 'text', line };
      }
      events.push(e);
      for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
    }
  });
  const exit = new Promise<number | string>((res) => proc.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  void exit.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`revcor ${args[0]} exited before the awaited event; stderr:\n${err}`));
  });
  return {
    proc,
    events,
    stderr: () => err,
    stdout: () => out,
    exit,
    waitFor(pred, ms = 45_000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for an event of revcor ${args[0]}; stderr:\n${err}`)), ms);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)), reject: (e) => (clearTimeout(t), reject(e)) });
      });
    },
  };
}

/** Resolves with the exit code, or rejects after `ms`. */
function exited(c: { exit: Promise<number | string>; stderr: () => string }, ms = 50_000): Promise<number | string> {
  return Promise.race([c.exit, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit within ${ms} ms; stderr:\n${c.stderr()}`)), ms))]);
}

/** Every file under `dir` (relative path → bytes). */
async function tree(dir: string, sub = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) for (const [k, v] of await tree(dir, rel)) out.set(k, v);
    else out.set(rel, await readFile(join(dir, rel)));
  }
  return out;
}

const TIMING = new Set(['seconds', 'finishedAt', 'generatedAt', 'createdAt']);
/** JSON without wall-clock fields (records and manifest of two runs differ only there). */
const untimed = (text: string): unknown => JSON.parse(text, (k, v) => (TIMING.has(k) ? undefined : v));

/**
 * Compares two output directories: the same files; checkpoints (.arrow) and CSV byte for byte; records and
 * manifest.json without their wall-clock fields; config.resolved.yaml with the output directory normalised.
 * report.html (it shows run times) must exist in both; the memo of file hashes is bookkeeping and not compared.
 */
async function expectSameArtifacts(a: string, b: string): Promise<void> {
  const ta = await tree(a);
  const tb = await tree(b);
  const names = (t: Map<string, Buffer>) => [...t.keys()].filter((k) => k !== join('.revcor', 'file-hashes.json')).sort();
  expect(names(tb)).toEqual(names(ta));
  const norm = (text: string, dir: string) => text.split(dir).join('<out>');
  let arrows = 0;
  for (const k of names(ta)) {
    const x = ta.get(k)!;
    const y = tb.get(k)!;
    if (k.endsWith('.arrow') || k.endsWith('.csv')) {
      arrows += k.endsWith('.arrow') ? 1 : 0;
      expect(y.equals(x), `${k} byte-identical`).toBe(true);
    } else if (k.endsWith('.html')) {
      continue; // report.html shows run times and is rebuilt from the compared checkpoints: present in both is enough
    } else if (k.endsWith('.json')) {
      expect(untimed(y.toString()), k).toEqual(untimed(x.toString()));
    } else {
      expect(norm(y.toString(), b), k).toBe(norm(x.toString(), a));
    }
  }
  expect(arrows).toBeGreaterThan(10);
}

describe.skipIf(!HAS_REDIS)('distributed runs with real processes', () => {
  let dir: string;
  let redis: TestRedis;
  let local: string;

  beforeAll(async () => {
    dir = await tempDir('revcor-dist-cli-');
    redis = await startRedis(dir);
    local = join(dir, 'local');
    const ref = revcor(['run', 'config/smoke.yaml', '--out', local, '--quiet', '--workers', '1']);
    expect(await exited(ref)).toBe(0);
  });
  afterAll(async () => {
    await killChildren();
    await redis?.stop();
    await cleanup(dir);
  });

  it('three workers, one SIGKILLed mid-write: another worker retries its shard, nothing is computed twice, artifacts equal a local run', async () => {
    const dist = join(dir, 'dist');
    // lock 3 s, stall checks every 0.5 s: a dead worker's shard is back in the queue within ~4 s
    const wargs = ['worker', '--redis', redis.url, '--workers', '1', '--json', '--lock-duration', '3', '--stalled-interval', '0.5'];
    // the victim starts alone (with the coordinator), so it takes the first activations shard and pauses mid-write
    const victim = revcor(wargs, { REVCOR_TEST_PAUSE: 'mid-write:activations/*' });
    const coord = revcor(['run', 'config/smoke.yaml', '--out', dist, '--redis', redis.url, '--json']);
    const paused = await victim.waitFor((e) => e.type === 'test-paused');
    const others = [revcor(wargs), revcor(wargs)];
    await Promise.all(others.map((w) => w.waitFor((e) => e.type === 'worker-start')));
    // the victim is mid-write: half of the checkpoint is in a temp file
    expect((await readdir(join(dist, 'activations'))).some((f) => f.endsWith('.revcor-tmp'))).toBe(true);
    victim.proc.kill('SIGKILL');
    expect(await victim.exit).toBe('SIGKILL');
    expect(await exited(coord)).toBe(0);

    const killed = `activations/${paused.shard}`;
    const done = (w: Child) => w.events.filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`);
    const all = [...done(victim), ...others.flatMap(done)].sort();
    expect(new Set(all).size, 'no shard computed twice').toBe(all.length);
    expect(all).toHaveLength(coord.events.find((e) => e.type === 'plan')!.toRun);
    expect(done(victim)).not.toContain(killed);
    expect(others.flatMap(done)).toContain(killed);
    const retried = others.flatMap((w) => w.events).find((e) => e.type === 'job-start' && `${e.stage}/${e.shard}` === killed);
    expect(retried?.attempt).toBe(1); // a stall is not a failed attempt
    expect(coord.events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.startsWith(`${killed}: its worker stopped renewing the job lock`))).toBe(true);
    expect(coord.events.at(-1)).toMatchObject({ type: 'run-done', ran: all.length });
    await expectSameArtifacts(local, dist); // includes: no temp file of the killed writer is left

    const status = await cli(['status', dist, '--redis', redis.url, '--json'], allStages);
    const s = JSON.parse(status.stdout);
    expect(s.toRun).toBe(0);
    expect(s.queue.jobs).toEqual([]);
    const ids = others.map((w) => w.events.find((e) => e.type === 'worker-start')!.id);
    expect(s.queue.workers.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining(ids));
    for (const w of others) w.proc.kill('SIGTERM');
    for (const w of others) expect(await exited(w)).toBe(0);
    expect(others.every((w) => w.events.at(-1)?.type === 'worker-stop')).toBe(true);
  }, 240_000);

  it('a coordinator SIGKILLed while its jobs wait: the rerun resumes from the queue without duplicating jobs', async () => {
    const dist = join(dir, 'resume');
    const args = ['run', 'config/smoke.yaml', '--out', dist, '--redis', redis.url, '--queue', 'resume', '--json'];
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
    const queue = new Queue('resume', { connection: client });
    const queued = async () => {
      const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
      return c.waiting + c.prioritized + c.active + c.delayed;
    };
    try {
      await queue.pause(); // the worker starts at once but takes nothing until the queue is resumed
      const w = revcor(['worker', '--redis', redis.url, '--queue', 'resume', '--workers', '1', '--json']);
      const first = revcor(args);
      await first.waitFor((e) => e.type === 'stage-start' && e.stage === 'stimuli');
      for (let i = 0; (await queued()) < 3 && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await queued()).toBe(3); // the three stimuli shards; nothing taken yet
      first.proc.kill('SIGKILL');
      await first.exit;
      // every job added from here on is in the queue's event stream (read after the run, so no waiting on a clock)
      const since = (await client.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1))[0]![0];
      const second = revcor(args);
      await second.waitFor((e) => e.type === 'stage-start' && e.stage === 'stimuli');
      expect(second.events.some((e) => e.type === 'log' && /took over the lock left by process/.test(e.message))).toBe(true);
      await queue.resume();
      expect(await exited(second)).toBe(0);
      const added = (await client.xrange(queue.keys.events, `(${since}`, '+'))
        .map(([, fields]) => Object.fromEntries(fields.flatMap((f, i) => (i % 2 ? [] : [[f, fields[i + 1]]]))))
        .filter((f) => f.event === 'added')
        .map((f) => f.name);
      // job id = cache key: the rerun adopted the three stimuli jobs and added only the later stages' jobs
      expect(added.filter((n) => n.startsWith('stimuli/'))).toEqual([]);
      expect(added.some((n) => n.startsWith('activations/'))).toBe(true);
      w.proc.kill('SIGTERM');
      expect(await exited(w)).toBe(0);
      const done = w.events.filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`);
      expect(new Set(done).size).toBe(done.length);
      await expectSameArtifacts(local, dist);
    } finally {
      await queue.close();
      client.disconnect();
    }
  }, 240_000);
});

describe.skipIf(!HAS_REDIS)('Redis password and TLS (toy stages): the password appears nowhere', () => {
  let dir: string;
  let redis: TestRedis;
  let cfg: string;
  let ca: string[] = [];
  const PASSWORD = 'Zq7-s3cret:pw/42';

  beforeAll(async () => {
    dir = await tempDir('revcor-dist-pw-');
    if (!HAS_OPENSSL) console.warn('openssl absent: the password test runs without TLS');
    const tls = HAS_OPENSSL ? makeCert(dir) : undefined;
    redis = await startRedis(dir, { password: PASSWORD, tls });
    if (tls) ca = ['--redis-ca', tls.cert];
    cfg = join(dir, 'exp.yaml');
    await writeFile(cfg, 'stimuli:\n  noise: { count: 12, seed: 3 }\nactivations: { shardSize: 4 }\nrun: { out: ./out }\n');
  });
  afterAll(async () => {
    await killChildren();
    await redis?.stop();
    await cleanup(dir);
  });

  it(`works over ${HAS_OPENSSL ? 'rediss:// with a private CA' : 'redis://'}; logs, status, lock file, errors and artifacts never show the password`, async () => {
    const out = join(dir, 'out');
    expect(redis.url).toContain(encodeURIComponent(PASSWORD));
    const seen: string[] = [];
    const env = { REVCOR_REDIS: redis.url, TOY_SLEEP_MS: '400', ...(ca.length ? { REVCOR_REDIS_CA: ca[1] } : {}) };
    const worker: ToyChild = spawnToy(['worker', '--json', '--workers', '1'], env);
    children.push(worker.proc);
    const coord = spawnToy(['run', cfg, '--redis', redis.url, ...ca, '--json'], { TOY_SLEEP_MS: '400' });
    children.push(coord.proc);
    await coord.waitFor((e) => e.type === 'shard-done');
    seen.push(await readFile(join(out, '.revcor', 'lock'), 'utf8'));
    expect(seen[0]).toMatch(/--redis rediss?:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    const mid = await cli(['status', out, '--redis', redis.url, ...ca]);
    expect(mid.code).toBe(0);
    expect(mid.stdout).toMatch(/Queue 'revcor' on rediss?:\/\/:\*\*\*@127\.0\.0\.1:\d+: \d+ queued, \d+ running, 0 failed shards of this directory/);
    expect(mid.stdout).toMatch(/coordinator: process \d+ on /);
    expect(mid.stdout).toMatch(/Live workers on 'revcor': 1\n  \S+: 1 at a time, 1 threads, (idle|running (source|square|total)\/\S+);/);
    seen.push(mid.stdout, mid.stderr);
    expect(await coord.exit).toBe(0);
    const after = await cli(['status', out, '--redis', redis.url, ...ca, '--json']);
    seen.push(after.stdout, after.stderr);
    expect(JSON.parse(after.stdout).queue.redis).toMatch(/^rediss?:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);
    const wrong = await cli(['status', out, '--redis', redis.url.replace(encodeURIComponent(PASSWORD), 'not-it-Zq7'), ...ca]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^error: Redis at rediss?:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials/);
    seen.push(wrong.stderr);
    if (ca.length) {
      const untrusted = await cli(['status', out, '--redis', redis.url]);
      expect(untrusted.stderr).toMatch(/^error: TLS connection to Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ failed: self[- ]signed certificate/);
      seen.push(untrusted.stderr);
    }
    worker.proc.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    seen.push(coord.stderr(), JSON.stringify(coord.events), worker.stderr(), JSON.stringify(worker.events));
    for (const [name, bytes] of await tree(out)) seen.push(`${name}\n${bytes.toString('latin1')}`);
    expect(coord.events.filter((e) => e.type === 'shard-done')).toHaveLength(7);
    const text = seen.join('\n');
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), 'not-it-Zq7']) expect(text).not.toContain(form);
  });
});
