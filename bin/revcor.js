#!/usr/bin/env node
// Entry point of the `revcor` command: the compiled command line in dist/ (bin/build.js, which `npm install` and
// `npm ci` run through the package's prepare script). When a TypeScript source changed after that build (a
// developer's checkout), it runs the sources through tsx instead, so the command never runs stale code; on a
// terminal it says so once per call (`npm run build` compiles again).
import { fileURLToPath } from 'node:url';
import { buildState } from './build-state.js';

const state = buildState(fileURLToPath(new URL('..', import.meta.url)));
if (state.fresh) {
  await import('../dist/cli/main.js');
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write(`revcor: ${state.reason}, and tsx (a development dependency) is not installed to run the sources: run \`npm run build\`.\n`);
    process.exit(1);
  }
  if (process.stderr.isTTY) process.stderr.write(`revcor: ${state.reason}: running the TypeScript sources (slower start; \`npm run build\` compiles them again)\n`);
  tsx.register();
  await import('../cli/main.ts');
}
