// Everything from outside reaches report.html as text: hostile layer, category, file, experiment and folder
// names are HTML-escaped in the markup and cannot close the embedded JSON's <script> element.
import { describe, expect, it } from 'vitest';
import type { Table } from 'apache-arrow';
import { buildReport } from '../../report/build.ts';
import { csvField } from '../../report/csv.ts';
import { esc, scriptJson } from '../../report/html.ts';
import { layerLabels } from '../../report/layer-label.ts';
import type { RunSource } from '../../report/source.ts';
import { fakeExperiment, fakeLayerTables } from '../fixtures/fake-analysis.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const LAYER = '</script><script>alert(2)</script>';

/** An in-memory run whose every outside string is hostile (all-layers shards, as for ONNX networks). */
function hostileRun(): RunSource {
  const t = fakeLayerTables({ layer: LAYER, units: 6, side: 5, categories: [HOSTILE, 'faces'], unitsPerShard: 6 });
  const exp = fakeExperiment(['block1_conv1'], `/tmp/${HOSTILE}/"quoted"&'dir'`, (c) => (c['name'] = `<b>${HOSTILE}</b>`)).config;
  const stages: Record<string, Record<string, Table>> = {
    tuning: { 'all-layers': t.tuning },
    category: { 'all-layers': t.category },
    awa: { 'all-layers': t.awa },
    awc: { [t.awc[0]!.id.replace(/[^A-Za-z0-9_.-]/g, '_')]: t.awc[0]!.table },
  };
  return {
    outDir: `/tmp/out-${HOSTILE}`,
    config: exp,
    resolvedYaml: `name: <b>${HOSTILE}</b>\n`,
    manifest: { format: 'revcor-manifest/1', generatedAt: '', stages: { [`st<i>age`]: [] } },
    shardInfo: (s) => Object.keys(stages[s] ?? {}).map((id) => ({ id, params: s === 'awc' ? { layer: LAYER, start: 0, end: 6 } : { layer: null }, rows: 6 })),
    shards: (s) => Object.keys(stages[s] ?? {}),
    read: async (s, id) => stages[s]![id]!,
  };
}

describe('long layer names', () => {
  it('are shown by their short label, the full name (escaped) on hover in the table, the atlas and the plots', async () => {
    const { html } = await buildReport(hostileRun());
    const label = layerLabels([LAYER]).get(LAYER)!;
    expect(label).not.toBe(LAYER);
    const shown = `<span class="lshort" title="${esc(LAYER)}">${esc(label)}</span>`;
    expect(html).toContain(`<th scope="row"><a href="#layer-0">${shown}</a></th>`);
    expect(html).toContain(`<summary><span class="lname">${shown}</span>`);
    expect(html).toContain(`<title>${LAYER.replace(/</g, '&lt;').replace(/>/g, '&gt;')}</title>${label.replace(/</g, '&lt;').replace(/>/g, '&gt;')}</text>`);
    expect(JSON.parse(/<script type="application\/json" id="layer-labels">(.*?)<\/script>/.exec(html)![1]!)).toEqual({ [LAYER]: label });
  });
});

describe('escaping', () => {
  it('esc, scriptJson and csvField', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const j = scriptJson({ s: '</script><!-- \u2028' });
    expect(j).not.toMatch(/<\/script|<!--/i);
    expect(JSON.parse(j)).toEqual({ s: '</script><!-- \u2028' });
    expect(csvField('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvField(NaN)).toBe('');
  });

  it('report.html shows hostile names only as escaped text', async () => {
    const { html, rows } = await buildReport(hostileRun());
    expect(rows[0]!.layer).toBe(LAYER);
    // no hostile markup survives anywhere in the page
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b><img');
    expect(html).not.toContain('<i>age');
    // exactly one closing tag per script element, however many data blocks there are
    expect(html.match(/<script\b/g)!.length).toBe(html.match(/<\/script>/g)!.length);
    // the names are present as text (escaped markup, or \u003c-escaped JSON read by textContent)
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('\\u003cimg src=x onerror=alert(1)>');
    expect(html).toContain('<title>revcor report — &lt;b&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/b&gt;</title>');
    expect(html).toContain('name: &lt;b&gt;&lt;img'); // the resolved config
    expect(html).toContain('st&lt;i&gt;age'); // stage names from the manifest
  });
});
