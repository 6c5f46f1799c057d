// `revcor model info CONFIG`: the weights source said loudly, and the per-layer geometry table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/app.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-model-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr, stages: () => [], invocation: 'revcor' });
  return { code, out, err };
}

describe('revcor model info', () => {
  it('prints the weights source and the VGG16 geometry table', async () => {
    const cfg = path.join(dir, 'exp.yaml');
    writeFileSync(cfg, 'model:\n  arch: vgg16\n  weights: seeded\n  seed: 7\n');
    const { code, out } = await run(['model', 'info', cfg]);
    expect(code).toBe(0);
    expect(out).toContain('weights:       seeded:7');
    expect(out).toMatch(/seeded He-normal weights \(model.seed = 7\)/);
    expect(out).toContain('noise canvas:  202×202 px at (16, 16)');
    const row = out.split('\n').find((l) => l.startsWith('block5_conv3'))!;
    expect(row.split(/\s+/)).toEqual(['block5_conv3', 'block5', '512', '16', '196', '14', '7', '119.5', '22', '22', '196']);
  });

  it('--json for VGG19: clipped block5_conv3/4', async () => {
    const cfg = path.join(dir, 'v19.yaml');
    writeFileSync(cfg, 'model:\n  arch: vgg19\n  weights: seeded\n');
    const { code, out } = await run(['model', 'info', cfg, '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(out);
    expect(info.geometry.filter((g: { clipped: boolean }) => g.clipped).map((g: { name: string }) => g.name)).toEqual(['block5_conv3', 'block5_conv4']);
    expect(info.canvas).toMatchObject({ x0: 0, size: 224 });
  });

  it('an unknown layer is a user error naming the key', async () => {
    const cfg = path.join(dir, 'bad.yaml');
    writeFileSync(cfg, 'model:\n  weights: seeded\n  layers: [block6_conv1]\n');
    const { code, err } = await run(['model', 'info', cfg]);
    expect(code).toBe(2);
    expect(err).toMatch(/model.layers: unknown layer 'block6_conv1'/);
  });
});
