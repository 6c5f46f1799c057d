// ONNX Runtime session wrapper: one session with intra-op threads = cores (configurable), batched forward
// passes over HWC RGB 0–255 pixel arrays, results per layer as Float32Array [count × channels].
// By default the session lives in a worker thread (model/ort-worker.mjs): onnxruntime-node's run() blocks its
// thread for the whole pass, and the pipeline's event loop (progress, Ctrl-C, other shards) must keep going.
// onnxruntime-node loads only in the thread that runs the session (the worker, or this one for worker: false).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import { packageFile } from '../pipeline/package-files.ts';
import { buildGraph, type BuiltGraph, type GraphOutput, type GraphSpec } from './graph.ts';

/** Runtime options: threads (0 = cores), images per forward pass, and where the session runs. */
export interface SessionOptions {
  threads?: number;
  batch?: number;
  /** Host the ORT session in a worker thread (default true); false runs it on the calling thread. */
  worker?: boolean;
}

/** Per-layer activations: layer name → Float32Array of count × channels (row = stimulus). */
export type LayerActivations = Record<string, Float32Array>;

/** Runs one input tensor through a session; `pixels` may be consumed (transferred). */
export interface BatchRunner {
  run(pixels: Float32Array, dims: number[]): Promise<LayerActivations>;
  release(): Promise<void>;
}

/** The worker script (plain JavaScript, the same file for the sources and the compiled bundle). */
const ORT_WORKER = packageFile('model/ort-worker.mjs');

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** ORT on the calling thread. */
async function inlineRunner(graph: BuiltGraph, threads: number): Promise<BatchRunner> {
  const { default: ort } = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(threads));
  return {
    async run(pixels, dims) {
      const result = await session.run({ [graph.input]: new ort.Tensor('float32', pixels, dims) });
      const out: LayerActivations = {};
      for (const o of graph.outputs) out[o.name] = Float32Array.from(result[o.name].data as Float32Array);
      return out;
    },
    release: () => session.release(),
  };
}

/** ORT in a dedicated worker thread; the worker keeps the process alive only while a request is pending. */
async function workerRunner(graph: BuiltGraph, threads: number): Promise<BatchRunner> {
  const worker = new Worker(ORT_WORKER);
  worker.unref();
  let nextId = 0;
  let pending = 0;
  const waiting = new Map<number, { resolve: (v: { values?: LayerActivations }) => void; reject: (e: Error) => void }>();
  const fail = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (msg: { id: number; ok: boolean; error?: string; values?: LayerActivations }) => {
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (--pending === 0) worker.unref();
    if (msg.ok) w.resolve(msg);
    else w.reject(new Error(`ONNX Runtime: ${msg.error}`));
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`ONNX Runtime worker exited (code ${code})`)));
  const call = (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<{ values?: LayerActivations }>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      if (pending++ === 0) worker.ref();
      worker.postMessage({ ...msg, id }, transfer);
    });
  // The graph bytes are copied once into the worker (they stay usable here for inspection and tests).
  await call({ type: 'create', bytes: graph.bytes, options: sessionOptions(threads) });
  const outputs = graph.outputs.map((o) => o.name);
  return {
    async run(pixels, dims) {
      const own = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength ? pixels : pixels.slice();
      return (await call({ type: 'run', input: graph.input, pixels: own, dims, outputs }, [own.buffer as ArrayBuffer])).values!;
    },
    async release() {
      await call({ type: 'release' }).catch(() => undefined);
      await worker.terminate();
    },
  };
}

/** Opens a session on any single-input float graph (benches): in a worker thread unless `worker` is false. */
export function openRunner(graph: Pick<BuiltGraph, 'bytes' | 'input' | 'outputs'>, threads: number, worker = true): Promise<BatchRunner> {
  const g = graph as BuiltGraph;
  return worker ? workerRunner(g, threads) : inlineRunner(g, threads);
}

/** A compiled forward graph ready to run batches of images of one size. */
export class ModelSession {
  /** Calls to run() are serialised: concurrent shards share the session without oversubscribing the cores. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runner: BatchRunner,
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
    const runner = options.worker === false ? await inlineRunner(graph, threads) : await workerRunner(graph, threads);
    return new ModelSession(runner, graph, inputSize, inputChannels, Math.max(1, options.batch ?? 16), threads);
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
   * nchw graph) in batches of `batch`; returns, per layer, count × width values (width = channels, × positions for a grid). `pixels` is not modified.
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
    for (const o of this.graph.outputs) out[o.name] = new Float32Array(count * o.width);
    for (let start = 0; start < count; start += this.batch) {
      signal?.throwIfAborted();
      const n = Math.min(this.batch, count - start);
      const dims = this.graph.inputLayout === 'nhwc' ? [n, this.inputSize, this.inputSize, this.inputChannels] : [n, this.inputChannels, this.inputSize, this.inputSize];
      // A copy per batch: the worker runner takes ownership of the buffer it is given.
      const result = await this.runner.run(pixels.slice(start * per, (start + n) * per), dims);
      for (const o of this.graph.outputs) out[o.name].set(result[o.name].subarray(0, n * o.width), start * o.width);
    }
    return out;
  }

  /** Frees the native session (and its worker). */
  async release(): Promise<void> {
    await this.runner.release();
  }
}
