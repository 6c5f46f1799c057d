// docs/method.md §8 from the declarations: one Markdown table per checkpoint kind (column, type, unit, meaning), so
// the method document cannot drift from what the stages write. `npx tsx results/docs.ts` rewrites the section;
// tested in test/results/docs.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ACTIVATIONS_GRATINGS, ACTIVATIONS_IMAGES, ACTIVATIONS_NOISE } from './activations.ts';
import { AWA } from './awa.ts';
import { AWC } from './awc.ts';
import { CATEGORY } from './category.ts';
import type { TableSpec } from './columns.ts';
import { STIMULI_GRATINGS, STIMULI_IMAGES, STIMULI_NOISE } from './stimuli.ts';
import { SUMMARY } from './summary.ts';
import { TUNING } from './tuning.ts';
import { V1 } from './v1.ts';

/** Every declared checkpoint kind with where its files are. */
export const DOCUMENTED: readonly { title: string; files: string; spec: TableSpec }[] = [
  { title: 'stimuli: gratings (and blank)', files: 'stimuli/gratings.arrow, stimuli/blank.arrow', spec: STIMULI_GRATINGS },
  { title: 'stimuli: images', files: 'stimuli/images.arrow', spec: STIMULI_IMAGES },
  { title: 'stimuli: noise', files: 'stimuli/noise.arrow', spec: STIMULI_NOISE },
  { title: 'activations: gratings (and blank)', files: 'activations/gratings-*.arrow, activations/blank-*.arrow', spec: ACTIVATIONS_GRATINGS },
  { title: 'activations: images', files: 'activations/images-*.arrow', spec: ACTIVATIONS_IMAGES },
  { title: 'activations: noise', files: 'activations/noise-*.arrow', spec: ACTIVATIONS_NOISE },
  { title: 'tuning', files: 'tuning/<layer>.arrow', spec: TUNING },
  { title: 'category', files: 'category/<layer>.arrow', spec: CATEGORY },
  { title: 'awa', files: 'awa/<layer>.arrow', spec: AWA },
  { title: 'awc', files: 'awc/<layer>-<start>-<end>.arrow', spec: AWC },
  { title: 'v1', files: 'v1/<layer>.arrow', spec: V1 },
  { title: 'summary', files: 'summary/summary.arrow, summary/summary.csv', spec: SUMMARY },
];

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The §8 tables. */
export function columnsMarkdown(): string {
  const out: string[] = [];
  for (const d of DOCUMENTED) {
    out.push(`### ${d.title}`, '', `Files: ${d.files}.`, '', '| column | type | unit | meaning |', '|---|---|---|---|');
    for (const c of d.spec.columns) out.push(`| \`${c.name}\` | ${c.type}${c.optional ? ' (optional)' : ''} | ${cell(c.unit) || '—'} | ${cell(c.meaning)} |`);
    if (d.spec.dynamic) out.push(`| \`<layer>\` (one per analysed layer) | ${d.spec.dynamic.type} | ${d.spec.dynamic.unit} | ${cell(d.spec.dynamic.meaning)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** The method document with its §8 block replaced by the generated tables. */
export function withColumns(doc: string): string {
  const start = '<!-- columns:start -->';
  const end = '<!-- columns:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/method.md: expected the markers ${start} … ${end}`);
  return `${doc.slice(0, a + start.length)}\n${columnsMarkdown()}${doc.slice(b)}`;
}

/** The path of docs/method.md. */
export const METHOD_DOC = fileURLToPath(new URL('../docs/method.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(METHOD_DOC, withColumns(readFileSync(METHOD_DOC, 'utf8')));
}
