// The one shard-id scheme of the activations stage: `<set>-<start>-<end>`, the stimulus range [start, end) of one
// stimulus set, zero-padded to 6 digits, `activations.shardSize` stimuli per shard. Every stage that needs to name
// activations shards (tuning, category, v1, awa, awc) asks here. Tested in test/stages/sets.test.ts.

/** Zero-padded shard id `<set>-<start>-<end>`. */
export function setShardId(set: string, start: number, end: number): string {
  return `${set}-${String(start).padStart(6, '0')}-${String(end).padStart(6, '0')}`;
}

/** The shards of a set of `count` stimuli, `size` per shard: their ids and ranges, in stimulus order. */
export function setRanges(set: string, count: number, size: number): { id: string; start: number; end: number }[] {
  const out: { id: string; start: number; end: number }[] = [];
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size);
    out.push({ id: setShardId(set, start, end), start, end });
  }
  return out;
}
