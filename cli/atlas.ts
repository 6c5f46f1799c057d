// `revcor atlas DIR`: a still PNG montage of the best-reconstructed units per layer, for papers and docs.
// Tested in test/report/atlas-png.test.ts.
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { writeFileAtomic } from '../pipeline/atomic.ts';
import { InputError } from '../pipeline/errors.ts';
import { formatBytes } from '../pipeline/progress.ts';
import { ATLAS_MAPS, DEFAULT_LAYOUT, renderAtlas, type AtlasMap } from '../report/atlas-png.ts';
import { openRunDir } from '../report/source.ts';
import { buildAtlas } from '../report/units.ts';
import { layerName } from '../model/layers.ts';
import { graphOrder, inGraphOrder } from '../results/layer-order.ts';
import { println, type CliDeps } from './deps.ts';

interface AtlasArgs {
  dir: string;
  out?: string;
  layers?: string;
  'per-layer': number;
  maps: string;
  cell: number;
}

/** Splits a comma list, trimming and dropping empty items. */
function commaList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * The layers of --layers in the order given, each a layer name or an ONNX tensor name (mapped to its layer name as
 * model.layers does), each checked to have AWA or AWC output.
 */
export function chooseLayers(wanted: string, available: readonly string[], dir: string): string[] {
  return commaList(wanted).map((l) => {
    const name = available.includes(l) ? l : layerName(l);
    if (!available.includes(name)) throw new InputError(`${dir}: --layers: expected layers (or their tensor names) with white-noise results (${available.join(', ') || 'none'}), got '${l}'`);
    return name;
  });
}

/** The `atlas` command. */
export function atlasCommand(deps: CliDeps): CommandModule<object, AtlasArgs> {
  return {
    command: 'atlas <dir>',
    describe: 'Write a PNG montage of the best-reconstructed units of each layer (AWA, AWC eigenvectors, energy)',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'Output directory of a run' })
        .option('out', { alias: 'o', type: 'string', describe: 'PNG to write (default <dir>/atlas.png)' })
        .option('layers', { type: 'string', describe: 'Comma-separated layers or ONNX tensor names, one row each in the order given (default: every layer with AWC results, in graph order)' })
        .option('per-layer', { type: 'number', default: 6, describe: 'Units per row: significant AWC first by λ₁/null edge, then significant AWA by |z|' })
        .option('maps', { type: 'string', default: 'awa,e1,e2', describe: `Maps per unit, left to right (${ATLAS_MAPS.join(', ')})` })
        .option('cell', { type: 'number', default: DEFAULT_LAYOUT.cell, describe: 'Side of one map in pixels' })
        .example('$0 atlas artifacts/vgg19-floc --layers block1_conv1,block3_conv1 --out docs/atlas.png', 'Two rows of six units') as unknown as Argv<AtlasArgs>,
    handler: async (args) => {
      const maps = commaList(args.maps);
      for (const m of maps) if (!ATLAS_MAPS.includes(m as AtlasMap)) throw new InputError(`--maps: expected a comma list of ${ATLAS_MAPS.join(', ')}, got '${m}'`);
      if (maps.length === 0) throw new InputError(`--maps: expected a comma list of ${ATLAS_MAPS.join(', ')}, got none`);
      if (!Number.isInteger(args['per-layer']) || args['per-layer'] < 1) throw new InputError(`--per-layer: expected a positive integer, got ${args['per-layer']}`);
      if (!Number.isInteger(args.cell) || args.cell < 8 || args.cell > 512) throw new InputError(`--cell: expected an integer from 8 to 512, got ${args.cell}`);
      const src = await openRunDir(args.dir);
      // layers with AWC results (the default rows, in graph order), else those with AWA results
      const order = await graphOrder(src.config);
      const awcLayers = inGraphOrder([...new Set(src.shardInfo('awc').map((s) => String(s.params['layer'])))], order);
      const awaLayers = src.shardInfo('awa').map((s) => s.params['layer']).filter((l): l is string => typeof l === 'string'); // the all-layers shard names none
      const noiseLayers = inGraphOrder([...new Set([...awcLayers, ...awaLayers])], order);
      const atlas = await buildAtlas(src, args.layers ? chooseLayers(args.layers, noiseLayers, src.outDir) : awcLayers.length ? awcLayers : noiseLayers);
      const { png, rows, width, height } = await renderAtlas(atlas.layers, args['per-layer'], maps as AtlasMap[], { ...DEFAULT_LAYOUT, cell: args.cell });
      const out = resolve(args.out ?? join(src.outDir, 'atlas.png'));
      await writeFileAtomic(out, png);
      println(deps.stdout, `Wrote ${out} (${width}×${height} px, ${formatBytes(png.length)}): rows = layers, each unit = ${maps.join(' | ')}`);
      for (const r of rows) {
        const units = r.units.map((u) => `${u.channel}${u.nSig > 0 ? ` (λ₁/edge ${u.awcRatio.toFixed(2)})` : Number.isFinite(u.awaZ) ? ` (|z| ${u.awaZ.toFixed(1)})` : ''}`);
        println(deps.stdout, `  ${r.layer}: ${units.join(', ') || 'no units'}`);
      }
    },
  };
}
