import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool } from '../../pipeline/pool.ts';

const TASK = fileURLToPath(new URL('../fixtures/pool-task.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/pool-probe.mjs', import.meta.url));
const TOY_TASK = fileURLToPath(new URL('../fixtures/toy-task.ts', import.meta.url));

describe('worker pool', () => {
  it('runs exported functions of TypeScript modules in worker threads', async () => {
    const pool = createPool(2);
    try {
      const results = await Promise.all(
        [1, 2, 3, 4].map((k) =>
          pool.run<{ sum: number; isMainThread: boolean; threadId: number }>({ module: TASK, fn: 'sumSquares', args: [Float64Array.from([k, k]), 50] }),
        ),
      );
      expect(results.map((r) => r.sum)).toEqual([2, 8, 18, 32]);
      expect(results.every((r) => !r.isMainThread)).toBe(true);
      expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
      expect(pool.size).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('loads tsx in a thread only for its first TypeScript task: compiled (JavaScript) tasks run without it', async () => {
    const pool = createPool(1);
    try {
      expect(await pool.run<boolean>({ module: PROBE, fn: 'importsTypeScript', args: [TOY_TASK] })).toBe(false);
      expect((await pool.run<{ sum: number }>({ module: TASK, fn: 'sumSquares', args: [Float64Array.from([3]), 0] })).sum).toBe(9);
    } finally {
      await pool.close();
    }
  });

  it('reports a missing export and a throwing task as rejections', async () => {
    const pool = createPool(1);
    try {
      await expect(pool.run({ module: TASK, fn: 'nope', args: [] })).rejects.toThrow(/Expected .*pool-task.ts to export a function nope, got undefined/);
      await expect(pool.run({ module: TASK, fn: 'fails', args: [] })).rejects.toThrow('task failed on purpose');
    } finally {
      await pool.close();
    }
  });

  it('cancels queued tasks when the signal aborts', async () => {
    const ac = new AbortController();
    const pool = createPool(1, ac.signal);
    const dir = await mkdtemp(join(tmpdir(), 'revcor-pool-'));
    try {
      // one thread: the first task runs (it says so with a file), the second waits in the queue; then abort
      const started = join(dir, 'started');
      const slow = pool.run({ module: TASK, fn: 'markThenWait', args: [started, 600_000] });
      const queued = pool.run({ module: TASK, fn: 'sumSquares', args: [new Float64Array(1), 0] });
      for (let i = 0; !existsSync(started); i++) {
        expect(i, 'the first task starts within 60 s').toBeLessThan(6000);
        await new Promise((r) => setTimeout(r, 10));
      }
      ac.abort();
      await expect(queued).rejects.toThrow();
      await expect(slow).rejects.toThrow();
      await expect(pool.run({ module: TASK, fn: 'sumSquares', args: [new Float64Array(1)] })).rejects.toThrow();
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
