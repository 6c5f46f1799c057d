// Resolves the model section of an experiment into a network, its weights and the analysed layers:
// `weights: auto` uses the Keras cache file when present, else seeded He-normal weights, and says which.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { ModelConfig } from '../config/schema.ts';
import { ConfigError, InputError, ModelError } from '../pipeline/errors.ts';
import { layerGeometry, type LayerGeometry } from './geometry.ts';
import { selectLayers, vggNetwork, type AnalysedLayer, type Network, type Preprocessing } from './network.ts';
import { seededWeights } from './seeded.ts';
import { checkFiniteWeights, weightsLabel, type NetworkWeights } from './weights.ts';

/** File names Keras caches its ImageNet VGG weights under (~/.keras/models/). */
export const KERAS_WEIGHT_FILES = {
  vgg16: 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5',
  vgg19: 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
} as const;

/** Keras' cache folder for downloaded models: $KERAS_HOME/models or ~/.keras/models. */
export function kerasModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.KERAS_HOME ?? join(homedir(), '.keras'), 'models');
}

/** What `model.weights` resolves to before anything is read. */
export type WeightsChoice = { kind: 'seeded'; seed: number; reason: string } | { kind: 'file'; path: string; reason: string };

function isKeyword(weights: string, word: string): boolean {
  // The config loader may have resolved the keyword like a path; accept both forms when no such file exists.
  return weights === word || (basename(weights) === word && !existsSync(weights));
}

/** Decides which weights a model config uses (no I/O beyond existence checks). */
export function resolveWeights(cfg: Pick<ModelConfig, 'arch' | 'weights' | 'seed'>, env: NodeJS.ProcessEnv = process.env): WeightsChoice {
  if (isKeyword(cfg.weights, 'seeded')) {
    if (cfg.arch === 'onnx') throw new ConfigError(`model.weights: arch 'onnx' needs an ONNX file. Expected a path to a .onnx file, got 'seeded'.`);
    return { kind: 'seeded', seed: cfg.seed, reason: `seeded He-normal weights (model.seed = ${cfg.seed}), as model.weights = seeded` };
  }
  if (isKeyword(cfg.weights, 'auto')) {
    if (cfg.arch === 'onnx') throw new ConfigError(`model.weights: arch 'onnx' needs an ONNX file. Expected a path to a .onnx file, got 'auto'.`);
    const cached = join(kerasModelsDir(env), KERAS_WEIGHT_FILES[cfg.arch]);
    if (existsSync(cached)) return { kind: 'file', path: cached, reason: `Keras ImageNet weights from the cache file ${cached} (model.weights = auto)` };
    return {
      kind: 'seeded', seed: cfg.seed,
      reason: `WARNING: SEEDED He-normal weights (model.seed = ${cfg.seed}): model.weights = auto and no Keras cache file at ${cached}. Results describe an untrained ${cfg.arch}; run \`revcor weights fetch ${cfg.arch}\` or set model.weights to a .h5 file for ImageNet weights`,
    };
  }
  if (!existsSync(cfg.weights)) throw new InputError(`model.weights: ${cfg.weights} does not exist. Expected 'auto', 'seeded', or a path to a Keras .h5 or ONNX file.`);
  return { kind: 'file', path: cfg.weights, reason: `weights from ${cfg.weights}` };
}

/** A resolved model: network, weights, analysed layers and their geometry at the configured input size. */
export interface LoadedModel {
  net: Network;
  weights: NetworkWeights;
  layers: AnalysedLayer[];
  geometry: LayerGeometry[];
  inputSize: number;
  /** `<file> sha256:<hex>` or `seeded:<seed>`. */
  weightsLabel: string;
  /** One sentence saying loudly which weights are used and why. */
  notice: string;
}

/** The preprocessing a config asks for (auto: caffe for the Keras VGGs, none for ONNX files). */
export function resolvePreprocessing(cfg: Pick<ModelConfig, 'arch' | 'preprocessing'>): Preprocessing {
  const p = cfg.preprocessing;
  if (p === 'auto') return cfg.arch === 'onnx' ? 'none' : 'caffe';
  if (typeof p === 'string') return p;
  for (const key of ['mean', 'std'] as const) {
    if (p[key].length !== 3) throw new ConfigError(`model.preprocessing.${key}: Expected 3 values (one per channel, in channelOrder ${p.channelOrder}), got ${p[key].length}.`);
  }
  return { mean: [...p.mean] as [number, number, number], std: [...p.std] as [number, number, number], scale: p.scale, channelOrder: p.channelOrder };
}

/** The network, analysed layers and geometry of a model config without reading weights (an ONNX file is parsed). */
export async function loadNetwork(cfg: ModelConfig, env: NodeJS.ProcessEnv = process.env): Promise<Omit<LoadedModel, 'weights' | 'weightsLabel' | 'notice'>> {
  const preprocessing = resolvePreprocessing(cfg);
  let net: Network;
  if (cfg.arch === 'onnx') {
    const choice = resolveWeights(cfg, env);
    if (choice.kind !== 'file') throw new ConfigError(`model.weights: arch 'onnx' needs an ONNX file.`);
    const { loadOnnxFile } = await import('./onnx-file.ts'); // protobufjs: only for ONNX models
    net = (await loadOnnxFile(choice.path, preprocessing, cfg.inputSize)).net;
  } else net = { ...vggNetwork(cfg.arch), preprocessing };
  const layers = selectLayers(net, cfg.layers);
  return { net, layers, geometry: layerGeometry(net, layers, cfg.inputSize), inputSize: cfg.inputSize };
}

/** Builds the network and reads (or generates) its weights for a model config. */
export async function loadModel(cfg: ModelConfig, env: NodeJS.ProcessEnv = process.env): Promise<LoadedModel> {
  const choice = resolveWeights(cfg, env);
  const preprocessing = resolvePreprocessing(cfg);
  let net: Network;
  let weights: NetworkWeights;
  if (cfg.arch === 'onnx') {
    if (choice.kind !== 'file') throw new ConfigError(`model.weights: arch 'onnx' needs an ONNX file.`);
    const { loadOnnxFile } = await import('./onnx-file.ts');
    ({ net, weights } = await loadOnnxFile(choice.path, preprocessing, cfg.inputSize));
  } else {
    net = { ...vggNetwork(cfg.arch), preprocessing };
    if (choice.kind === 'seeded') weights = seededWeights(net, choice.seed);
    else {
      // h5wasm compiles its WebAssembly when imported (~1 s): loaded only when weights are read from a file
      const { isHdf5, loadKerasH5 } = await import('./keras-h5.ts');
      if (!isHdf5(choice.path) && choice.path.endsWith('.onnx')) {
        throw new ConfigError(`model.weights: ${choice.path} is an ONNX file but model.arch is '${cfg.arch}'. Expected model.arch: onnx for ONNX files, or a Keras .h5 file.`);
      }
      weights = await loadKerasH5(choice.path, net); // raises the non-HDF5 ModelError naming the file
    }
  }
  checkFiniteWeights(weights, choice.kind === 'file' ? choice.path : `seeded weights (model.seed = ${cfg.seed})`);
  if (net.inputChannels !== 3) {
    throw new ModelError(`model.weights: ${choice.kind === 'file' ? choice.path : net.arch}: the first conv takes ${net.inputChannels} input channels. Expected 3 (RGB stimuli).`);
  }
  const layers = selectLayers(net, cfg.layers);
  const geometry = layerGeometry(net, layers, cfg.inputSize);
  return { net, weights, layers, geometry, inputSize: cfg.inputSize, weightsLabel: weightsLabel(weights.source), notice: `model ${net.arch}: ${choice.reason}` };
}
