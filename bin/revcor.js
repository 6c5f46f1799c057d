#!/usr/bin/env node
// Entry point of the `revcor` command: loads the TypeScript CLI through tsx's ESM hooks.
import { register } from 'tsx/esm/api';
register();
await import('../cli/main.ts');
