// `revcor model info CONFIG`: the network, which weights a run would use (and why), and the RF geometry table.
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import { geometryTable, noiseCanvas } from '../model/geometry.ts';
import { loadModel } from '../model/load.ts';
import { convFlops } from '../model/network.ts';
import { parameterCount } from '../model/weights.ts';
import { println, type CliDeps } from './deps.ts';

interface ModelArgs {
  action: string;
  config?: string;
  set: string[];
  json: boolean;
}

/** The `model` command (one action: info). */
export function modelCommand(deps: Pick<CliDeps, 'stdout'>): CommandModule<object, ModelArgs> {
  return {
    command: 'model <action> [config]',
    describe: 'Show the network of an experiment: weights source, per-layer RF geometry, noise canvas',
    builder: (y: Argv) =>
      y
        .positional('action', { choices: ['info'] as const, demandOption: true })
        .positional('config', { type: 'string', describe: 'Experiment YAML (default: config/default.yaml)' })
        .option('set', { type: 'string', array: true, default: [], describe: 'Override a config key (repeatable)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' })
        .example('$0 model info config/vgg19-floc.yaml', 'Geometry of VGG19 with the shared weights') as unknown as Argv<ModelArgs>,
    handler: async (args) => {
      const loaded = await loadExperiment(args.config, args.set);
      const m = await loadModel(loaded.config.model);
      const canvas = noiseCanvas(m.geometry);
      const last = Math.max(...m.layers.map((l) => l.outputIndex));
      const flops = convFlops(m.net, last, m.inputSize);
      if (args.json) {
        println(deps.stdout, JSON.stringify({ arch: m.net.arch, preprocessing: m.net.preprocessing, weights: m.weightsLabel, notice: m.notice, inputSize: m.inputSize, gflopsPerImage: flops / 1e9, geometry: m.geometry, canvas }, null, 2));
        return;
      }
      println(
        deps.stdout,
        `${loaded.file}`,
        `network:       ${m.net.arch}, ${m.layers.length} analysed conv layers, ${(parameterCount(m.net) / 1e6).toFixed(2)} M parameters, preprocessing ${m.net.preprocessing}`,
        `weights:       ${m.weightsLabel}`,
        `               ${m.notice}`,
        `input:         ${m.inputSize}×${m.inputSize} px, ${(flops / 1e9).toFixed(2)} GFLOP per image up to ${m.layers.at(-1)!.name}`,
        `noise canvas:  ${canvas.size}×${canvas.size} px at (${canvas.x0}, ${canvas.y0}), aligned to stride ${canvas.stride}`,
        '',
        geometryTable(m.geometry),
        '',
        'j = cumulative stride, r = theoretical RF size, size = feature map side, i = centre index ⌊size/2⌋,',
        'centre = RF centre in input pixels, crop = RF clipped to the image (clipped: the unit also sees zero padding).',
      );
    },
  };
}
