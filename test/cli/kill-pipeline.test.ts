// kill -9 of the real pipeline (every stage: stimuli → activations → tuning, category, awa → awc → summary)
// at several points, then the same command again: only the missing shards run, and every checkpoint and
// summary.csv is byte-identical to an uninterrupted run's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { REPO } from './helpers.ts';

let dir: string;
let images: string;
let reference: Map<string, Buffer>;

interface Child {
  events: Record<string, any>[];
  exit: Promise<number | string>;
  kill(): void;
  waitFor(pred: (e: Record<string, any>) => boolean): Promise<void>;
}

/** `node bin/revcor.js run config/smoke.yaml --out OUT --json` as a child process, events parsed as they come. */
function revcor(out: string): Child {
  const proc = spawn(
    process.execPath,
    ['bin/revcor.js', 'run', 'config/smoke.yaml', '--out', out, '--json', '--set', `stimuli.images.dir=${images}`, '--set', 'activations.shardSize=32'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const events: Record<string, any>[] = [];
  const waiters: { pred: (e: Record<string, any>) => boolean; resolve: () => void }[] = [];
  let buf = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        events.push(e);
        for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
      } catch {
        /* not an event */
      }
    }
  });
  const exit = new Promise<number | string>((res) =>
    proc.on('exit', (code, sig) => {
      if (code !== 0 && code !== null) console.error(err);
      res(code ?? sig ?? -1);
    }),
  );
  return {
    events,
    exit,
    kill: () => proc.kill('SIGKILL'),
    waitFor: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })),
  };
}

/** Checkpoints and derived tables of an output directory (relative path → bytes). */
async function artifacts(out: string, sub = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const e of await readdir(join(out, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory() && !e.name.startsWith('.')) for (const [k, v] of await artifacts(out, rel)) files.set(k, v);
    else if (/\.(arrow|csv)$/.test(e.name)) files.set(rel, await readFile(join(out, rel)));
  }
  return files;
}

const shardsDone = (c: Child) => c.events.filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`);

beforeAll(async () => {
  dir = await tempDir('revcor-kill-pipeline-');
  images = join(dir, 'images');
  for (const cat of ['faces', 'houses', 'cars']) {
    await mkdir(join(images, cat), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const v = 30 + 60 * i + (cat.length * 7) % 50;
      await sharp({ create: { width: 72, height: 64, channels: 3, background: { r: v, g: 255 - v, b: (v * 3) % 256 } } })
        .png()
        .toFile(join(images, cat, `${cat}-${i}.png`));
    }
  }
  const ref = revcor(join(dir, 'reference'));
  expect(await ref.exit).toBe(0);
  reference = await artifacts(join(dir, 'reference'));
  expect([...reference.keys()].some((k) => k.startsWith('awc/'))).toBe(true);
  expect(reference.has('summary/summary.csv')).toBe(true);
}, 120_000);
afterAll(() => cleanup(dir));

describe('kill -9 of the real pipeline, then the same command', () => {
  for (const [label, after] of [
    ['early, in stimuli/activations', 2],
    ['mid-run, with analysis stages in flight', 14],
  ] as const) {
    it(`killed ${label} (after ${after} finished shards): the rerun completes only the rest, identically`, async () => {
      const out = join(dir, `killed-${after}`);
      const first = revcor(out);
      let seen = 0;
      await first.waitFor((e) => e.type === 'shard-done' && ++seen === after);
      first.kill();
      expect(await first.exit).toBe('SIGKILL');
      const before = shardsDone(first);
      expect(before.length).toBeGreaterThanOrEqual(after);

      const again = revcor(out);
      expect(await again.exit).toBe(0);
      const rerun = shardsDone(again);
      for (const s of before) expect(rerun, `${s} was finished before the kill`).not.toContain(s);
      const total = [...reference.keys()].filter((k) => k.endsWith('.arrow')).length;
      expect(rerun.length).toBeGreaterThan(0);
      expect(before.length + rerun.length).toBeLessThanOrEqual(total);
      const got = await artifacts(out);
      expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [k, v] of reference) expect(got.get(k)?.equals(v), `${k} differs from the uninterrupted run`).toBe(true);
    }, 180_000);
  }
});
