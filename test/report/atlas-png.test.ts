// The still atlas montage: unit ranking, layout geometry, pixels where the maps should land, and `revcor atlas`
// on a real smoke run (plus its errors for bad options).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atlasSize, cellOrigin, pickUnits, renderAtlas } from '../../report/atlas-png.ts';
import { mapPng, pngDataUri } from '../../report/images.ts';
import type { LayerJson } from '../../report/units.ts';
import { allStages } from '../../stages/index.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { chooseLayers } from '../../cli/atlas.ts';
import { InputError } from '../../pipeline/errors.ts';

describe('atlas --layers', () => {
  it('takes layer names or ONNX tensor names (mapped as model.layers maps them), in the order given', () => {
    const available = ['features.features.3.Relu', 'layer1.layer1.0.relu.Relu', 'block1_conv1'];
    expect(chooseLayers('/layer1/layer1.0/relu/Relu_output_0, block1_conv1,features.features.3.Relu', available, '/r')).toEqual(['layer1.layer1.0.relu.Relu', 'block1_conv1', 'features.features.3.Relu']);
    expect(() => chooseLayers('/features/features.5/Relu_output_0', available, '/r')).toThrow(InputError);
    expect(() => chooseLayers('/features/features.5/Relu_output_0', available, '/r')).toThrow(/^\/r: --layers: expected layers \(or their tensor names\) with white-noise results \(features.features.3.Relu, .*\), got '\/features\/features.5\/Relu_output_0'$/);
  });
});

describe('pickUnits', () => {
  it('ranks significant AWC by λ₁/edge, then significant AWA by |z|, then by channel', () => {
    const units = [
      { c: 0, ev: [2], nu: 1, ns: 1, z: 9, as: 1 }, // AWC ratio 2
      { c: 1, ev: [3], nu: 1, ns: 2, z: 4, as: 0 }, // AWC ratio 3
      { c: 2, ev: [9], nu: 1, ns: 0, z: 12, as: 1 }, // no significant AWC: AWA tier, z 12
      { c: 3, z: 6, as: 1 }, // AWA tier, z 6
      { c: 4 },
      { c: 5 },
    ];
    expect(pickUnits(units, 10).map((u) => u.channel)).toEqual([1, 0, 2, 3, 4, 5]);
    expect(pickUnits(units, 2).map((u) => u.awcRatio)).toEqual([3, 2]);
    expect(pickUnits(units, 0)).toEqual([]);
  });
});

describe('atlas layout', () => {
  it('places maps on a grid with the given gaps', () => {
    const l = { cell: 10, inner: 1, gap: 5 };
    // unit width = 3·10 + 2·1 = 32; width = 5 + 4·(32 + 5) = 153; height = 5 + 2·(10 + 5) = 35
    expect(atlasSize(2, 4, 3, l)).toEqual({ width: 153, height: 35, unitWidth: 32 });
    expect(cellOrigin(0, 0, 0, 3, l)).toEqual({ left: 5, top: 5 });
    expect(cellOrigin(1, 2, 1, 3, l)).toEqual({ left: 5 + 2 * 37 + 11, top: 20 });
  });
});

describe('renderAtlas', () => {
  it('draws each map in its cell and a grey cell where a unit lacks one', async () => {
    const side = 4;
    const white = pngDataUri(await mapPng({ values: new Float32Array(side * side).fill(1), side, channels: 1, kind: 'diverging', scale: 1 }));
    const black = pngDataUri(await mapPng({ values: new Float32Array(side * side).fill(-1), side, channels: 1, kind: 'diverging', scale: 1 }));
    const layer = (name: string, units: Record<string, unknown>[]): LayerJson => ({ name, units, theta: [], sf: [], categories: [], awaSide: side, awcSide: side, has: { tuning: false, awa: true, awc: true, category: false } });
    const layers = [
      layer('L1', [{ c: 0, as: 1, z: 7, im: { a: white, t: [black, null] } }]),
      layer('L2', [
        { c: 0, im: {} },
        { c: 1, ns: 1, ev: [2], nu: 1, im: { a: black, t: [white, white] } },
      ]),
    ];
    const l = { cell: 12, inner: 2, gap: 4 };
    const r = await renderAtlas(layers, 2, ['awa', 'e1'], l);
    expect(r.rows.map((x) => [x.layer, x.units.map((u) => u.channel)])).toEqual([['L1', [0]], ['L2', [1, 0]]]);
    expect([r.width, r.height]).toEqual([atlasSize(2, 2, 2, l).width, atlasSize(2, 2, 2, l).height]);
    const { data, info } = await sharp(r.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (i: number, j: number, m: number) => {
      const o = cellOrigin(i, j, m, 2, l);
      const p = ((o.top + 6) * info.width + o.left + 6) * info.channels;
      return data[p]!;
    };
    expect(at(0, 0, 0)).toBeGreaterThan(240); // L1 unit 0: AWA white
    expect(at(0, 0, 1)).toBeLessThan(15); // e1 black
    expect(at(1, 0, 0)).toBeLessThan(15); // L2: channel 1 first (significant AWC), AWA black
    expect(at(1, 0, 1)).toBeGreaterThan(240);
    expect(Math.abs(at(1, 1, 0) - 128)).toBeLessThan(4); // channel 0 has no maps: grey
    expect(data[(2 * info.width + 2) * info.channels]).toBe(255); // the margin is white
  });
});

describe('revcor atlas (smoke run)', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'revcor-atlas-'));
    out = join(dir, 'out');
    const run = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', out, '--quiet', '--set', 'stimuli.images.enabled=false'], allStages);
    expect(run.code, run.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a PNG with one row per layer and names the units drawn', async () => {
    const png = join(dir, 'atlas.png');
    const r = await cli(['atlas', out, '--out', png, '--per-layer', '3', '--maps', 'awa,e1,energy', '--cell', '20'], allStages);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meta = await sharp(await readFile(png)).metadata();
    const rows = r.stdout.trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(meta.height).toBe(atlasSize(rows.length, 3, 3, { cell: 20, inner: 2, gap: 10 }).height);
    expect(r.stdout).toMatch(/rows = layers, each unit = awa \| e1 \| energy/);
  });

  it('refuses an unknown layer or map with a one-line error', async () => {
    const bad = await cli(['atlas', out, '--layers', 'block9_conv9'], allStages);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--layers: expected layers \(or their tensor names\) with white-noise results .* got 'block9_conv9'/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const badMap = await cli(['atlas', out, '--maps', 'awa,e9'], allStages);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/--maps: expected a comma list of .* got 'e9'/);
  });
});
