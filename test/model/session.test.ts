// The ORT session wrapper: the worker-thread runner gives the same values as the inline one, keeps the event
// loop turning during a forward pass, batches transparently, and reports runtime errors.
import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../model/graph.ts';
import { selectLayers, vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { ModelSession } from '../../model/session.ts';

const net = vggNetwork('vgg16');
const weights = seededWeights(net, 4);
const layers = selectLayers(net, ['block1_conv2', 'block3_conv1']);
const size = 96;
const images = 6;
const pixels = new Float32Array(images * size * size * 3).map((_, i) => (i * 2654435761) % 256);

describe('ModelSession', () => {
  it('worker and inline runners agree bit for bit, whatever the batch size; the input is left intact', async () => {
    const copy = pixels.slice();
    const results = [];
    for (const [worker, batch] of [[true, 4], [false, 6], [true, 1]] as const) {
      const s = await ModelSession.create({ net, weights, layers, inputSize: size }, { worker, batch, threads: 2 });
      results.push(await s.run(pixels, images));
      await s.release();
    }
    for (const r of results.slice(1)) for (const l of layers) expect(Buffer.from(r[l.name].buffer).equals(Buffer.from(results[0][l.name].buffer))).toBe(true);
    expect(Buffer.from(pixels.buffer).equals(Buffer.from(copy.buffer))).toBe(true);
    expect(results[0].block3_conv1.length).toBe(images * 256);
  });

  it('the event loop keeps turning while the worker runs a pass', async () => {
    const s = await ModelSession.create({ net, weights, layers: selectLayers(net, ['block4_conv1']), inputSize: 128 }, { batch: 8 });
    const big = new Float32Array(8 * 128 * 128 * 3).fill(100);
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    const t0 = performance.now();
    await s.run(big, 8);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    await s.release();
    // At least one turn per 50 ms of the pass (an inline ORT run blocks the loop: ~1 turn in total).
    expect(turns).toBeGreaterThanOrEqual(Math.floor(elapsed / 50));
  });

  it('concurrent callers are serialised and each gets its own rows', async () => {
    const s = await ModelSession.create({ net, weights, layers, inputSize: size }, { batch: 2 });
    const per = size * size * 3;
    const [a, b, all] = await Promise.all([s.run(pixels.subarray(0, 3 * per), 3), s.run(pixels.subarray(3 * per), 3), s.run(pixels, images)]);
    await s.release();
    const joined = new Float32Array([...a.block1_conv2, ...b.block1_conv2]);
    expect(Buffer.from(joined.buffer).equals(Buffer.from(all.block1_conv2.buffer))).toBe(true);
  });

  it('a runtime error rejects with the ONNX Runtime message', async () => {
    const graph = buildGraph({ net, weights, layers, inputSize: size });
    const s = await ModelSession.fromGraph(graph, size + 1, 3, {}); // wrong size: ORT rejects the input shape
    await expect(s.run(new Float32Array((size + 1) ** 2 * 3), 1)).rejects.toThrow(/ONNX Runtime: .*(dimensions|shape)/i);
    await s.release();
  });
});
