// The worker's settings and self-watch without Redis: defaults, the blocked-event-loop warning threshold, one
// message per window, and abandoning exactly the shards whose lock was lost.
import { describe, expect, it } from 'vitest';
import { abandonLostLocks, lagWarning, newWorkerId, RepeatFilter, WORKER_DEFAULTS, workerSettings, type ActiveShard } from '../../../pipeline/distributed/worker-watch.ts';
import { defaultWorkers } from '../../../pipeline/pool.ts';

describe('worker settings', () => {
  it('fills in the defaults; threads 0 means one per core; ids differ', () => {
    expect(workerSettings({})).toEqual({ ...WORKER_DEFAULTS, threads: defaultWorkers() });
    expect(workerSettings({ threads: 0, concurrency: 2, lockDurationMs: 5000 })).toMatchObject({ threads: defaultWorkers(), concurrency: 2, lockDurationMs: 5000, stalledIntervalMs: 30_000 });
    expect(workerSettings({ threads: 3 }).threads).toBe(3);
    expect(newWorkerId()).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{4}$`));
    expect(newWorkerId()).not.toBe(newWorkerId());
  });
});

describe('lagWarning', () => {
  it('warns only above a third of the lock and only while shards run', () => {
    expect(lagWarning(20_000, 60_000, ['a/x'])).toBeUndefined();
    expect(lagWarning(20_001, 60_000, [])).toBeUndefined();
    expect(lagWarning(20_100, 60_000, ['a/x', 'b/y'])).toBe('the event loop was blocked for 20.1 s while running a/x, b/y; job locks last 60 s (raise --lock-duration if this grows)');
  });
});

describe('RepeatFilter', () => {
  it('lets the same message through once per window, other messages independently', () => {
    const f = new RepeatFilter(30_000);
    expect(f.admit('down', 100_000)).toBe(true);
    expect(f.admit('down', 129_999)).toBe(false);
    expect(f.admit('other', 129_999)).toBe(true);
    expect(f.admit('down', 130_001)).toBe(true);
  });
});

describe('abandonLostLocks', () => {
  it('aborts the shards whose lock was lost and no other', () => {
    const shard = (s: string): ActiveShard => ({ stage: 'awc', shard: s, outDir: '/r', since: 'now', abort: new AbortController() });
    const active = new Map([['j1', shard('a')], ['j2', shard('b')]]);
    const out = abandonLostLocks(['j2', 'gone'], active, 60_000);
    expect(out).toEqual([{ message: 'lost the lock of awc/b (Redis unreachable or the event loop blocked for over 60 s): abandoning it, another worker retries it', stage: 'awc', shard: 'b' }]);
    expect(active.get('j2')!.abort.signal.aborted).toBe(true);
    expect(active.get('j1')!.abort.signal.aborted).toBe(false);
  });
});
