// Whether dist/ (the compiled command line, written by bin/build.js) is current: a build records the modification
// time of every source it compiled, and the build is current while every one of them is unchanged and no source was
// added or removed. bin/revcor.js checks this at every start (a few ms: one stat per source file).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Top-level folders that never hold sources of the bundle (tests, benches, docs, outputs, packages, the build itself);
 * every other top-level folder counts, so a new folder of sources (as results/ was) cannot leave a stale build current.
 */
export const NOT_SOURCE_DIRS = ['node_modules', 'dist', 'test', 'bench', 'docs', 'artifacts', 'runs', 'bin'];

/** Top-level folders of the package at `root` whose TypeScript files a build may compile. */
export function sourceDirs(root) {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCE_DIRS.includes(e.name) && !e.name.startsWith('dist.')).map((e) => e.name).sort();
}

/** Other files whose change makes a build out of date (the build's own settings). */
export const BUILD_FILES = ['bin/build.js'];

/** Where a build records its sources, relative to the package root. */
export const STAMP = 'dist/build-stamp.json';

/** The compiled entry of the command line, relative to the package root. */
export const COMPILED_MAIN = 'dist/cli/main.js';

/** Every TypeScript file under `dir` (recursively), as absolute paths. */
function typescriptFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...typescriptFiles(p));
    else if (e.isFile() && /\.[cm]?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * The sources a build of the package at `root` depends on: path relative to root → modification time (ms).
 * @param {string} root
 * @returns {Record<string, number>}
 */
export function sourceTimes(root) {
  const files = [...sourceDirs(root).flatMap((d) => typescriptFiles(join(root, d))), ...BUILD_FILES.map((f) => join(root, f))];
  const times = {};
  for (const f of files.sort()) {
    try {
      times[relative(root, f)] = statSync(f).mtimeMs;
    } catch {
      // a build file that does not exist (yet) does not count
    }
  }
  return times;
}

/**
 * Whether the compiled command line of the package at `root` is current, and if not, why (for a one-line notice).
 * @param {string} root
 * @returns {{ fresh: true } | { fresh: false, reason: string }}
 */
export function buildState(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
    statSync(join(root, COMPILED_MAIN));
  } catch {
    return { fresh: false, reason: 'no compiled build in dist/' };
  }
  const built = stamp?.sources ?? {};
  const now = sourceTimes(root);
  for (const [file, mtime] of Object.entries(now)) {
    if (!(file in built)) return { fresh: false, reason: `${file} was added after the last build` };
    if (built[file] !== mtime) return { fresh: false, reason: `${file} changed after the last build` };
  }
  for (const file of Object.keys(built)) {
    if (!(file in now)) return { fresh: false, reason: `${file} was removed after the last build` };
  }
  return { fresh: true };
}
