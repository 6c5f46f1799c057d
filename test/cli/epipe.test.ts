// A reader that closes the pipe early (`revcor --help | head -1`) ends the command quietly, with no stack trace.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.ts';

describe('revcor writing into a closed pipe', () => {
  it('exits without an EPIPE stack trace', async () => {
    const proc = spawn(process.execPath, ['bin/revcor.js', '--help'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // close our end before the CLI has started: its writes hit EPIPE
    proc.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  }, 60_000);
});
