// Why a shard is stale: diffs the recorded key basis against the current one in words a user reads.
// Tested in test/pipeline/runner.test.ts.
import { canonicalJson, type KeyBasis } from './cache-key.ts';

const MAX_ITEMS = 6;

/** Renders a value for a diff line: compact JSON, shortened. */
function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = canonicalJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf-level differences between two JSON values, as "a.b.c: old → new" lines (arrays compare whole). */
export function diffJson(before: unknown, after: unknown, prefix = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffJson(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  const a = before === undefined ? undefined : canonicalJson(before);
  const b = after === undefined ? undefined : canonicalJson(after);
  if (a === b) return [];
  return [`${prefix || '(value)'}: ${show(before)} → ${show(after)}`];
}

/** Keeps a list readable: the first few items and a count of the rest. */
function cap(items: string[]): string[] {
  return items.length <= MAX_ITEMS ? items : [...items.slice(0, MAX_ITEMS), `… and ${items.length - MAX_ITEMS} more`];
}

/**
 * Reasons a shard recorded with basis `before` is stale under `after`. `upstreamCause(stage)` may name why an
 * upstream stage changed (e.g. its own first reason), appended in parentheses.
 */
export function explainChange(before: KeyBasis, after: KeyBasis, upstreamCause?: (stage: string) => string | undefined): string[] {
  const reasons: string[] = [];
  if (before.version !== after.version) reasons.push(`code version ${before.version} → ${after.version}`);
  reasons.push(...cap(diffJson(before.slice, after.slice)).map((d) => `config ${d}`));
  reasons.push(...cap(diffJson(before.params, after.params)).map((d) => `shard params ${d}`));
  const inputs = [...new Set([...Object.keys(before.inputs ?? {}), ...Object.keys(after.inputs ?? {})])].sort();
  const inputReasons: string[] = [];
  for (const p of inputs) {
    const a = before.inputs?.[p];
    const b = after.inputs?.[p];
    if (a === b) continue;
    inputReasons.push(a === undefined ? `new input file ${p}` : b === undefined ? `no longer an input: ${p}` : `input file ${p} changed`);
  }
  reasons.push(...cap(inputReasons));
  const ups = [...new Set([...Object.keys(before.upstream ?? {}), ...Object.keys(after.upstream ?? {})])].sort();
  for (const u of ups) {
    if (canonicalJson(before.upstream?.[u] ?? {}) === canonicalJson(after.upstream?.[u] ?? {})) continue;
    const cause = upstreamCause?.(u);
    reasons.push(`upstream ${u} changed${cause ? ` (${cause})` : ''}`);
  }
  if (reasons.length === 0) reasons.push('cache key changed (engine key format)');
  return reasons;
}
