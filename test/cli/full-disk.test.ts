// A full disk through the real CLI: the smoke run on a tmpfs too small for it (in a private mount namespace, so no
// root is needed) stops with one line naming the file and ENOSPC, keeps every finished checkpoint, fails again on
// report.html when only the shards fit, and completes once there is space — with the data of an ordinary run.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRuns, withinTolerance } from '../../pipeline/run-diff.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';
import { REPO } from './helpers.ts';
import { requireOrSkip } from '../fixtures/require.ts';

/** Whether this machine lets us mount a tmpfs in a private user + mount namespace. */
const CAN_MOUNT = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"']).status === 0;
requireOrSkip('tmpfs', CAN_MOUNT, 'test/cli/full-disk.test.ts needs `unshare -rm` and tmpfs mounts (util-linux; unprivileged user namespaces)');

let dir: string;
beforeAll(async () => (dir = await tempDir('revcor-full-')));
afterAll(() => cleanup(dir));

describe.skipIf(!CAN_MOUNT)('a full disk never costs a finished checkpoint', () => {
  it('ENOSPC on a shard, then on report.html: one line each, exit 2; with space the rerun completes identically', async () => {
    const mnt = join(dir, 'mnt');
    const logs = join(dir, 'logs');
    await mkdir(mnt);
    await mkdir(logs);
    // the sizes come from an ordinary run of the experiment: half of what its files need (a shard fails), then room for
    // every file but report.html (plus the largest file's temporary copy), then plenty
    const plain = spawnSync(process.execPath, ['bin/revcor.js', 'run', 'config/smoke.yaml', '--out', join(dir, 'plain'), '--quiet'], { cwd: REPO, encoding: 'utf8' });
    expect(plain.status, plain.stderr).toBe(0);
    const files = await allFiles(join(dir, 'plain'));
    const pages = (bytes: number) => Math.ceil(bytes / 4096) * 4;
    const report = files.find((f) => f.path.endsWith('report.html'))!.size;
    const rest = files.filter((f) => !f.path.endsWith('report.html'));
    const needK = rest.reduce((a, f) => a + pages(f.size), 0) + Math.max(...rest.map((f) => pages(f.size))) + 16;
    expect(pages(report), 'report.html must not fit in the margin').toBeGreaterThan(Math.max(...rest.map((f) => pages(f.size))) + 32);
    const cmd = `node bin/revcor.js run config/smoke.yaml --out ${mnt}/run --quiet`;
    const script = [
      'set -u',
      `mount -t tmpfs -o size=${Math.floor(needK / 2)}k tmpfs ${mnt}`,
      `cd ${REPO}`,
      `${cmd} > /dev/null 2> ${logs}/err1; echo $? > ${logs}/rc1`,
      `node bin/revcor.js status ${mnt}/run --json > ${logs}/status1 2>&1`,
      `mount -o remount,size=${needK}k ${mnt}`,
      `${cmd} > /dev/null 2> ${logs}/err2; echo $? > ${logs}/rc2`,
      `mount -o remount,size=${needK + pages(report) * 4}k ${mnt}`,
      `${cmd} > /dev/null 2> ${logs}/err3; echo $? > ${logs}/rc3`,
      `cp -a ${mnt}/run ${dir}/after`,
    ].join('\n');
    await writeFile(join(dir, 'script.sh'), script);
    const r = spawnSync('unshare', ['-rm', 'sh', join(dir, 'script.sh')], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => readFile(join(logs, f), 'utf8').then((t) => t.split('\n').filter((l) => l && !l.startsWith('npm warn')));
    const userError = (lines: string[], file: RegExp) => {
      expect(lines[0]).toMatch(new RegExp(`^error: Cannot write ${mnt}/run/${file.source}: expected a writable file system with free space, got ENOSPC \\(no space left on the device\\)$`));
      expect(lines.join('\n')).not.toMatch(/\n\s+at |unexpected error|a bug/);
      expect(lines.length).toBeLessThanOrEqual(3);
    };
    expect(await read('rc1')).toEqual(['2']);
    userError(await read('err1'), /\w+\/[\w.-]+\.arrow/);
    expect((await read('err1')).join('\n')).toMatch(/\d+ of \d+ shards finished this run and are kept\. Resume with: /);
    const status = JSON.parse((await read('status1')).join('\n')) as { total: number; toRun: number };
    expect(status.toRun).toBeGreaterThan(0);
    expect(status.toRun).toBeLessThan(status.total); // the finished checkpoints verify (sha256) and count as done
    expect(await read('rc2')).toEqual(['2']);
    userError(await read('err2'), /report\.html/);
    expect(await read('rc3')).toEqual(['0']);
    // the same data as an ordinary run of the experiment
    const diffs = await diffRuns(join(dir, 'plain'), join(dir, 'after'));
    expect(diffs.filter((d) => !withinTolerance(d, 0)).map((d) => `${d.stage}/${d.shard}`)).toEqual([]);
    expect(diffs.length).toBeGreaterThan(10);
  }, 400_000);
});

/** Every file under a directory with its size. */
async function allFiles(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      out.push({ path, size: (await stat(path)).size });
    }
  }
  return out;
}
