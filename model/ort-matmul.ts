// ONNX Runtime implementation of science/gemm.ts's MatMul: tiny one-op graphs (Gemm, batched MatMul, weighted
// Gram) with symbolic dimensions, one lazily created session per graph kind, calls serialised so that
// concurrent callers in one process do not oversubscribe the cores (docs/method.md §6: ~230 GFLOP/s vs ~1 in JS loops).
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { FixedOperand, GemmOptions, MatMul } from '../science/gemm.ts';
import { checkSize } from '../science/gemm.ts';
import { AttributeType, DataType, encodeModel, floatTensor, type NodeObject, type ValueInfoObject } from './onnx-proto.ts';

/** A float input/output with symbolic dimensions. */
function floatValue(name: string, dims: (string | number)[]): ValueInfoObject {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A one-graph ONNX model (opset 17). */
function model(nodes: NodeObject[], inputs: ValueInfoObject[], outputs: ValueInfoObject[]): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'revcor-matmul',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'matmul', node: nodes, input: inputs, output: outputs },
  });
}

const intAttr = (name: string, i: number) => ({ name, type: AttributeType.INT, i });

/** Y = op(A)·op(B) (+ C when withC), 2-D. */
function gemmModel(transA: boolean, transB: boolean, withC = false): Uint8Array {
  return model(
    [{ opType: 'Gemm', input: withC ? ['A', 'B', 'C'] : ['A', 'B'], output: ['Y'], attribute: [intAttr('transA', transA ? 1 : 0), intAttr('transB', transB ? 1 : 0)] }],
    [floatValue('A', ['a0', 'a1']), floatValue('B', ['b0', 'b1']), ...(withC ? [floatValue('C', ['m', 'n'])] : [])],
    [floatValue('Y', ['m', 'n'])],
  );
}

/** Y[b] = op(A[b])·op(B[b]), 3-D batched (transposes as Transpose nodes feeding MatMul). */
function batchedModel(transA: boolean, transB: boolean): Uint8Array {
  const nodes: NodeObject[] = [];
  let a = 'A';
  let b = 'B';
  const perm = { name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1] };
  if (transA) {
    nodes.push({ opType: 'Transpose', input: ['A'], output: ['At'], attribute: [perm] });
    a = 'At';
  }
  if (transB) {
    nodes.push({ opType: 'Transpose', input: ['B'], output: ['Bt'], attribute: [perm] });
    b = 'Bt';
  }
  nodes.push({ opType: 'MatMul', input: [a, b], output: ['Y'] });
  return model(nodes, [floatValue('A', ['n', 'a1', 'a2']), floatValue('B', ['n', 'b1', 'b2'])], [floatValue('Y', ['n', 'm', 'k'])]);
}

/** G = Xᵀ diag(a) X with X [N, D], a [N, 1]. */
function weightedGramModel(): Uint8Array {
  return model(
    [
      { opType: 'Mul', input: ['X', 'a'], output: ['Xa'] },
      { opType: 'Gemm', input: ['Xa', 'X'], output: ['G'], attribute: [intAttr('transA', 1)] },
    ],
    [floatValue('X', ['N', 'D']), floatValue('a', ['N', 1])],
    [floatValue('G', ['D', 'D2'])],
  );
}

/**
 * A fixed Y (rows×D) as the weights of a 1×1 convolution, so that ONNX Runtime prepacks it for its NCHWc kernels:
 * `times` reads B (D×n) as the image [1, D, n, 1] and returns Y·B as [1, rows, n, 1]; `transpose` convolves with
 * Yᵀ (constant-folded from Y) and adds C: Yᵀ·B + C as [1, D, n, 1]. On these machines both run 1.2–1.5× faster
 * than the same product as Gemm (docs/performance.md; `npm run bench -- awc-prepared`).
 */
function fixedModel(Y: Float32Array, rows: number, D: number, transpose: boolean): Uint8Array {
  const [cin, cout] = transpose ? [rows, D] : [D, rows];
  const nodes: NodeObject[] = [];
  let w = 'Y';
  if (transpose) {
    nodes.push({ opType: 'Transpose', input: ['Y'], output: ['Yt'], attribute: [{ name: 'perm', type: AttributeType.INTS, ints: [1, 0, 2, 3] }] });
    w = 'Yt';
  }
  nodes.push({ opType: 'Conv', input: ['B', w], output: [transpose ? 'Z' : 'P'] });
  if (transpose) nodes.push({ opType: 'Add', input: ['Z', 'C'], output: ['P'] });
  return encodeModel({
    irVersion: 8,
    producerName: 'revcor-matmul',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'fixed',
      node: nodes,
      initializer: [floatTensor('Y', [rows, D, 1, 1], Y)],
      input: [floatValue('B', [1, cin, 'n', 1]), ...(transpose ? [floatValue('C', [1, cout, 'n', 1])] : [])],
      output: [floatValue('P', [1, cout, 'n', 1])],
    },
  });
}

/** Options of the ORT matrix-product backend. */
export interface OrtMatMulOptions {
  /** Intra-op threads (0 or absent: all cores). */
  threads?: number;
}

/** MatMul on ONNX Runtime (CPU execution provider). */
export class OrtMatMul implements MatMul {
  readonly name = 'ort';
  readonly threads: number;
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: OrtMatMulOptions = {}) {
    this.threads = opts.threads && opts.threads > 0 ? opts.threads : availableParallelism();
  }

  private session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = this.create(build());
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Creates a session with this backend's threads. */
  private create(bytes: Uint8Array): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(bytes, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  }

  /** Runs one session call after the previous ones (serialised). */
  private run(key: string, build: () => Uint8Array, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
    return this.runOn(() => this.session(key, build), feeds, output);
  }

  /** Runs one call of the given session after the previous ones (serialised). */
  private runOn(get: () => Promise<ort.InferenceSession>, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
    const next = this.queue.then(async () => {
      const s = await get();
      const out = await s.run(feeds);
      const t = out[output];
      const data = t.data as Float32Array;
      t.dispose?.();
      return data;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async gemm(A: Float32Array, B: Float32Array, m: number, k: number, n: number, opts: GemmOptions = {}): Promise<Float32Array> {
    checkSize('A', A, m * k);
    checkSize('B', B, k * n);
    const tA = !!opts.transA;
    const tB = !!opts.transB;
    const C = opts.addTo;
    if (C) checkSize('addTo', C, m * n);
    if (m === 0 || n === 0) return new Float32Array(m * n);
    if (k === 0) return C ? C.slice() : new Float32Array(m * n);
    const feeds: Record<string, ort.Tensor> = {
      A: new ort.Tensor('float32', A, tA ? [k, m] : [m, k]),
      B: new ort.Tensor('float32', B, tB ? [n, k] : [k, n]),
    };
    if (C) feeds['C'] = new ort.Tensor('float32', C, [m, n]);
    return this.run(`gemm${+tA}${+tB}${C ? 'c' : ''}`, () => gemmModel(tA, tB, !!C), feeds, 'Y');
  }

  async gemmBatched(
    batch: number,
    A: Float32Array,
    B: Float32Array,
    m: number,
    k: number,
    n: number,
    opts: GemmOptions = {},
  ): Promise<Float32Array> {
    checkSize('A', A, batch * m * k);
    checkSize('B', B, batch * k * n);
    if (batch === 0 || m === 0 || n === 0 || k === 0) return new Float32Array(batch * m * n);
    const tA = !!opts.transA;
    const tB = !!opts.transB;
    return this.run(
      `bmm${+tA}${+tB}`,
      () => batchedModel(tA, tB),
      {
        A: new ort.Tensor('float32', A, tA ? [batch, k, m] : [batch, m, k]),
        B: new ort.Tensor('float32', B, tB ? [batch, n, k] : [batch, k, n]),
      },
      'Y',
    );
  }

  async fix(Y: Float32Array, rows: number, D: number): Promise<FixedOperand> {
    checkSize('Y', Y, rows * D);
    const left = this.create(fixedModel(Y, rows, D, false));
    const right = this.create(fixedModel(Y, rows, D, true));
    const [l, r] = await Promise.all([left, right]);
    return {
      times: (B, n) => {
        checkSize('B', B, D * n);
        if (n === 0) return Promise.resolve(new Float32Array(0));
        return this.runOn(async () => l, { B: new ort.Tensor('float32', B, [1, D, n, 1]) }, 'P');
      },
      transposeTimes: (B, n, addTo) => {
        checkSize('B', B, rows * n);
        if (addTo) checkSize('addTo', addTo, D * n);
        const C = addTo ?? new Float32Array(D * n);
        if (n === 0) return Promise.resolve(C.slice());
        return this.runOn(async () => r, { B: new ort.Tensor('float32', B, [1, rows, n, 1]), C: new ort.Tensor('float32', C, [1, D, n, 1]) }, 'P');
      },
      dispose: async () => {
        await l.release();
        await r.release();
      },
    };
  }

  async weightedGram(X: Float32Array, a: Float32Array, N: number, D: number): Promise<Float32Array> {
    checkSize('X', X, N * D);
    checkSize('a', a, N);
    if (N === 0) return new Float32Array(D * D);
    return this.run(
      'wgram',
      weightedGramModel,
      { X: new ort.Tensor('float32', X, [N, D]), a: new ort.Tensor('float32', a, [N, 1]) },
      'G',
    );
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}
