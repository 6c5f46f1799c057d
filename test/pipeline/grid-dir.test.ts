// A grid's directory (pipeline/grid-dir.ts, layout in pipeline/rundir.ts): claimed only when new, empty or already a
// grid; its record keeps its creation time; a single run refuses to write into it and run readers say what it is.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { claimGridDir, readGridRecord, requireGrid, strayPoints, writeGridRecord } from '../../pipeline/grid-dir.ts';
import { OutputError } from '../../pipeline/errors.ts';
import { claimRunDir, probeRunDir, requireRunDir } from '../../pipeline/rundir.ts';
import { cleanup, tempDir } from './helpers.ts';

let base: string;
beforeEach(async () => (base = await tempDir()));
afterEach(() => cleanup(base));

const rec = { file: '/x/sweep.yaml', keys: ['awc.crop'], points: [{ name: 'crop=effective', settings: { 'awc.crop': 'effective' } }], cache: null };

describe('grid directories', () => {
  it('a new directory becomes a grid; its record keeps the creation time; runs and readers recognise it', async () => {
    const g = join(base, 'g');
    await claimGridDir(g);
    const first = await writeGridRecord(g, rec);
    const second = await writeGridRecord(g, { ...rec, cache: '/c' });
    expect(second.createdAt).toBe(first.createdAt);
    expect(await readGridRecord(g)).toMatchObject({ format: 'revcor-grid/1', cache: '/c', points: rec.points });
    expect((await probeRunDir(g)).kind).toBe('grid');
    await claimGridDir(g); // again: fine
    await expect(claimRunDir(g)).rejects.toThrow(/got the directory of a grid of runs/);
    await expect(requireRunDir(g)).rejects.toThrow(/Expected a revcor output directory, got the directory of a grid of runs/);
    expect(await requireGrid(g)).toMatchObject({ keys: ['awc.crop'] });
  });

  it('refuses a single run’s directory and a foreign one; lists run directories that are no point of the grid', async () => {
    const run = join(base, 'run');
    await claimRunDir(run);
    await expect(claimGridDir(run)).rejects.toThrow(OutputError);
    await expect(claimGridDir(run)).rejects.toThrow(/expected a new or empty directory, or the directory of a grid, got the output directory of a single run/);
    await mkdir(join(base, 'mine'));
    await writeFile(join(base, 'mine', 'notes.txt'), 'x');
    await expect(claimGridDir(join(base, 'mine'))).rejects.toThrow(/got a directory that holds other files \(notes\.txt\)/);
    await expect(requireGrid(run)).rejects.toThrow(/Expected the directory of a grid of runs \(revcor run GRID\.yaml --out DIR\), got the output directory of a single run/);
    const g = join(base, 'g');
    await writeGridRecord(g, rec);
    await claimRunDir(join(g, 'crop=effective'));
    await claimRunDir(join(g, 'crop=theoretical'));
    await mkdir(join(g, 'notes'));
    expect(await strayPoints(g, (await readGridRecord(g))!)).toEqual(['crop=theoretical']);
  });
});
