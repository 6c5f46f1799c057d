import { describe, expect, it } from 'vitest';
import { Capture } from '../cli/helpers.ts';
import { createReporter, formatBytes, formatSeconds, reporterMode, type ProgressEvent } from '../../pipeline/progress.ts';

const events: ProgressEvent[] = [
  { type: 'plan', outDir: '/o', total: 3, toRun: 2, stages: [{ stage: 'a', done: 1, stale: 1, pending: 1, toRun: 2 }] },
  { type: 'run-start', toRun: 2, workers: 2, concurrency: 2 },
  { type: 'stage-start', stage: 'a', shards: 2, cost: 2 },
  { type: 'shard-progress', stage: 'a', shard: 'x', fraction: 0.5 },
  { type: 'shard-done', stage: 'a', shard: 'x', seconds: 1.5, rows: 10, bytes: 2048 },
  { type: 'log', level: 'warn', message: 'careful', stage: 'a' },
  { type: 'shard-done', stage: 'a', shard: 'y', seconds: 1, rows: 10, bytes: 2048 },
  { type: 'stage-done', stage: 'a', seconds: 2.5 },
  { type: 'run-done', ran: 2, upToDate: false, seconds: 2.5, message: 'Done: 2 shards' },
];

const play = (mode: Parameters<typeof createReporter>[0]) => {
  const out = new Capture();
  const r = createReporter(mode, out);
  for (const e of events) r.event(e);
  r.close();
  return out.text;
};

describe('progress reporters', () => {
  it('plain: one line per event that matters, with counts and ETA', () => {
    const text = play('plain');
    expect(text).toContain('Plan for /o: 2 of 3 shards to run\n  a            1 done, 1 stale, 1 pending → 2 to run\n');
    expect(text).toMatch(/\[a\] x done in 1\.5 s: 10 rows, 2\.0 kB \(1\/2, ETA [\d.]+ s\)\n/);
    expect(text).toContain('warning: [a] careful\n');
    expect(text).toContain('[a] y done in 1.0 s: 10 rows, 2.0 kB (2/2)\n');
    expect(text.trimEnd().endsWith('Done: 2 shards')).toBe(true);
  });

  it('quiet: warnings only', () => {
    expect(play('quiet')).toBe('warning: careful\n');
  });

  it('json: one parseable event per line with a timestamp', () => {
    const lines = play('json').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(events.map((e) => e.type));
    expect(Date.parse(lines[0].time)).toBeGreaterThan(0);
  });

  it('tty: progress bars with ETA', () => {
    const out = new Capture() as Capture & { isTTY: boolean; columns: number; cursorTo(): boolean; clearLine(): boolean; moveCursor(): boolean; clearScreenDown(): boolean };
    Object.assign(out, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, clearScreenDown: () => true });
    const r = createReporter('tty', out);
    for (const e of events) r.event(e);
    r.close();
    expect(out.text).toMatch(/a +\[.*\] 100% \| 2\/2 shards \| ETA/);
    expect(out.text).toContain('Done: 2 shards');
  });

  it('mode selection and formatting', () => {
    expect(reporterMode({ json: true, quiet: true })).toBe('json');
    expect(reporterMode({ quiet: true })).toBe('quiet');
    expect(reporterMode({}, { isTTY: false } as NodeJS.WriteStream)).toBe('plain');
    expect(reporterMode({}, { isTTY: true } as NodeJS.WriteStream)).toBe('tty');
    expect([formatSeconds(4.23), formatSeconds(192), formatSeconds(3900)]).toEqual(['4.2 s', '3 min 12 s', '1 h 05 min']);
    expect([formatBytes(812), formatBytes(3_400_000)]).toEqual(['812 B', '3.4 MB']);
  });
});
