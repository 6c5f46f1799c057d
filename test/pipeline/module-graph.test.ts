// The code version from the module graph (pipeline/distributed/module-graph.ts, code-version.ts): the files the
// code loads from its entry — imports, literal dynamic imports, `new URL(…, import.meta.url)` workers and assets —
// whatever folder they sit in; files nothing loads do not count; the same tree gives the same version.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeVersion, CODE_ENTRIES } from '../../pipeline/distributed/code-version.ts';
import { moduleGraphFiles, packageAssets, urlAssets } from '../../pipeline/distributed/module-graph.ts';
import { allStages } from '../../stages/index.ts';

/** A small package: cli → stages → a new top-level folder, worker modules and assets (by URL and by package path). */
const TREE: Record<string, string> = {
  'package.json': '{"name":"toy","version":"1.2.3","type":"module"}',
  'package-lock.json': '{}',
  'cli/main.ts': "const { stages } = await import('../stages/index.ts');\nexport const n: number = stages.length;\n",
  'stages/index.ts': "import type { Unused } from '../types/only.ts';\nimport { gain } from '../newfolder/gain.ts';\nexport const WORKER = new URL('./worker.mjs', import.meta.url);\nexport const PAGE = new URL('../assets/page.css', import.meta.url);\nconst packageFile = (p: string) => p;\nconst packageModule = (p: string) => p;\nexport const TASK = packageModule('stages/task');\nexport const DATA = packageFile('assets/data.json');\nexport const stages: number[] = [gain(2)];\nexport type X = Unused;\n",
  'stages/worker.mjs': "import { helper } from './helper.mjs';\nexport const run = () => helper();\n",
  'stages/helper.mjs': 'export const helper = () => 1;\n',
  'stages/task.ts': "import { helper } from './helper.mjs';\nexport const task = (): number => helper() + 1;\n",
  'assets/data.json': '{"a":1}\n',
  'newfolder/gain.ts': 'export const gain = (x: number): number => 2 * x;\n',
  'newfolder/unused.ts': 'export const never = 1;\n',
  'types/only.ts': 'export interface Unused { a: number }\n',
  'assets/page.css': 'body { color: red; }\n',
  'test/x.test.ts': "import '../newfolder/gain.ts';\n",
};

async function writeTree(root: string, tree: Record<string, string>): Promise<void> {
  for (const [f, text] of Object.entries(tree)) {
    await mkdir(dirname(join(root, f)), { recursive: true });
    await writeFile(join(root, f), text);
  }
}

describe('code version from the module graph', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-graph-'));
    await writeTree(join(dir, 'a'), TREE);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds new URL(literal, import.meta.url) references', () => {
    expect(urlAssets("const W = new URL('./w.mjs', import.meta.url); new URL(`../a.css`, import.meta.url); new URL(x, import.meta.url)")).toEqual(['./w.mjs', '../a.css']);
  });

  it('finds packageFile(literal) and packageModule(literal) references (the module as its TypeScript source)', () => {
    expect(packageAssets("packageFile('report/client.js'); packageModule('stages/revcor-worker'); packageFile(x); packageModule(`a/b`, true)")).toEqual(['report/client.js', 'stages/revcor-worker.ts', 'a/b.ts']);
  });

  it('lists every file the entry loads, in any folder, and nothing else', async () => {
    expect(await moduleGraphFiles(join(dir, 'a'), CODE_ENTRIES)).toEqual([
      'assets/data.json',
      'assets/page.css',
      'cli/main.ts',
      'newfolder/gain.ts',
      'stages/helper.mjs',
      'stages/index.ts',
      'stages/task.ts',
      'stages/worker.mjs',
    ]);
  });

  it('a change in a new folder a stage imports changes the version; a file nothing loads does not', async () => {
    const stages = [{ name: 's', version: '1' }] as never;
    const base = await codeVersion(stages, join(dir, 'a'));
    expect(base).toMatch(/^1\.2\.3\+[0-9a-f]{12}$/);
    const variant = async (name: string, file: string, text: string) => {
      await cp(join(dir, 'a'), join(dir, name), { recursive: true });
      await writeFile(join(dir, name, file), text);
      return codeVersion(stages, join(dir, name));
    };
    expect(await variant('same', 'README.md', 'docs do not count\n')).toBe(base); // same tree + an unloaded file
    expect(await variant('gain', 'newfolder/gain.ts', 'export const gain = (x: number): number => 3 * x;\n')).not.toBe(base);
    expect(await variant('helper', 'stages/helper.mjs', 'export const helper = () => 2;\n')).not.toBe(base);
    expect(await variant('css', 'assets/page.css', 'body { color: blue; }\n')).not.toBe(base);
    expect(await variant('task', 'stages/task.ts', 'export const task = (): number => 3;\n')).not.toBe(base);
    expect(await variant('data', 'assets/data.json', '{"a":2}\n')).not.toBe(base);
    expect(await variant('unused', 'newfolder/unused.ts', 'export const never = 2;\n')).toBe(base);
    expect(await variant('test', 'test/x.test.ts', '// changed\n')).toBe(base);
  });

  it('on this repository: the stage modules, the pool and ORT workers and the report page assets count, tests do not', async () => {
    const files = await moduleGraphFiles(new URL('../..', import.meta.url).pathname, CODE_ENTRIES);
    for (const f of ['stages/awc.ts', 'stages/revcor-worker.ts', 'pipeline/pool-worker.mjs', 'model/ort-worker.mjs', 'report/client.js', 'report/style.css', 'report/write.ts', 'results/columns.ts']) expect(files, f).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('bench/') || f.startsWith('node_modules/'))).toEqual([]);
    expect(allStages().length).toBeGreaterThan(5);
  });
});
