// ONNX Runtime session wrapper: one session with intra-op threads = cores (configurable), batched forward
// passes over HWC RGB 0–255 pixel arrays, results per layer as Float32Array [count × channels].
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { buildGraph, type BuiltGraph, type GraphOutput, type GraphSpec } from './graph.ts';

/** Runtime options: threads (0 = cores) and images per forward pass. */
export interface SessionOptions {
  threads?: number;
  batch?: number;
}

/** Per-layer activations: layer name → Float32Array of count × channels (row = stimulus). */
export type LayerActivations = Record<string, Float32Array>;

/** A compiled forward graph ready to run batches of images of one size. */
export class ModelSession {
  /** Calls to run() are serialised: concurrent shards share the session without oversubscribing the cores. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly graph: BuiltGraph,
    /** Input side in pixels. */
    readonly inputSize: number,
    /** Input channels (3 for RGB). */
    readonly inputChannels: number,
    /** Images per ORT run. */
    readonly batch: number,
    /** Intra-op threads in use. */
    readonly threads: number,
  ) {}

  /** Builds the graph for `spec` and opens an ORT session on it. */
  static async create(spec: GraphSpec, options: SessionOptions = {}): Promise<ModelSession> {
    const graph = buildGraph(spec);
    return ModelSession.fromGraph(graph, spec.inputSize, spec.net.inputChannels, options);
  }

  /** Opens an ORT session on an already built graph. */
  static async fromGraph(graph: BuiltGraph, inputSize: number, inputChannels: number, options: SessionOptions = {}): Promise<ModelSession> {
    const threads = options.threads && options.threads > 0 ? options.threads : availableParallelism();
    const session = await ort.InferenceSession.create(graph.bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new ModelSession(session, graph, inputSize, inputChannels, Math.max(1, options.batch ?? 16), threads);
  }

  /** The graph's outputs: layer names and channel counts, in order. */
  get outputs(): readonly GraphOutput[] {
    return this.graph.outputs;
  }

  /** Floats per image: inputSize² × channels. */
  get imageLength(): number {
    return this.inputSize * this.inputSize * this.inputChannels;
  }

  /**
   * Runs `count` images laid end to end in `pixels` (each HWC RGB 0–255, inputSize² × 3 floats; CHW for an
   * nchw graph) in batches;
   * returns, per layer, count × channels values.
   */
  run(pixels: Float32Array, count: number, signal?: AbortSignal): Promise<LayerActivations> {
    const result = this.queue.then(() => this.runNow(pixels, count, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(pixels: Float32Array, count: number, signal?: AbortSignal): Promise<LayerActivations> {
    const per = this.imageLength;
    if (pixels.length < count * per) throw new Error(`ModelSession.run: ${pixels.length} floats for ${count} images of ${per}`);
    const out: LayerActivations = {};
    for (const o of this.graph.outputs) out[o.name] = new Float32Array(count * o.channels);
    for (let start = 0; start < count; start += this.batch) {
      signal?.throwIfAborted();
      const n = Math.min(this.batch, count - start);
      const dims = this.graph.inputLayout === 'nhwc' ? [n, this.inputSize, this.inputSize, this.inputChannels] : [n, this.inputChannels, this.inputSize, this.inputSize];
      const input = new ort.Tensor('float32', pixels.subarray(start * per, (start + n) * per), dims);
      const result = await this.session.run({ [this.graph.input]: input });
      for (const o of this.graph.outputs) {
        const data = result[o.name].data as Float32Array;
        out[o.name].set(data.subarray(0, n * o.channels), start * o.channels);
      }
    }
    return out;
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
