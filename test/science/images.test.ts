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

describe('naturalCompare, case by case', () => {
  const sign = (a: string, b: string) => Math.sign(naturalCompare(a, b));
  it.each([
    ['a9', 'a10', -1], // longer digit run = larger number
    ['a12', 'a13', -1], // same length: digit by digit
    ['a13', 'a12', 1],
    ['a007', 'a7', -1], // equal numbers: the plain order decides ('0' < '7'), so the order stays total
    ['a7', 'a007', 1],
    ['a0', 'a00', -1], // '00' is the number 0 (leading zeros removed, one digit kept): equal, then plain order
    ['x0', 'x1', -1], // a single 0 is kept as the number 0
    ['a1b', 'a1c', -1], // the comparison goes on after a digit run
    ['a13b', 'a12c', 1], // … only when the numbers are equal
    ['a1007', 'a17', 1], // only leading zeros are dropped
    ['x.55', 'x10', -1], // '.' (46) and '-' (45) are not digits
    ['x-999', 'x10', -1],
    ['a01b', 'a1c', -1],
    ['a1', 'ab', -1], // digit against letter: by code unit ('1' < 'b')
    ['ab', 'a1', 1],
    ['a', 'a1', -1], // a prefix comes first
    ['a1', 'a', 1],
    ['a01x', 'a1', 1], // equal numbers, more left over
    ['img2', 'img2', 0],
    ['', '', 0],
    ['', 'a', -1],
    ['b', 'a', 1],
    ['10', '9', 1],
    ['9a', '10', -1],
  ] as const)('%s vs %s: %i', (a, b, s) => {
    expect(sign(a, b)).toBe(s);
    expect(sign(b, a)).toBe(s === 0 ? 0 : -s);
  });
});

describe('geometry edge cases', () => {
  it('shortSideSize: portrait and landscape round the long side; non-positive sizes are refused', () => {
    expect(shortSideSize(300, 301, 100)).toEqual({ width: 100, height: 100 }); // 100.33 → 100
    expect(shortSideSize(200, 301, 100)).toEqual({ width: 100, height: 151 }); // 150.5 → 151
    expect(shortSideSize(301, 200, 100)).toEqual({ width: 151, height: 100 });
    expect(() => shortSideSize(0, 10, 5)).toThrow('image size: expected positive width and height, got 0×10');
    expect(() => shortSideSize(10, 0, 5)).toThrow(/got 10×0/);
    expect(() => shortSideSize(NaN, 10, 5)).toThrow(/image size/);
  });

  it('centreCropOrigin: a crop as wide or as high as the image fits; one pixel more does not', () => {
    expect(centreCropOrigin(224, 300, 224)).toEqual({ left: 0, top: 38 });
    expect(centreCropOrigin(301, 224, 224)).toEqual({ left: 38, top: 0 });
    expect(() => centreCropOrigin(256, 223, 224)).toThrow('centre crop: 224×224 does not fit in 256×223');
    expect(() => centreCropOrigin(223, 256, 224)).toThrow(/does not fit/);
  });

  it('centreCropRGB: exact pixels of an odd margin; 2 channels and a wrong length are refused with the counts', () => {
    // 5×3 RGB image, value = 100·channel + 10·row + column; the 2×2 crop starts at (1, 0)
    const W = 5;
    const H = 3;
    const img = new Uint8Array(W * H * 3);
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let k = 0; k < 3; k++) img[(r * W + c) * 3 + k] = 100 * k + 10 * r + c;
    expect(Array.from(centreCropRGB(img, W, H, 3, 2))).toEqual([1, 101, 201, 2, 102, 202, 11, 111, 211, 12, 112, 212]);
    expect(Array.from(centreCropRGB(img, W, H, 3, 3))).toEqual([1, 101, 201, 2, 102, 202, 3, 103, 203, 11, 111, 211, 12, 112, 212, 13, 113, 213, 21, 121, 221, 22, 122, 222, 23, 123, 223]);
    expect(() => centreCropRGB(new Uint8Array(W * H * 2), W, H, 2, 2)).toThrow('pixels: expected 1 or ≥ 3 channels, got 2');
    expect(() => centreCropRGB(img, W, H, 1, 2)).toThrow('pixels: expected 5×3×1 = 15 values, got 45');
    expect(() => centreCropRGB(img.subarray(0, 10), W, H, 3, 2)).toThrow('pixels: expected 5×3×3 = 45 values, got 10');
    expect(() => centreCropRGB(img, W, H, 3, 4)).toThrow(/does not fit/);
  });
});
