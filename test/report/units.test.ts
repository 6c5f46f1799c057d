// The report's per-unit JSON (report/units.ts): every key the page script and the PNG atlas read is a declared
// column's report key (results/), and the verdicts come from the stages' columns, not recomputed.
import { readFileSync } from 'node:fs';
import { Bool, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { AWA } from '../../results/awa.ts';
import { AWC } from '../../results/awc.ts';
import { CATEGORY } from '../../results/category.ts';
import { TUNING } from '../../results/tuning.ts';
import type { TableSpec } from '../../results/columns.ts';
import { addAwc, addTuning, DERIVED_UNIT_KEYS, type LayerJson, type UnitJson } from '../../report/units.ts';
import { fakeLayerTables } from '../fixtures/fake-analysis.ts';

const declared = ([TUNING, CATEGORY, AWA, AWC] as TableSpec[]).flatMap((s) => s.columns.filter((c) => c.key).map((c) => ({ stage: s.name, name: c.name, key: c.key! })));

function emptyLayer(name: string): LayerJson {
  return { name, units: [], theta: [], sf: [], categories: [], awaSide: null, awcSide: null, has: { tuning: false, awa: false, awc: false, category: false } };
}

describe('report unit keys', () => {
  it('every unit key report/client.js and report/atlas-png.ts read is declared in results/ (or derived: im, ti)', () => {
    const known = new Set<string>([...declared.map((d) => d.key), ...DERIVED_UNIT_KEYS]);
    const client = readFileSync(new URL('../../report/client.js', import.meta.url), 'utf8');
    const png = readFileSync(new URL('../../report/atlas-png.ts', import.meta.url), 'utf8');
    const used = new Set([...client.matchAll(/\bu\.([a-z0-9]+)\b/g)].map((m) => m[1]!).concat([...png.matchAll(/\bu\['([a-z0-9]+)'\]/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(30);
    for (const k of used) expect(known.has(k), `unit key '${k}'`).toBe(true);
  });

  it('a key names one column: the same key only for the channel column of every stage', () => {
    const byKey = new Map<string, string[]>();
    for (const d of declared) byKey.set(d.key, [...(byKey.get(d.key) ?? []), `${d.stage}.${d.name}`]);
    for (const [key, cols] of byKey) if (key !== 'c') expect(cols, key).toHaveLength(1);
  });
});

describe('report units', () => {
  it('tuning: every keyed column of the checkpoint lands under its key', () => {
    const t = fakeLayerTables({ layer: 'L', units: 5, side: 3 });
    const units = new Map<number, UnitJson>();
    const L = emptyLayer('L');
    addTuning(L, t.tuning, (ch) => units.get(ch) ?? (units.set(ch, { c: ch, im: {} }), units.get(ch)!));
    expect(L.has.tuning).toBe(true);
    const u1 = units.get(1)!;
    expect(u1['tp']).toBe(Number((t.tuning.getChild('theta_pref')!.get(1) as number).toPrecision(4)));
    expect(u1['r']).toBe(1);
    expect((u1['ori'] as number[]).length).toBe(6);
  });

  it('awc: the match flags and "reconstructed" are the awc stage’s columns, read as written', async () => {
    const t = fakeLayerTables({ layer: 'L', units: 6, side: 3 });
    const awc = t.awc[0]!.table;
    // a checkpoint whose verdicts disagree with what the θ/f columns would give: the report must show the stored ones
    const stored = awc.setChild('awa_reconstructed', vectorFromArray([true, true, true, true, true, true], new Bool())).setChild('awc_theta_match', vectorFromArray([true, false, true, false, true, false], new Bool()));
    const units = new Map<number, UnitJson>();
    const L = emptyLayer('L');
    const pending: Promise<unknown>[] = [];
    addAwc(L, stored, (ch) => units.get(ch) ?? (units.set(ch, { c: ch, im: {} }), units.get(ch)!), { colour: 1, png: async () => 'data:image/png;base64,AA==' }, pending);
    await Promise.all(pending);
    expect([...units.values()].map((u) => u['ra'])).toEqual([1, 1, 1, 1, 1, 1]);
    expect([...units.values()].map((u) => u['cmt'])).toEqual([1, 0, 1, 0, 1, 0]);
    expect(units.get(0)!['ns']).toBe(2);
  });
});
