// Whole noise images shared by the worker threads of a process (science/shared-noise-images.ts): the same bits as
// noiseCrop, each image generated once across threads, and clear errors for a set that does not hold what is asked.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../pipeline/pool.ts';
import { noiseCrop } from '../../science/noise.ts';
import { noiseSource, featureLayout, NoiseImageCache } from '../../science/noise-source.ts';
import { allocateSharedImages, SharedNoiseImages } from '../../science/shared-noise-images.ts';

const TASK = fileURLToPath(new URL('../fixtures/shared-images-task.ts', import.meta.url));
const grey = { seed: 5, sigma: 40, color: 'grey' as const, check: 1 };

/**
 * Another thread that holds state word 0 (image slot 0, grey-level) as being made: it spins on Atomics.notify until a
 * waiter is woken — proof that the caller is in its wait loop, no clock involved — then either publishes the pixels
 * (all `fill`, state ready) or gives up (state empty), and wakes the caller. Plain JavaScript on the shared buffer.
 */
function otherThread(buffer: SharedArrayBuffer, pixelsAt: number, floats: number, outcome: 'ready' | 'failed', fill: number): Worker {
  const code = `
    const { workerData: d } = require('node:worker_threads');
    const states = new Int32Array(d.buffer, 0, 1);
    while (Atomics.notify(states, 0, 1) === 0);
    if (d.outcome === 'ready') { new Float32Array(d.buffer, d.pixelsAt, d.floats).fill(d.fill); Atomics.store(states, 0, 2); }
    else Atomics.store(states, 0, 0);
    Atomics.notify(states, 0);`;
  return new Worker(code, { eval: true, workerData: { buffer, pixelsAt, floats, outcome, fill } });
}

describe('shared noise images', () => {
  it('serve noiseCrop\'s bits (grey and rgb) and s − 127.5 for centred, generated once and then read in place', () => {
    for (const p of [grey, { ...grey, color: 'rgb' as const, seed: 9 }]) {
      const set = allocateSharedImages(p, 12, [7, 3, 7, 11]);
      expect(Array.from(set.images)).toEqual([3, 7, 11]); // distinct, ascending
      const view = new SharedNoiseImages(set);
      expect(view.size).toBe(0);
      const img = view.get(p, 7, 12);
      expect(Array.from(img)).toEqual(Array.from(noiseCrop(p, 7, 0, 0, 12, 12)));
      expect(img.buffer).toBe(set.buffer);
      expect(view.get(p, 7, 12)).toEqual(img);
      expect(view.made).toBe(1);
      const c = view.get(p, 11, 12, true); // the grey-level image is made on the way
      expect(Array.from(c)).toEqual(Array.from(noiseCrop(p, 11, 0, 0, 12, 12), (v) => Math.fround(v - 127.5)));
      expect(view.made).toBe(3);
      expect(view.size).toBe(3);
      // another view of the same buffer (another thread's) finds them ready
      const other = new SharedNoiseImages(set);
      expect(Array.from(other.get(p, 11, 12))).toEqual(Array.from(noiseCrop(p, 11, 0, 0, 12, 12)));
      expect(Array.from(other.get(p, 3, 12))).toEqual(Array.from(noiseCrop(p, 3, 0, 0, 12, 12)));
      expect(other.made).toBe(1); // only image 3
      expect([view.waited, other.waited]).toEqual([0, 0]); // ready images are read, not waited for
      // the slots do not overlap: every image still holds its own pixels
      expect(Array.from(view.get(p, 7, 12))).toEqual(Array.from(noiseCrop(p, 7, 0, 0, 12, 12)));
      expect(Array.from(view.get(p, 3, 12, true))).toEqual(Array.from(noiseCrop(p, 3, 0, 0, 12, 12), (v) => Math.fround(v - 127.5)));
    }
  });

  it('noiseSource over a shared set gives the bits of a thread\'s own cache', () => {
    const crop = { x0: 2, y0: 1, size: 5 };
    const idx = [0, 0, 0, 2, 2];
    const offsets = [0, 0, 3, 1, 9, 8, 1, 1, 6, 2];
    for (const mode of [{ kind: 'pixels' as const, bin: 1 }, { kind: 'checks' as const, bin: 2 }]) {
      const layout = featureLayout(grey, crop, mode.kind, mode.bin);
      const own = noiseSource(grey, idx, crop, layout, offsets, { centred: true, images: { side: 20, cache: new NoiseImageCache() } }).rows(0, 5);
      const shared = noiseSource(grey, idx, crop, layout, offsets, { centred: true, images: { side: 20, cache: new SharedNoiseImages(allocateSharedImages(grey, 20, [0, 2])) } }).rows(0, 5);
      expect(Array.from(shared)).toEqual(Array.from(own));
    }
  });

  it('two worker threads reading every image: each image is generated once in all, and both read the same pixels', async () => {
    const set = allocateSharedImages(grey, 320, Array.from({ length: 24 }, (_, i) => 3 * i));
    const pool = createPool(2);
    type Out = { made: number; waited: number; sums: number[]; threadId: number };
    try {
      // both in the same order: the later thread catches up and then races the other for every next image
      const [a, b] = await Promise.all([0, 0].map((from) => pool.run<Out>({ module: TASK, fn: 'readAll', args: [set, from] })));
      expect(a!.threadId).not.toBe(b!.threadId);
      expect(a!.waited + b!.waited).toBeGreaterThan(0); // the threads did meet on an image being made
      expect(a!.made + b!.made).toBe(48); // 24 images, grey-level and centred, each made by one thread
      expect(a!.sums).toEqual(b!.sums);
      const want = Array.from(set.images, (i) => noiseCrop(grey, i, 0, 0, 320, 320).reduce((s, v) => s + v, 0));
      expect(a!.sums.filter((_, k) => k % 2 === 0)).toEqual(want);
      const view = new SharedNoiseImages(set);
      view.get(grey, 0, 320);
      expect(view.made).toBe(0);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an image another thread is making: the caller waits and reads that thread\'s pixels, or makes it itself when that thread fails', async () => {
    for (const outcome of ['ready', 'failed'] as const) {
      const set = allocateSharedImages(grey, 6, [4]);
      expect(set.buffer.byteLength).toBe(8 + 2 * 36 * 4); // two state words, then the grey-level and centred pixels
      Atomics.store(new Int32Array(set.buffer, 0, 1), 0, 1); // being made elsewhere
      const view = new SharedNoiseImages(set);
      const other = otherThread(set.buffer, 8, 36, outcome, 42);
      const img = view.get(grey, 4, 6); // blocks until the other thread is done
      await other.terminate(); // done: only it changes the state word
      expect(view.waited).toBe(1);
      if (outcome === 'ready') {
        expect(Array.from(img)).toEqual(new Array(36).fill(42)); // its pixels, not made again here
        expect(view.made).toBe(0);
      } else {
        expect(Array.from(img)).toEqual(Array.from(noiseCrop(grey, 4, 0, 0, 6, 6)));
        expect(view.made).toBe(1);
      }
      expect(view.size).toBe(1);
    }
  });

  it('an image another thread is making: the caller first makes the later images nobody has claimed, then waits', async () => {
    const set = allocateSharedImages(grey, 6, [4, 5, 6, 9]);
    const states = new Int32Array(set.buffer, 0, 8);
    Atomics.store(states, 0, 1); // image 4 (slot 0) being made elsewhere
    Atomics.store(states, 4, 2); // image 6 (slot 2) already made: its pixels are not touched
    const view = new SharedNoiseImages(set);
    const pixels = (slot: number) => new Float32Array(set.buffer, 32 + slot * 36 * 4, 36);
    pixels(2).fill(7);
    const other = otherThread(set.buffer, 32, 36, 'ready', 42);
    const img = view.get(grey, 4, 6); // the other thread publishes image 4 only once this caller waits
    await other.terminate();
    expect(Array.from(img)).toEqual(new Array(36).fill(42));
    expect([view.made, view.helped, view.waited]).toEqual([2, 2, 1]); // images 5 and 9, not 6
    expect(Array.from(pixels(1))).toEqual(Array.from(noiseCrop(grey, 5, 0, 0, 6, 6)));
    expect(Array.from(pixels(3))).toEqual(Array.from(noiseCrop(grey, 9, 0, 0, 6, 6)));
    expect(Array.from(pixels(2))).toEqual(new Array(36).fill(7));
    expect(Array.from(states)).toEqual([2, 0, 2, 0, 2, 0, 2, 0]); // all grey-level images ready, no centred one made
  });

  it('refuses other noise, another side or an image outside the set, naming what it holds', () => {
    const set = allocateSharedImages(grey, 8, [1, 2]);
    const view = new SharedNoiseImages(set);
    expect(() => view.get({ ...grey, seed: 6 }, 1, 8)).toThrow('shared noise images: expected seed 5, σ 40, grey, check 1 at 8 px, got seed 6, σ 40, grey, check 1 at 8 px');
    expect(() => view.get(grey, 1, 9)).toThrow('at 8 px, got seed 5, σ 40, grey, check 1 at 9 px');
    expect(() => view.get(grey, 4, 8)).toThrow('shared noise images: image 4 is not in the set of 2');
    expect(() => allocateSharedImages(grey, 0, [1])).toThrow('shared noise images: expected a side ≥ 1, got 0');
    expect(() => allocateSharedImages(grey, 2.5, [1])).toThrow('shared noise images: expected a side ≥ 1, got 2.5');
    const one = allocateSharedImages(grey, 1, [9]); // a 1-px image is an image
    expect(Array.from(new SharedNoiseImages(one).get(grey, 9, 1))).toEqual(Array.from(noiseCrop(grey, 9, 0, 0, 1, 1)));
  });

  it('an image whose generation fails is left for the next caller (the error again), not marked as being made forever', () => {
    const bad = { ...grey, sigma: -1 };
    const view = new SharedNoiseImages(allocateSharedImages(bad, 8, [1]));
    expect(() => view.get(bad, 1, 8)).toThrow('noise sigma: expected a positive number, got -1');
    expect(() => view.get(bad, 1, 8)).toThrow('noise sigma: expected a positive number, got -1'); // not a hang
    expect(view.size).toBe(0);
    expect(view.made).toBe(0);
  });
});
