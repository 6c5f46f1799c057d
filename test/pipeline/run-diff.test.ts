import { describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { compareDigests, compareTables, tableDigest, withinTolerance } from '../../pipeline/run-diff.ts';
import { floatListVector, layerListVector, numberVector, stringVector, tableWithMetadata } from '../fixtures/arrow-tables.ts';

const table = (x: number[], maps: number[], names: string[], meta: Record<string, string> = {}) =>
  tableWithMetadata(
    { x: numberVector(Float64Array.from(x)), map: floatListVector(Float32Array.from(maps), 2), grid: layerListVector(Float32Array.from(maps), 2), name: stringVector(names) },
    meta,
  );

describe('comparing checkpoint data column by column', () => {
  it('identical data with other metadata agree exactly', () => {
    const d = compareTables('s', 'a', table([1, 2], [1, 2, 3, 4], ['p', 'q'], { v: '1' }), table([1, 2], [1, 2, 3, 4], ['p', 'q'], { v: '2', extra: 'x' }));
    expect(withinTolerance(d, 0)).toBe(true);
    expect(d.columns.map((c) => c.differing)).toEqual([0, 0, 0, 0]);
  });

  it('with allowAdded, columns only B has do not count, columns only A has and changed values still do', () => {
    const a = table([1, 2], [1, 2, 3, 4], ['p', 'q']);
    const wider = (x: number[]) => tableWithMetadata({ x: numberVector(Float64Array.from(x)), map: floatListVector(Float32Array.of(1, 2, 3, 4), 2), grid: layerListVector(Float32Array.of(1, 2, 3, 4), 2), name: stringVector(['p', 'q']), added: numberVector(Float64Array.of(7, 8)) }, {});
    const added = compareTables('s', 'a', a, wider([1, 2]));
    expect(added.onlyInB).toEqual(['added']);
    expect(withinTolerance(added, 0)).toBe(false);
    expect(withinTolerance(added, 0, true)).toBe(true);
    expect(withinTolerance(compareTables('s', 'a', wider([1, 2]), a), 0, true)).toBe(false); // a column B lost
    expect(withinTolerance(compareTables('s', 'a', a, wider([1, 3])), 0, true)).toBe(false); // an old column changed
  });

  it('finds a changed value inside a list column and inside a fixed-size list, with its relative size', () => {
    const d = compareTables('s', 'a', table([1, 2], [1, 2, 3, 4], ['p', 'q']), table([1, 2], [1, 2, 3.0003, 4], ['p', 'q']));
    const map = d.columns.find((c) => c.column === 'map')!;
    const grid = d.columns.find((c) => c.column === 'grid')!;
    expect(map.differing).toBe(1);
    expect(grid.differing).toBe(1);
    expect(map.maxRel).toBeCloseTo(0.0003 / 3.0003, 4);
    expect(withinTolerance(d, 0)).toBe(false);
    expect(withinTolerance(d, 1e-3)).toBe(true);
    expect(withinTolerance(d, 1e-5)).toBe(false);
  });

  it('text never passes on tolerance; NaN against a number is an infinite difference; missing columns differ', () => {
    const text = compareTables('s', 'a', table([1, 2], [1, 2, 3, 4], ['p', 'q']), table([1, 2], [1, 2, 3, 4], ['p', 'r']));
    expect(withinTolerance(text, 1)).toBe(false);
    const nan = compareTables('s', 'a', table([1, NaN], [1, 2, 3, 4], ['p', 'q']), table([1, 2], [1, 2, 3, 4], ['p', 'q']));
    expect(nan.columns[0]!.maxRel).toBe(Infinity);
    expect(withinTolerance(nan, 1)).toBe(false);
    const bothNan = compareTables('s', 'a', table([1, NaN], [1, 2, 3, 4], ['p', 'q']), table([1, NaN], [1, 2, 3, 4], ['p', 'q']));
    expect(withinTolerance(bothNan, 0)).toBe(true);
    const fewer = compareTables('s', 'a', tableFromArrays({ x: Float64Array.from([1]), y: Float64Array.from([1]) }), tableFromArrays({ x: Float64Array.from([1]) }));
    expect(fewer.onlyInA).toEqual(['y']);
    expect(withinTolerance(fewer, 1)).toBe(false);
  });
});

describe('run digests', () => {
  it('agree under float reordering and catch a changed value, a changed string and a changed row count', () => {
    const base = tableDigest(table([1, 2], [1, 2, 3, 4], ['p', 'q']));
    const same = tableDigest(table([1 + 1e-12, 2], [1, 2, 3, 4], ['p', 'q']));
    expect(compareDigests({ s: base }, { s: same }, 1e-6)).toEqual([]);
    expect(compareDigests({ s: base }, { s: tableDigest(table([1, 2.01], [1, 2, 3, 4], ['p', 'q'])) }, 1e-6).join()).toMatch(/s\.x\.sum/);
    expect(compareDigests({ s: base }, { s: tableDigest(table([1, 2], [1, 2, 3, 4], ['p', 'z'])) }).join()).toMatch(/s\.name: text values differ/);
    expect(compareDigests({ s: base }, { s: tableDigest(table([1], [1, 2], ['p'])) }).join()).toMatch(/expected 2 rows, got 1/);
    expect(compareDigests({ s: base }, {}).join()).toMatch(/s: missing/);
  });
});
