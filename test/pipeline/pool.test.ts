import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool } from '../../pipeline/pool.ts';
import { spawnSync } from 'node:child_process';

const TASK = fileURLToPath(new URL('../fixtures/pool-task.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/pool-probe.mjs', import.meta.url));
const TOY_TASK = fileURLToPath(new URL('../fixtures/toy-task.ts', import.meta.url));
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));

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

  it('when the signal aborts, queued tasks are cancelled and the running one finishes (its shard is kept)', async () => {
    const ac = new AbortController();
    const pool = createPool(1, ac.signal);
    const dir = await mkdtemp(join(tmpdir(), 'revcor-pool-'));
    try {
      // one thread: the first task runs (it says so with a file), the second waits in the queue; then abort
      const started = join(dir, 'started');
      const running = pool.run({ module: TASK, fn: 'markThenWait', args: [started, 300] });
      const queued = pool.run({ module: TASK, fn: 'sumSquares', args: [new Float64Array(1), 0] });
      for (let i = 0; !existsSync(started); i++) {
        expect(i, 'the first task starts within 60 s').toBeLessThan(6000);
        await new Promise((r) => setTimeout(r, 10));
      }
      ac.abort();
      await expect(queued).rejects.toThrow(/abort/i);
      await expect(running).resolves.toBeUndefined();
      await expect(pool.run({ module: TASK, fn: 'sumSquares', args: [new Float64Array(1)] })).rejects.toThrow(/abort/i);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('aborting while a task is inside ONNX Runtime does not crash the process (it finishes, then the pool closes)', async () => {
    // ending a worker thread inside a native ORT call aborted the whole process at exit ("terminate called after
    // throwing an instance of 'Napi::Error'", exit 134): a Ctrl-C during the awa or awc stage ended that way
    const child = spawnSync(process.execPath, [RUN_TS, fileURLToPath(new URL('../fixtures/pool-abort-ort.ts', import.meta.url))], { encoding: 'utf8', timeout: 120_000 });
    expect(child.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(child.stdout.trim().split('\n')).toEqual(['running task: finished (ran)', 'queued task: AbortError', 'closed']);
    expect([child.status, child.signal]).toEqual([0, null]);
  }, 120_000);
});
