// `npm run bench -- startup [--runs N]`: how fast the commands a researcher runs in a loop answer — --help, status,
// validate, inspect, summary, clean, diff — as the installed command runs them (bin/revcor.js → the compiled dist/),
// beside the machine's `node -e 0`. Median, range and peak RSS of N runs each (default 9) on a smoke run made first;
// rounds are interleaved (every command once per round), so a change of load during the bench hits all commands
// alike: compare the ratios to `node -e 0`, measured in the same rounds, more than the absolute times. Peak RSS comes
// from GNU time (/usr/bin/time, Debian package `time`); without it only times are shown.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildState } from '../bin/build-state.js';
import { PACKAGE_ROOT } from '../pipeline/package-files.ts';

const GNU_TIME = '/usr/bin/time';

/** One timed process: wall seconds and peak resident memory in MB (NaN without GNU time). */
interface Sample {
  seconds: number;
  rssMb: number;
}

/** Runs `node ARGS` from the package root once; fails loudly when the command fails. */
function timed(args: string[], scratch: string): Sample {
  const rssFile = join(scratch, 'rss');
  const withTime = existsSync(GNU_TIME);
  const [cmd, argv] = withTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rssMb = withTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : NaN;
  return { seconds, rssMb };
}

/** The median of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the start-up bench and prints its table. */
export async function benchStartup(argv: readonly string[] = process.argv): Promise<void> {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 9;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number ≥ 1, got ${argv[i + 1]}`);
  const state = buildState(PACKAGE_ROOT);
  if (!state.fresh) {
    console.log(`${state.reason}: building dist/ first (npm run build)`);
    timed(['bin/build.js'], tmpdir());
  }
  const dir = mkdtempSync(join(tmpdir(), 'revcor-bench-startup-'));
  try {
    const run = join(dir, 'run');
    const fork = join(dir, 'fork');
    timed(['bin/revcor.js', 'run', 'config/smoke.yaml', '--out', run, '--quiet'], dir);
    timed(['bin/revcor.js', 'fork', run, fork], dir);
    const shard = join(run, 'awc', readdirSync(join(run, 'awc')).find((f) => f.endsWith('.arrow'))!);
    const rows: { name: string; args: (round: number) => string[]; before?: (round: number) => void }[] = [
      { name: 'node -e 0', args: () => ['-e', '0'] },
      { name: 'revcor --help', args: () => ['bin/revcor.js', '--help'] },
      { name: 'revcor status', args: () => ['bin/revcor.js', 'status', run] },
      { name: 'revcor validate', args: () => ['bin/revcor.js', 'validate', 'config/smoke.yaml'] },
      { name: 'revcor inspect', args: () => ['bin/revcor.js', 'inspect', shard] },
      { name: 'revcor summary', args: () => ['bin/revcor.js', 'summary', run] },
      { name: 'revcor diff', args: () => ['bin/revcor.js', 'diff', run, fork] },
      {
        name: 'revcor clean',
        args: (k) => ['bin/revcor.js', 'clean', join(dir, `clean-${k}`)],
        before: (k) => void timed(['bin/revcor.js', 'fork', run, join(dir, `clean-${k}`)], dir),
      },
    ];
    const samples = new Map<string, Sample[]>(rows.map((r) => [r.name, []]));
    const load0 = loadavg()[0];
    for (let k = 0; k < runs; k++) {
      for (const row of rows) {
        row.before?.(k);
        samples.get(row.name)!.push(timed(row.args(k), dir));
      }
    }
    const load1 = loadavg()[0];
    const base = median(samples.get('node -e 0')!.map((s) => s.seconds));
    console.log(`start-up of the installed command (bin/revcor.js → dist/), ${runs} runs each, rounds interleaved; Node ${process.version}; 1-min load ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
    console.log(`${'command'.padEnd(17)} ${'median s'.padStart(9)} ${'min–max s'.padStart(12)} ${'× node -e 0'.padStart(12)} ${'peak RSS MB'.padStart(12)}`);
    for (const row of rows) {
      const s = samples.get(row.name)!;
      const t = s.map((x) => x.seconds);
      const rss = median(s.map((x) => x.rssMb));
      console.log(
        `${row.name.padEnd(17)} ${median(t).toFixed(3).padStart(9)} ${`${Math.min(...t).toFixed(2)}–${Math.max(...t).toFixed(2)}`.padStart(12)} ${(median(t) / base).toFixed(1).padStart(12)} ${(Number.isNaN(rss) ? '–' : rss.toFixed(0)).padStart(12)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
