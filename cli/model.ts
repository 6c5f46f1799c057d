// `revcor model info CONFIG`: the network, which weights a run would use (and why), the RF geometry table, and for
// ONNX graphs every analysable output (tensor names to copy into model.layers).
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import { geometryTable, noiseCanvas } from '../model/geometry.ts';
import { loadModel } from '../model/load.ts';
import { layerFlops } from '../model/network.ts';
import { analysableOutputs, outputsTable, preprocessingText } from '../model/outputs.ts';
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
    describe: 'Show the network of an experiment: weights source, per-layer RF geometry, noise canvas, analysable outputs of an ONNX graph',
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
      const flops = layerFlops(m.net, m.layers.map((l) => l.outputIndex), m.inputSize);
      const outputs = analysableOutputs(m.net, m.inputSize);
      const graph = m.net.graph;
      if (args.json) {
        println(deps.stdout, JSON.stringify({
          arch: m.net.arch, preprocessing: m.net.preprocessing, weights: m.weightsLabel, notice: m.notice, inputSize: m.inputSize, gflopsPerImage: flops / 1e9,
          ...(graph ? { inputLayout: graph.inputLayout, layers: m.layers.map((l) => ({ name: l.name, tensor: l.source })) } : {}),
          geometry: m.geometry, canvas, ...(graph ? { outputs } : {}),
        }, null, 2));
        return;
      }
      println(
        deps.stdout,
        `${loaded.file}`,
        `network:       ${m.net.arch}, ${m.layers.length} analysed layers, ${(parameterCount(m.net) / 1e6).toFixed(2)} M parameters, preprocessing ${preprocessingText(m.net.preprocessing)}`,
        `weights:       ${m.weightsLabel}`,
        `               ${m.notice}`,
        ...(graph ? [`graph input:   '${graph.inputName}', ${graph.inputLayout.toUpperCase()} (revcor feeds it ${m.inputSize}×${m.inputSize} RGB after the preprocessing above)`] : []),
        `input:         ${m.inputSize}×${m.inputSize} px, ${(flops / 1e9).toFixed(2)} GFLOP per image up to ${m.layers.at(-1)!.name}`,
        `noise canvas:  ${canvas.size}×${canvas.size} px at (${canvas.x0}, ${canvas.y0}), aligned to stride ${canvas.stride}`,
        '',
        geometryTable(m.geometry),
        '',
        'stage = pooling stage (1 + pooling ops before the layer; the block number of VGG), j = cumulative stride, r = theoretical RF size, size = feature map side, i = centre index ⌊size/2⌋,',
        'centre = RF centre in input pixels, crop = RF clipped to the image (clipped: the unit also sees zero padding).',
      );
      if (graph) {
        const skipped = graph.refused.filter((r) => !r.head);
        println(
          deps.stdout,
          '',
          `Analysable outputs of ${graph.file} (${outputs.length}; * = model.layers: all — every nonlinearity, and every Add/Concat not followed by one).`,
          'model.layers takes the tensor or its layer name (the name outputs use; = when the same):',
          '',
          outputsTable(outputs),
          ...(skipped.length ? ['', `Not analysable (${skipped.length} tensors), first: ${skipped[0]!.tensor}: ${skipped[0]!.reason}.`] : []),
        );
      }
    },
  };
}
