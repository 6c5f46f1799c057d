// Generic piscina worker: runs PoolTask {module, fn, args} by dynamic import. Compiled modules (dist/*.js, what the
// installed command runs) load as they are; before its first TypeScript module (tests, runs of the sources through
// tsx) this thread registers tsx's ESM hooks, once.
// Tested in test/pipeline/pool.test.ts.
import { pathToFileURL } from 'node:url';

const modules = new Map();
let typescript;

/** Registers tsx's hooks in this thread (once). */
function loadTypeScript() {
  typescript ??= import('tsx/esm/api').then((tsx) => tsx.register());
  return typescript;
}

/** Runs one task: imports its module (cached per worker) and calls the named export with the args. */
export default async function runTask({ module, fn, args }) {
  const url = module.startsWith('file:') ? module : pathToFileURL(module).href;
  let mod = modules.get(url);
  if (!mod) {
    if (/\.[cm]?ts$/.test(new URL(url).pathname)) await loadTypeScript();
    mod = await import(url);
    modules.set(url, mod);
  }
  const f = mod[fn];
  if (typeof f !== 'function') throw new Error(`Expected ${module} to export a function ${fn}, got ${typeof f}`);
  return f(...(args ?? []));
}
