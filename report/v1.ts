// The report's V1 section (docs/v1-comparison.md): per layer its V1 score, and per property the layer's histogram
// over the recorded V1 histogram — the layer's values from the v1 checkpoints (responsive units, finite values,
// clipped and binned with the data's own bin edges, as the comparison does), the V1 data read from the reference
// files of v1.reference and labelled with their source. Tested in test/report/v1.test.ts.
import type { RunSource } from './source.ts';
import { readV1Layers, readV1Units } from '../results/v1.ts';
import { V1_PROPERTIES } from '../science/v1-catalogue.ts';
import { binCounts, binsOf } from '../science/v1-similarity.ts';
import { readV1Reference, referenceFiles, V1_REFERENCE_FILES } from '../stages/v1-reference.ts';

/** One compared property with its reference histogram. */
export interface V1PropertyJson {
  name: string;
  meaning: string;
  scored: boolean;
  /** Where the V1 histogram comes from (paper, n, file). */
  source: string;
  edges: number[];
  /** Recorded neurons per bin. */
  reference: number[];
  referenceN: number;
}

/** One layer: its score and, per property, its units per bin. */
export interface V1LayerJson {
  name: string;
  score: number | null;
  lo: number | null;
  hi: number | null;
  responsive: number;
  counts: Record<string, number[]>;
}

/** The V1 section's data (null when the run has no v1 checkpoints). */
export interface V1SectionJson {
  properties: V1PropertyJson[];
  layers: V1LayerJson[];
  /** Why the histograms are missing (reference folder absent now), or null. */
  note: string | null;
}

/** The papers of the reference datasets. */
const PAPERS: Record<string, string> = {
  Ringach2002: 'Ringach, Shapley & Hawken 2002 (J Neurosci 22:5639), recorded macaque V1 neurons',
  DeValois1982b: 'De Valois, Albrecht & Thorell 1982, peak SF of macaque V1 cells (histogram digitized by Brain-Score)',
  Schiller1976c: 'Schiller, Finlay & Volman 1976, SF tuning of macaque V1 cells (histogram digitized by Brain-Score)',
};

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The V1 section of a run, layers in the given order. */
export async function v1Section(src: RunSource, order: readonly string[]): Promise<V1SectionJson | null> {
  const ids = src.shards('v1');
  if (ids.length === 0) return null;
  const dir = src.config.v1.reference;
  const { missing } = await referenceFiles(dir);
  const ref = missing ? null : await readV1Reference(dir);
  const properties: V1PropertyJson[] = ref
    ? V1_PROPERTIES.map((p) => {
        const r = ref.reference[p.name]!;
        const nb = r.distribution.edges.length - 1;
        const file = p.dataset === 'Ringach2002' ? V1_REFERENCE_FILES.ringach : V1_REFERENCE_FILES.histograms;
        return {
          name: p.name,
          meaning: p.meaning,
          scored: p.scored,
          source: `${PAPERS[p.dataset] ?? p.dataset}, n = ${r.distribution.binOf.length}, from ${dir}/${file}`,
          edges: [...r.distribution.edges],
          reference: [...binCounts(r.distribution.binOf, nb)],
          referenceN: r.distribution.binOf.length,
        };
      })
    : [];
  const layers = new Map<string, V1LayerJson>();
  for (const id of ids) {
    const table = await src.read('v1', id);
    const units = readV1Units(table, `v1 shard ${id}`);
    for (const row of readV1Layers(table)) {
      const name = String(row['layer']);
      const mine = units.layer.map((l, i) => (l === name ? i : -1)).filter((i) => i >= 0);
      const counts: Record<string, number[]> = {};
      for (const p of properties) {
        const values = units.values[p.name]!;
        const sample = mine.filter((i) => units.responsive[i] === 1 && Number.isFinite(values[i])).map((i) => values[i]!);
        counts[p.name] = [...binCounts(binsOf(p.edges, sample), p.edges.length - 1)];
      }
      layers.set(name, { name, score: finiteOrNull(row['v1_score']), lo: finiteOrNull(row['v1_score_lo']), hi: finiteOrNull(row['v1_score_hi']), responsive: Number(row['v1_n_responsive']), counts });
    }
  }
  const sorted = [...order.filter((l) => layers.has(l)), ...[...layers.keys()].filter((l) => !order.includes(l))].map((l) => layers.get(l)!);
  return { properties, layers: sorted, note: missing ? `The V1 reference is not readable now (${missing}): the histograms cannot be drawn; the scores were computed by the run.` : null };
}
