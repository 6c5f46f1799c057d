// RF map images: nearest-neighbour enlargement of small RFs, exact area averaging of large ones, the
// diverging grey scale (0 = mid grey, symmetric limits) and the sequential energy scale.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { areaDownsample, hotColour, LEVELS, mapPng, MAX_SIDE, thumbGeometry } from '../../report/images.ts';

const pixels = async (png: Buffer) => sharp(png).raw().toBuffer({ resolveWithObject: true });

describe('RF map images', () => {
  it('enlarges small maps by an integer factor and shrinks large ones to MAX_SIDE', () => {
    expect(thumbGeometry(3)).toEqual({ sampled: 3, factor: 11 });
    expect(thumbGeometry(10)).toEqual({ sampled: 10, factor: 4 });
    expect(thumbGeometry(40)).toEqual({ sampled: 40, factor: 1 });
    expect(thumbGeometry(196)).toEqual({ sampled: MAX_SIDE, factor: 1 });
  });

  it('area averaging keeps the mean and averages exact blocks', () => {
    const p = Float64Array.from({ length: 16 }, (_, i) => i); // 4×4
    expect(Array.from(areaDownsample(p, 4, 2))).toEqual([2.5, 4.5, 10.5, 12.5]);
    const q = Float64Array.from({ length: 9 }, (_, i) => i * i); // 3×3 → 2×2 with fractional weights
    const d = areaDownsample(q, 3, 2);
    expect(d.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(q.reduce((a, b) => a + b, 0) / 9, 12);
  });

  it('a 3-px AWA: 3×3 blocks of 11 px, 0 → mid grey, ±scale → black / white', async () => {
    const png = await mapPng({ values: [-2, 0, 2, 0, 0, 0, 1, 0, -1], side: 3, channels: 1, kind: 'diverging', scale: 2 });
    expect((await sharp(png).metadata()).channels).toBe(1); // a greyscale PNG
    const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([33, 33]);
    const at = (x: number, y: number) => data[y * 33 + x]!;
    expect([at(0, 0), at(10, 10), at(16, 5), at(32, 0)]).toEqual([0, 0, 128, 255]);
    expect(at(5, 27)).toBe(Math.round((Math.round(0.75 * (LEVELS - 1)) * 255) / (LEVELS - 1))); // +1 of ±2
    expect(at(11, 11)).toBe(128);
  });

  it('energy maps use the black-red-yellow-white ramp', async () => {
    expect(hotColour(0)).toEqual([0, 0, 0]);
    expect(hotColour(LEVELS - 1)).toEqual([255, 255, 255]);
    const png = await mapPng({ values: [0, 4, 4, 0], side: 2, channels: 1, kind: 'sequential', scale: 4 });
    const { data, info } = await pixels(png);
    expect(info.width).toBe(32);
    expect(Array.from(data.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(data.subarray(31 * info.channels, 31 * info.channels + 3))).toEqual([255, 255, 255]);
  });
});
