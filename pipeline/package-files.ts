// Where the package's own files are, whether this code runs from the TypeScript sources (tsx, vitest) or from the
// compiled bundle in dist/ that the installed `revcor` command runs (bin/revcor.js): files shipped beside the
// sources (config YAML, the JavaScript workers, report assets) are always read from the sources' folders, and a
// module a worker thread imports by path is the .ts source or its compiled .js twin, matching the running code.
// Tested in test/bin/revcor.test.ts (compiled runs) and test/pipeline/module-graph.test.ts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` holding a package.json (dist/ holds none). */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`Expected a package.json in ${from} or a folder above it, got none`);
  }
}

/** The package root: the folder holding package.json, config/ and the sources. */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** Whether this code runs compiled (from dist/) rather than as TypeScript sources. */
export const COMPILED = !/\.[cm]?ts$/.test(new URL(import.meta.url).pathname);

/** Absolute path of a file shipped with the sources, e.g. packageFile('config/default.yaml'). */
export function packageFile(rel: string): string {
  return join(PACKAGE_ROOT, rel);
}

/** Absolute path of a module of the package as this code runs: 'stages/x' → stages/x.ts, or dist/stages/x.js compiled. */
export function packageModule(rel: string, compiled = COMPILED): string {
  return compiled ? join(PACKAGE_ROOT, 'dist', `${rel}.js`) : join(PACKAGE_ROOT, `${rel}.ts`);
}
