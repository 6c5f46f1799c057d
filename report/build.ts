// Builds report.html from a finished run's checkpoints: the summary rows (the summary checkpoint, or computed
// from the upstream checkpoints when the summary stage has not run), the plots, the RF atlas, run facts.
// Tested in test/report/escape.test.ts.
import { existsSync } from 'node:fs';
import { rowsFromTable, summarise, SUMMARY_DOC, SUMMARY_SHARD } from '../results/summary.ts';
import type { SummaryRow } from '../science/layer-summary.ts';
import { reportHtml, type ReportModel } from './html.ts';
import type { RunSource } from './source.ts';

/** Bump when the page changes for the same checkpoints (a run then rewrites it). */
export const REPORT_VERSION = '1';

/** What buildReport produced. */
export interface BuiltReport {
  html: string;
  rows: SummaryRow[];
  /** Stamp written into the page: report version + the summary checkpoint's key. */
  stamp: string;
  layers: number;
  units: number;
  /** Whether the rows came from the summary checkpoint (false: computed from the upstream checkpoints). */
  fromCheckpoint: boolean;
}

/** The summary rows of a run and where they came from. */
export async function runSummary(src: RunSource): Promise<{ rows: SummaryRow[]; key: string | null }> {
  if (src.shards('summary').includes(SUMMARY_SHARD)) {
    const t = await src.read('summary', SUMMARY_SHARD);
    return { rows: rowsFromTable(t), key: t.schema.metadata.get('revcor.key') ?? null };
  }
  return { rows: await summarise(src.config, src), key: null };
}

/** The weights the activations stage recorded (from its smallest shard's metadata), or null. */
async function recordedWeights(src: RunSource): Promise<string | null> {
  const recs = src.manifest?.stages['activations'] ?? [];
  const smallest = [...recs].sort((a, b) => a.bytes - b.bytes)[0];
  if (!smallest) return null;
  try {
    const t = await src.read('activations', smallest.shard);
    return t.schema.metadata.get('revcor.activations.weights') ?? null;
  } catch {
    return null;
  }
}

/** Images the stimuli stage excluded (unreadable, broken links): file and reason, in listing order. */
export async function excludedImages(src: RunSource): Promise<{ file: string; reason: string }[]> {
  if (!src.shards('stimuli').includes('images')) return [];
  const t = await src.read('stimuli', 'images');
  const file = t.getChild('file');
  const excluded = t.getChild('excluded');
  if (!file || !excluded) return [];
  const out: { file: string; reason: string }[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const why = excluded.get(r) as string | null;
    if (why !== null) out.push({ file: String(file.get(r)), reason: why });
  }
  return out;
}

/** Builds the page (nothing is written). */
export async function buildReport(src: RunSource, opts: { onLayer?: (layer: string, units: number) => void } = {}): Promise<BuiltReport> {
  // vega and sharp load with the page, not with `revcor summary` (runSummary above)
  const [{ layerPlots }, { buildAtlas }, { softwareVersions }, { v1Section }] = await Promise.all([import('./plots.ts'), import('./units.ts'), import('./versions.ts'), import('./v1.ts')]);
  const cfg = src.config;
  const { rows, key } = await runSummary(src);
  const notes: string[] = [];
  if (!key) notes.push('The summary stage has not finished in this directory: the per-layer table was computed from the checkpoints present.');
  const atlas = await buildAtlas(src, rows.map((r) => r.layer), { onLayer: opts.onLayer });
  const imageDir = atlas.imageDir;
  if (imageDir && !existsSync(imageDir)) notes.push(`The image folder ${imageDir} is not available now: natural-image thumbnails are missing from the unit cards.`);
  else if (atlas.images.some((i) => !i.uri)) notes.push(`${atlas.images.filter((i) => !i.uri).length} of ${atlas.images.length} top natural images could not be read from ${imageDir}: their unit cards say which.`);
  const missing = (stage: string, enabled: boolean, key: string, what: string) => {
    if (src.shards(stage).length > 0) return;
    notes.push(enabled ? `No ${stage} results have finished in this run: ${what} are empty.` : `${key}: false in this run: ${what} are empty.`);
  };
  missing('tuning', cfg.stimuli.gratings.enabled, 'stimuli.gratings.enabled', 'grating tuning statistics and RF-prediction matches');
  missing('category', cfg.stimuli.images.enabled, 'stimuli.images.enabled', 'category-selectivity columns and top natural images');
  missing('awa', cfg.stimuli.noise.enabled, 'stimuli.noise.enabled', 'white-noise RFs (AWA) and their atlas maps');
  if (src.shards('awa').length > 0) missing('awc', cfg.stimuli.noise.enabled, 'stimuli.noise.enabled', 'AWC eigenvectors and energy maps');
  const dropped = await excludedImages(src);
  if (dropped.length) {
    const shown = dropped.slice(0, 20).map((d) => `${d.file} (${d.reason})`).join('; ');
    notes.push(`${dropped.length} image${dropped.length === 1 ? ' was' : 's were'} excluded from the image set: ${shown}${dropped.length > 20 ? `; … ${dropped.length - 20} more (revcor inspect ${src.outDir}/stimuli/images.arrow lists all)` : ''}.`);
  }
  const weights = await recordedWeights(src);
  const v1 = await v1Section(src, rows.map((r) => r.layer));
  const units = atlas.layers.reduce((n, L) => n + L.units.length, 0);
  const generatedAt = new Date().toISOString();
  const stamp = `${REPORT_VERSION}:${key ?? 'computed'}`;
  const model: ReportModel = {
    title: `revcor report — ${cfg.name}`,
    outDir: src.outDir,
    generatedAt,
    stamp,
    rows,
    columnDoc: SUMMARY_DOC,
    plots: await layerPlots(rows),
    layers: atlas.layers,
    images: atlas.images,
    notes,
    banner: weights?.startsWith('seeded:')
      ? `SEEDED WEIGHTS: this run used untrained ${cfg.model.arch} weights (He-normal, seed ${weights.slice(7)}), not ImageNet weights. Its tuning, category and RF results describe a random network.`
      : undefined,
    facts: [
      ['model', `${cfg.model.arch}${weights ? `, ${weights}` : `, weights ${cfg.model.weights}`}`],
      ['units', `${units} in ${atlas.layers.length} layer${atlas.layers.length === 1 ? '' : 's'}`],
      ['noise', cfg.stimuli.noise.enabled ? `N = ${cfg.stimuli.noise.count}, σ = ${cfg.stimuli.noise.sigma}, ${cfg.stimuli.noise.color}${cfg.stimuli.noise.check > 1 ? `, checks ${cfg.stimuli.noise.check}` : ''}` : 'off'],
      ['output', src.outDir],
      ['generated', generatedAt.replace('T', ' ').slice(0, 19) + ' UTC'],
    ],
    resolvedYaml: src.resolvedYaml,
    versions: softwareVersions(),
    v1,
    manifest: src.manifest,
    settings: {
      thetaTolerance: cfg.prediction.thetaTolerance,
      sfTolerance: cfg.prediction.sfTolerance,
      method: cfg.prediction.method,
      zThreshold: cfg.awa.zThreshold,
      imageDir,
    },
  };
  return { html: reportHtml(model), rows, stamp, layers: atlas.layers.length, units, fromCheckpoint: key !== null };
}
