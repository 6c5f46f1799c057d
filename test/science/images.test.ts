// Pure natural-image helpers: natural order, short-side resize geometry, centre crop to HWC RGB.
import { describe, expect, it } from 'vitest';
import { centreCropOrigin, centreCropRGB, naturalCompare, shortSideSize } from '../../science/images.ts';

describe('naturalCompare', () => {
  it('orders digit runs numerically and is total and deterministic', () => {
    const names = ['img-10.jpg', 'img-2.jpg', 'img-1.jpg', 'adult-100.jpg', 'adult-9.jpg', 'B.png', 'a.png', 'a01.png', 'a1.png', 'img-2.png'];
    expect([...names].sort(naturalCompare)).toEqual(['B.png', 'a.png', 'a01.png', 'a1.png', 'adult-9.jpg', 'adult-100.jpg', 'img-1.jpg', 'img-2.jpg', 'img-2.png', 'img-10.jpg']);
    expect(naturalCompare('x', 'x')).toBe(0);
    expect(Math.sign(naturalCompare('a01', 'a1'))).toBe(-Math.sign(naturalCompare('a1', 'a01')));
    expect(naturalCompare('f99999999999999999999', 'f100000000000000000000')).toBeLessThan(0);
  });
});

describe('resize and crop geometry', () => {
  it('short side to the target, aspect kept', () => {
    expect(shortSideSize(256, 256, 256)).toEqual({ width: 256, height: 256 });
    expect(shortSideSize(640, 480, 256)).toEqual({ width: 341, height: 256 });
    expect(shortSideSize(480, 640, 256)).toEqual({ width: 256, height: 341 });
    expect(shortSideSize(100, 50, 25)).toEqual({ width: 50, height: 25 });
    expect(centreCropOrigin(256, 256, 224)).toEqual({ left: 16, top: 16 });
    expect(centreCropOrigin(341, 256, 224)).toEqual({ left: 58, top: 16 });
    expect(() => centreCropOrigin(200, 256, 224)).toThrow(/does not fit/);
  });

  it('centre crop copies the right pixels, replicating grey', () => {
    const W = 6;
    const H = 4;
    const rgb = new Uint8Array(W * H * 3).map((_, i) => i % 251);
    const out = centreCropRGB(rgb, W, H, 3, 2); // left 2, top 1
    expect(out.length).toBe(12);
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 2; c++)
        for (let k = 0; k < 3; k++) expect(out[(r * 2 + c) * 3 + k]).toBe(rgb[((1 + r) * W + 2 + c) * 3 + k]);
    const grey = new Uint8Array(W * H).map((_, i) => i);
    const g = centreCropRGB(grey, W, H, 1, 2);
    expect([...g]).toEqual([8, 8, 8, 9, 9, 9, 14, 14, 14, 15, 15, 15]);
    const rgba = new Uint8Array(W * H * 4).map((_, i) => i % 4 === 3 ? 255 : i % 200);
    const a = centreCropRGB(rgba, W, H, 4, 2);
    expect([...a.subarray(0, 3)]).toEqual([...rgba.subarray((1 * W + 2) * 4, (1 * W + 2) * 4 + 3)]);
    expect(() => centreCropRGB(grey, W, H, 3, 2)).toThrow(/expected/);
  });
});
