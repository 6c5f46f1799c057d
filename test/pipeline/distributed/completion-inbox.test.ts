// What the coordinator hears from the queue, without Redis: QueueEvents is an EventEmitter, so a plain one emits the
// same events. Only this round's jobs count; completions and failures wait to be taken; starts, progress and
// stalls of queued shards become progress events; an event or an abort ends a wait.
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun, type Plan } from '../../../pipeline/plan.ts';
import type { ProgressEvent } from '../../../pipeline/progress.ts';
import { CompletionInbox } from '../../../pipeline/distributed/completion-inbox.ts';
import { ShardBook } from '../../../pipeline/distributed/shard-book.ts';
import { toyStages } from '../../fixtures/toy-stages.ts';
import { cleanup, tempDir, toyExperiment } from '../helpers.ts';

let dir: string;
let plan: Plan;
beforeAll(async () => {
  dir = await tempDir('revcor-inbox-');
  plan = await planRun(toyStages(), toyExperiment(), dir);
});
afterAll(() => cleanup(dir));

function setup() {
  const events: ProgressEvent[] = [];
  const book = new ShardBook(plan, (e) => events.push(e));
  const inbox = new CompletionInbox(book, (e) => events.push(e));
  const source = new EventEmitter();
  const ac = new AbortController();
  const detach = inbox.attach(source, ac.signal);
  const [a, b] = [...book.entries.values()];
  return { events, book, inbox, source, ac, detach, a, b };
}

describe('CompletionInbox', () => {
  it('keeps completions and failures of this round’s jobs until taken, each once', () => {
    const { inbox, source, a, b } = setup();
    source.emit('completed', { jobId: 'f'.repeat(64), returnvalue: '{}' }); // another run's job
    expect(inbox.pending).toBe(false);
    source.emit('completed', { jobId: a.ps.key, returnvalue: JSON.stringify({ status: 'done', outDir: '/r', rows: 4 }) });
    source.emit('failed', { jobId: b.ps.key, failedReason: 'boom' });
    expect(inbox.pending).toBe(true);
    expect(inbox.drainKeys()).toEqual([a.ps.key, b.ps.key]);
    expect(inbox.pending).toBe(false);
    expect(inbox.take(a.ps.key)).toEqual({ result: { status: 'done', outDir: '/r', rows: 4 }, reason: undefined });
    expect(inbox.take(b.ps.key)).toEqual({ result: undefined, reason: 'boom' });
    expect(inbox.take(a.ps.key)).toEqual({ result: undefined, reason: undefined });
  });

  it('reports start, progress and stalls of queued shards only; stops listening when detached', () => {
    const { events, source, detach, a, b } = setup();
    a.state = 'queued';
    source.emit('active', { jobId: a.ps.key });
    source.emit('active', { jobId: b.ps.key }); // still blocked: not ours to report
    source.emit('progress', { jobId: a.ps.key, data: 0.5 });
    source.emit('progress', { jobId: a.ps.key, data: { not: 'a number' } });
    source.emit('stalled', { jobId: a.ps.key });
    expect(events).toEqual([
      { type: 'shard-start', stage: 'source', shard: a.ps.shard.id },
      { type: 'shard-progress', stage: 'source', shard: a.ps.shard.id, fraction: 0.5 },
      { type: 'log', level: 'warn', message: `source/${a.ps.shard.id}: its worker stopped renewing the job lock (killed or lost): back in the queue for another worker`, stage: 'source', shard: a.ps.shard.id },
    ]);
    detach();
    source.emit('active', { jobId: a.ps.key });
    expect(events).toHaveLength(3);
    expect(source.eventNames()).toEqual([]);
  });

  it('an event or an abort ends a wait', async () => {
    const { inbox, source, ac, a } = setup();
    const hour = 3_600_000;
    const w1 = inbox.wait(hour);
    source.emit('completed', { jobId: a.ps.key, returnvalue: {} });
    await w1; // would time the test out if the event did not wake it
    const w2 = inbox.wait(hour);
    ac.abort();
    await w2;
    expect(inbox.pending).toBe(true);
  });
});
