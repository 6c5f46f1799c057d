import { describe, expect, it } from 'vitest';
import type { Experiment } from '../../config/schema.ts';
import { downstreamClosure, orderStages, upstreamClosure } from '../../pipeline/dag.ts';
import { diffJson, explainChange } from '../../pipeline/explain.ts';
import type { Stage } from '../../pipeline/stage.ts';

const st = (name: string, upstream: string[] = []): Stage<Experiment> => ({
  name, upstream, description: '', version: '1', configSlice: () => null, plan: () => [], run: () => Promise.reject(new Error('no')),
});

describe('stage DAG', () => {
  it('orders topologically, keeping the given order where free', () => {
    const order = orderStages([st('summary', ['awc', 'tuning']), st('stimuli'), st('awc', ['activations']), st('activations', ['stimuli']), st('tuning', ['activations'])]);
    expect(order.map((s) => s.name)).toEqual(['stimuli', 'activations', 'awc', 'tuning', 'summary']);
  });

  it('rejects cycles, unknown upstreams, duplicate and unsafe names', () => {
    expect(() => orderStages([st('a', ['c']), st('b', ['a']), st('c', ['b'])])).toThrow('Expected an acyclic stage graph, got the cycle a → c → b → a');
    expect(() => orderStages([st('a', ['zz'])])).toThrow('Stage a lists upstream zz: expected one of a, got an unknown stage');
    expect(() => orderStages([st('a'), st('a')])).toThrow('Expected unique stage names, got a twice');
    expect(() => orderStages([st('../x')])).toThrow('Expected a stage name of [A-Za-z0-9_-], got "../x"');
  });

  it('computes downstream and upstream closures', () => {
    const s = [st('a'), st('b', ['a']), st('c', ['b']), st('d', ['a'])];
    expect([...downstreamClosure(s, ['b'])].sort()).toEqual(['b', 'c']);
    expect([...upstreamClosure(s, ['c'])].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('explanations', () => {
  it('diffs nested config slices into key paths', () => {
    expect(diffJson({ awc: { shuffles: 20, top: 4 }, x: [1] }, { awc: { shuffles: 30, top: 4, null: 'mp' }, x: [1, 2] })).toEqual([
      'awc.null: (unset) → "mp"',
      'awc.shuffles: 20 → 30',
      'x: [1] → [1,2]',
    ]);
  });

  it('names version, config, params, input files and upstream changes', () => {
    const b = { stage: 's', version: '1', slice: { a: 1 }, params: { n: 1 }, inputs: { '/w': 'x', '/old': 'y' }, upstream: { up: { k: '1' } } };
    const a = { stage: 's', version: '2', slice: { a: 2 }, params: { n: 2 }, inputs: { '/w': 'z', '/new': 'q' }, upstream: { up: { k: '2' } } };
    expect(explainChange(b, a, (u) => `${u} because`)).toEqual([
      'code version 1 → 2', 'config a: 1 → 2', 'shard params n: 1 → 2', 'new input file /new', 'no longer an input: /old', 'input file /w changed', 'upstream up changed (up because)',
    ]);
  });
});
