// report.html as a person sees it: a real smoke run (the CLI, real stages) on a generated image folder whose
// category is named `<img src=x onerror=alert(1)>`, opened from disk in headless Chromium (playwright-core,
// Debian's /usr/bin/chromium). Checks tables, plots and RF images render without console errors, the atlas
// filters, a unit card opens with its charts and thumbnails, the hostile name shows as text, a deleted image
// is reported as missing after `revcor report`, and saves screenshots under artifacts/report/.
import { requireOrSkip } from '../fixtures/require.ts';
import { allFinalizers } from '../../report/finalizers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { allStages } from '../../stages/index.ts';
import { cli } from '../cli/helpers.ts';
import { encodeImage, rampPixels, uniformPixels } from '../fixtures/image-folder.ts';
import { CHROMIUM, openPage } from '../fixtures/browser.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SHOTS = join(REPO, 'artifacts', 'report');
const HOSTILE = '<img src=x onerror=alert(1)>';
const hasChromium = existsSync(CHROMIUM);
requireOrSkip('chromium', hasChromium, `test/report/browser.test.ts: ${CHROMIUM} not found (apt-get install -y chromium; .ci/run installs it).`);

describe.skipIf(!hasChromium)('report.html in headless Chromium (smoke run)', () => {
  let dir: string;
  let out: string;
  let images: string;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-report-'));
    out = join(dir, 'out');
    images = join(dir, 'images');
    await mkdir(join(images, HOSTILE), { recursive: true });
    await mkdir(join(images, 'faces'), { recursive: true });
    await writeFile(join(images, HOSTILE, 'a.png'), await encodeImage(rampPixels(48, 40), 48, 40, 3, 'png'));
    await writeFile(join(images, HOSTILE, `b&"c'.png`), await encodeImage(uniformPixels(40, 40, [30, 200, 40]), 40, 40, 3, 'png'));
    await writeFile(join(images, 'faces', 'f1.png'), await encodeImage(uniformPixels(40, 40, [220, 180, 160]), 40, 40, 3, 'png'));
    await writeFile(join(images, 'faces', 'f2.png'), await encodeImage(rampPixels(40, 48), 40, 48, 3, 'png'));
    const run = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', out, '--quiet', '--set', `stimuli.images.dir=${images}`], allStages, allFinalizers);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    ({ context, page } = await openPage(dir, errors, dialogs));
    await mkdir(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Every <img> with a src in `scope` has decoded (naturalWidth > 0); returns how many. */
  const decoded = (scope: string) =>
    page.waitForFunction(
      (sel) => {
        const imgs = [...(globalThis as any).document.querySelectorAll(sel)].filter((i: any) => i.getAttribute('src'));
        return imgs.length > 0 && imgs.every((i: any) => i.complete && i.naturalWidth > 0) ? imgs.length : false;
      },
      scope,
      { timeout: 10_000 },
    ).then((h) => h.jsonValue() as Promise<number>);

  it('shows the summary tables, the plots and the run facts', async () => {
    await page.goto('file://' + join(out, 'report.html'));
    expect(await page.title()).toBe('revcor report — smoke');
    expect(await page.locator('table.summary').count()).toBe(4);
    const firstCells = await page.locator('#table-rf tbody th').allTextContents();
    expect(firstCells).toEqual(['block1_conv1', 'block2_conv1']);
    const rfRow = await page.locator('#table-rf tbody tr').first().locator('td').allTextContents();
    expect(rfRow.slice(0, 2)).toEqual(['4', '3']); // 4 units, 3-px RF
    const plots = page.locator('figure.plot svg');
    expect(await plots.count()).toBeGreaterThanOrEqual(3);
    for (const svg of await plots.all()) {
      expect(await svg.locator('path').count()).toBeGreaterThan(0);
      expect((await svg.boundingBox())!.width).toBeGreaterThan(200);
    }
    expect(await page.locator('#run pre.config').textContent()).toContain('name: smoke');
    expect(await page.locator('#run').textContent()).toMatch(/onnxruntime-node[\s\S]*awc/);
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: false });
  });

  it('builds a layer grid on opening, with decoded RF images, and filters it', async () => {
    await page.locator('#layer-0 > summary').click();
    await page.locator('#layer-0 a.tile').first().waitFor();
    expect(await page.locator('#layer-0 a.tile').count()).toBe(4);
    const n = await decoded('#layer-0 img.px');
    const expected = await page.evaluate(() => {
      const L = JSON.parse((globalThis as any).document.getElementById('layer-data-0')!.textContent!);
      let k = 0;
      for (const u of L.units) k += (u.im.a ? 1 : 0) + (u.im.t ?? []).slice(0, 2).filter(Boolean).length + (u.im.e ? 1 : 0);
      return { k, sig: L.units.filter((u: { as: number }) => u.as === 1).length };
    });
    expect(n).toBe(expected.k);
    expect(n).toBeGreaterThanOrEqual(4 * 3); // AWA, e1, e2 for every unit at least
    const size = await page.locator('#layer-0 img.px').first().evaluate((i: any) => [i.naturalWidth, i.width]);
    expect(size[0]).toBeGreaterThanOrEqual(32); // a 3-px RF enlarged by nearest neighbour
    await page.locator('#layer-0 select.filter').selectOption('awa');
    expect(await page.locator('#layer-0 a.tile').count()).toBe(expected.sig);
    await page.locator('#layer-0 select.filter').selectOption('all');
    await page.locator('#layer-0 select.sort').selectOption('z');
    expect(await page.locator('#layer-0 a.tile').count()).toBe(4);
  });

  it('opens a unit card with maps, tuning curves, eigenvalue spectrum and the top images', async () => {
    await page.locator('#layer-0 a.tile').first().click();
    await page.locator('#card:not([hidden]) .card').waitFor();
    expect(page.url()).toMatch(/#unit-0-\d+$/);
    expect(await page.locator('#card-title').textContent()).toMatch(/^block1_conv1 · channel \d+$/);
    expect(await page.locator('#card svg.chart').count()).toBe(4); // orientation, SF, eigenvalues, category means
    expect(await page.locator('#card svg.chart circle').count()).toBeGreaterThan(6);
    expect(await decoded('#card .card-maps img.px')).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#card figure.top').count()).toBe(4);
    expect(await decoded('#card figure.top img')).toBe(4);
    await page.setViewportSize({ width: 1280, height: 1800 }); // the whole card fits (it scrolls inside the overlay)
    await page.locator('#card .card').screenshot({ path: join(SHOTS, 'unit-card.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    // the hostile category name is text everywhere: captions and chart labels, never an element
    const cats = await page.locator('#card figure.top .cat').allTextContents();
    expect(cats).toContain(HOSTILE);
    expect(await page.locator('#card svg.chart rect title', { hasText: HOSTILE }).count()).toBe(1);
    expect(await page.locator('#card svg.chart text', { hasText: HOSTILE.slice(0, 21) }).count()).toBe(1);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.locator('#card').waitFor({ state: 'hidden' });
    expect(page.url()).toMatch(/#layer-0$/);
    await page.goto('file://' + join(out, 'report.html') + '#unit-1-2');
    await page.locator('#card:not([hidden])').waitFor();
    expect(await page.locator('#card-title').textContent()).toBe('block2_conv1 · channel 2');
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('after an image is deleted, `revcor report` rebuilds the page and the card says the file is missing', async () => {
    await rm(join(images, 'faces', 'f1.png'));
    const r = await cli(['report', out, '--quiet'], allStages, allFinalizers);
    expect(r.code).toBe(0);
    await page.goto('about:blank'); // a new document, not a fragment navigation
    await page.goto('file://' + join(out, 'report.html') + '#unit-0-0');
    await page.locator('#card:not([hidden])').waitFor();
    expect(await page.locator('#card figure.top.missing').count()).toBe(1);
    expect(await page.locator('#card p.warn').textContent()).toContain('faces/f1.png');
    expect(await page.locator('ul.notes').textContent()).toContain('1 of 4 top natural images could not be read');
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });
});
