// `revcor cache status|gc`: the shared checkpoint cache (pipeline/cache-store.ts) — its size, entries per stage and
// the run directories using it; and removing the entries no run directory references (--older-than: only those
// also unused for that long).
// Tested in test/cli/grid.test.ts.
import type { Argv, CommandModule } from 'yargs';
import { cacheDirFor, CheckpointCache } from '../pipeline/cache-store.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { println, type CliDeps } from './deps.ts';

interface CacheArgs {
  action: 'status' | 'gc';
  dir?: string;
  'older-than'?: string;
  json: boolean;
}

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 7 * 86_400e3 };

/** "30d", "12h", "90m", "2w", "45s" (or a sum: "1d12h") in milliseconds; a ConfigError otherwise. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text.trim()) {
    throw new ConfigError(`--older-than: Expected a duration such as 30d, 12h, 90m or 1d12h (s, m, h, d, w), got ${JSON.stringify(text)}`);
  }
  return parts.reduce((a, p) => a + Number(p[1]) * UNITS[p[2]!]!, 0);
}

/** The `cache` command. */
export function cacheCommand(deps: CliDeps): CommandModule<object, CacheArgs> {
  return {
    command: 'cache <action> [dir]',
    describe: 'The shared checkpoint cache: status (size, entries, the runs using it) or gc (remove entries no run directory references)',
    builder: (y: Argv) =>
      y
        .positional('action', { choices: ['status', 'gc'] as const, describe: 'status or gc' })
        .positional('dir', { type: 'string', describe: 'Cache directory (default: $REVCOR_CACHE_DIR, else $XDG_CACHE_HOME/revcor, else ~/.cache/revcor)' })
        .option('older-than', { type: 'string', describe: 'gc: only entries also unused for this long (30d, 12h, …)' })
        .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
        .example('$0 cache status', 'Size of the cache, entries per stage, the run directories using it')
        .example('$0 cache gc --older-than 30d', 'Remove entries no run references and nobody used for 30 days') as unknown as Argv<CacheArgs>,
    handler: async (args) => {
      const dir = args.dir ?? cacheDirFor(true, false)!;
      const olderThanMs = args['older-than'] !== undefined ? parseDuration(args['older-than']) : undefined;
      if (olderThanMs !== undefined && args.action !== 'gc') throw new ConfigError('--older-than: Expected it with `revcor cache gc`, got it with status');
      const cache = await CheckpointCache.existing(dir);
      if (args.action === 'status') {
        const s = await cache.status();
        if (args.json) return println(deps.stdout, JSON.stringify(s));
        println(deps.stdout, `${s.dir}: ${s.entries} checkpoints, ${formatBytes(s.bytes)} (${formatBytes(s.ownBytes)} held by the cache alone; the rest are also files of run directories)`);
        for (const [stage, v] of Object.entries(s.byStage)) println(deps.stdout, `  ${stage.padEnd(12)} ${v.entries} checkpoints, ${formatBytes(v.bytes)}`);
        println(deps.stdout, `Run directories using it: ${s.runs.length}`);
        for (const r of s.runs) println(deps.stdout, `  ${r.outDir}: ${r.exists ? `${r.entries} of its checkpoints are in the cache` : 'gone (forgotten by the next gc)'}`);
        println(deps.stdout, `${s.unreferenced} checkpoint${s.unreferenced === 1 ? '' : 's'} referenced by no run directory (revcor cache gc removes them)`);
        return;
      }
      const r = await cache.gc({ olderThanMs });
      if (args.json) return println(deps.stdout, JSON.stringify(r));
      println(
        deps.stdout,
        `Removed ${r.removed} checkpoint${r.removed === 1 ? '' : 's'} (${formatBytes(r.bytes)}; ${formatBytes(r.freed)} freed, the rest is still held by hard links elsewhere) from ${cache.dir}; kept ${r.kept}${olderThanMs !== undefined ? ' (referenced, or used within the last ' + args['older-than'] + ')' : ' referenced by run directories'}.`,
        ...(r.leftovers ? [`Also removed ${r.leftovers} leftover file${r.leftovers === 1 ? '' : 's'} of interrupted writes.`] : []),
        ...(r.forgotten ? [`Forgot ${r.forgotten} run director${r.forgotten === 1 ? 'y' : 'ies'} that no longer exist.`] : []),
      );
    },
  };
}
