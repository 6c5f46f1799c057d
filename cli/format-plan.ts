// Human-readable plans: per stage done / stale / pending, bytes, time taken, and grouped reasons.
import type { Plan, StagePlan } from '../pipeline/plan.ts';
import { formatBytes, formatSeconds } from '../pipeline/progress.ts';

/** Per-stage numbers of a plan (for `status --json` and the text views). */
export interface StageSummary {
  stage: string;
  shards: number;
  done: number;
  stale: number;
  pending: number;
  toRun: number;
  bytes: number;
  seconds: number;
  /**
   * Wall-clock span of the finished shards: first start (finishedAt − seconds) to last finish, in seconds (0 when
   * none). Spans of stages overlap when a later stage starts before an earlier one ends; across resumed runs the
   * span includes the time the run was stopped.
   */
  wallSeconds: number;
  /** Reason → number of shards it applies to. */
  reasons: Record<string, number>;
}

/** Summarises one stage of a plan. */
export function summariseStage(sp: StagePlan): StageSummary {
  const done = sp.shards.filter((s) => s.status === 'done');
  const reasons: Record<string, number> = {};
  for (const s of sp.shards) for (const r of s.reasons) reasons[r] = (reasons[r] ?? 0) + 1;
  for (const s of sp.shards.filter((x) => x.forced)) reasons['--force'] = (reasons['--force'] ?? 0) + 1;
  return {
    stage: sp.stage.name,
    shards: sp.shards.length,
    done: done.length,
    stale: sp.shards.filter((s) => s.status === 'stale').length,
    pending: sp.shards.filter((s) => s.status === 'pending').length,
    toRun: sp.shards.filter((s) => s.run).length,
    bytes: done.reduce((a, s) => a + (s.record?.bytes ?? 0), 0),
    seconds: done.reduce((a, s) => a + (s.record?.seconds ?? 0), 0),
    wallSeconds: wallSpan(done.map((s) => s.record).filter((r): r is NonNullable<typeof r> => r !== undefined)),
    reasons,
  };
}

/** First start to last finish of a set of shard records, in seconds (0 for none or records without times). */
export function wallSpan(records: readonly { seconds: number; finishedAt?: string }[]): number {
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    const end = r.finishedAt ? Date.parse(r.finishedAt) : NaN;
    if (!Number.isFinite(end)) continue;
    first = Math.min(first, end - r.seconds * 1000);
    last = Math.max(last, end);
  }
  return last > first ? (last - first) / 1000 : 0;
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Text lines of a plan: one line per stage, then its reasons indented with their shard counts. */
export function formatPlan(plan: Plan, mode: 'dry-run' | 'status'): string[] {
  const lines: string[] = [];
  const width = Math.max(...plan.stages.map((s) => s.stage.name.length), 5);
  for (const sp of plan.stages) {
    const s = summariseStage(sp);
    const parts = [`${s.done} done`, s.stale ? `${s.stale} stale` : '', s.pending ? `${s.pending} pending` : ''].filter(Boolean).join(', ');
    const wall = s.wallSeconds > 0 ? ` (${formatSeconds(s.wallSeconds)} wall)` : '';
    const size = s.done ? `, ${formatBytes(s.bytes)}, ${formatSeconds(s.seconds)}${wall}` : '';
    const action = mode === 'dry-run' ? (s.toRun ? ` → would run ${s.toRun}` : sp.selected ? ' → nothing to run' : ' → not selected') : '';
    lines.push(`  ${s.stage.padEnd(width)}  ${plural(s.shards, 'shard')}: ${s.shards ? parts : 'none planned'}${size}${action}`);
    for (const [reason, n] of Object.entries(s.reasons)) lines.push(`  ${' '.repeat(width)}    - ${reason}${s.shards > 1 ? ` (${plural(n, 'shard')})` : ''}`);
  }
  return lines;
}
