// Docs name paths relative to the clone: no absolute path of the machine results were made on (/work, /root,
// /home, /tmp, /Users) in README.md, docs/ or any folder README.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../cli/helpers.ts';

/** Markdown files of the repository outside node_modules and test fixtures. */
function markdownFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'artifacts' || e.name === 'runs') continue;
    const p = join(rel, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(dir, p));
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

describe('docs', () => {
  it('name no absolute path of this machine', () => {
    const files = markdownFiles(REPO);
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'RESULTS.md'));
    const hits = files.flatMap((f) =>
      readFileSync(join(REPO, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => ([...line.matchAll(/(?<![\w.~-])\/(work|root|home|tmp|Users)\/[\w./-]+/g)].length ? [`${f}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});
