// Distributed runs, in process on the toy stages: job validation (shape, path traversal, code version, stale
// keys), skip of recorded shards, a coordinator against workers of another code version, unreachable Redis,
// and password redaction of URLs and messages. Redis tests start their own redis-server (skipped without one).
import { requireOrSkip } from '../fixtures/require.ts';
import type { Experiment } from '../../config/schema.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { loadExperiment, toResolvedYaml } from '../../config/load.ts';
import { RevcorError } from '../../pipeline/errors.ts';
import { runPipeline } from '../../pipeline/runner.ts';
import { planRun } from '../../pipeline/plan.ts';
import { runDistributed, RemoteShardError } from '../../pipeline/distributed/coordinator.ts';
import { checkJob, JOB_FORMAT, JobRejected, type ShardJob } from '../../pipeline/distributed/job.ts';
import { redact, redactUrls } from '../../pipeline/distributed/redact.ts';
import { parseRedisUrl, RedisError } from '../../pipeline/distributed/redis.ts';
import { runWorker, type WorkerEvent } from '../../pipeline/distributed/worker.ts';
import { freePort, HAS_REDIS, startRedis, type TestRedis } from '../fixtures/redis-server.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

requireOrSkip('redis', HAS_REDIS, 'distributed tests that need redis-server (apt-get install redis-server; .ci/run installs it)');

const KEY = 'a'.repeat(64);
const policy = { codeVersion: 'v1', stageNames: ['source', 'square', 'total'] };
const job = (over: Partial<ShardJob> = {}): ShardJob => ({
  format: JOB_FORMAT,
  outDir: '/data/run',
  stage: 'source',
  shard: 'src-0000-0004',
  key: KEY,
  codeVersion: 'v1',
  configSha256: 'b'.repeat(64),
  coordinator: { host: 'h', pid: 1 },
  queuedAt: 'now',
  ...over,
});

/** Every file under a directory (relative path → content), to prove nothing was written. */
async function snapshot(dir: string, sub = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(join(dir, sub), { withFileTypes: true }).catch(() => [])) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) for (const [k, v] of await snapshot(dir, rel)) out.set(k, v);
    else out.set(rel, await readFile(join(dir, rel), 'latin1'));
  }
  return out;
}

describe('job validation (no Redis needed)', () => {
  it('accepts a well-formed job and rejects wrong shapes, ids and code versions', () => {
    expect(checkJob(KEY, job(), policy)).toMatchObject({ stage: 'source', shard: 'src-0000-0004' });
    expect(() => checkJob('x', { hello: 1 }, policy)).toThrow(/Job "x": expected a revcor-job\/1 payload, got one that fails validation \(format: .*/);
    expect(() => checkJob(KEY, { ...job(), extra: 1 }, policy)).toThrow(JobRejected);
    expect(() => checkJob(KEY, job({ key: 'A'.repeat(64) }), policy)).toThrow(/key: /);
    expect(() => checkJob('other-id', job(), policy)).toThrow(/expected the job id to equal its cache key/);
    expect(() => checkJob(KEY, job({ codeVersion: 'v2' }), policy)).toThrow(/expected code version v1 \(this worker\), got v2 from the coordinator on h/);
    expect(() => checkJob(KEY, job({ stage: 'awc' }), policy)).toThrow(/expected one of the stages source, square, total, got "awc"/);
  });

  it('rejects shard ids and output directories that would write outside the run', () => {
    for (const shard of ['../../etc/passwd', '..', '.hidden', 'a/b', 'a\\b', 'x\0y', '/abs', '', 'x'.repeat(201)]) {
      expect(() => checkJob(KEY, job({ shard }), policy), shard).toThrow(JobRejected);
    }
    expect(() => checkJob(KEY, job({ stage: '../source' }), policy)).toThrow(JobRejected);
    for (const outDir of ['relative/dir', '/data/run/../../etc', '/data/run/', '/', '/data/\0run', '/data//run', '/data/./run']) {
      expect(() => checkJob(KEY, job({ outDir }), policy), outDir).toThrow(/expected outDir to be an absolute, normalised directory path|fails validation/);
    }
    expect(() => checkJob(KEY, job(), { ...policy, allow: ['/scratch'] })).toThrow(/expected an output directory inside \/scratch \(--allow\), got \/data\/run/);
    expect(checkJob(KEY, job(), { ...policy, allow: ['/data'] }).outDir).toBe('/data/run');
  });
});

describe('redaction (no Redis needed)', () => {
  it('masks URL passwords and registered secrets; parse errors never echo a password', () => {
    expect(redactUrls('at redis://:hunter2@h:1 and rediss://u:pw@h2/0')).toBe('at redis://:***@h:1 and rediss://u:***@h2/0');
    const t = parseRedisUrl('redis://:p%40ss%3Aw0rd@127.0.0.1:6390/2');
    expect(t).toMatchObject({ host: '127.0.0.1', port: 6390, db: 2, tls: false, display: 'redis://:***@127.0.0.1:6390/2' });
    expect(t.options.password).toBe('p@ss:w0rd');
    expect(redact('wrong password p@ss:w0rd (p%40ss%3Aw0rd)')).toBe('wrong password *** (***)');
    const errors: string[] = [];
    for (const bad of ['http://:zz-secret-1@h', ':zz-secret-2@host', 'redis://:zz-secret-3@h/notadb', 'redis://:zz-secret-4@h?x=1']) {
      try {
        parseRedisUrl(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(RevcorError);
        errors.push(redact((e as Error).message));
      }
    }
    expect(errors).toHaveLength(4);
    expect(errors.join('\n')).not.toMatch(/zz-secret/);
    expect(parseRedisUrl('rediss://h.example:6380').options.tls).toEqual({ servername: 'h.example' });
  });
});

describe.skipIf(!HAS_REDIS)('workers and coordinator on a real redis-server (toy stages)', () => {
  let dir: string;
  let redis: TestRedis;
  const experiment = toyExperiment();
  const resolvedYaml = toResolvedYaml(experiment.config);
  const stages = toyStages();
  const load = async (file: string) => loadExperiment(file);

  beforeAll(async () => {
    dir = await tempDir('revcor-dist-');
    redis = await startRedis(dir);
  });
  const live = new Set<() => Promise<unknown>>();
  afterAll(async () => {
    await Promise.all([...live].map((stop) => stop()));
    await redis?.stop();
    await cleanup(dir);
  });

  /** An in-process worker; `stop()` ends it and returns its events. Each test has its own queue (jobs a test leaves,
   * such as failed ones kept by their cache-key id, must not reach another test that runs after it in any order). */
  function worker(over: Partial<Parameters<typeof runWorker>[0]> = {}) {
    const events: WorkerEvent[] = [];
    const ac = new AbortController();
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const done = runWorker({
      redis: parseRedisUrl(redis.url),
      queue: 'q',
      stages,
      codeVersion: 'v1',
      threads: 1,
      emit: (e) => events.push(e),
      signal: ac.signal,
      loadExperiment: load,
      onReady: () => ready(),
      ...over,
    });
    const stop = async (): Promise<WorkerEvent[]> => {
      live.delete(stop);
      ac.abort();
      await done;
      return events;
    };
    live.add(stop);
    return { events, started, stop };
  }

  it('a worker rejects every malformed, unsafe, foreign or stale job without writing, and skips recorded shards', async () => {
    const out = join(dir, 'run-a');
    await runPipeline({ stages, experiment, outDir: out, workers: 1, resolvedYaml });
    const empty = join(dir, 'not-a-run');
    await mkdir(empty);
    const plan = await planRun(stages, experiment, out);
    const src = plan.stages[0].shards[0];
    const before = await snapshot(dir);
    const w = worker({ allow: [dir], queue: 'reject' });
    await w.started;
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
    const queue = new Queue('reject', { connection: client });
    const qe = new QueueEvents('reject', { connection: new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null }) });
    await qe.waitUntilReady();
    const good = job({ outDir: out, stage: 'source', shard: src.shard.id, key: src.key });
    const cases: [string, string, unknown, RegExp][] = [
      ['wrong shape', 'bad-shape', { hello: 'world' }, /expected a revcor-job\/1 payload/],
      ['path traversal in the shard id', KEY, { ...good, key: KEY, shard: '../../escape' }, /expected a shard id of \[A-Za-z0-9_.-\]/],
      ['absolute shard path', KEY.replace(/a/g, 'c'), { ...good, key: KEY.replace(/a/g, 'c'), shard: '/tmp/escape' }, /expected a shard id/],
      ['output directory outside --allow', KEY.replace(/a/g, 'd'), { ...good, key: KEY.replace(/a/g, 'd'), outDir: '/etc' }, /--allow/],
      ['not a revcor output directory', KEY.replace(/a/g, 'e'), { ...good, key: KEY.replace(/a/g, 'e'), outDir: empty }, /expected .*not-a-run to be a revcor output directory/],
      ['other code version', src.key, { ...good, codeVersion: 'v0-old' }, /expected code version v1 \(this worker\), got v0-old/],
      ['stale cache key', KEY.replace(/a/g, 'f'), { ...good, key: KEY.replace(/a/g, 'f') }, /expected cache key [0-9a-f]{64} \(computed here from .*config\.resolved\.yaml/],
    ];
    for (const [what, id, data, reason] of cases) {
      const j = await queue.add('x', data, { jobId: id, attempts: 3 });
      await expect(j.waitUntilFinished(qe, 20_000), what).rejects.toThrow(reason);
      const after = await queue.getJob(id);
      expect(after?.attemptsMade, `${what}: not retried`).toBe(1);
      await after?.remove();
    }
    const skip = await queue.add('x', good, { jobId: src.key });
    expect(await skip.waitUntilFinished(qe, 20_000)).toMatchObject({ status: 'skipped', outDir: out });
    const events = await w.stop();
    expect(events.filter((e) => e.type === 'job-rejected')).toHaveLength(cases.length);
    expect(events.filter((e) => e.type === 'job-start')).toHaveLength(0); // nothing ran
    expect(await snapshot(dir)).toEqual(before); // nothing written anywhere
    expect(existsSync(join(dir, 'escape.arrow')) || existsSync('/tmp/escape.arrow')).toBe(false);
    await qe.close();
    await queue.close();
    client.disconnect();
  });

  it('coordinator and two workers compute the toy pipeline; the result equals a local run byte for byte', async () => {
    const local = join(dir, 'local');
    const dist = join(dir, 'dist');
    await runPipeline({ stages, experiment, outDir: local, workers: 1, resolvedYaml });
    const w1 = worker({ queue: 'dist' });
    const w2 = worker({ queue: 'dist' });
    await Promise.all([w1.started, w2.started]);
    const r = await runDistributed({ stages, experiment, outDir: dist, redis: parseRedisUrl(redis.url), queue: 'dist', codeVersion: 'v1', resolvedYaml, pollMs: 300 });
    expect(r.ran).toHaveLength(7);
    // --force: the recorded shard is recomputed by a worker (not skipped as recorded)
    const forced = await runDistributed({ stages, experiment, outDir: dist, redis: parseRedisUrl(redis.url), queue: 'dist', codeVersion: 'v1', resolvedYaml, pollMs: 300, force: ['total'] });
    expect(forced.ran.map((s) => `${s.stage}/${s.shard.id}`)).toEqual(['total/all']);
    const ev = [...(await w1.stop()), ...(await w2.stop())];
    expect(ev.filter((e) => e.type === 'shard-skipped')).toEqual([]);
    expect(ev.filter((e) => e.type === 'shard-done').map((e) => (e as { shard: string }).shard).sort()).toEqual(
      ['all', 'all', 'sq-0000-0004', 'sq-0004-0008', 'sq-0008-0010', 'src-0000-0004', 'src-0004-0008', 'src-0008-0010'],
    );
    const a = await snapshot(local);
    const b = await snapshot(dist);
    const arrows = [...a.keys()].filter((k) => k.endsWith('.arrow')).sort();
    expect([...b.keys()].filter((k) => k.endsWith('.arrow')).sort()).toEqual(arrows);
    for (const k of arrows) expect(b.get(k), k).toBe(a.get(k));
    const m = JSON.parse(b.get('manifest.json')!);
    expect(Object.values(m.stages).flat()).toHaveLength(7);
    // an unchanged rerun needs no worker
    const again = await runDistributed({ stages, experiment, outDir: dist, redis: parseRedisUrl(redis.url), queue: 'dist', codeVersion: 'v1', resolvedYaml });
    expect(again.upToDate).toBe(true);
  });

  it('a worker of another code version rejects the jobs: the coordinator fails with a clear error and writes no checkpoint', async () => {
    const out = join(dir, 'mismatch');
    const w = worker({ codeVersion: 'v2-other', queue: 'mismatch' });
    await w.started;
    const logs: string[] = [];
    const err = await runDistributed({
      stages,
      experiment,
      outDir: out,
      redis: parseRedisUrl(redis.url),
      queue: 'mismatch',
      codeVersion: 'v1',
      resolvedYaml,
      pollMs: 300,
      resumeCommand: 'revcor run x.yaml --redis …',
      reporter: { event: (e) => e.type === 'log' && logs.push(e.message), close() {} },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteShardError);
    expect(err.message).toMatch(/^Stage source shard src-000\d-00\d\d failed on a worker: Job .*expected code version v2-other \(this worker\), got v1 from the coordinator/);
    expect(err.hint).toMatch(/0 of 7 shards finished this run and are kept(; \d+ queued jobs? was withdrawn|; \d+ queued jobs were withdrawn)?(; 1 shard still running on workers is recorded when finished)?\. Resume with: revcor run x\.yaml --redis …/);
    expect(logs.join('\n')).toMatch(/worker .* runs code version v2-other, this coordinator v1: it will reject this run's jobs/);
    await w.stop();
    const files = [...(await snapshot(out)).keys()];
    expect(files.filter((f) => f.endsWith('.arrow') || f.includes('records'))).toEqual([]);
    // the withdrawn jobs are gone from the queue
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
    const queue = new Queue('mismatch', { connection: client });
    expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active')).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0 });
    await queue.close();
    client.disconnect();
  });

  it('Redis unreachable or a wrong password: a RedisError before anything is written', async () => {
    const port = await freePort();
    const out = join(dir, 'never');
    const e1 = await runDistributed({ stages, experiment, outDir: out, redis: parseRedisUrl(`redis://:pw-zz9@127.0.0.1:${port}`), codeVersion: 'v1' }).catch((e) => e);
    expect(e1).toBeInstanceOf(RedisError);
    expect(e1.message).toBe(`Cannot connect to Redis at redis://:***@127.0.0.1:${port}: connection refused. Expected a redis-server listening on 127.0.0.1:${port}.`);
    const guarded = await startRedis(dir, { password: 'right-zz8' });
    try {
      const e2 = await runDistributed({ stages, experiment, outDir: out, redis: parseRedisUrl(`redis://:pw-zz9@127.0.0.1:${guarded.port}`), codeVersion: 'v1' }).catch((e) => e);
      expect(e2).toBeInstanceOf(RedisError);
      expect(e2.message).toBe(`Redis at redis://:***@127.0.0.1:${guarded.port} refused the credentials: expected the password (and user name, if any) of that server in the URL, got wrong ones.`);
      const e3 = await runDistributed({ stages, experiment, outDir: out, redis: parseRedisUrl(`redis://127.0.0.1:${guarded.port}`), codeVersion: 'v1' }).catch((e) => e);
      expect(e3.message).toMatch(/requires a password: expected one in the URL/);
      expect(`${e1.message}${e1.hint}${e2.message}${e2.hint}`).not.toContain('pw-zz9');
    } finally {
      await guarded.stop();
    }
    expect(existsSync(out)).toBe(false);
  });
});
