// The code version a coordinator stamps on every job and a worker compares with its own: the package version,
// every registered stage's name@version, and a digest of the files the code loads (the module graph from the CLI
// entry: imports, literal dynamic imports, `new URL(…, import.meta.url)` and packageFile/packageModule assets;
// module-graph.ts) and the lockfile,
// so two machines agree only when they would compute byte-identical checkpoints, whatever the folders are called.
// Tested in test/pipeline/module-graph.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../cache-key.ts';
import { PACKAGE_ROOT } from '../package-files.ts';
import type { Stage } from '../stage.ts';
import { moduleGraphFiles } from './module-graph.ts';

/** The package root (the sources' root also when this code runs compiled from dist/). */
const ROOT = PACKAGE_ROOT;

/**
 * The entry files of the code: the command line's sources (bin/revcor.js runs them, or their compiled twin in dist/),
 * whose command table and stage registry import every command, stage and finalizer by literal dynamic imports.
 */
export const CODE_ENTRIES = ['cli/main.ts'];

const cache = new Map<string, Promise<string>>();

/** "<package version>+<12 hex digits>" for these stages and the files the code loads (memoised per process). */
export function codeVersion(stages: readonly Stage[], root = ROOT, entries: readonly string[] = CODE_ENTRIES): Promise<string> {
  const stageList = stages.map((s) => `${s.name}@${s.version}`).sort();
  const memo = `${root}\0${entries.join(',')}\0${stageList.join(',')}`;
  let p = cache.get(memo);
  if (!p) {
    p = (async () => {
      const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string };
      const parts: string[] = [`stages ${stageList.join(',')}`];
      for (const f of [...(await moduleGraphFiles(root, entries)), 'package.json', 'package-lock.json']) {
        const bytes = await readFile(join(root, f)).catch(() => undefined);
        if (bytes) parts.push(`${f} ${sha256(bytes)}`);
      }
      parts.sort();
      return `${pkg.version ?? '0.0.0'}+${sha256(parts.join('\n')).slice(0, 12)}`;
    })();
    p.catch(() => cache.delete(memo));
    cache.set(memo, p);
  }
  return p;
}
