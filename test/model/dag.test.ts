// Feed-forward DAGs from ONNX (issue 15), on five fixture graphs generated in code: ONNX Runtime equals a float64
// reference interpreter of the file, the computed RF geometry equals the RF measured through ORT, the aligned noise
// canvas reproduces the full-image centre units, and interior grid units are exact copies of the centre unit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerGeometry, noiseCanvas } from '../../model/geometry.ts';
import { selectLayers } from '../../model/network.ts';
import { loadOnnxFile } from '../../model/onnx-file.ts';
import { positionPlan, sampleAt } from '../../model/positions.ts';
import { ModelSession } from '../../model/session.ts';
import { dagFixtures } from '../fixtures/dag-fixtures.ts';
import { onnxBytes, uniform } from '../fixtures/onnx-builder.ts';
import { referenceForward, referenceInput, refUnit } from '../fixtures/onnx-reference.ts';
import { probeSupport } from '../fixtures/rf-probe.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-dag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Random 0–255 HWC RGB images. */
function images(count: number, side: number, seed: number): Float32Array {
  const r = uniform(seed);
  return Float32Array.from({ length: count * side * side * 3 }, () => Math.floor(256 * r()));
}

/** A side × side crop at (x0, y0) of an HWC image of side `size`. */
function crop(image: Float32Array, size: number, x0: number, y0: number, side: number): Float32Array {
  const out = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) out.set(image.subarray(((y0 + y) * size + x0) * 3, ((y0 + y) * size + x0 + side) * 3), y * side * 3);
  return out;
}

/** max |a − b| / max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

for (const fx of dagFixtures()) {
  describe(`${fx.name} (${fx.inputSize} px)`, () => {
    const file = path.join(dir, `${fx.name}.onnx`);
    writeFileSync(file, onnxBytes(fx.model));
    const size = fx.inputSize;
    const load = () => loadOnnxFile(file, 'none', size);

    it("model.layers: all = every nonlinearity / merge output; ORT centre units of every analysable output = float64 reference (≤ 1e-4)", async () => {
      const { net, weights } = await load();
      expect(selectLayers(net, 'all').map((l) => l.source)).toEqual(fx.all);
      const layers = selectLayers(net, net.graph!.analysable.map((a) => a.tensor));
      expect(layers.length).toBe(net.ops.length);
      const n = 2;
      const pixels = images(n, size, 11);
      const session = await ModelSession.create({ net, weights, layers, inputSize: size }, { batch: 2, threads: 1 });
      const out = await session.run(pixels, n);
      await session.release();
      const geometry = layerGeometry(net, layers, size);
      const none = { mean: [0, 0, 0], std: [1, 1, 1], scale: 1, order: 'rgb' as const };
      const refs = Array.from({ length: n }, (_, k) => referenceForward(fx.model, referenceInput(pixels.subarray(k * size * size * 3, (k + 1) * size * size * 3), size, none, fx.layout)));
      let worst = 0;
      layers.forEach((layer, li) => {
        const i = geometry[li]!.centreIndex;
        const ref = refs.flatMap((env) => [...refUnit(env.get(layer.source)!, i, i)]);
        expect(refs[0]!.get(layer.source)!.dims[1], `${layer.source} feature size`).toBe(geometry[li]!.featureSize);
        const err = relError(out[layer.name]!, ref);
        worst = Math.max(worst, err);
        expect(err, layer.source).toBeLessThan(1e-4);
        expect(Math.max(...ref.map(Math.abs)), `${layer.source} is alive`).toBeGreaterThan(0);
      });
      console.log(`${fx.name}: ${layers.length} outputs, worst relative difference ORT vs float64 reference ${worst.toExponential(2)}`);
    });

    it('RF geometry = the RF measured through ONNX Runtime (every layer of `all`, both axes)', async () => {
      const { net, weights } = await load();
      const layers = selectLayers(net, 'all');
      const session = await ModelSession.create({ net, weights, layers, inputSize: size }, { batch: 32, threads: 1 });
      const measured = await probeSupport(session, images(1, size, 5), size);
      await session.release();
      for (const g of layerGeometry(net, layers, size)) {
        expect(g.clipped, g.name).toBe(false);
        const rf: [number, number] = [g.rfX0, g.rfX0 + g.rfSize - 1];
        expect(measured[g.name], g.name).toEqual({ x: rf, y: rf });
      }
    }, 60_000);

    it('the noise canvas gives every full-image centre unit; a canvas shifted by 1 px does not', async () => {
      const { net, weights } = await load();
      const layers = selectLayers(net, 'all');
      const canvas = noiseCanvas(layerGeometry(net, layers, size));
      const full = images(2, size, 21);
      const session = await ModelSession.create({ net, weights, layers, inputSize: size }, { threads: 1 });
      const ref = await session.run(full, 2);
      await session.release();
      const at = async (x0: number) => {
        const c = new Float32Array(2 * canvas.size * canvas.size * 3);
        for (let k = 0; k < 2; k++) c.set(crop(full.subarray(k * size * size * 3, (k + 1) * size * size * 3), size, x0, x0, canvas.size), k * canvas.size * canvas.size * 3);
        const s = await ModelSession.create({ net, weights, layers, inputSize: canvas.size, unitIndex: canvas.centreIndex }, { threads: 1 });
        const v = await s.run(c, 2);
        await s.release();
        return v;
      };
      const aligned = await at(canvas.x0);
      for (const l of layers) expect(relError(aligned[l.name]!, ref[l.name]!), l.name).toBeLessThan(1e-5);
      expect(canvas.size).toBeLessThan(size);
      const shifted = await at(canvas.x0 + 1);
      const deepest = layers.at(-1)!;
      expect(relError(shifted[deepest.name]!, ref[deepest.name]!), `${deepest.name} shifted by 1 px`).toBeGreaterThan(1e-3);
    });

    it('interior grid units are exact copies of the centre unit on the same RF pixels', async () => {
      const { net, weights } = await load();
      const layers = selectLayers(net, 'all');
      const imageSize = Math.round(size * 1.5);
      const plan = positionPlan(layerGeometry(net, layers, imageSize), imageSize, 24);
      const grid = Object.fromEntries(plan.layers.map((l) => [l.name, { first: l.first, step: l.step, count: l.count }]));
      const gridSession = await ModelSession.create({ net, weights, layers, inputSize: imageSize, readout: 'grid', grid }, { threads: 1 });
      const centreSession = await ModelSession.create({ net, weights, layers, inputSize: size }, { threads: 1 });
      try {
        const noise = images(plan.images, imageSize, 31);
        const out = await gridSession.run(noise, plan.images);
        const centre = layerGeometry(net, layers, size);
        let checked = 0;
        for (const l of plan.layers) {
          const g = centre.find((x) => x.name === l.name)!;
          const channels = layers.find((x) => x.name === l.name)!.channels;
          for (const k of [0, l.count * l.count - 1, plan.samples - 1]) {
            const s = sampleAt(l, k);
            // a fresh image with sample k's RF pasted where the centre unit's RF is
            const img = images(1, size, 1000 + k);
            const src = noise.subarray(s.image * imageSize * imageSize * 3, (s.image + 1) * imageSize * imageSize * 3);
            for (let y = 0; y < l.rfSize; y++) img.set(src.subarray(((l.x0 + s.dy + y) * imageSize + l.x0 + s.dx) * 3, ((l.x0 + s.dy + y) * imageSize + l.x0 + s.dx + l.rfSize) * 3), ((g.rfY0 + y) * size + g.rfX0) * 3);
            const c = (await centreSession.run(img, 1))[l.name]!;
            expect(relError(out[l.name]!.subarray(k * channels, (k + 1) * channels), c), `${l.name} sample ${k}`).toBeLessThan(1e-4);
            checked++;
          }
        }
        expect(checked).toBe(3 * layers.length);
      } finally {
        await gridSession.release();
        await centreSession.release();
      }
    });
  });
}
