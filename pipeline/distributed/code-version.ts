// The code version a coordinator stamps on every job and a worker compares with its own: the package version,
// every registered stage's name@version, and a digest of the package's source files and lockfile, so two
// machines agree only when they would compute byte-identical checkpoints.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sha256 } from '../cache-key.ts';
import { PACKAGE_ROOT } from '../package-files.ts';
import type { Stage } from '../stage.ts';

/** The package root (the sources' root also when this code runs compiled from dist/). */
const ROOT = PACKAGE_ROOT;

/** Top-level folders whose source files count (tests, benches, docs and outputs do not). */
const SOURCE_DIRS = ['bin', 'cli', 'config', 'model', 'pipeline', 'report', 'science', 'stages'];
const SOURCE_FILE = /\.(ts|mts|js|mjs|cjs)$/;

async function sourceFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.isFile() && SOURCE_FILE.test(e.name)) out.push(p);
  }
  return out;
}

const cache = new Map<string, Promise<string>>();

/** "<package version>+<12 hex digits>" for these stages and this installation's sources (memoised per process). */
export function codeVersion(stages: readonly Stage[], root = ROOT): Promise<string> {
  const stageList = stages.map((s) => `${s.name}@${s.version}`).sort();
  const memo = `${root}\0${stageList.join(',')}`;
  let p = cache.get(memo);
  if (!p) {
    p = (async () => {
      const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string };
      const parts: string[] = [`stages ${stageList.join(',')}`];
      const files = (await Promise.all(SOURCE_DIRS.map((d) => sourceFiles(join(root, d))))).flat();
      for (const f of [...files, join(root, 'package.json'), join(root, 'package-lock.json')]) {
        const bytes = await readFile(f).catch(() => undefined);
        if (bytes) parts.push(`${relative(root, f)} ${sha256(bytes)}`);
      }
      parts.sort();
      return `${pkg.version ?? '0.0.0'}+${sha256(parts.join('\n')).slice(0, 12)}`;
    })();
    cache.set(memo, p);
  }
  return p;
}
