// House rules checked on the code itself: no import cycle (the runtime module graph from the CLI, the worker modules
// and the benches); only pipeline/rundir.ts names the run directory's own files (.revcor/, manifest.json,
// config.resolved.yaml — comments included); no module under stages/ imports report/; every source file with logic
// has a test file of the same name or a one-line pointer in its header to the test that covers it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['bin', 'cli', 'config', 'model', 'pipeline', 'report', 'results', 'science', 'stages', 'bench'];

/** Source files of the package (relative, '/'-separated), or of the given folders. */
function sourceFiles(dirs: readonly string[] = SOURCE_DIRS): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d))) {
      const p = `${d}/${e}`;
      if (statSync(join(ROOT, p)).isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(e)) out.push(p);
    }
  };
  dirs.filter((d) => existsSync(join(ROOT, d))).forEach(walk);
  return out.sort();
}

/** Strongly connected components with more than one module (or a self-import) of a graph. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The runtime import graph (static and dynamic imports) from the entry modules, package imports left out. */
async function importGraph(): Promise<Map<string, string[]>> {
  const entries = ['bin/revcor.js', 'stages/revcor-worker.ts', 'pipeline/pool-worker.mjs', 'model/ort-worker.mjs', 'bench/index.ts'];
  const r = await build({ entryPoints: entries, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: ROOT, outdir: join(ROOT, '.graph') });
  return new Map(Object.entries(r.metafile.inputs).map(([file, v]) => [file, v.imports.filter((i) => !i.external).map((i) => i.path)]));
}

describe('architecture', () => {
  it('finds cycles in a graph (the checker itself)', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('has no import cycle', async () => {
    const graph = await importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  it('no module under stages/ imports report/ (statically or dynamically)', async () => {
    const graph = await importGraph();
    const bad = [...graph].flatMap(([from, to]) => (from.startsWith('stages/') ? to.filter((t) => t.startsWith('report/')).map((t) => `${from} → ${t}`) : []));
    expect(bad).toEqual([]);
    const text = sourceFiles().filter((f) => f.startsWith('stages/')).filter((f) => /(from\s+|import\()\s*['"][./]*\/?report\//.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(text).toEqual([]);
  });

  it('only pipeline/rundir.ts names .revcor/, manifest.json and config.resolved.yaml (comments included)', () => {
    const names = /\.revcor(?![\w-])|manifest\.json|config\.resolved\.yaml/;
    const bad = sourceFiles()
      .filter((f) => f !== 'pipeline/rundir.ts')
      .flatMap((f) => readFileSync(join(ROOT, f), 'utf8').split('\n').map((line, i) => [f, i + 1, line] as const))
      .filter(([, , line]) => names.test(line))
      .map(([f, n, line]) => `${f}:${n}: ${line.trim()}`);
    expect(bad).toEqual([]);
  });

  it('every source file with logic has test/<folder>/<file>.test.ts or names the test that covers it in its header', () => {
    const missing: string[] = [];
    for (const f of sourceFiles().filter((x) => !x.startsWith('bench/'))) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      if (!/function |=>|class /.test(text)) continue; // declarations only
      const own = join('test', f.replace(/\.(ts|js|mjs)$/, '.test.ts'));
      if (existsSync(join(ROOT, own))) continue;
      const header = text.split('\n').slice(0, 12).filter((l) => l.startsWith('//')).join('\n');
      const pointer = /Tested in (test\/[A-Za-z0-9_./-]+\.test\.ts)/.exec(header)?.[1];
      if (!pointer) missing.push(`${f}: no ${own} and no "Tested in test/….test.ts" in its header`);
      else if (!existsSync(join(ROOT, pointer))) missing.push(`${f}: its header names ${pointer}, which does not exist`);
    }
    expect(missing).toEqual([]);
    expect(relative(ROOT, ROOT)).toBe('');
  });

  it('cites docs/method.md sections, not those of the external science spec a reader of the repository cannot open', () => {
    const spec = new RegExp('SPEC' + ' §');
    const yaml = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml')).map((f) => `config/${f}`);
    const bad = [...sourceFiles(), ...sourceFiles(['test']), ...yaml]
      .flatMap((f) => readFileSync(join(ROOT, f), 'utf8').split('\n').map((line, i) => [f, i + 1, line] as const))
      .filter(([, , line]) => spec.test(line))
      .map(([f, n]) => `${f}:${n}`);
    expect(bad).toEqual([]);
  });
});
