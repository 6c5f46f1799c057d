// The V1 comparison in the outputs (report/v1.ts, report/client.js, report/format.ts): a seeded smoke run with v1
// enabled and the real reference (../shared/datasets/v1-reference) — v1_<property> and v1_score columns with their
// intervals in summary.arrow / summary.csv and every `revcor summary` format, and report.html opened in headless
// Chromium: the score plot, and per property the chosen layer's histogram over the V1 histogram, whose counts equal a
// binning of the v1 checkpoint, labelled with the reference's source.
import { requireOrSkip } from '../fixtures/require.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import type { BrowserContext, Page } from 'playwright-core';
import { allFinalizers } from '../../report/finalizers.ts';
import { readV1Units } from '../../results/v1.ts';
import { V1_PROPERTIES } from '../../science/v1-catalogue.ts';
import { binCounts, binsOf } from '../../science/v1-similarity.ts';
import { allStages } from '../../stages/index.ts';
import { cli } from '../cli/helpers.ts';
import { CHROMIUM, openPage } from '../fixtures/browser.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const REFERENCE = resolve(REPO, '../shared/datasets/v1-reference');
const ready = existsSync(CHROMIUM) && existsSync(join(REFERENCE, 'ringach2002.csv'));
requireOrSkip('shared', existsSync(REFERENCE), `test/report/v1.test.ts needs the V1 reference at ${REFERENCE}`);
requireOrSkip('chromium', existsSync(CHROMIUM), `test/report/v1.test.ts: ${CHROMIUM} not found`);

describe.skipIf(!ready)('V1 comparison in the summary and the report (smoke run, v1 enabled)', () => {
  let dir: string;
  let out: string;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-v1-report-'));
    out = join(dir, 'out');
    const run = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', out, '--quiet', '--set', 'v1.enabled=true', '--set', `v1.reference=${REFERENCE}`, '--set', 'v1.bootstrap=200'], allStages, allFinalizers);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    ({ context, page } = await openPage(dir, errors));
    await page.goto(`file://${join(out, 'report.html')}#v1`);
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('summary.arrow and summary.csv carry v1_score and v1_<property> with _lo, _hi, _n, equal to the v1 stage’s rows', async () => {
    const t = tableFromIPC(readFileSync(join(out, 'summary/summary.arrow')));
    const scores = new Set<number>();
    for (const layer of ['block1_conv1', 'block2_conv1']) {
      const v1 = tableFromIPC(readFileSync(join(out, `v1/${layer}.arrow`)));
      const row = (JSON.parse(v1.schema.metadata.get('revcor.v1.layers')!) as Record<string, number>[])[0]!;
      const r = t.getChild('layer')!.toArray().indexOf(layer);
      for (const p of V1_PROPERTIES) {
        for (const sfx of ['', '_lo', '_hi', '_n']) expect(t.getChild(`v1_${p.name}${sfx}`), `v1_${p.name}${sfx}`).toBeTruthy();
        for (const sfx of ['', '_lo', '_hi', '_n']) expect(t.getChild(`v1_${p.name}${sfx}`)!.get(r), `${layer} v1_${p.name}${sfx}`).toBe(row[`v1_${p.name}${sfx}`] ?? NaN);
      }
      expect(t.getChild('v1_score')!.get(r)).toBe(row['v1_score']);
      expect(t.getChild('v1_score_hi')!.get(r)).toBe(row['v1_score_hi']);
      expect(t.getChild('v1_score_n')!.get(r)).toBe(row['v1_n_responsive']);
      scores.add(row['v1_score']!);
    }
    expect(scores.size).toBe(2); // two layers, two different scores: each row is its own layer's
    const csv = readFileSync(join(out, 'summary/summary.csv'), 'utf8').split('\r\n')[0]!.split(',');
    expect(csv).toContain('v1_score_lo');
    expect(csv).toContain('v1_peak_sf_hi');
  });

  it('`revcor summary` shows the V1 columns in every format', async () => {
    const table = await cli(['summary', out]);
    expect(table.stdout).toContain('V1 similarity');
    expect(table.stdout).toContain('V1 score');
    const md = await cli(['summary', out, '--format', 'markdown']);
    expect(md.stdout).toContain('**V1 similarity.**');
    const json = JSON.parse((await cli(['summary', out, '--format', 'json'])).stdout) as Record<string, unknown>[];
    expect(json[0]).toHaveProperty('v1_score');
    expect(json[0]).toHaveProperty('v1_circular_variance_hi');
    expect((await cli(['summary', out, '--format', 'csv'])).stdout.split('\r\n')[0]).toContain('v1_sf_bandwidth_n');
  });

  it('report.html: the score plot, and per property the layer histogram over the V1 histogram, labelled with its source', async () => {
    expect(await page.locator('#v1 h2').textContent()).toContain('V1');
    expect(await page.locator('#plot-v1 svg').count()).toBe(1);
    expect(await page.locator('#v1-layer option').allTextContents()).toEqual(['block1_conv1', 'block2_conv1']);
    expect(await page.locator('#v1-layer option').evaluateAll((os) => os.map((o) => o.getAttribute('title')))).toEqual(['block1_conv1', 'block2_conv1']); // full names on hover
    const figures = page.locator('#v1-hists figure.v1-hist');
    expect(await figures.count()).toBe(V1_PROPERTIES.length);
    const sources = (await page.locator('#v1 .v1-sources li').allTextContents()).join('\n');
    expect(sources).toMatch(/Ringach, Shapley & Hawken 2002.*n = 304.*ringach2002\.csv/);
    expect(sources).toContain('histograms.json');
    // the drawn histogram is a binning of the checkpoint's responsive units with the data's bin edges
    const data = JSON.parse((await page.locator('#v1-data').textContent())!) as { properties: { name: string; edges: number[]; reference: number[] }[]; layers: { name: string; counts: Record<string, number[]> }[] };
    const units = readV1Units(tableFromIPC(readFileSync(join(out, 'v1/block2_conv1.arrow'))));
    for (const p of data.properties) {
      const v = units.values[p.name]!;
      const sample = [...v].filter((x, i) => units.responsive[i] === 1 && Number.isFinite(x));
      expect(data.layers[1]!.counts[p.name], p.name).toEqual([...binCounts(binsOf(p.edges, sample), p.edges.length - 1)]);
      // bars of the V1 histogram: one per bin
      expect(await page.locator(`#v1-hists svg[data-property="${p.name}"] rect.ref`).count()).toBe(p.reference.length);
    }
    const before = await figures.first().locator('figcaption').textContent();
    await page.selectOption('#v1-layer', '1');
    expect(await figures.first().locator('figcaption').textContent()).not.toBe(before);
    expect(await figures.first().locator('figcaption').textContent()).toContain('block2_conv1');
    expect(errors).toEqual([]);
  });
});
