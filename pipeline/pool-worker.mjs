// Generic piscina worker: registers tsx's ESM hooks, then runs PoolTask {module, fn, args} by dynamic import.
// Tested in test/pipeline/pool.test.ts.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';

register();
const modules = new Map();

/** Runs one task: imports its module (cached per worker) and calls the named export with the args. */
export default async function runTask({ module, fn, args }) {
  const url = module.startsWith('file:') ? module : pathToFileURL(module).href;
  let mod = modules.get(url);
  if (!mod) {
    mod = await import(url);
    modules.set(url, mod);
  }
  const f = mod[fn];
  if (typeof f !== 'function') throw new Error(`Expected ${module} to export a function ${fn}, got ${typeof f}`);
  return f(...(args ?? []));
}
