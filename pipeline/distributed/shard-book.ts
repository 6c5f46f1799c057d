// The coordinator's bookkeeping of one round, without Redis: every shard the plan runs as an entry with its state
// (blocked → queued → done | failed | cancelled, or conflict while another directory's job holds its key), which
// upstream records are done with which key (the stage barrier), how many shards of each stage are left (stage-start
// and stage-done events), the first failure, and the closing message of what was kept.
import type { Plan, PlannedShard } from '../plan.ts';
import type { ProgressEvent } from '../progress.ts';
import { redact } from './redact.ts';
import type { JobResult } from './worker.ts';

/** Where one shard of the round is. */
export type EntryState = 'blocked' | 'queued' | 'conflict' | 'done' | 'failed' | 'cancelled';

/** One shard the round computes. */
export interface Entry {
  ps: PlannedShard;
  stageIndex: number;
  state: EntryState;
  /** Times it was put back because its job finished without a record. */
  requeues: number;
}

/** What a finished shard reports (from the job's return value or its record). */
export interface DoneInfo {
  seconds: number;
  rows: number;
  bytes: number;
}

/** The shards of one coordination round and what is known about them. */
export class ShardBook {
  /** Cache key → entry, for every shard the plan runs. */
  readonly entries = new Map<string, Entry>();
  /** "stage/shard" → the key of its current record (done before the round or during it). */
  private readonly doneKeys = new Map<string, string>();
  private readonly stageLeft = new Map<string, { left: number; start?: number }>();
  /** The first shard that failed, with its (redacted) reason. */
  failure: { entry: Entry; reason: string } | undefined;

  /** `ran` and `counters` outlive the round (the coordinator verifies and runs again): they are shared, not copied. */
  constructor(
    plan: Plan,
    private readonly emit: (e: ProgressEvent) => void,
    readonly ran: PlannedShard[] = [],
    readonly counters: { toRun: number; done: number } = { toRun: plan.toRun, done: 0 },
  ) {
    plan.stages.forEach((sp, stageIndex) => {
      for (const ps of sp.shards) {
        if (ps.status === 'done' && !ps.run) this.doneKeys.set(`${ps.stage}/${ps.shard.id}`, ps.key);
        if (!ps.run) continue;
        if (this.entries.has(ps.key)) throw new Error(`Stage ${ps.stage} shards ${this.entries.get(ps.key)!.ps.shard.id} and ${ps.shard.id} have the same cache key: expected distinct parameters per shard`);
        this.entries.set(ps.key, { ps, stageIndex, state: 'blocked', requeues: 0 });
      }
      this.stageLeft.set(sp.stage.name, { left: sp.shards.filter((s) => s.run).length });
    });
  }

  /** Whether every upstream shard this entry's key was made from is done with that key. */
  ready(e: Entry): boolean {
    return Object.entries(e.ps.basis.upstream).every(([u, keys]) => Object.entries(keys).every(([id, k]) => this.doneKeys.get(`${u}/${id}`) === k));
  }

  /** Blocked entries whose upstream is done, in plan order. */
  readyToQueue(): Entry[] {
    return [...this.entries.values()].filter((e) => e.state === 'blocked' && this.ready(e));
  }

  /** Entries not settled yet (queued, waiting for a conflicting job, or blocked). */
  open(): Entry[] {
    return [...this.entries.values()].filter((e) => e.state === 'queued' || e.state === 'conflict' || e.state === 'blocked');
  }

  /** Number of entries still queued or running on workers. */
  queued(): number {
    return [...this.entries.values()].filter((e) => e.state === 'queued').length;
  }

  /** Emits stage-start the first time a shard of the entry's stage is queued. */
  startStage(e: Entry): void {
    const st = this.stageLeft.get(e.ps.stage)!;
    if (st.start !== undefined) return;
    st.start = Date.now();
    this.emit({ type: 'stage-start', stage: e.ps.stage, shards: st.left, cost: st.left });
  }

  /** Records a finished shard: its key unblocks downstream entries; emits shard-done (and stage-done for the last). */
  markDone(e: Entry, info: DoneInfo): void {
    e.state = 'done';
    e.ps.status = 'done';
    this.doneKeys.set(label(e), e.ps.key);
    this.ran.push(e.ps);
    this.counters.done++;
    this.emit({ type: 'shard-done', stage: e.ps.stage, shard: e.ps.shard.id, seconds: info.seconds, rows: info.rows, bytes: info.bytes });
    const st = this.stageLeft.get(e.ps.stage)!;
    if (--st.left === 0) this.emit({ type: 'stage-done', stage: e.ps.stage, seconds: (Date.now() - (st.start ?? Date.now())) / 1000 });
  }

  /** Records a failed shard; the first failure is kept (redacted) and emitted, later ones only change state. */
  markFailed(e: Entry, reason: string): void {
    e.state = 'failed';
    if (this.failure) return;
    this.failure = { entry: e, reason: redact(reason) };
    this.emit({ type: 'shard-failed', stage: e.ps.stage, shard: e.ps.shard.id, error: this.failure.reason });
  }

  /** What a stopped round kept, for the error's hint ("3 of 7 shards finished this run and are kept; …."). */
  kept(withdrawn: number, stillRunning: number): string {
    const parts = [`${this.ran.length} of ${this.counters.toRun} shards finished this run and are kept`];
    if (withdrawn > 0) parts.push(withdrawn === 1 ? '1 queued job was withdrawn' : `${withdrawn} queued jobs were withdrawn`);
    if (stillRunning) parts.push(`${stillRunning === 1 ? '1 shard' : `${stillRunning} shards`} still running on workers ${stillRunning === 1 ? 'is' : 'are'} recorded when finished`);
    return parts.join('; ') + '.';
  }
}

/** "stage/shard" of an entry, for messages. */
export function label(e: Entry): string {
  return `${e.ps.stage}/${e.ps.shard.id}`;
}

/** A completed job's return value as QueueEvents delivers it (an object, a JSON string, or nothing usable). */
export function parseJobResult(returnvalue: unknown): Partial<JobResult> {
  let rv = returnvalue as Partial<JobResult> | string | undefined;
  if (typeof rv === 'string') {
    try {
      rv = JSON.parse(rv) as Partial<JobResult>;
    } catch {
      rv = undefined;
    }
  }
  return rv && typeof rv === 'object' ? rv : {};
}
