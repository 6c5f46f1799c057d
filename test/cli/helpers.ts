// Shared helpers of the CLI tests: in-process CLI runs with captured output, and child-process runs of the toy CLI.
import type { Experiment } from '../../config/schema.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { main } from '../../cli/app.ts';
import type { CliDeps } from '../../cli/deps.ts';
import type { Finalizer, Stage } from '../../pipeline/stage.ts';
import { mutantEnv } from '../fixtures/mutant-env.ts';
import { toyStages } from '../fixtures/toy-stages.ts';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const TOY_INVOCATION = 'node bin/run-ts.js test/fixtures/toy-cli.ts';

/** A writable that keeps what was written. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Runs the CLI in this process on the toy stages (or the given ones, with their finalizers); returns exit code and output. */
export async function cli(
  args: string[],
  stages: () => Stage<Experiment>[] = toyStages,
  finalizers?: () => Finalizer<Experiment>[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const deps: CliDeps = { stages, finalizers, invocation: TOY_INVOCATION, stdout, stderr, handleSignals: false };
  const code = await main(args, deps);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A child process of the toy CLI with its stdout parsed into JSON events as they arrive. */
export interface ToyChild {
  proc: ChildProcess;
  events: Record<string, any>[];
  stderr: () => string;
  /** Resolves with the first event matching `pred` (rejects if the process exits first). */
  waitFor(pred: (e: Record<string, any>) => boolean): Promise<Record<string, any>>;
  /** Resolves with the exit code (or the signal name). */
  exit: Promise<number | string>;
}

/** Spawns `node bin/run-ts.js test/fixtures/toy-cli.ts ARGS` (from the repo root) with extra env. */
export function spawnToy(args: string[], env: Record<string, string> = {}): ToyChild {
  const proc = spawn(process.execPath, ['bin/run-ts.js', 'test/fixtures/toy-cli.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, ...mutantEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, any>[] = [];
  const waiters: { pred: (e: Record<string, any>) => boolean; resolve: (e: Record<string, any>) => void; reject: (e: Error) => void }[] = [];
  let err = '';
  let buf = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => {
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
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  const exit = new Promise<number | string>((res) => proc.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  void exit.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`child exited before the awaited event; stderr:\n${err}`));
  });
  return {
    proc,
    events,
    stderr: () => err,
    exit,
    waitFor(pred) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }));
    },
  };
}
