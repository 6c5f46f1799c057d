// Crash safety of the real write path, without the test write hook: a child process runs the toy CLI (the real
// command line, runner, pipeline/shard-exec.ts and pipeline/atomic.ts) while strace watches it, and SIGKILL is
// delivered at the entry of a chosen system call of one checkpoint's write (strace --inject). After every kill the
// checkpoint being replaced must be whole — the old file or the new one, never a part — its record must not vouch for
// anything else, and the same command again must finish with exactly the uninterrupted result. What a kill cannot
// show (the page cache survives a killed process; only a power cut loses unsynced data) is read from a traced run:
// data written and fsynced before the rename, the directory fsynced after it, nothing written through the final name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../../pipeline/cache-key.ts';
import { readRecord } from '../../pipeline/manifest.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { TEMP_BYTES } from '../fixtures/crash-writer.ts';
import { mutantEnv } from '../fixtures/mutant-env.ts';
import { requireOrSkip } from '../fixtures/require.ts';
import { cleanup, tempDir } from './helpers.ts';

const HAS_STRACE = spawnSync('strace', ['-V']).status === 0;
requireOrSkip('strace', HAS_STRACE, 'test/pipeline/atomic.test.ts kills a writer at chosen system calls with strace (apt-get install strace; .ci/run installs it)');

/** A checkpoint's or record's paths as strace names them: the final file, its temp file in the child, its folder. */
interface Paths {
  target: string;
  tmp: string;
  dir: string;
}

const paths = (dir: string, name: string, pid: number): Paths => ({
  target: join(dir, name),
  tmp: join(dir, `.${name}.${pid}.${TEMP_BYTES}.revcor-tmp`),
  dir,
});

/** One system call entry of the strace log, its path arguments replaced by the labels of `known`. */
interface Call {
  name: string;
  args: string;
  line: string;
}

/** Parses an `strace -f -y -o` log into syscall entries (resumed halves of interleaved calls are skipped). */
function parseLog(text: string, known: Record<string, string>): Call[] {
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\s+([a-z0-9_]+)\((.*)$/.exec(line);
    if (!m) continue;
    let args = m[2]!.replace(/\) += .*$|<unfinished \.\.\.>$/, '');
    // longest paths first, so that a temp file's name is not taken for its folder
    for (const [path, label] of Object.entries(known).sort(([a], [b]) => b.length - a.length)) args = args.split(path).join(label);
    calls.push({ name: m[1]!, args, line });
  }
  return calls;
}

let dir: string;
let cfg: string;
let oldBytes: Buffer;
let newBytes: Buffer;
let oldRun: string;
const NEW = ['--set', 'awc.shuffles=30'];

/** Spawns the crash writer on `args`, attaches strace with `straceArgs(pid)`, lets it go; resolves when both ended. */
async function traced(args: string[], straceArgs: (pid: number) => string[]): Promise<{ exit: number | string; log: string; stderr: string }> {
  const sync = await mkdtemp(join(dir, 'sync-'));
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/fixtures/crash-writer.ts', sync, ...args], {
    cwd: REPO,
    env: { ...process.env, ...mutantEnv() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<number | string>((res) => child.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  const pidFile = join(sync, 'pid');
  // the file exists a moment before its content: wait for the number itself
  const readPid = async () => Number(await readFile(pidFile, 'utf8').catch(() => ''));
  await until(async () => (await readPid()) > 0, 'the writer started', exit);
  const pid = await readPid();
  const log = join(sync, 'strace.log');
  const tracer = spawn('strace', ['-f', '-qq', '-y', '-p', String(pid), '-o', log, ...straceArgs(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tracerErr = '';
  tracer.stderr!.on('data', (d) => (tracerErr += d));
  const tracerExit = new Promise<number | null>((res) => tracer.on('exit', (code) => res(code)));
  // every thread of the writer is traced before it may go on
  const attached = async () => {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    const tracers = await Promise.all(tasks.map(async (t) => /TracerPid:\s+(\d+)/.exec(await readFile(`/proc/${pid}/task/${t}/status`, 'utf8').catch(() => ''))?.[1]));
    return tasks.length > 0 && tracers.every((t) => t === String(tracer.pid));
  };
  await until(attached, `strace attached to every thread of ${pid} (${tracerErr})`, tracerExit.then(() => exit));
  await writeFile(join(sync, 'go'), '');
  const code = await exit;
  await tracerExit;
  return { exit: code, log: await readFile(log, 'utf8').catch(() => ''), stderr };
}

/** Polls `check` every 5 ms (up to 60 s); fails early when `ended` settles first. */
async function until(check: () => boolean | Promise<boolean>, what: string, ended?: Promise<unknown>): Promise<void> {
  let over = false;
  void ended?.then(() => (over = true));
  for (const t0 = Date.now(); !(await check()); ) {
    if (over && !(await check())) throw new Error(`gave up waiting for: ${what} (the process ended)`);
    if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every file under `root` (relative paths). */
async function files(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

/** The checkpoint total/all is whole (old or new bytes, or absent) and a record of it vouches only for its bytes. */
async function expectWholeOrAbsent(out: string): Promise<'old' | 'new' | 'absent'> {
  const path = join(out, 'total', 'all.arrow');
  const bytes = existsSync(path) ? await readFile(path) : undefined;
  const state = !bytes ? 'absent' : bytes.equals(oldBytes) ? 'old' : bytes.equals(newBytes) ? 'new' : 'partial';
  expect(state, `total/all.arrow holds ${bytes?.byteLength} bytes: neither the old ${oldBytes.byteLength} nor the new ${newBytes.byteLength}`).not.toBe('partial');
  const rec = await readRecord(out, 'total', 'all');
  if (rec) expect(rec.sha256).toBe(sha256(bytes ?? ''));
  return state as 'old' | 'new' | 'absent';
}

/** The same command again: exits 0, recomputes `expectRan`, and leaves exactly the uninterrupted result. */
async function expectRerunCompletes(out: string, expectRan: string[]): Promise<void> {
  const r = await cli(['run', cfg, '--out', out, '--json', ...NEW]);
  expect(r.code, r.stderr).toBe(0);
  const ran = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'shard-done').map((e) => `${e.stage}/${e.shard}`);
  expect(ran).toEqual(expectRan);
  expect(await readFile(join(out, 'total', 'all.arrow'))).toEqual(newBytes);
  const left = await files(out);
  expect(left.filter((f) => f.endsWith('.revcor-tmp') || f.includes('.revcor/writing/') || f === '.revcor/lock')).toEqual([]);
}

describe.skipIf(!HAS_STRACE)('checkpoint writes killed at system calls of the real write path (strace)', () => {
  beforeAll(async () => {
    dir = await tempDir('revcor-atomic-');
    cfg = join(dir, 'exp.yaml');
    await writeFile(cfg, 'stimuli:\n  noise: { count: 12, seed: 3 }\nactivations: { shardSize: 4 }\n');
    oldRun = join(dir, 'old');
    const newRun = join(dir, 'new');
    for (const [out, extra] of [[oldRun, []], [newRun, NEW]] as const) {
      const r = await cli(['run', cfg, '--out', out, '--quiet', ...extra]);
      expect(r.code, r.stderr).toBe(0);
    }
    oldBytes = await readFile(join(oldRun, 'total', 'all.arrow'));
    newBytes = await readFile(join(newRun, 'total', 'all.arrow'));
    expect(oldBytes.equals(newBytes)).toBe(false);
    // can this process trace its children here (ptrace may be forbidden in containers)?
    const probe = spawnSync('strace', ['-qq', '-e', 'trace=none', process.execPath, '-e', '0']);
    requireOrSkip('strace', probe.status === 0, `strace cannot trace a process here: ${probe.stderr}`);
  }, 120_000);
  afterAll(() => cleanup(dir));

  /** A copy of the finished old run, to be changed by the new command (awc.shuffles 20 → 30: total/all is replaced). */
  async function oldCopy(name: string): Promise<string> {
    const out = join(dir, name);
    await cp(oldRun, out, { recursive: true });
    return out;
  }

  const checkpoint = (out: string, pid: number) => paths(join(out, 'total'), 'all.arrow', pid);
  const record = (out: string, pid: number) => paths(join(out, '.revcor', 'records', 'total'), 'all.json', pid);
  const renames = 'rename,renameat,renameat2';
  const writes = 'write,pwrite64,writev,pwritev,pwritev2';
  const syncs = 'fsync,fdatasync';
  const TRACE = `trace=openat,close,${writes},${syncs},${renames},unlink,unlinkat`;

  it('traced without a kill: written and fsynced under the temp name, renamed, then the folder fsynced (checkpoint and record)', async () => {
    const out = await oldCopy('order');
    let known: Record<string, string> = {};
    const run = await traced(['run', cfg, '--out', out, '--quiet', ...NEW], (pid) => {
      const c = checkpoint(out, pid);
      const r = record(out, pid);
      known = { [c.tmp]: 'TMP', [c.target]: 'TARGET', [c.dir]: 'DIR', [r.tmp]: 'RTMP', [r.target]: 'RECORD', [r.dir]: 'RDIR' };
      return ['-e', TRACE, ...Object.keys(known).flatMap((p) => ['-P', p])];
    });
    expect(run.exit, run.stderr).toBe(0);
    const calls = parseLog(run.log, known);
    const at = (name: RegExp, args: RegExp) => calls.findIndex((c) => name.test(c.name) && args.test(c.args));
    const lastAt = (name: RegExp, args: RegExp) => calls.findLastIndex((c) => name.test(c.name) && args.test(c.args));
    for (const [TMP, TARGET, DIR] of [['TMP', 'TARGET', 'DIR'], ['RTMP', 'RECORD', 'RDIR']]) {
      const ctx = `${TARGET}:\n${calls.map((c) => c.line).join('\n')}`;
      const open = at(/^openat$/, new RegExp(`"${TMP}"`));
      const written = calls.filter((c) => /write/.test(c.name) && new RegExp(`^\\d+<${TMP}>`).test(c.args));
      const lastWrite = lastAt(/write/, new RegExp(`^\\d+<${TMP}>`));
      const fsynced = at(new RegExp(`^(${syncs.replace(',', '|')})$`), new RegExp(`^\\d+<${TMP}>`));
      const renamed = at(/^rename/, new RegExp(`"${TMP}", .*"${TARGET}"`));
      const dirSynced = calls.findIndex((c, i) => i > renamed && /^fsync$/.test(c.name) && new RegExp(`^\\d+<${DIR}>`).test(c.args));
      expect(open, ctx).toBeGreaterThanOrEqual(0);
      expect(written.length, ctx).toBeGreaterThan(0);
      expect(fsynced, `${TMP} fsynced after its last write: ${ctx}`).toBeGreaterThan(lastWrite);
      expect(renamed, `renamed after the fsync: ${ctx}`).toBeGreaterThan(fsynced);
      expect(dirSynced, `folder fsynced after the rename: ${ctx}`).toBeGreaterThan(renamed);
      // nothing is ever written or synced through the final name (that would be a partial file under it)
      expect(calls.filter((c) => /write|sync/.test(c.name) && new RegExp(`^\\d+<${TARGET}>`).test(c.args)), ctx).toEqual([]);
    }
    expect(await expectWholeOrAbsent(out)).toBe('new');
  }, 180_000);

  // kill points in the order the write reaches them
  const points: { when: string; watch: (out: string, pid: number) => string; calls: string; renamed: boolean; ran: string[] }[] = [
    {
      when: 'at the first write of the temp file (before the data is complete)',
      watch: (out, pid) => checkpoint(out, pid).tmp,
      calls: writes,
      renamed: false,
      ran: ['total/all'],
    },
    {
      when: 'at the fsync of the complete temp file',
      watch: (out, pid) => checkpoint(out, pid).tmp,
      calls: syncs,
      renamed: false,
      ran: ['total/all'],
    },
    {
      when: 'between the fsync and the rename',
      watch: (out, pid) => checkpoint(out, pid).tmp, // strace -P matches a rename by its source
      calls: renames,
      renamed: false,
      ran: ['total/all'],
    },
    {
      when: 'after the rename, at the fsync of the folder (before the record)',
      watch: (out, pid) => checkpoint(out, pid).dir,
      calls: syncs,
      renamed: true,
      ran: ['total/all'],
    },
    {
      when: 'with the record written to its temp file, before its rename',
      watch: (out, pid) => record(out, pid).tmp,
      calls: renames,
      renamed: true,
      ran: ['total/all'],
    },
    {
      when: 'after the record, while removing the being-written mark',
      watch: (out) => join(out, '.revcor', 'writing', 'total', 'all'),
      calls: 'unlink,unlinkat',
      renamed: true,
      ran: [],
    },
  ];

  for (const [i, p] of points.entries()) {
    for (const scenario of ['replacing an old checkpoint', 'in a new run directory'] as const) {
      // the new-directory case for the first and the rename points: the old file cannot be there to fall back to
      if (scenario === 'in a new run directory' && ![0, 2].includes(i)) continue;
      it(`killed ${p.when}, ${scenario}: the checkpoint is whole or absent, the rerun completes it`, async () => {
        const fresh = scenario === 'in a new run directory';
        const out = fresh ? join(dir, `fresh-${i}`) : await oldCopy(`kill-${i}`);
        if (fresh) await mkdir(out);
        const run = await traced(['run', cfg, '--out', out, '--quiet', ...NEW], (pid) => {
          // strace -P: only calls on these paths are traced, the first of them in p.calls kills; a write is also
          // watched through the final name (writing there before the rename would be the bug this point catches)
          const watched = p.calls === writes ? [p.watch(out, pid), checkpoint(out, pid).target] : [p.watch(out, pid)];
          return ['-e', TRACE, ...watched.flatMap((w) => ['-P', w]), '-e', `inject=${p.calls}:signal=KILL`];
        });
        expect(run.exit, `the writer was not stopped at the kill point: ${run.stderr}\n${run.log}`).toBe('SIGKILL');
        // killed at the entry of the injected call, which never ran (when another thread's line came between the
        // call's entry and its end, strace splits it: `NAME(… <unfinished ...>`, later `<... NAME resumed>) = ?`)
        const injected = p.calls.split(',');
        const killedAt = run.log.split('\n').filter((l) => / = \?$/.test(l)).map((l) => /^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)/.exec(l)?.[1]);
        expect(killedAt.some((n) => n && injected.includes(n)), run.log).toBe(true);
        expect(run.log).toMatch(/\+\+\+ killed by SIGKILL \+\+\+/);
        const state = await expectWholeOrAbsent(out);
        // the old file is gone only once the new one is renamed over it
        expect(state).toBe(p.renamed ? 'new' : fresh ? 'absent' : 'old');
        const rec = await readRecord(out, 'total', 'all');
        expect(rec === undefined, 'a record exists only after its checkpoint is complete').toBe(p.ran.length > 0);
        await expectRerunCompletes(out, p.ran);
      }, 180_000);
    }
  }
});
