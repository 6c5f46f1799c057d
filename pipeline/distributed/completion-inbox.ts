// What the coordinator hears from the queue during a round (BullMQ QueueEvents, or any EventEmitter that emits
// the same events): completions and failures of this round's jobs are kept per job until the loop takes them;
// stalls, starts and progress become progress events at once. `wait` sleeps until an event arrives, the poll
// interval passes or the run is aborted. No Redis of its own: it only listens.
import type { ProgressEvent } from '../progress.ts';
import { label, parseJobResult, type ShardBook } from './shard-book.ts';
import type { JobResult } from './worker.ts';

/** The part of QueueEvents the inbox uses. */
export interface EventSource {
  on(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Completion and failure events of one round's jobs, and the wake-up of its loop. */
export class CompletionInbox {
  private readonly completed = new Map<string, Partial<JobResult>>();
  private readonly failed = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private wakeUp: (() => void) | undefined;
  private readonly handlers: Record<string, (a: { jobId: string; returnvalue?: unknown; failedReason?: string; data?: unknown }) => void>;

  constructor(
    private readonly book: ShardBook,
    private readonly emit: (e: ProgressEvent) => void,
  ) {
    const entryIn = (jobId: string, state: string) => {
      const e = this.book.entries.get(jobId);
      return e?.state === state ? e : undefined;
    };
    this.handlers = {
      completed: ({ jobId, returnvalue }) => {
        if (!this.book.entries.has(jobId)) return;
        this.completed.set(jobId, parseJobResult(returnvalue));
        this.touch(jobId);
      },
      failed: ({ jobId, failedReason }) => {
        if (!this.book.entries.has(jobId)) return;
        this.failed.set(jobId, failedReason!);
        this.touch(jobId);
      },
      stalled: ({ jobId }) => {
        const e = entryIn(jobId, 'queued');
        if (e) this.emit({ type: 'log', level: 'warn', message: `${label(e)}: its worker stopped renewing the job lock (killed or lost): back in the queue for another worker`, stage: e.ps.stage, shard: e.ps.shard.id });
      },
      active: ({ jobId }) => {
        const e = entryIn(jobId, 'queued');
        if (e) this.emit({ type: 'shard-start', stage: e.ps.stage, shard: e.ps.shard.id });
      },
      progress: ({ jobId, data }) => {
        const e = entryIn(jobId, 'queued');
        if (e && typeof data === 'number') this.emit({ type: 'shard-progress', stage: e.ps.stage, shard: e.ps.shard.id, fraction: data });
      },
    };
  }

  /** Starts listening to `source` (and wakes the loop when `signal` aborts); returns the function that stops both. */
  attach(source: EventSource, signal: AbortSignal): () => void {
    for (const [name, h] of Object.entries(this.handlers)) source.on(name, h);
    const onAbort = (): void => this.wake();
    signal.addEventListener('abort', onAbort);
    return () => {
      for (const [name, h] of Object.entries(this.handlers)) source.off(name, h);
      signal.removeEventListener('abort', onAbort);
    };
  }

  /** Whether an event arrived that the loop has not taken yet. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** The keys of the jobs events arrived for since the last call (and forgets them). */
  drainKeys(): string[] {
    const keys = [...this.dirty];
    this.dirty.clear();
    return keys;
  }

  /** The completion result and failure reason heard for a job (each taken once). */
  take(key: string): { result?: Partial<JobResult>; reason?: string } {
    const out = { result: this.completed.get(key), reason: this.failed.get(key) };
    this.completed.delete(key);
    this.failed.delete(key);
    return out;
  }

  /** Sleeps until an event arrives, `ms` pass, or `wake` is called. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        this.wakeUp = undefined;
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Ends a `wait` now. */
  wake(): void {
    this.wakeUp?.();
  }

  private touch(jobId: string): void {
    this.dirty.add(jobId);
    this.wake();
  }
}
