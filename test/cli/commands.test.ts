// The command table (cli/commands.ts): it matches the command modules, and the light commands of the installed
// `revcor` (the compiled bundle bin/revcor.js runs) import none of the heavy modules — checked by running them with a
// preload that records every module the process loads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandName, COMMANDS, invokedCommand } from '../../cli/commands.ts';
import { ensureBuilt } from '../fixtures/build.ts';
import { toyStages } from '../fixtures/toy-stages.ts';
import { Capture, REPO } from './helpers.ts';

/**
 * Packages a light command must not load: native, WebAssembly, worker pools, queues, plots, the TypeScript runtime,
 * and the ONNX protobuf encoder (300 kB of bundled code the model graph builder needs, not the plan).
 */
const HEAVY = ['h5wasm', 'onnxruntime-node', 'onnxruntime-common', 'sharp', 'vega', 'vega-lite', 'bullmq', 'ioredis', 'piscina', 'tsx', 'esbuild', 'protobufjs'];

/** The packages (node_modules/<name>) among the recorded module URLs, and those bundled into the loaded dist/ files. */
function packagesOf(urls: string[]): Set<string> {
  const out = new Set<string>();
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;
  for (const u of urls) {
    const m = pkg.exec(u);
    if (m) out.add(m[1]);
    // esbuild heads each bundled module with a comment naming its source path ("// node_modules/yaml/dist/…")
    if (u.startsWith('file://') && u.includes('/dist/') && !m) {
      for (const c of readFileSync(new URL(u), 'utf8').matchAll(/^\/\/ (node_modules\/(?:@[^/]+\/)?[^/]+\/)/gm)) out.add(pkg.exec(`/${c[1]}`)![1]);
    }
  }
  return out;
}

describe('command table', () => {
  it('lists every command with the command string and description of its module', async () => {
    const deps = { stages: toyStages, invocation: 'revcor', stdout: new Capture(), stderr: new Capture(), handleSignals: false };
    for (const entry of COMMANDS) {
      const mod = await entry.load(deps, []);
      expect({ command: mod.command, describe: mod.describe }).toEqual({ command: entry.command, describe: entry.describe });
    }
  });

  it('marks exactly the commands whose module uses the stage registry or the finalizers', () => {
    for (const entry of COMMANDS) {
      const source = readFileSync(join(REPO, 'cli', `${commandName(entry)}.ts`), 'utf8');
      expect({ command: commandName(entry), stages: /\bdeps\.(stages|finalizers)\b/.test(source) }).toEqual({ command: commandName(entry), stages: entry.stages });
    }
  });

  it('finds the command as the first word that names one, after any options', () => {
    expect(invokedCommand(['status', 'run'])?.command).toBe('status <dir>');
    expect(invokedCommand(['-h', 'inspect', 'x.arrow'])?.command).toBe('inspect <file>');
    expect(invokedCommand(['--set', 'awc.shuffles=30', 'run', 'config/smoke.yaml'])?.command).toBe('run [config]');
    expect(invokedCommand(['--help'])).toBeUndefined();
    expect(invokedCommand(['statsu', 'dir'])).toBeUndefined();
  });
});

describe('light commands of the compiled revcor', () => {
  let dir: string;
  let run: string;

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'revcor-light-'));
    run = join(dir, 'run');
    for (const args of [['run', 'config/smoke.yaml', '--out', run, '--quiet'], ['fork', run, join(dir, 'fork')]]) {
      const r = spawnSync(process.execPath, ['bin/revcor.js', ...args], { cwd: REPO, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `node --import record-modules.mjs bin/revcor.js ARGS`; returns its exit code, output and loaded packages. */
  function recorded(args: string[]): { status: number | null; stdout: string; stderr: string; packages: Set<string> } {
    const list = join(dir, `modules-${args[0].replace(/\W/g, '')}.txt`);
    const r = spawnSync(process.execPath, ['--import', './test/fixtures/record-modules.mjs', 'bin/revcor.js', ...args], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, REVCOR_RECORD_MODULES: list },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, packages: packagesOf(readFileSync(list, 'utf8').split('\n')) };
  }

  const cases: [string, () => string[]][] = [
    ['--help', () => ['--help']],
    ['status', () => ['status', run]],
    ['validate', () => ['validate', 'config/smoke.yaml']],
    ['inspect', () => ['inspect', join(run, 'awc', readdirSync(join(run, 'awc')).find((f) => f.endsWith('.arrow'))!)]],
    ['summary', () => ['summary', run]],
    ['diff', () => ['diff', run, join(dir, 'fork')]],
    ['clean', () => ['clean', join(dir, 'fork')]],
  ];
  for (const [name, args] of cases) {
    it(`${name} loads none of ${HEAVY.join(', ')}`, () => {
      const r = recorded(args());
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect([...r.packages].filter((p) => HEAVY.includes(p))).toEqual([]);
    }, 60_000);
  }

  it('the bundle holds zod with its English messages only (the other locales were 375 kB every command compiled)', () => {
    const locales = new Set<string>();
    for (const f of readdirSync(join(REPO, 'dist', 'chunks')).filter((n) => n.endsWith('.js'))) {
      for (const m of readFileSync(join(REPO, 'dist', 'chunks', f), 'utf8').matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/([\w-]+)\.js/gm)) locales.add(m[1]!);
    }
    expect([...locales]).toEqual(['en']);
  });

  it('the recorder sees a heavy module when a command loads one (report: vega and sharp)', () => {
    const r = recorded(['report', run]);
    expect(r.status).toBe(0);
    expect(r.packages).toContain('vega');
    expect(r.packages).toContain('sharp');
    expect(r.packages).not.toContain('tsx');
  }, 60_000);
});
