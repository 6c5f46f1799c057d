// The run directory owner: a run writes only into a new, empty or revcor directory, and deletes only what it
// recorded as its own (stale records' checkpoints, unfinished writes) — never a user's file beside them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { OutputError } from '../../pipeline/errors.ts';
import { markWriting } from '../../pipeline/manifest.ts';
import { runPipeline, type RunOptions } from '../../pipeline/runner.ts';
import {
  checkpointFile, checkpointRelative, claimRunDir, derivedPath, gridRecordFile, hashMemoFile, lockFile, manifestFile, metaDir,
  probeRunDir, readDerived, readResolvedConfig, recordDir, recordedStages, recordFile, recordsRoot, removeDerived, removeRunFiles,
  requireRecordedExperiment, requireRunDir, resolvedConfigFile, stageDir, writeDerived, writeResolvedConfig, writingDir,
} from '../../pipeline/rundir.ts';
import type { Experiment } from '../../config/schema.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from './helpers.ts';

// File-system conditions root cannot make for real (a directory it may not write, a full disk, a failure without an
// errno): `op` on a path a test names fails (`write`: every write through a file opened at that path); every other
// call is the real node:fs/promises.
type Fault = { op: 'mkdir' | 'open' | 'write'; hit: (path: string) => boolean; code?: string };
const faults = vi.hoisted(() => [] as Fault[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const failure = (op: Fault['op'], path: string): Error | undefined => {
    const f = faults.find((x) => x.op === op && x.hit(path));
    if (!f) return undefined;
    if (!f.code) return new Error(`simulated ${op} failure without an errno, '${path}'`);
    return Object.assign(new Error(`${f.code}: simulated, ${op} '${path}'`), { code: f.code, syscall: op, path });
  };
  const mkdir = (async (path: string, ...rest: unknown[]) => {
    const e = failure('mkdir', String(path));
    if (e) throw e;
    return (real.mkdir as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof real.mkdir;
  const open = (async (path: string, ...rest: unknown[]) => {
    const e = failure('open', String(path));
    if (e) throw e;
    const fh = (await (real.open as (...a: unknown[]) => unknown)(path, ...rest)) as Awaited<ReturnType<typeof real.open>>;
    const onWrite = failure('write', String(path));
    if (onWrite) fh.write = (async () => Promise.reject(onWrite)) as typeof fh.write;
    return fh;
  }) as typeof real.open;
  return { ...real, mkdir, open, default: { ...real, mkdir, open } };
});

let base: string;
let out: string;
beforeEach(async () => {
  base = await tempDir();
  out = join(base, 'out');
});
afterEach(async () => {
  faults.length = 0;
  vi.useRealTimers();
  await cleanup(base);
});

const run = (over: Partial<RunOptions<Experiment>> = {}) =>
  runPipeline({ stages: toyStages(), experiment: toyExperiment(), outDir: out, workers: 1, concurrency: 2, ...over });

describe('what a directory is', () => {
  it('missing, empty, a run (marker, or a run made before the marker existed), foreign, a file', async () => {
    expect((await probeRunDir(out)).kind).toBe('missing');
    await mkdir(out);
    expect((await probeRunDir(out)).kind).toBe('empty');
    await writeFile(join(out, 'notes.txt'), 'mine');
    expect(await probeRunDir(out)).toEqual({ kind: 'foreign', entries: ['notes.txt'] });
    const legacy = join(base, 'legacy');
    await mkdir(join(legacy, '.revcor', 'records'), { recursive: true });
    expect((await probeRunDir(legacy)).kind).toBe('run');
    const file = join(base, 'f');
    await writeFile(file, '');
    expect((await probeRunDir(file)).kind).toBe('not-a-directory');
    await expect(requireRunDir(out)).rejects.toThrow(/Expected a revcor output directory, got a directory without/);
    await expect(claimRunDir('')).rejects.toThrow(/expected an absolute path, got ""/);
  });
});

describe('a run never damages what is not its own', () => {
  it('refuses a non-empty directory that is not a run, and leaves every file in it as it was', async () => {
    await mkdir(join(out, 'total'), { recursive: true });
    await writeFile(join(out, 'report.html'), 'notes');
    await writeFile(join(out, 'total', 'mine.arrow'), 'my data');
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as Error).message).toMatch(/expected a new or empty directory, or the output directory of a revcor run, got a directory that holds other files \(report\.html, total\)/);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toBe('notes');
    expect(await readFile(join(out, 'total', 'mine.arrow'), 'utf8')).toBe('my data');
    expect((await readdir(out)).sort()).toEqual(['report.html', 'total']);
  });

  it('pruning removes stale checkpoints and unfinished writes of the run, never a file it did not record', async () => {
    await run();
    await writeFile(join(out, 'source', 'mine.arrow'), 'my data'); // a user's file in a stage folder of the run
    await writeFile(join(out, 'source', 'notes.txt'), 'notes');
    // a write killed between its checkpoint and its record, of a shard the next plan no longer has
    await markWriting(out, 'source', 'src-0008-0012');
    await writeFile(join(out, 'source', 'src-0008-0012.arrow'), 'half a run');
    await run({ experiment: toyExperiment((c) => (c.stimuli.noise.count = 6)) });
    expect((await readdir(join(out, 'source'))).sort()).toEqual(['mine.arrow', 'notes.txt', 'src-0000-0004.arrow', 'src-0004-0006.arrow']);
    expect(await readFile(join(out, 'source', 'mine.arrow'), 'utf8')).toBe('my data');
  });

  it('derived files are remembered as the run’s own and cannot leave the directory', async () => {
    await run();
    await writeDerived(out, 'summary/summary.csv', 'a,b\n');
    expect(existsSync(join(out, 'summary', 'summary.csv'))).toBe(true);
    await expect(writeDerived(out, '../x.txt', 'x')).rejects.toThrow(/inside the output directory/);
    await expect(writeDerived(out, '.revcor/lock', 'x')).rejects.toThrow(/inside the output directory/);
  });
});

/** The OutputError a promise rejects with, as a user sees it (message and hint). */
async function refusal(p: Promise<unknown>): Promise<{ message: string; hint: string | undefined }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OutputError);
  return { message: (e as OutputError).message, hint: (e as OutputError).hint };
}

/** The message of what `f` throws ('' when it throws nothing). */
function thrown(f: () => unknown): string {
  try {
    f();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Every entry under `path` (relative path → file content, or '/' for a folder); a file alone under ''; undefined when absent. */
async function snapshot(path: string): Promise<Record<string, string> | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return undefined;
  if (!st.isDirectory()) return { '': await readFile(path, 'utf8') };
  const found: Record<string, string> = {};
  for (const rel of (await readdir(path, { recursive: true })).sort()) {
    const p = join(path, rel);
    found[rel] = (await stat(p)).isDirectory() ? '/' : await readFile(p, 'utf8');
  }
  return found;
}

/** Writes `files` (relative path → content) under `dir`, creating folders. */
async function plant(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
}

const MARKER_2020 = '{\n "format": "revcor-run/1",\n "createdAt": "2020-01-02T03:04:05.000Z"\n}\n';
const NOW = '2026-12-07T09:30:00.000Z';
const markerNow = `{\n "format": "revcor-run/1",\n "createdAt": "${NOW}"\n}\n`;
const OUT_HINT = 'Choose another directory with --out DIR (or run.out in the YAML).';
const FOREIGN_HINT = 'revcor never writes into a directory it did not create: choose another --out (or run.out), or empty this one yourself.';
const NOT_NEW = 'expected a new or empty directory, or the output directory of a revcor run, got';

describe('the layout: the exact path of every file and folder of a run', () => {
  it('folders and files under .revcor/, at the top and per stage', () => {
    const o = '/data/run';
    expect(metaDir(o)).toBe('/data/run/.revcor');
    expect(lockFile(o)).toBe('/data/run/.revcor/lock');
    expect(hashMemoFile(o)).toBe('/data/run/.revcor/file-hashes.json');
    expect(gridRecordFile('/data/grid')).toBe('/data/grid/.revcor/grid.json');
    expect(recordsRoot(o)).toBe('/data/run/.revcor/records');
    expect(recordDir(o, 'awa')).toBe('/data/run/.revcor/records/awa');
    expect(recordFile(o, 'awa', 'a-0000-0004')).toBe('/data/run/.revcor/records/awa/a-0000-0004.json');
    expect(writingDir(o, 'awa')).toBe('/data/run/.revcor/writing/awa');
    expect(manifestFile(o)).toBe('/data/run/manifest.json');
    expect(resolvedConfigFile(o)).toBe('/data/run/config.resolved.yaml');
    expect(stageDir(o, 'awa')).toBe('/data/run/awa');
    expect(checkpointRelative('awa', 'a-0000-0004')).toBe('awa/a-0000-0004.arrow');
    expect(checkpointFile(o, 'awa', 'a-0000-0004')).toBe('/data/run/awa/a-0000-0004.arrow');
  });
});

describe('derivedPath: a derived file stays inside the run directory, out of .revcor/', () => {
  it('refuses .., ../x, an absolute path, a/../../b, the directory itself and anything in .revcor/', () => {
    for (const p of ['..', '../x', '../run-other/x', '/etc/passwd', 'a/../../b', './../x', '.', '', 'a/..', '.revcor', '.revcor/lock', 'x/../.revcor/run.json']) {
      expect(thrown(() => derivedPath('/data/run', p)), p).toBe(`Expected a path inside the output directory, got ${p}`);
    }
  });

  it('allows names that only contain dots (a..b, ..a, ...), .revcor as a part of a name or deeper, and x/../y inside', () => {
    expect(derivedPath('/data/run', 'a..b')).toBe('/data/run/a..b');
    expect(derivedPath('/data/run', '..a')).toBe('/data/run/..a');
    expect(derivedPath('/data/run', '...')).toBe('/data/run/...');
    expect(derivedPath('/data/run', 'x/..y/z')).toBe('/data/run/x/..y/z');
    expect(derivedPath('/data/run', 'x/../y')).toBe('/data/run/y');
    expect(derivedPath('/data/run', '.revcorx/a')).toBe('/data/run/.revcorx/a');
    expect(derivedPath('/data/run', 'a/.revcor')).toBe('/data/run/a/.revcor');
    expect(derivedPath('/data/run', 'summary/summary.csv')).toBe('/data/run/summary/summary.csv');
  });
});

describe('probeRunDir: what each kind of directory is, with its entries', () => {
  it('missing, a file, empty: no entries; a run by its marker, its records, or config.resolved.yaml with manifest.json', async () => {
    expect(await probeRunDir(out)).toEqual({ kind: 'missing', entries: [] });
    await writeFile(join(base, 'f'), 'x');
    expect(await probeRunDir(join(base, 'f'))).toEqual({ kind: 'not-a-directory', entries: [] });
    await mkdir(out);
    expect(await probeRunDir(out)).toEqual({ kind: 'empty', entries: [] });
    const dir = (name: string) => join(base, name);
    await plant(dir('marked'), { '.revcor/run.json': MARKER_2020 });
    expect(await probeRunDir(dir('marked'))).toEqual({ kind: 'run', entries: ['.revcor'] });
    await plant(dir('recorded'), { '.revcor/records/source/src-0000-0004.json': '{}', 'notes.txt': 'x' });
    expect(await probeRunDir(dir('recorded'))).toEqual({ kind: 'run', entries: ['.revcor', 'notes.txt'] });
    await plant(dir('old'), { 'config.resolved.yaml': 'model: {}\n', 'manifest.json': '{}' });
    expect(await probeRunDir(dir('old'))).toEqual({ kind: 'run', entries: ['config.resolved.yaml', 'manifest.json'] });
  });

  it('one of config.resolved.yaml and manifest.json alone is foreign; .revcor/grid.json is a grid', async () => {
    await plant(join(base, 'cfg'), { 'config.resolved.yaml': 'model: {}\n' });
    expect(await probeRunDir(join(base, 'cfg'))).toEqual({ kind: 'foreign', entries: ['config.resolved.yaml'] });
    await plant(join(base, 'man'), { 'manifest.json': '{}' });
    expect(await probeRunDir(join(base, 'man'))).toEqual({ kind: 'foreign', entries: ['manifest.json'] });
    await plant(join(base, 'grid'), { '.revcor/grid.json': '{}', 'crop=effective/.revcor/run.json': MARKER_2020 });
    expect(await probeRunDir(join(base, 'grid'))).toEqual({ kind: 'grid', entries: ['.revcor', 'crop=effective'] });
  });
});

describe('claimRunDir: a run writes only into a new, empty or revcor directory', () => {
  it('a missing directory (and its missing parents) or an empty one gets .revcor/run.json with format and time, and nothing else', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(NOW));
    const claimed = { '.revcor': '/', '.revcor/run.json': markerNow };
    await claimRunDir(out);
    expect(await snapshot(out)).toEqual(claimed);
    const deep = join(base, 'a', 'b', 'out');
    await claimRunDir(deep);
    expect(await snapshot(deep)).toEqual(claimed);
    const empty = join(base, 'empty');
    await mkdir(empty);
    await claimRunDir(empty);
    expect(await snapshot(empty)).toEqual(claimed);
  });

  it('claims a run again without changing any of its files (the marker keeps its time); marks a run made before the marker', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(NOW));
    const files = { '.revcor/run.json': MARKER_2020, '.revcor/records/source/s-0.json': '{}', 'config.resolved.yaml': 'a: 1\n', 'manifest.json': '{}', 'source/s-0.arrow': 'data', 'notes.txt': 'mine' };
    await plant(out, files);
    const before = await snapshot(out);
    await claimRunDir(out);
    expect(await snapshot(out)).toEqual(before);
    const legacy = join(base, 'legacy');
    await plant(legacy, { 'config.resolved.yaml': 'a: 1\n', 'manifest.json': '{}' });
    const old = await snapshot(legacy);
    await claimRunDir(legacy);
    expect(await snapshot(legacy)).toEqual({ ...old, '.revcor': '/', '.revcor/run.json': markerNow });
  });

  it('refuses a relative path and creates nothing', async () => {
    const rel = relative(process.cwd(), join(base, 'rel-out'));
    expect(await refusal(claimRunDir(rel))).toEqual({ message: `Output directory: expected an absolute path, got ${JSON.stringify(rel)}`, hint: undefined });
    expect(await snapshot(base)).toEqual({});
  });

  it('refuses a directory holding other files, naming at most three of them, and changes nothing in it', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'notes.txt': 'n' }, 'notes.txt'],
      [{ 'a.txt': 'a', 'b.txt': 'b', 'c/d.txt': 'd' }, 'a.txt, b.txt, c'],
      [{ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c', 'd.txt': 'd' }, 'a.txt, b.txt, c.txt, … (4 entries)'],
      [{ '.revcor/lock': 'someone', 'x.arrow': 'x' }, '.revcor, x.arrow'],
    ];
    for (const [i, [files, shown]] of cases.entries()) {
      const dir = join(base, `foreign-${i}`);
      await plant(dir, files);
      const before = await snapshot(dir);
      expect(await refusal(claimRunDir(dir))).toEqual({ message: `${dir}: ${NOT_NEW} a directory that holds other files (${shown})`, hint: FOREIGN_HINT });
      expect(await snapshot(dir)).toEqual(before);
    }
  });

  it('refuses the directory of a grid of runs, with the command that runs a grid into it, and changes nothing', async () => {
    await plant(out, { '.revcor/grid.json': '{"points":[]}' });
    expect(await refusal(claimRunDir(out))).toEqual({
      message: `${out}: ${NOT_NEW} the directory of a grid of runs`,
      hint: 'Run the grid file into it (revcor run GRID.yaml --out DIR), or choose another --out (each point of the grid is a run directory inside it).',
    });
    expect(await snapshot(out)).toEqual({ '.revcor': '/', '.revcor/grid.json': '{"points":[]}' });
  });

  it('refuses a file in place of the directory, and one below a file (ENOTDIR); the file stays as it was', async () => {
    await writeFile(out, 'my file');
    expect(await refusal(claimRunDir(out))).toEqual({ message: `Cannot write output directory ${out}: expected a writable directory, got a file in the way`, hint: OUT_HINT });
    const below = join(out, 'run');
    expect(await refusal(claimRunDir(below))).toEqual({ message: `Cannot write output directory ${below}: expected a writable directory, got ENOTDIR`, hint: OUT_HINT });
    expect(await snapshot(out)).toEqual({ '': 'my file' });
  });

  it('refuses a directory it may not write (EACCES) and creates nothing in it', async () => {
    await mkdir(out);
    faults.push({ op: 'mkdir', code: 'EACCES', hit: (p) => p.startsWith(`${out}/`) });
    expect(await refusal(claimRunDir(out))).toEqual({ message: `Cannot write output directory ${out}: expected a writable directory, got EACCES`, hint: OUT_HINT });
    expect(await snapshot(out)).toEqual({});
  });

  it('refuses a full disk (the write test writes bytes) and leaves no trace, so the same directory is claimed once there is space', async () => {
    faults.push({ op: 'write', code: 'ENOSPC', hit: (p) => p.startsWith(`${out}/`) });
    expect(await refusal(claimRunDir(out))).toEqual({ message: `Cannot write output directory ${out}: expected a writable directory, got ENOSPC`, hint: OUT_HINT });
    expect(await snapshot(out)).toBeUndefined();
    await mkdir(out);
    expect(await refusal(claimRunDir(out))).toEqual({ message: `Cannot write output directory ${out}: expected a writable directory, got ENOSPC`, hint: OUT_HINT });
    expect(await snapshot(out)).toEqual({});
    faults.length = 0;
    await claimRunDir(out);
    expect(Object.keys((await snapshot(out))!)).toEqual(['.revcor', '.revcor/run.json']);
    // a run already marked writes nothing but the write test: that alone must find the disk full, before any stage runs
    const before = await snapshot(out);
    faults.push({ op: 'write', code: 'ENOSPC', hit: (p) => p.startsWith(`${out}/`) });
    expect(await refusal(claimRunDir(out))).toEqual({ message: `Cannot write output directory ${out}: expected a writable directory, got ENOSPC`, hint: OUT_HINT });
    expect(await snapshot(out)).toEqual(before);
  });

  it('a failure without an errno is named by its text', async () => {
    faults.push({ op: 'open', hit: (p) => p.startsWith(`${out}/`) });
    const e = await refusal(claimRunDir(out));
    expect(e.message).toMatch(new RegExp(`^Cannot write output directory ${out}: expected a writable directory, got Error: simulated open failure without an errno, '${out}/\\.revcor/\\.write-test\\.`));
    expect(e.hint).toBe(OUT_HINT);
  });
});

describe('requireRunDir and requireRecordedExperiment: commands that read or change a run', () => {
  it('requireRunDir accepts a run and refuses anything else, saying what it got, with the default or the given hint', async () => {
    const hint = 'Give the directory a run wrote to (run.out of the YAML, or --out).';
    await plant(out, { '.revcor/run.json': MARKER_2020 });
    await expect(requireRunDir(out)).resolves.toBeUndefined();
    const missing = join(base, 'missing');
    expect(await refusal(requireRunDir(missing))).toEqual({ message: `${missing}: Expected a revcor output directory, got no such directory`, hint });
    expect(await refusal(requireRunDir(missing, 'Give A of revcor diff A B.'))).toEqual({ message: `${missing}: Expected a revcor output directory, got no such directory`, hint: 'Give A of revcor diff A B.' });
    await mkdir(join(base, 'empty'));
    expect(await refusal(requireRunDir(join(base, 'empty')))).toEqual({ message: `${join(base, 'empty')}: Expected a revcor output directory, got an empty directory`, hint });
    await writeFile(join(base, 'f'), 'x');
    expect(await refusal(requireRunDir(join(base, 'f')))).toEqual({ message: `${join(base, 'f')}: Expected a revcor output directory, got a file`, hint });
    await plant(join(base, 'mine'), { 'notes.txt': 'x' });
    expect(await refusal(requireRunDir(join(base, 'mine')))).toEqual({ message: `${join(base, 'mine')}: Expected a revcor output directory, got a directory without .revcor/ or config.resolved.yaml`, hint });
    await plant(join(base, 'grid'), { '.revcor/grid.json': '{}' });
    expect(await refusal(requireRunDir(join(base, 'grid')))).toEqual({
      message: `${join(base, 'grid')}: Expected a revcor output directory, got the directory of a grid of runs`,
      hint: 'Give one of its points (a folder inside it), or use revcor status / revcor compare on the grid.',
    });
  });

  it('requireRecordedExperiment gives config.resolved.yaml of a run, refuses a run that never recorded one, and a non-run', async () => {
    await plant(out, { '.revcor/run.json': MARKER_2020 });
    expect(await refusal(requireRecordedExperiment(out))).toEqual({
      message: `${out}: Expected a revcor output directory with its resolved experiment (config.resolved.yaml), got none`,
      hint: 'Run the experiment into it first (revcor run CONFIG --out DIR).',
    });
    await plant(out, { 'config.resolved.yaml': 'a: 1\n' });
    expect(await requireRecordedExperiment(out)).toBe(`${out}/config.resolved.yaml`);
    expect(await refusal(requireRecordedExperiment(join(base, 'none')))).toMatchObject({ message: `${join(base, 'none')}: Expected a revcor output directory, got no such directory` });
  });
});

describe('the resolved experiment and the recorded stages', () => {
  it('readResolvedConfig gives the text or "" when absent; writeResolvedConfig writes a new or changed text and leaves the same text untouched', async () => {
    await mkdir(out);
    const file = join(out, 'config.resolved.yaml');
    expect(await readResolvedConfig(out)).toBe('');
    await writeResolvedConfig(out, 'a: 1\n');
    expect(await readFile(file, 'utf8')).toBe('a: 1\n');
    expect(await readResolvedConfig(out)).toBe('a: 1\n');
    const ino = (await stat(file)).ino;
    await writeResolvedConfig(out, 'a: 1\n');
    expect((await stat(file)).ino).toBe(ino); // not replaced: an unchanged rerun touches nothing
    await writeResolvedConfig(out, 'a: 2\n');
    expect(await readFile(file, 'utf8')).toBe('a: 2\n');
    expect(await readdir(out)).toEqual(['config.resolved.yaml']);
  });

  it('recordedStages: the stage folders under .revcor/records, none without records', async () => {
    expect(await recordedStages(out)).toEqual([]);
    await plant(out, { '.revcor/records/total/t-0.json': '{}', '.revcor/records/source/s-0.json': '{}', '.revcor/writing/awa/a-0': '', 'tuning/t.arrow': '' });
    expect((await recordedStages(out)).sort()).toEqual(['source', 'total']);
  });
});

describe('derived files: the run’s own, listed in .revcor/derived.json', () => {
  it('writeDerived writes the file and lists it once, normalised and sorted, in derived.json', async () => {
    await mkdir(out);
    expect(await writeDerived(out, 'summary/summary.csv', 'a,b\n')).toBe(`${out}/summary/summary.csv`);
    expect(await writeDerived(out, 'x/../report.html', 'v1')).toBe(`${out}/report.html`);
    expect(await writeDerived(out, 'report.html', 'v2')).toBe(`${out}/report.html`);
    expect(await snapshot(out)).toEqual({
      '.revcor': '/',
      '.revcor/derived.json': '[\n "report.html",\n "summary/summary.csv"\n]\n',
      'report.html': 'v2',
      summary: '/',
      'summary/summary.csv': 'a,b\n',
    });
    expect(await readDerived(out)).toEqual(['report.html', 'summary/summary.csv']);
  });

  it('a refused path writes nothing and lists nothing', async () => {
    await mkdir(out);
    await writeDerived(out, 'report.html', 'r');
    const before = await snapshot(base);
    for (const p of ['../x.txt', '.', '.revcor/lock']) await expect(writeDerived(out, p, 'x')).rejects.toThrow(`Expected a path inside the output directory, got ${p}`);
    expect(await snapshot(base)).toEqual(before);
  });

  it('a file named "." would be the directory itself: refused before derived.json lists it, so removeDerived still works', async () => {
    await mkdir(out);
    await writeDerived(out, 'report.html', 'r');
    await expect(writeDerived(out, 'a/..', 'x')).rejects.toThrow('Expected a path inside the output directory, got a/..');
    expect(await readDerived(out)).toEqual(['report.html']);
    expect(await removeDerived(out)).toEqual(['report.html']);
    expect(await snapshot(out)).toEqual({ '.revcor': '/' });
  });

  it('readDerived: the strings of the list; none for no file, damaged JSON or anything but a list', async () => {
    expect(await readDerived(out)).toEqual([]);
    await plant(out, { '.revcor/derived.json': '["report.html", 3, null, {"a": 1}, "summary/summary.csv"]' });
    expect(await readDerived(out)).toEqual(['report.html', 'summary/summary.csv']);
    for (const text of ['{"report.html": true}', '"report.html"', '["report.html"', 'null']) {
      await plant(out, { '.revcor/derived.json': text });
      expect(await readDerived(out), text).toEqual([]);
    }
  });

  it('removeDerived removes exactly the listed files and the list; a user’s file stays; a listed file already gone or no list is no error', async () => {
    await plant(out, { 'notes.txt': 'mine', 'summary/mine.csv': 'mine' });
    await writeDerived(out, 'report.html', 'r');
    await writeDerived(out, 'summary/summary.csv', 's');
    await writeDerived(out, 'gone.txt', 'g');
    await rm(join(out, 'gone.txt')); // removed by the user
    expect(await removeDerived(out)).toEqual(['gone.txt', 'report.html', 'summary/summary.csv']);
    expect(await snapshot(out)).toEqual({ '.revcor': '/', 'notes.txt': 'mine', summary: '/', 'summary/mine.csv': 'mine' });
    expect(await removeDerived(out)).toEqual([]);
    expect(await snapshot(out)).toEqual({ '.revcor': '/', 'notes.txt': 'mine', summary: '/', 'summary/mine.csv': 'mine' });
  });

  it('a derived.json naming a path outside the run (edited by hand) is refused and removes nothing outside', async () => {
    await plant(base, { 'outside.txt': 'not revcor’s', 'out/report.html': 'r', 'out/.revcor/derived.json': '["../outside.txt", "report.html"]' });
    await expect(removeDerived(out)).rejects.toThrow('Expected a path inside the output directory, got ../outside.txt');
    expect(await readFile(join(base, 'outside.txt'), 'utf8')).toBe('not revcor’s');
  });
});

describe('removeRunFiles: what `revcor clean` removes once every checkpoint is gone', () => {
  it('the run’s own files and folders go; the lock, the stage folders and a user’s files stay', async () => {
    await plant(out, {
      '.revcor/run.json': MARKER_2020,
      '.revcor/lock': 'pid',
      '.revcor/file-hashes.json': '{}',
      '.revcor/records/source/s-0.json': '{}',
      '.revcor/writing/source/s-1': '',
      'config.resolved.yaml': 'a: 1\n',
      'manifest.json': '{}',
      'notes.txt': 'mine',
      'source/mine.arrow': 'mine',
    });
    await writeDerived(out, 'report.html', 'r');
    await removeRunFiles(out);
    expect(await snapshot(out)).toEqual({ '.revcor': '/', '.revcor/lock': 'pid', 'notes.txt': 'mine', source: '/', 'source/mine.arrow': 'mine' });
  });

  it('a run that has none of these files is no error', async () => {
    await plant(out, { '.revcor/lock': 'pid' });
    await removeRunFiles(out);
    expect(await snapshot(out)).toEqual({ '.revcor': '/', '.revcor/lock': 'pid' });
  });
});
