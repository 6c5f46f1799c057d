// The summary's reader: every layer's units from the tuning, category, awa and awc checkpoints, aligned by channel,
// and each layer's V1 similarity row from the v1 checkpoints,
// through the typed readers of results/ (verdicts — responsive, significant, matches, reconstructed, selective,
// reliable — are read as their stages wrote them). Layers in graph order. Tested in test/stages/summary.test.ts.
import type { Experiment } from '../config/schema.ts';
import type { AwaUnits, AwcUnits, CategoryUnits, LayerUnits, TuningUnits, V1Row } from '../science/layer-summary.ts';
import { readV1Layers } from './v1.ts';
import { readAwa } from './awa.ts';
import { readAwc } from './awc.ts';
import { readCategory } from './category.ts';
import { graphOrder, inGraphOrder } from './layer-order.ts';
import { readAll, type UpstreamReader } from './reader.ts';
import { readTuning, TUNING } from './tuning.ts';

/** Column types read as numbers per unit. */
const NUMERIC = new Set(['int32', 'float32', 'float64', 'bool']);

/** One stage's typed columns split by layer: the rows of each layer and their channels. */
interface LayerRows<T> {
  parts: { cols: T; rows: number[]; channels: number[] }[];
}

/** Splits a stage's checkpoints into layers (reading each through its typed reader). */
async function byLayer<T extends { layer: (string | null)[]; channel: Int32Array }>(up: UpstreamReader, stage: string, read: (t: import('apache-arrow').Table, source: string) => T): Promise<Map<string, LayerRows<T>>> {
  const out = new Map<string, LayerRows<T>>();
  for (const { id, table } of await readAll(up, stage)) {
    const cols = read(table, `${stage} shard ${id}`);
    const rowsOf = new Map<string, { rows: number[]; channels: number[] }>();
    cols.layer.forEach((l, r) => {
      const name = String(l ?? '');
      let p = rowsOf.get(name);
      if (!p) rowsOf.set(name, (p = { rows: [], channels: [] }));
      p.rows.push(r);
      p.channels.push(cols.channel[r]!);
    });
    for (const [name, p] of rowsOf) {
      let L = out.get(name);
      if (!L) out.set(name, (L = { parts: [] }));
      L.parts.push({ cols, ...p });
    }
  }
  return out;
}

/** A column re-indexed onto the layer's channels (NaN where the stage lacks a channel; flags 0/1). */
function aligner<T>(L: LayerRows<T> | undefined, index: Map<number, number>, n: number) {
  return (pick: (cols: T) => ArrayLike<number> | undefined): Float64Array => {
    const out = new Float64Array(n).fill(NaN);
    for (const p of L?.parts ?? []) {
      const v = pick(p.cols);
      if (!v) continue;
      p.rows.forEach((r, k) => {
        const i = index.get(p.channels[k]!);
        if (i !== undefined) out[i] = v[r]!;
      });
    }
    return out;
  };
}

/** Whether every part of a layer has the optional column. */
function hasColumn<T>(L: LayerRows<T>, pick: (cols: T) => unknown): boolean {
  return L.parts.length > 0 && L.parts.every((p) => pick(p.cols) !== undefined);
}

/** Reads the upstream checkpoints into one LayerUnits per layer, in graph order. */
export async function readLayerUnits(config: Experiment, up: UpstreamReader): Promise<LayerUnits[]> {
  const tuning = await byLayer(up, 'tuning', readTuning);
  const awa = await byLayer(up, 'awa', readAwa);
  const awc = await byLayer(up, 'awc', readAwc);
  const category = await byLayer(up, 'category', readCategory);
  const v1 = new Map<string, V1Row>();
  for (const { table } of await readAll(up, 'v1')) for (const row of readV1Layers(table)) v1.set(String(row['layer']), row);
  const found = [...new Set([...tuning.keys(), ...awa.keys(), ...category.keys(), ...awc.keys(), ...v1.keys()])];
  const order = inGraphOrder(found, await graphOrder(config));
  const colour = config.stimuli.noise.color === 'rgb' ? 3 : 1;
  return order.map((layer) => {
    const t = tuning.get(layer);
    const a = awa.get(layer);
    const w = awc.get(layer);
    const c = category.get(layer);
    const channels = [...new Set([t, a, w, c].flatMap((L) => (L?.parts ?? []).flatMap((p) => p.channels)))].sort((x, y) => x - y);
    const n = channels.length;
    const index = new Map(channels.map((ch, i) => [ch, i]));
    const firstAwa = a?.parts[0];
    const mapLength = firstAwa && firstAwa.rows.length ? firstAwa.cols.awa.get(firstAwa.rows[0]!).length : NaN;
    const units: LayerUnits = { layer, units: n, rfSize: firstAwa ? Math.round(Math.sqrt(mapLength / colour)) : NaN };
    if (t) {
      const col = aligner(t, index, n);
      units.tuning = {
        responsive: col((x) => x.responsive),
        thetaPref: col((x) => x.theta_pref),
        fPref: col((x) => x.sf_pref),
        columns: Object.fromEntries(
          TUNING.columns.filter((k) => NUMERIC.has(k.type)).map((k) => [k.name, col((x) => (x as unknown as Record<string, ArrayLike<number> | undefined>)[k.name])]),
        ),
      } satisfies TuningUnits;
    }
    if (a) {
      const col = aligner(a, index, n);
      units.awa = { responsive: col((x) => x.responsive), significant: col((x) => x.significant), thetaPred: col((x) => x.theta_pred), fPred: col((x) => x.f_pred) } satisfies AwaUnits;
      if (hasColumn(a, (x) => x.n_eff)) units.awa.nEff = col((x) => x.n_eff);
      if (hasColumn(a, (x) => x.significant_finite_n)) units.awa.significantFiniteN = col((x) => x.significant_finite_n);
      if (hasColumn(a, (x) => x.significant_population)) units.awa.significantPopulation = col((x) => x.significant_population);
    }
    if (w) {
      const col = aligner(w, index, n);
      units.awc = {
        nSigTop: col((x) => x.n_sig_top),
        nSigBottom: hasColumn(w, (x) => x.n_sig_bottom) ? col((x) => x.n_sig_bottom) : null,
        thetaPred: col((x) => x.awc_theta_pred),
        fPred: col((x) => x.awc_f_pred),
        awaVerdicts: { thetaMatch: col((x) => x.awa_theta_match), fMatch: col((x) => x.awa_f_match), reconstructed: col((x) => x.awa_reconstructed) },
        awcVerdicts: { thetaMatch: col((x) => x.awc_theta_match), fMatch: col((x) => x.awc_f_match), reconstructed: col((x) => x.awc_reconstructed) },
      } satisfies AwcUnits;
    }
    if (v1.has(layer)) units.v1 = v1.get(layer)!;
    if (c) {
      const col = aligner(c, index, n);
      const preferred = new Array<string>(n).fill('');
      for (const p of c.parts) p.rows.forEach((r, k) => (preferred[index.get(p.channels[k]!)!] = p.cols.preferred_category[r] ?? ''));
      units.category = { selective: col((x) => x.selective), preferred, csi: col((x) => x.csi), sparseness: col((x) => x.sparseness) } satisfies CategoryUnits;
      if (hasColumn(c, (x) => x.reliable)) units.category.reliable = col((x) => x.reliable);
    }
    return units;
  });
}
