// One progress display for a grid (pipeline/grid-progress.ts): plain lines name each point, JSON point events carry
// the point's name and index, quiet keeps warnings, and on a terminal one grid bar counts the computed shards (not the
// restored ones) above the running point's stage bars.
import { describe, expect, it } from 'vitest';
import { createGridReporter, type GridEvent } from '../../pipeline/grid-progress.ts';
import type { ProgressEvent } from '../../pipeline/progress.ts';
import { Capture } from '../cli/helpers.ts';

const plan: GridEvent = { type: 'grid-plan', gridDir: '/g', points: 2, shards: 6, distinct: 4, toCompute: 3, cache: '/c' };
const point = (i: number): ProgressEvent[] => [
  { type: 'plan', outDir: `/g/p${i}`, total: 3, toRun: 3, stages: [{ stage: 'a', done: 0, stale: 0, pending: 3, toRun: 3 }] },
  { type: 'stage-start', stage: 'a', shards: 3, cost: 3 },
  { type: 'shard-done', stage: 'a', shard: 'x', seconds: 1, rows: 1, bytes: 10, ...(i === 1 ? { cached: true } : {}) },
  { type: 'shard-done', stage: 'a', shard: 'y', seconds: 1, rows: 1, bytes: 10 },
  { type: 'log', level: 'warn', message: `careful ${i}` },
  { type: 'run-done', ran: 2, upToDate: false, seconds: 2, message: `Done: point ${i}` },
];

/** Plays a two-point grid into a reporter of `mode`; returns what it wrote. */
function play(mode: 'plain' | 'json' | 'quiet' | 'tty', out = new Capture()): string {
  const r = createGridReporter(mode, out);
  r.grid(plan);
  r.grid({ type: 'log', level: 'warn', message: 'took over the lock' });
  for (const i of [0, 1]) {
    r.grid({ type: 'point-start', point: `p${i}`, index: i, of: 2, outDir: `/g/p${i}`, toCompute: 2 - i });
    const pr = r.point(`p${i}`, i);
    for (const e of point(i)) pr.event(e);
    pr.close();
    r.grid({ type: 'point-done', point: `p${i}`, index: i, of: 2, computed: 2 - i, restored: i, seconds: 2 });
  }
  r.grid({ type: 'grid-done', points: 2, computed: 3, restored: 1, seconds: 4, message: 'Grid done: 2 points' });
  r.close();
  return out.text;
}

describe('grid progress', () => {
  it('plain: the grid plan, one header per point, the points’ own lines, the grid summary', () => {
    const t = play('plain');
    expect(t).toContain('Grid /g: 2 points, 6 shards, 4 different; 3 to compute (shared through the cache /c)\n');
    expect(t).toContain('warning: took over the lock\n');
    expect(t).toContain('== point 1/2: p0 (2 shards to compute) → /g/p0\n');
    expect(t).toContain('== point 2/2: p1 (1 shard to compute) → /g/p1\n');
    expect(t).toContain('[a] x restored from the cache: 1 rows, 10 B (1/3, ETA');
    expect(t.indexOf('Done: point 0')).toBeLessThan(t.indexOf('== point 2/2'));
    expect(t.trimEnd().endsWith('Grid done: 2 points')).toBe(true);
  });

  it('json: grid events and point events, the latter with the point’s name and index', () => {
    const lines = play('json').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'grid-plan', toCompute: 3 });
    const own = lines.filter((l) => l.type === 'shard-done');
    expect(own.map((l) => [l.point, l.pointIndex, l.shard, l.cached ?? false])).toEqual([['p0', 0, 'x', false], ['p0', 0, 'y', false], ['p1', 1, 'x', true], ['p1', 1, 'y', false]]);
    expect(lines.at(-1)).toMatchObject({ type: 'grid-done', computed: 3 });
  });

  it('quiet: warnings only', () => {
    expect(play('quiet')).toBe('warning: took over the lock\nwarning: careful 0\nwarning: careful 1\n');
  });

  it('tty: one grid bar of the computed shards (restored ones do not count) above the stage bars', () => {
    const out = new Capture() as Capture & Record<string, unknown>;
    Object.assign(out, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, clearScreenDown: () => true });
    const t = play('tty', out);
    expect(t).toMatch(/grid 2\/2 +\[.*\] 100% \| 3\/3 shards/);
    expect(t).not.toMatch(/4\/3 shards/);
    expect(t).toContain('Grid done: 2 points');
  });
});
