// cli/interrupt.ts: the second Ctrl-C quits at once — also while a worker thread is inside ONNX Runtime, where
// process.exit() aborted the process ("terminate called after throwing an instance of 'Napi::Error'", exit 134).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/interrupt-twice-ort.ts', import.meta.url));

describe('a second SIGINT', () => {
  it('quits at once by the signal (a shell sees 130), without a native abort, while ONNX Runtime runs in a worker', () => {
    const child = spawnSync(process.execPath, [RUN_TS, FIXTURE], { encoding: 'utf8', timeout: 120_000 });
    expect(child.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(child.stdout.trim()).toBe('busy'); // not 'still running': it quit at the second signal
    expect([child.status, child.signal]).toEqual([null, 'SIGINT']);
  }, 120_000);
});
