// One progress display for a whole grid: on a terminal a bar of the grid's shards to compute (cli-progress) above the
// stage bars of the point running; plain lines naming the point otherwise; JSON lines whose point events carry the
// point's name; or quiet (warnings only).
import cliProgress from 'cli-progress';
import { createReporter, failedLine, logLine, type ProgressEvent, type Reporter, type ReporterMode } from './progress.ts';

/** What a grid run reports besides its points' own events. */
export type GridEvent =
  | { type: 'grid-plan'; gridDir: string; points: number; shards: number; distinct: number; toCompute: number; cache: string | null }
  | { type: 'point-start'; point: string; index: number; of: number; outDir: string; toCompute: number }
  | { type: 'point-done'; point: string; index: number; of: number; computed: number; restored: number; seconds: number }
  | { type: 'grid-done'; points: number; computed: number; restored: number; seconds: number; message: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

/** Receives grid events and hands out one reporter per point. */
export interface GridReporter {
  grid(e: GridEvent): void;
  /** The reporter of one point's run; its events show as part of the grid's display. */
  point(name: string, index: number): Reporter;
  close(): void;
}

/** A grid reporter for the mode (json → stdout lines, tty/plain/quiet → `out`). */
export function createGridReporter(mode: ReporterMode, out: NodeJS.WritableStream = mode === 'json' ? process.stdout : process.stderr): GridReporter {
  if (mode === 'json') {
    const line = (e: object): void => void out.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
    return { grid: line, point: (point, index) => ({ event: (e) => line({ ...e, point, pointIndex: index }), close() {} }), close() {} };
  }
  if (mode === 'tty') return new GridBars(out);
  const quiet = mode === 'quiet';
  return {
    grid(e) {
      if (quiet && !(e.type === 'log' && e.level === 'warn')) return;
      const l = gridLine(e);
      if (l) out.write(l + '\n');
    },
    point: () => createReporter(mode, out),
    close() {},
  };
}

/** The text line of a grid event (undefined: nothing to say). */
export function gridLine(e: GridEvent): string | undefined {
  switch (e.type) {
    case 'grid-plan':
      return `Grid ${e.gridDir}: ${e.points} points, ${e.shards} shards, ${e.distinct} different; ${e.toCompute} to compute${e.cache ? ` (shared through the cache ${e.cache})` : ' (no cache: each point computes its own)'}`;
    case 'point-start':
      return `== point ${e.index + 1}/${e.of}: ${e.point} (${e.toCompute} shard${e.toCompute === 1 ? '' : 's'} to compute) → ${e.outDir}`;
    case 'point-done':
      return undefined;
    case 'grid-done':
      return e.message;
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : ''}${e.message}`;
  }
}

/** The terminal display: the grid's bar on top, the running point's stage bars below it. */
class GridBars implements GridReporter {
  private multi: cliProgress.MultiBar;
  private gridBar?: cliProgress.SingleBar;
  private done = 0;
  private pointBars: cliProgress.SingleBar[] = [];
  private stopped = false;
  constructor(private readonly out: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar(
      { stream: out, format: '{stage} [{bar}] {percentage}% | {shards} | ETA {eta_formatted} | {duration_formatted}', clearOnComplete: false, hideCursor: true, etaBuffer: 40, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
  }
  private log(s: string): void {
    if (this.multi.isActive && !this.stopped) this.multi.log(s + '\n');
    else this.out.write(s + '\n');
  }
  grid(e: GridEvent): void {
    if (e.type === 'grid-plan') {
      this.log(gridLine(e)!);
      this.gridBar = this.multi.create(Math.max(1, e.toCompute), 0, { stage: 'grid'.padEnd(12), shards: `0/${e.toCompute} shards` });
    } else if (e.type === 'grid-done') {
      this.close();
      this.out.write(e.message + '\n');
    } else if (e.type === 'log') {
      this.log(gridLine(e)!);
    } else {
      const l = gridLine(e);
      if (l) this.log(l);
      this.gridBar?.update({ stage: `grid ${e.index + 1}/${e.of}`.padEnd(12) });
    }
  }
  point(): Reporter {
    const bars = new Map<string, { bar: cliProgress.SingleBar; done: number; partial: Map<string, number> }>();
    const refresh = (stage: string, suffix?: string): void => {
      const b = bars.get(stage);
      if (!b) return;
      const partial = [...b.partial.values()].reduce((a, x) => a + x, 0);
      b.bar.update(b.done + partial, suffix === undefined ? {} : { shards: suffix });
    };
    return {
      event: (e: ProgressEvent) => {
        switch (e.type) {
          case 'stage-start': {
            const bar = this.multi.create(e.shards, 0, { stage: `  ${e.stage}`.padEnd(12), shards: `0/${e.shards} shards` });
            this.pointBars.push(bar);
            bars.set(e.stage, { bar, done: 0, partial: new Map() });
            break;
          }
          case 'shard-progress':
            bars.get(e.stage)?.partial.set(e.shard, Math.min(1, Math.max(0, e.fraction)));
            refresh(e.stage);
            break;
          case 'shard-done': {
            const b = bars.get(e.stage);
            if (b) {
              b.done++;
              b.partial.delete(e.shard);
              refresh(e.stage, `${b.done}/${b.bar.getTotal()} shards`);
            }
            if (!e.cached && this.gridBar) {
              this.done++;
              this.gridBar.update(this.done, { shards: `${this.done}/${this.gridBar.getTotal()} shards` });
            }
            break;
          }
          case 'shard-failed':
            this.log(failedLine(e));
            break;
          case 'log':
            this.log(logLine(e));
            break;
          case 'run-done':
            for (const b of this.pointBars.splice(0)) this.multi.remove(b);
            this.log(`   ${e.message}`);
            break;
          default:
            break;
        }
      },
      close() {},
    };
  }
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }
}
