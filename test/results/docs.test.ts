// docs/method.md §8 lists exactly the declared output columns (results/docs.ts): a column added, renamed or re-typed
// in results/ without regenerating the document fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columnsMarkdown, DOCUMENTED, METHOD_DOC, withColumns } from '../../results/docs.ts';

describe('docs/method.md output columns', () => {
  it('equal the declarations (regenerate with npx tsx results/docs.ts)', () => {
    const doc = readFileSync(METHOD_DOC, 'utf8');
    expect(withColumns(doc)).toBe(doc);
  });

  it('name every declared column of every checkpoint kind, with its meaning', () => {
    const md = columnsMarkdown();
    for (const d of DOCUMENTED) for (const c of d.spec.columns) expect(md, `${d.title}.${c.name}`).toContain(`| \`${c.name}\` |`);
    expect(md).toContain('| `ori_bandwidth` | float64 | deg |');
    expect(md).toContain('| `v1_score_lo` |');
  });
});
