// The files the code loads, found from the code itself: every module reachable from the entry files by static
// imports, dynamic imports of literal paths, `new URL('<literal>', import.meta.url)` references and the package's
// packageFile/packageModule('<literal>') (worker modules, page assets), transitively; packages (node_modules) are
// left to the lockfile. esbuild resolves the imports (it reads TypeScript and follows the same rules as the loader). Tested in test/pipeline/module-graph.test.ts.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

/** `new URL('<literal>', import.meta.url)` in a source text: the literal paths. */
export function urlAssets(source: string): string[] {
  return [...source.matchAll(/new URL\(\s*(['"`])([^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[2]!);
}

/**
 * Package-relative references in a source text (pipeline/package-files.ts): packageFile('<literal>') as written and
 * packageModule('<literal>') as its TypeScript source.
 */
export function packageAssets(source: string): string[] {
  const files = [...source.matchAll(/packageFile\(\s*(['"`])([^'"`$]+)\1\s*\)/g)].map((m) => m[2]!);
  const modules = [...source.matchAll(/packageModule\(\s*(['"`])([^'"`$]+)\1/g)].map((m) => `${m[2]!}.ts`);
  return [...files, ...modules];
}

/** The files of the module graph (paths relative to `root`, '/'-separated, sorted) from the entry files. */
export async function moduleGraphFiles(root: string, entries: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  const done = new Set<string>();
  let todo = entries.map((e) => resolve(root, e));
  while (todo.length) {
    const modules = todo.filter((f) => /\.(m?[jt]s|cjs)$/.test(f) && !done.has(f));
    todo.filter((f) => !/\.(m?[jt]s|cjs)$/.test(f)).forEach((f) => files.add(f));
    todo = [];
    if (modules.length === 0) break;
    modules.forEach((m) => done.add(m));
    const result = await build({ entryPoints: modules, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: root, outdir: join(root, '.module-graph') });
    for (const input of Object.keys(result.metafile.inputs)) {
      const abs = resolve(root, input);
      if (!isInside(root, abs) || abs.split(sep).includes('node_modules')) continue;
      files.add(abs);
      done.add(abs);
      const text = await readFile(abs, 'utf8');
      const targets = [...urlAssets(text).map((a) => resolve(dirname(abs), a)), ...packageAssets(text).map((a) => resolve(root, a))];
      for (const target of targets) {
        if (!isInside(root, target) || !existsSync(target) || !statSync(target).isFile() || files.has(target)) continue;
        files.add(target);
        todo.push(target);
      }
    }
  }
  return [...files].map((f) => relative(root, f).split(sep).join('/')).sort();
}

/** Whether `path` lies inside `root`. */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
