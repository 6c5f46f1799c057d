// compare.html as a person sees it: a 2 × 2 grid (awc.crop × the experiment name, one of them hostile) on the smoke
// network with 12 channels per layer, `revcor compare` on it, the page opened from disk in headless Chromium
// (playwright-core, Debian's /usr/bin/chromium): the points table, one plot per statistic and varied key with lines,
// interval bars and both crops on its axis, the tables with value [interval] n, the hostile name shown as text, the
// links to each point's report.html, no console error and no network request. Saves artifacts/report/compare.png.
import { requireOrSkip } from '../fixtures/require.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { allFinalizers } from '../../report/finalizers.ts';
import { allStages } from '../../stages/index.ts';
import { cli } from '../cli/helpers.ts';
import { CHROMIUM, openPage } from '../fixtures/browser.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SHOTS = join(REPO, 'artifacts', 'report');
const HOSTILE = '<img src=x onerror=alert(1)>';
const hasChromium = existsSync(CHROMIUM);
requireOrSkip('chromium', hasChromium, `test/report/compare-browser.test.ts: ${CHROMIUM} not found (apt-get install -y chromium; .ci/run installs it).`);

describe.skipIf(!hasChromium)('compare.html in headless Chromium (a 2 × 2 smoke grid)', () => {
  let dir: string;
  let grid: string;
  let context: BrowserContext;
  let page: Page;
  let stdout: string;
  const errors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-compare-'));
    grid = join(dir, 'grid');
    const sweep = join(dir, 'sweep.yaml');
    await writeFile(
      sweep,
      [
        `extends: ${join(REPO, 'config', 'smoke.yaml')}`,
        'model: { channels: 12 }',
        'stimuli: { images: { enabled: false } }',
        'grid:', // the name changes no cache key: the four points share everything but the two AWC variants
        '  awc.crop: [theoretical, effective]',
        `  name: [${JSON.stringify(HOSTILE)}, plain]`,
        '',
      ].join('\n'),
    );
    const run = await cli(['run', sweep, '--out', grid, '--cache', join(dir, 'cache'), '--quiet'], allStages, allFinalizers);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const cmp = await cli(['compare', grid, '--format', 'markdown'], allStages, allFinalizers);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stderr).toBe(`wrote ${join(grid, 'compare.html')}\n`);
    stdout = cmp.stdout;
    ({ context, page } = await openPage(dir, errors, dialogs));
    await mkdir(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the points with their settings, the hostile name as text', async () => {
    await page.goto('file://' + join(grid, 'compare.html'));
    expect(await page.title()).toBe('revcor compare — grid');
    const rows = page.locator('table.points tbody tr');
    expect(await rows.count()).toBe(4);
    expect(await rows.nth(0).locator('td.settings').textContent()).toBe(`awc.crop=theoretical, name=${HOSTILE}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(stdout).toContain('| layer | crop=theoretical,name=_img_src_x_onerror_alert_1__ | crop=theoretical,name=plain | crop=effective,name=_img_src_x_onerror_alert_1__ | crop=effective,name=plain |');
  });

  it('plots every statistic against each varied key: lines, interval bars, both crops on the axis', async () => {
    const figures = page.locator('figure.plot');
    const n = await figures.count();
    const stats = await page.locator('section.stat').count();
    expect(stats).toBeGreaterThanOrEqual(15); // every statistic the smoke run measures (no category: images off)
    expect(n).toBe(2 * stats); // against awc.crop and against name
    for (const f of await figures.all()) {
      const svg = f.locator('svg');
      expect(await svg.locator('path').count()).toBeGreaterThan(0);
      expect((await svg.boundingBox())!.width).toBeGreaterThan(150);
    }
    const crop = page.locator('#plot-pct_awa_significant figure[data-key="awc.crop"] svg');
    const labels = await crop.locator('text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['theoretical', 'effective', 'block1_conv1', 'block2_conv1']));
    expect(labels.join(' ')).toContain('name=<img src=x'); // a panel title, drawn as text by vega (shortened to its width)
    await page.screenshot({ path: join(SHOTS, 'compare.png'), fullPage: false });
  });

  it('tables each statistic by layer and point with its interval and n; the points link to their reports', async () => {
    const rows = page.locator('#table-pct_awa_significant tbody tr');
    expect(await rows.locator('th').allTextContents()).toEqual(['block1_conv1', 'block2_conv1']);
    expect(await rows.first().locator('td').count()).toBe(4);
    expect(await rows.first().locator('td').first().textContent()).toMatch(/^\d+\.\d \[\d+, \d+\] n=12$/);
    await page.locator('table.points a').first().click();
    await page.waitForURL(/report\.html$/);
    expect(await page.title()).toBe(`revcor report — ${HOSTILE}`);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });
});
