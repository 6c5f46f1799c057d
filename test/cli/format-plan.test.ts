import { describe, expect, it } from 'vitest';
import { wallSpan } from '../../cli/format-plan.ts';

describe('wallSpan', () => {
  it('spans the first start to the last finish of overlapping shards', () => {
    // shard a: 10:00:00–10:00:30, shard b (in parallel): 10:00:10–10:01:00
    const recs = [
      { seconds: 30, finishedAt: '2026-12-01T10:00:30.000Z' },
      { seconds: 50, finishedAt: '2026-12-01T10:01:00.000Z' },
    ];
    expect(wallSpan(recs)).toBe(60);
  });

  it('is 0 with no records or no times', () => {
    expect(wallSpan([])).toBe(0);
    expect(wallSpan([{ seconds: 5 }])).toBe(0);
  });
});
