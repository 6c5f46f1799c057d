import { describe, expect, it } from 'vitest';
import { allStages } from '../../stages/index.ts';
import { orderStages } from '../../pipeline/dag.ts';

describe('stage registry', () => {
  it('is a valid DAG whose stages start with stimuli and know no unknown upstream', () => {
    const order = orderStages(allStages()).map((s) => s.name);
    expect(order[0]).toBe('stimuli');
    const known = ['stimuli', 'activations', 'tuning', 'category', 'awa', 'awc', 'summary', 'v1'];
    for (const name of order) expect(known).toContain(name);
  });
});
