// `npm run bench -- report`: report.html of a full-size VGG16 run (13 layers, 4,224 units) from fake analysis
// checkpoints (test/fixtures/fake-analysis.ts: Gabor-like maps, 4 + 2 eigenvectors per unit, 9 categories ×
// 144 images), written by the real runner and summary stage. Reports build time, file size, and — when
// /usr/bin/chromium exists — how fast the page opens, a 512-unit layer builds and a unit card opens.
// Map sides are the VGG16 crops capped at 64 px (the report shows at most 40 px per map, so the page is the same).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { selectLayers, vggNetwork } from '../model/network.ts';
import { layerGeometry } from '../model/geometry.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { summaryStage } from '../stages/summary.ts';
import { fakeAnalysisStages, fakeExperiment } from '../test/fixtures/fake-analysis.ts';

const CATEGORIES = ['bodies', 'cars', 'faces', 'houses', 'instruments', 'limbs', 'numbers', 'scrambled', 'words'];

/** Writes 9 × perCategory smooth random images (64 px). */
async function imageFolder(root: string, perCategory: number): Promise<void> {
  for (const [ci, c] of CATEGORIES.entries()) {
    await mkdir(join(root, c), { recursive: true });
    for (let k = 1; k <= perCategory; k++) {
      const px = Buffer.alloc(64 * 64 * 3);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) px.set([(x * 4 + k * 7) & 255, (y * 4 + ci * 28) & 255, ((x + y) * 2 + k) & 255], (y * 64 + x) * 3);
      await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(root, c, `${c}-${k}.png`));
    }
  }
}

/** Builds the fake full run and its report; measures the page in Chromium when available. */
export async function benchReport(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'revcor-bench-report-'));
  try {
    const images = join(dir, 'images');
    await imageFolder(images, 144);
    const net = vggNetwork('vgg16');
    const layers = layerGeometry(net, selectLayers(net, 'all'), 224).map((g) => ({ layer: g.name, units: g.channels, side: Math.min(64, g.cropSize) }));
    const units = layers.reduce((n, l) => n + l.units, 0);
    const out = join(dir, 'out');
    const exp = fakeExperiment(layers.map((l) => l.layer), images);
    const t0 = Date.now();
    let reportSeconds = NaN;
    await runPipeline({
      stages: [...fakeAnalysisStages(layers, { categories: CATEGORIES, perCategory: 144 }), summaryStage],
      experiment: exp,
      outDir: out,
      workers: 1,
      reporter: {
        event: (e) => {
          if (e.type === 'log' && e.stage === 'summary' && e.message.startsWith('wrote')) console.log(`  ${e.message}`);
          if (e.type === 'log' && e.stage === 'summary' && e.message.startsWith('writing')) reportSeconds = Date.now();
        },
        close() {},
      },
    });
    reportSeconds = (Date.now() - reportSeconds) / 1000;
    const bytes = (await stat(join(out, 'report.html'))).size;
    console.log(`fake VGG16 run: ${units} units in ${layers.length} layers; pipeline ${((Date.now() - t0) / 1000).toFixed(1)} s, of which report.html ${reportSeconds.toFixed(1)} s`);
    console.log(`report.html: ${(bytes / 1e6).toFixed(1)} MB`);
    if (!existsSync('/usr/bin/chromium')) return void console.log('(no /usr/bin/chromium: page timings skipped)');
    const { chromium } = await import('playwright-core');
    const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      let t = Date.now();
      await page.goto('file://' + join(out, 'report.html'), { waitUntil: 'load' });
      const load = Date.now() - t;
      const nav = await page.evaluate(() => {
        const n = (globalThis as any).performance.getEntriesByType('navigation')[0];
        return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
      });
      const big = layers.reduce((b, l, i) => (l.units > layers[b]!.units ? i : b), 0); // the layer with most units
      t = Date.now();
      await page.locator(`#layer-${big} > summary`).click();
      await page.locator(`#layer-${big} a.tile`).nth(95).waitFor();
      await page.waitForFunction((i) => [...(globalThis as any).document.querySelectorAll(`#layer-${i} img.px[src]`)].every((x: any) => x.complete && x.naturalWidth > 0), big);
      const grid = Date.now() - t;
      t = Date.now();
      await page.locator(`#layer-${big} a.tile`).first().click();
      await page.locator('#card:not([hidden]) svg.chart').first().waitFor();
      const card = Date.now() - t;
      console.log(`Chromium: page load ${load} ms (DOMContentLoaded ${nav.dcl.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms); open ${layers[big]!.layer} (${layers[big]!.units} units, first 96 tiles, images decoded) ${grid} ms; open a unit card ${card} ms${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
    } finally {
      await ctx.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
