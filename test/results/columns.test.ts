// The results layer's declarations (results/columns.ts): a table is built from exactly its declared columns — a
// missing, extra or mis-typed column is an error at build time — each field carries its meaning and unit, the typed
// reader gives typed arrays and refuses a checkpoint without a required column, and every stage's declaration is
// well formed (unique names and report keys, a meaning for every column).
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS_GRATINGS, activationLayers } from '../../results/activations.ts';
import { AWA } from '../../results/awa.ts';
import { AWC } from '../../results/awc.ts';
import { CATEGORY } from '../../results/category.ts';
import { buildTable, defineTable, FIELD_META, readColumns, SchemaMismatch, withSchemaMetadata, type TableSpec } from '../../results/columns.ts';
import { STIMULI_GRATINGS, STIMULI_IMAGES, STIMULI_NOISE } from '../../results/stimuli.ts';
import { SUMMARY } from '../../results/summary.ts';
import { TUNING } from '../../results/tuning.ts';
import { V1 } from '../../results/v1.ts';
import { InputError } from '../../pipeline/errors.ts';

const SPEC = defineTable('toy', [
  { name: 'layer', type: 'utf8', unit: '', meaning: 'analysed layer' },
  { name: 'theta', type: 'float64', unit: 'deg', meaning: 'an angle' },
  { name: 'ok', type: 'bool', unit: '', meaning: 'a verdict' },
  { name: 'curve', type: 'list<float32>', unit: 'activation', meaning: 'a curve' },
  { name: 'late', type: 'int32', unit: '', meaning: 'written by newer versions only', optional: true },
] as const);

const values = () => ({ layer: ['a', 'b'], theta: Float64Array.of(10, 20), ok: Uint8Array.of(1, 0), curve: { values: Float32Array.of(1, 2, 3, 4), width: 2 } });

describe('buildTable', () => {
  it('builds the declared columns in order, with meaning and unit in the field metadata, through an IPC round trip', () => {
    const t = tableFromIPC(tableToIPC(withSchemaMetadata(buildTable(SPEC, values(), { 'revcor.x': '1' }), { 'revcor.y': '2' })));
    expect(t.schema.fields.map((f) => f.name)).toEqual(['layer', 'theta', 'ok', 'curve']);
    const theta = t.schema.fields[1]!;
    expect(theta.metadata.get(FIELD_META.meaning)).toBe('an angle');
    expect(theta.metadata.get(FIELD_META.unit)).toBe('deg');
    expect([t.schema.metadata.get('revcor.x'), t.schema.metadata.get('revcor.y')]).toEqual(['1', '2']);
    const r = readColumns(SPEC, t, 'toy');
    expect(r.layer).toEqual(['a', 'b']);
    expect([...r.theta]).toEqual([10, 20]);
    expect([...r.ok]).toEqual([1, 0]);
    expect([...r.curve.get(1)]).toEqual([3, 4]);
    expect(r.late).toBeUndefined();
  });

  it('a missing required column, an undeclared column, a mis-typed or mis-sized value is an error at build time', () => {
    const { theta: _t, ...noTheta } = values();
    expect(() => buildTable(SPEC, noTheta as never)).toThrow(SchemaMismatch);
    expect(() => buildTable(SPEC, noTheta as never)).toThrow(/declared column 'theta' \(float64\) was not given/);
    expect(() => buildTable(SPEC, { ...values(), extra: Float64Array.of(1, 2) } as never)).toThrow(/extra not declared in results/);
    expect(() => buildTable(SPEC, { ...values(), theta: Float32Array.of(1, 2) } as never)).toThrow(/'theta' is declared float64, got Float32Array/);
    expect(() => buildTable(SPEC, { ...values(), theta: Float64Array.of(1, 2, 3) })).toThrow(/'theta' has 3 rows, the columns before it 2/);
    expect(() => buildTable(SPEC, { ...values(), layer: ['a', null] })).toThrow(/'layer' is not nullable/);
  });

  it('the typed reader refuses a checkpoint without a required column or with another type, naming it', () => {
    const t = buildTable(defineTable('toy', SPEC.columns.filter((c) => c.name !== 'ok')), { layer: ['a'], theta: Float64Array.of(1), curve: { values: Float32Array.of(1, 2), width: 2 } } as never);
    expect(() => readColumns(SPEC, t, 'toy/a.arrow')).toThrow(InputError);
    expect(() => readColumns(SPEC, t, 'toy/a.arrow')).toThrow(/toy\/a\.arrow: Expected a column 'ok' \(bool/);
    const wrong = buildTable(defineTable('toy', [{ name: 'layer', type: 'int32', unit: '', meaning: '' }] as const), { layer: Int32Array.of(1) });
    expect(() => readColumns(defineTable('toy', [SPEC.columns[0]] as const), wrong, 'w')).toThrow(/column 'layer': Expected utf8/);
  });

  it('activations: the layer columns are dynamic FixedSizeList<Float32> columns after the declared ones', () => {
    const t = buildTable(ACTIVATIONS_GRATINGS, { stimulus: Int32Array.of(0, 1), theta_deg: Float64Array.of(0, 90), sf_cpp: Float64Array.of(0.1, 0.1), phase_deg: Float64Array.of(0, 0) }, {}, { block1_conv1: { values: Float32Array.of(1, 2, 3, 4, 5, 6), width: 3 } });
    expect(activationLayers(t)).toEqual(['block1_conv1']);
    expect(String(t.schema.fields[4]!.type)).toBe('FixedSizeList[3]<Float32>');
    expect(t.schema.fields[4]!.metadata.get(FIELD_META.meaning)).toMatch(/centre unit/);
  });
});

describe('the declarations of every stage', () => {
  const all: TableSpec[] = [STIMULI_GRATINGS, STIMULI_IMAGES, STIMULI_NOISE, ACTIVATIONS_GRATINGS, TUNING, CATEGORY, AWA, AWC, V1, SUMMARY];
  it('every column has a name, a meaning and a type; report keys are unique per table', () => {
    for (const s of all) {
      for (const c of s.columns) {
        expect(c.meaning.length, `${s.name}.${c.name}`).toBeGreaterThan(3);
        expect(c.name).toMatch(/^[a-z][a-z0-9_]*$/);
      }
      const keys = s.columns.map((c) => c.key).filter(Boolean);
      expect(new Set(keys).size, s.name).toBe(keys.length);
    }
  });
});
