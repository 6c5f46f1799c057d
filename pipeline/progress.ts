// Progress reporting: bars with ETA on a terminal (cli-progress), plain lines otherwise, JSON lines, or quiet.
import cliProgress from 'cli-progress';

/** Everything the runner reports, in order. */
export type ProgressEvent =
  | { type: 'plan'; outDir: string; total: number; toRun: number; stages: { stage: string; done: number; stale: number; pending: number; toRun: number }[] }
  | { type: 'run-start'; toRun: number; workers: number; concurrency: number }
  | { type: 'stage-start'; stage: string; shards: number; cost: number }
  | { type: 'shard-start'; stage: string; shard: string }
  | { type: 'shard-progress'; stage: string; shard: string; fraction: number }
  | { type: 'shard-done'; stage: string; shard: string; seconds: number; rows: number; bytes: number; cached?: boolean }
  | { type: 'shard-failed'; stage: string; shard: string; error: string }
  | { type: 'stage-done'; stage: string; seconds: number }
  | { type: 'log'; level: 'info' | 'warn'; message: string; stage?: string; shard?: string }
  | { type: 'run-done'; ran: number; upToDate: boolean; seconds: number; message: string }
  | { type: 'interrupted'; resume: string };

/** The line a failed shard prints. */
export function failedLine(e: Extract<ProgressEvent, { type: 'shard-failed' }>): string {
  return `[${e.stage}] ${e.shard} FAILED: ${e.error}`;
}

/** The line a stage's log message prints (with its shard when `withShard`). */
export function logLine(e: Extract<ProgressEvent, { type: 'log' }>, withShard = false): string {
  return `${e.level === 'warn' ? 'warning: ' : ''}${e.stage ? `[${e.stage}${withShard && e.shard ? ` ${e.shard}` : ''}] ` : ''}${e.message}`;
}

/** Receives events; `close()` restores the terminal. */
export interface Reporter {
  event(e: ProgressEvent): void;
  close(): void;
}

export type ReporterMode = 'tty' | 'plain' | 'json' | 'quiet';

/** Picks the mode from flags and whether the stream is a terminal. */
export function reporterMode(opts: { json?: boolean; quiet?: boolean }, stream: NodeJS.WriteStream = process.stderr): ReporterMode {
  return opts.json ? 'json' : opts.quiet ? 'quiet' : stream.isTTY ? 'tty' : 'plain';
}

/** Creates a reporter: json → stdout (one event per line), tty/plain → stderr, quiet → warnings only. */
export function createReporter(mode: ReporterMode, out: NodeJS.WritableStream = mode === 'json' ? process.stdout : process.stderr): Reporter {
  if (mode === 'json') return { event: (e) => out.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n'), close() {} };
  if (mode === 'tty') return new BarReporter(out);
  return new LineReporter(out, mode === 'quiet');
}

/** Seconds as "4.2 s", "3 min 12 s", "1 h 05 min". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Bytes as "812 B", "3.4 MB". */
export function formatBytes(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return `${i === 0 ? b : b.toFixed(1)} ${units[i]}`;
}

function planLines(e: Extract<ProgressEvent, { type: 'plan' }>): string[] {
  return e.stages.map(
    (s) => `  ${s.stage.padEnd(12)} ${s.done} done, ${s.stale} stale, ${s.pending} pending → ${s.toRun ? `${s.toRun} to run` : 'nothing to run'}`,
  );
}

/** Plain log lines with per-stage ETA (for pipes, CI logs, --quiet). */
class LineReporter implements Reporter {
  private stages = new Map<string, { start: number; total: number; done: number }>();
  constructor(private readonly out: NodeJS.WritableStream, private readonly quiet: boolean) {}
  private line(s: string): void {
    this.out.write(s + '\n');
  }
  event(e: ProgressEvent): void {
    if (this.quiet) {
      if (e.type === 'log' && e.level === 'warn') this.line(`warning: ${e.message}`);
      return;
    }
    switch (e.type) {
      case 'plan':
        this.line(`Plan for ${e.outDir}: ${e.toRun} of ${e.total} shards to run`);
        planLines(e).forEach((l) => this.line(l));
        break;
      case 'run-start':
        this.line(`Running ${e.toRun} shards (${e.concurrency} at a time, ${e.workers} worker threads)`);
        break;
      case 'stage-start':
        this.stages.set(e.stage, { start: Date.now(), total: e.shards, done: 0 });
        this.line(`[${e.stage}] ${e.shards} shard${e.shards === 1 ? '' : 's'} to run`);
        break;
      case 'shard-done': {
        const st = this.stages.get(e.stage);
        if (st) st.done++;
        const eta = st ? ((Date.now() - st.start) / 1000 / st.done) * (st.total - st.done) : NaN;
        const count = st ? ` (${st.done}/${st.total}${st.done < st.total ? `, ETA ${formatSeconds(eta)}` : ''})` : '';
        this.line(`[${e.stage}] ${e.shard} ${e.cached ? 'restored from the cache' : `done in ${formatSeconds(e.seconds)}`}: ${e.rows} rows, ${formatBytes(e.bytes)}${count}`);
        break;
      }
      case 'shard-failed':
        this.line(failedLine(e));
        break;
      case 'stage-done':
        this.line(`[${e.stage}] done in ${formatSeconds(e.seconds)}`);
        break;
      case 'log':
        this.line(logLine(e, true));
        break;
      case 'run-done':
        this.line(e.message);
        break;
      case 'interrupted':
      case 'shard-start':
      case 'shard-progress':
        break;
    }
  }
  close(): void {}
}

/** One progress bar per running stage, cost-weighted, with cli-progress's ETA. */
class BarReporter implements Reporter {
  private multi: cliProgress.MultiBar;
  private bars = new Map<string, { bar: cliProgress.SingleBar; done: number; partial: Map<string, number> }>();
  constructor(private readonly out: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: out,
        format: '{stage} [{bar}] {percentage}% | {shards} | ETA {eta_formatted} | {duration_formatted}',
        clearOnComplete: false,
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  private log(s: string): void {
    // cli-progress buffers log lines until a bar renders: write directly while no bar is on screen.
    if (this.multi.isActive && !this.stopped) this.multi.log(s + '\n');
    else this.out.write(s + '\n');
  }
  private refresh(stage: string, suffix?: string): void {
    const b = this.bars.get(stage);
    if (!b) return;
    const partial = [...b.partial.values()].reduce((a, x) => a + x, 0);
    b.bar.update(b.done + partial, suffix === undefined ? {} : { shards: suffix });
  }
  event(e: ProgressEvent): void {
    switch (e.type) {
      case 'plan':
        this.log(`Plan for ${e.outDir}: ${e.toRun} of ${e.total} shards to run`);
        planLines(e).forEach((l) => this.log(l));
        break;
      case 'stage-start': {
        const bar = this.multi.create(e.shards, 0, { stage: e.stage.padEnd(12), shards: `0/${e.shards} shards` });
        this.bars.set(e.stage, { bar, done: 0, partial: new Map() });
        break;
      }
      case 'shard-progress':
        this.bars.get(e.stage)?.partial.set(e.shard, Math.min(1, Math.max(0, e.fraction)));
        this.refresh(e.stage);
        break;
      case 'shard-done': {
        const b = this.bars.get(e.stage);
        if (!b) break;
        b.done++;
        b.partial.delete(e.shard);
        this.refresh(e.stage, `${b.done}/${b.bar.getTotal()} shards`);
        break;
      }
      case 'shard-failed':
        this.log(failedLine(e));
        break;
      case 'log':
        this.log(logLine(e));
        break;
      case 'run-done':
        this.close();
        this.out.write(e.message + '\n');
        break;
      default:
        break;
    }
  }
  private stopped = false;
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }
}
