#!/usr/bin/env node
// Compiles the command line into dist/ for the installed `revcor` command (bin/revcor.js runs it): `npm install` and
// `npm ci` run this through the package's `prepare` script, `npm run build` by hand. esbuild bundles cli/main.ts and
// stages/revcor-worker.ts (the module the piscina pool's threads import) as ES modules split into chunks, so that a
// command loads only its own code. The pure-JavaScript dependencies every command needs (BUNDLED) go inside: Node
// then reads a few files instead of ~2,000 modules at each start. Every other dependency (native, WebAssembly, or
// loading workers or files of its own: ONNX Runtime, sharp, h5wasm, piscina, BullMQ, vega) stays in node_modules and
// is imported where it is used. Types are only stripped: `npm test` type-checks (tsc --noEmit).
// The build goes to a temporary folder that replaces dist/ when complete, so a running `revcor` never sees half of
// one. Stack traces point into dist/; NODE_OPTIONS=--enable-source-maps maps them to the TypeScript sources.
// Tested in test/bin/revcor.test.ts (the installed command built by it) and test/fixtures/build.ts.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { sourceTimes, STAMP } from './build-state.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Modules run as entry points: the command line, and the pool's task module (pipeline/package-files.ts packageModule). */
export const ENTRIES = ['cli/main.ts', 'stages/revcor-worker.ts'];

/** Dependencies compiled into the bundle: pure JavaScript, needing no file of their own at run time. */
export const BUNDLED = [
  'apache-arrow',
  'zod',
  'yaml',
  'yargs',
  'fastest-levenshtein',
  'csv-parse',
  'cli-progress',
  'p-queue',
  'fft.js',
  'pure-rand',
  'protobufjs',
  '@stdlib/math-base-special-betainc',
  '@stdlib/math-base-special-erfc',
];

/**
 * Bundled modules of node_modules keep their own import.meta.url (yargs finds its locales by it), so that they behave
 * as they do unbundled.
 */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.m?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'js' };
    });
  },
};

/** Builds dist/ under `root`; returns the files written (relative to dist/). */
export async function build(root = ROOT) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {}).filter((name) => !BUNDLED.includes(name));
  const sources = sourceTimes(root);
  const dist = join(root, 'dist');
  const tmp = join(root, `dist.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ENTRIES,
      outdir: tmp,
      outbase: '.',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      chunkNames: 'chunks/[name]-[hash]',
      external,
      keepNames: true, // error classes print their names (RevcorError subclasses)
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      plugins: [ownUrls],
      // bundled CommonJS modules (yaml, cli-progress, protobufjs) require Node's built-in modules
      banner: { js: "import { createRequire as __revcorCreateRequire } from 'node:module';\nconst require = __revcorCreateRequire(import.meta.url);" },
    });
    writeFileSync(join(tmp, basename(STAMP)), JSON.stringify({ builtAt: new Date().toISOString(), sources }, null, 1) + '\n');
    // swap in the new dist/; another build finishing at the same moment can put its dist/ back in between: retry
    const old = join(root, `dist.old-${process.pid}`);
    for (let attempt = 1; ; attempt++) {
      try {
        renameSync(dist, old);
      } catch (e) {
        if (e.code !== 'ENOENT') throw e;
      }
      try {
        renameSync(tmp, dist);
        break;
      } catch (e) {
        if (!['ENOTEMPTY', 'EEXIST'].includes(e.code) || attempt >= 5) throw e;
      } finally {
        rmSync(old, { recursive: true, force: true });
      }
    }
    return Object.keys(result.metafile.outputs).map((f) => relative(tmp, join(root, f)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await build();
  const js = files.filter((f) => f.endsWith('.js')).length;
  console.log(`revcor: compiled the command line into dist/ (${js} files, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
