import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { closeSync, existsSync, openSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, lockPath } from '../../pipeline/lock.ts';
import { OutputError } from '../../pipeline/errors.ts';
import { cleanup, tempDir } from './helpers.ts';
import { REPO } from '../cli/helpers.ts';

let dir: string;
beforeEach(async () => (dir = await tempDir()));
afterEach(() => cleanup(dir));

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

/** Polls `check` (every 20 ms, up to 90 s) until it is true. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > 90_000) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

