import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { closeSync, existsSync, openSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, lockId, lockPath, pidAlive, readLock, type LockInfo } from '../../pipeline/lock.ts';
import { sha256 } from '../../pipeline/cache-key.ts';
import { OutputError } from '../../pipeline/errors.ts';
import { cleanup, tempDir } from './helpers.ts';
import { REPO } from '../cli/helpers.ts';

// Another process acting between two steps of this one (a test cannot interleave real processes there at will):
// after `link` creates a path that a test names here, that test's function runs before `link` returns.
const afterLink = vi.hoisted(() => new Map<(target: string) => boolean, () => Promise<void>>());
// A `link` that fails with an errno the test names (root cannot make a real one fail but by a full disk).
const linkFaults = vi.hoisted(() => new Map<string, (target: string) => boolean>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const link = (async (from: string, to: string) => {
    for (const [code, hit] of linkFaults) if (hit(String(to))) throw Object.assign(new Error(`${code}: simulated, link '${String(to)}'`), { code, syscall: 'link' });
    await real.link(from, to);
    for (const [hit, then] of afterLink) if (hit(String(to))) await then();
  }) as typeof real.link;
  return { ...real, link, default: { ...real, link } };
});

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(async () => {
  afterLink.clear();
  linkFaults.clear();
  vi.restoreAllMocks();
  await cleanup(dir);
});

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

const writeLock = async (info: object) => {
  await mkdir(join(dir, '.revcor'), { recursive: true });
  await writeFile(lockPath(dir), JSON.stringify(info));
};

describe('output directory lock', () => {
  it('records pid, host, start time and command, and is released', async () => {
    const lock = await acquireLock(dir, 'revcor run a.yaml');
    const info = JSON.parse(await readFile(lockPath(dir), 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, hostname: hostname(), command: 'revcor run a.yaml' });
    expect(Date.parse(info.startedAt)).toBeGreaterThan(0);
    await lock.release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  it('a second run fails with a clear error naming the other process', async () => {
    await writeLock({ pid: process.ppid, hostname: hostname(), startedAt: '2025-01-01T00:00:00.000Z', command: 'revcor run other.yaml' });
    const err = await acquireLock(dir, 'revcor run b.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect(err.message).toBe(
      `Output directory is locked by process ${process.ppid} on ${hostname()} (started 2025-01-01T00:00:00.000Z: revcor run other.yaml): expected no other run writing ${dir}`,
    );
    expect(err.hint).toContain(`delete ${lockPath(dir)}`);
  });

  it('a lock of a dead process on this host is taken over, and says so', async () => {
    const pid = deadPid();
    await writeLock({ pid, hostname: hostname(), startedAt: 'then', command: 'revcor run dead.yaml' });
    const lock = await acquireLock(dir, 'revcor run c.yaml');
    expect(lock.tookOverFrom).toMatchObject({ pid, command: 'revcor run dead.yaml' });
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('a lock held on another host is never taken over', async () => {
    await writeLock({ pid: deadPid(), hostname: 'elsewhere', startedAt: 'then', command: 'x' });
    await expect(acquireLock(dir, 'y')).rejects.toThrow(/locked by process \d+ on elsewhere/);
  });

  it('release does not remove a lock someone else holds now', async () => {
    const lock = await acquireLock(dir, 'mine');
    await writeLock({ pid: 1, hostname: hostname(), startedAt: 'x', command: 'theirs' });
    await lock.release();
    expect(existsSync(lockPath(dir))).toBe(true);
  });

  // A race is caught only when two contenders interleave between a check and a write; 8 rounds of 24 processes
  // released at once by one FIFO each make a check-then-copy lock fail here nearly always (a round catches it
  // about half the time on 2 cores), for little more than the cost of starting the processes once.
  it.each([
    ['taking over the same dead lock', true],
    ['locking the same unlocked directory', false],
  ])('of 24 processes %s at the same moment, exactly one wins (8 rounds)', async (_what, dead) => {
    const n = 24;
    const rounds = 8;
    const dirs = Array.from({ length: rounds }, (_, k) => join(dir, `run-${k}`));
    for (const d of dirs) {
      await mkdir(join(d, '.revcor'), { recursive: true });
      if (dead) await writeFile(lockPath(d), JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: 'then', command: 'revcor run dead.yaml' }));
    }
    const sync = join(dir, 'sync');
    await mkdir(sync);
    // each round's FIFO, held open for writing by the test (read-write: opening does not wait for a reader)
    const gates = dirs.map((_, k) => {
      execFileSync('mkfifo', [join(sync, `go-${k}`)]);
      return openSync(join(sync, `go-${k}`), 'r+');
    });
    const children = Array.from({ length: n }, (_, i) =>
      spawn(process.execPath, ['bin/run-ts.js', 'test/fixtures/lock-contender.ts', sync, String(i), ...dirs], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const exits = children.map((c) => new Promise<number | null>((res) => c.on('exit', (code) => res(code))));
    const count = async (prefix: string) => (await readdir(sync)).filter((f) => f.startsWith(prefix)).length;
    try {
      for (const [k, d] of dirs.entries()) {
        await until(async () => (await count(`ready-${k}-`)) === n, `every contender ready for round ${k}`);
        closeSync(gates.shift()!); // every contender blocked reading this round's FIFO reads its end now
        await until(async () => (await count(`result-${k}-`)) === n, `every contender tried in round ${k}`);
        const results = await Promise.all(Array.from({ length: n }, (_, i) => readFile(join(sync, `result-${k}-${i}`), 'utf8')));
        const winners = results.flatMap((r, i) => (r === 'won' ? [i] : []));
        expect(winners, `round ${k}:\n${results.join('\n')}`).toHaveLength(1);
        for (const r of results.filter((x) => x !== 'won')) expect(r).toMatch(/^lost: Output directory is locked by process \d+ .*contender \d+\): expected no other run writing/);
        expect(JSON.parse(await readFile(lockPath(d), 'utf8')).command).toBe(`contender ${winners[0]}`);
        expect((await readdir(join(d, '.revcor'))).filter((f) => f.includes('takeover')).length).toBeLessThanOrEqual(n);
      }
    } catch (e) {
      for (const c of children) c.kill('SIGKILL');
      throw e;
    } finally {
      await writeFile(join(sync, 'done'), '');
      for (const g of gates.splice(0)) closeSync(g); // the rounds not reached (after a failure)
    }
    expect(await Promise.all(exits)).toEqual(Array(n).fill(0));
  }, 180_000);
});

describe('lock details', () => {
  const me = () => ({ hostname: hostname() });
  /** The claim file of a takeover of `lock` (the lock file or a claim) held by `holder`. */
  const claimOf = (lock: string, holder: LockInfo) => `${lock}.takeover-${lockId(holder)}`;
  const metaFiles = async () => (await readdir(join(dir, '.revcor'))).sort();

  it('pidAlive: this process yes, an exited one no, one that exists but may not be signalled (EPERM) yes', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(deadPid())).toBe(false);
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });
    expect(pidAlive(123)).toBe(true);
  });

  it('readLock: undefined when absent, not JSON, or without a numeric pid and a string hostname', async () => {
    const f = join(dir, 'l');
    expect(await readLock(f)).toBeUndefined();
    for (const text of ['{"pid":', '{"pid":"1","hostname":"h"}', '{"pid":1,"hostname":2}', '{"hostname":"h"}']) {
      await writeFile(f, text);
      expect(await readLock(f), text).toBeUndefined();
    }
    await writeFile(f, '{"pid":1,"hostname":"h","startedAt":"t","command":"c"}');
    expect(await readLock(f)).toEqual({ pid: 1, hostname: 'h', startedAt: 't', command: 'c' });
  });

  it('lockId: the id, or for a lock without one the digest of host, pid and start time', async () => {
    expect(lockId({ pid: 1, hostname: 'h', startedAt: 't', command: 'c', id: 'abc' })).toBe('abc');
    expect(lockId({ pid: 1, hostname: 'h', startedAt: 't', command: 'c' })).toBe(sha256('h\u00001\u0000t').slice(0, 16));
    const lock = await acquireLock(dir, 'x');
    expect(lock.info.id).toMatch(/^[0-9a-f]{16}$/);
    // the lock file as `cat` shows it: indented JSON ending in a newline
    expect(await readFile(lockPath(dir), 'utf8')).toBe(JSON.stringify(lock.info, null, 1) + '\n');
    expect(new Date(lock.info.startedAt).toISOString()).toBe(lock.info.startedAt);
    expect(lock.tookOverFrom).toBeUndefined();
    await lock.release();
    // again in the same folder (it exists now), and released twice without error
    const again = await acquireLock(dir, 'y');
    await again.release();
    await again.release();
    expect(await metaFiles()).toEqual([]);
  });

  it('an unreadable lock file is never taken over', async () => {
    await mkdir(join(dir, '.revcor'), { recursive: true });
    await writeFile(lockPath(dir), 'garbage');
    const err = await acquireLock(dir, 'x').catch((e) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect(err.message).toBe(`Output directory is locked by another process (the lock file is unreadable): expected no other run writing ${dir}`);
    expect(err.hint).toBe(`Wait for that run to finish, or if it is gone, delete ${lockPath(dir)}.`);
  });

  it('a lock file that cannot be linked for another reason than its existence: that error, no temp file left', async () => {
    linkFaults.set('EIO', (t) => t === lockPath(dir));
    await expect(acquireLock(dir, 'x')).rejects.toMatchObject({ code: 'EIO', syscall: 'link' });
    expect(await metaFiles()).toEqual([]);
  });

  it('takeover sweeps the claims of other lock instances and leaves no temp file; other files stay', async () => {
    const dead: LockInfo = { pid: deadPid(), ...me(), startedAt: 'then', command: 'dead' };
    await writeLock(dead);
    await writeFile(`${lockPath(dir)}.takeover-0123456789abcdef`, '{}');
    await writeFile(join(dir, '.revcor', 'other'), '');
    const lock = await acquireLock(dir, 'x');
    expect(lock.tookOverFrom).toEqual(dead);
    expect(await metaFiles()).toEqual(['lock', 'other']);
    await lock.release();
    expect(await metaFiles()).toEqual(['other']);
  });

  it('a takeover already claimed by a live process, by another host, or by an unreadable claim: locked, nothing changed', async () => {
    const dead: LockInfo = { pid: deadPid(), ...me(), startedAt: 'then', command: 'dead', id: 'd' };
    await writeLock(dead);
    const claim = claimOf(lockPath(dir), dead);
    const cases: [string, string][] = [
      [JSON.stringify({ pid: process.ppid, ...me(), startedAt: 's', command: 'live claimer' }), `process ${process.ppid} on ${hostname()} (started s: live claimer)`],
      [JSON.stringify({ pid: dead.pid, hostname: 'elsewhere', startedAt: 's', command: 'far claimer' }), `process ${dead.pid} on elsewhere (started s: far claimer)`],
      ['garbage', `process ${dead.pid} on ${hostname()} (started then: dead)`],
    ];
    for (const [text, who] of cases) {
      await writeFile(claim, text);
      const err = await acquireLock(dir, 'x').catch((e) => e);
      expect(err.message, text).toBe(`Output directory is locked by ${who}: expected no other run writing ${dir}`);
      expect(JSON.parse(await readFile(lockPath(dir), 'utf8'))).toEqual(dead);
      expect(await readFile(claim, 'utf8')).toBe(text);
    }
  });

  it('claims of claimers that died mid-takeover are taken over in turn: 9 deep yes, 10 deep no', async () => {
    const pid = deadPid();
    const dead: LockInfo = { pid, ...me(), startedAt: 'then', command: 'dead', id: 'd' };
    const chain = async (depth: number) => {
      await rm(join(dir, '.revcor'), { recursive: true, force: true });
      await writeLock(dead);
      let path = lockPath(dir);
      let holder = dead;
      for (let k = 1; k <= depth; k++) {
        const claimer: LockInfo = { pid, ...me(), startedAt: 'then', command: `claimer ${k}`, id: `c${k}` };
        path = claimOf(path, holder);
        await writeFile(path, JSON.stringify(claimer));
        holder = claimer;
      }
    };
    await chain(9);
    const lock = await acquireLock(dir, 'x');
    expect(lock.tookOverFrom).toEqual(dead);
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).command).toBe('x');
    expect(await metaFiles()).toEqual(['lock']);
    await chain(10);
    const err = await acquireLock(dir, 'y').catch((e) => e);
    expect(err.message).toBe(`Output directory is locked by process ${pid} on ${hostname()} (started then: claimer 10): expected no other run writing ${dir}`);
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8'))).toEqual(dead);
  });

  it('a dead lock taken by a live process between our claim and our install: not replaced; released then: the free directory is ours', async () => {
    const dead: LockInfo = { pid: deadPid(), ...me(), startedAt: 'then', command: 'dead', id: 'd' };
    const live: LockInfo = { pid: process.ppid, ...me(), startedAt: 'now', command: 'quicker', id: 'q' };
    const isClaim = (t: string) => t === claimOf(lockPath(dir), dead);
    await writeLock(dead);
    afterLink.set(isClaim, () => writeFile(lockPath(dir), JSON.stringify(live)));
    const err = await acquireLock(dir, 'x').catch((e) => e);
    expect(err.message).toBe(`Output directory is locked by process ${process.ppid} on ${hostname()} (started now: quicker): expected no other run writing ${dir}`);
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8'))).toEqual(live);
    afterLink.clear();
    await rm(join(dir, '.revcor'), { recursive: true });
    await writeLock(dead);
    afterLink.set(isClaim, () => rm(lockPath(dir)));
    const freed = await acquireLock(dir, 'x');
    expect(freed.tookOverFrom).toBeUndefined(); // nobody's lock was replaced: the directory was free
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).id).toBe(freed.info.id);
    expect(await metaFiles()).toEqual(['lock']); // our claim on the released lock is swept
    await freed.release();
  });

  it('a lock released between our failed attempt and reading it: the free directory is ours (not "unreadable")', async () => {
    const live: LockInfo = { pid: process.ppid, ...me(), startedAt: 'now', command: 'finishing', id: 'f' };
    await writeLock(live);
    // the holder finishes right after our link finds its lock: the file is gone when we read it
    linkFaults.set('EEXIST', (t) => t === lockPath(dir) && (linkFaults.clear(), true));
    afterLink.clear();
    await rm(lockPath(dir));
    const lock = await acquireLock(dir, 'x');
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).command).toBe('x');
    expect(lock.tookOverFrom).toBeUndefined();
    await lock.release();
    // an unreadable lock file is still a refusal
    await writeFile(lockPath(dir), 'not json');
    const err = await acquireLock(dir, 'y').catch((e) => e);
    expect(err.message).toBe(`Output directory is locked by another process (the lock file is unreadable): expected no other run writing ${dir}`);
  });
});

/** Polls `check` (every 20 ms, up to 90 s) until it is true. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > 90_000) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

