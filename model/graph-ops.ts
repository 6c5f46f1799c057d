// ONNX nodes and initializers for one op of a network (opset 17), as model/graph.ts emits them: explicit pads,
// square windows, constants as initializers named after the op.
// Tested in test/model/graph.test.ts.
import { ModelError } from '../pipeline/errors.ts';
import type { NetworkOp } from './network.ts';
import { AttributeType, floatTensor, int64Tensor, type AttributeObject, type NodeObject, type TensorObject } from './onnx-proto.ts';
import type { NetworkWeights } from './weights.ts';

/** ONNX INTS attribute. */
export function ints(name: string, values: number[]): AttributeObject {
  return { name, type: AttributeType.INTS, ints: values };
}
/** ONNX INT attribute. */
export function int(name: string, value: number): AttributeObject {
  return { name, type: AttributeType.INT, i: value };
}
/** ONNX FLOAT attribute. */
export function float(name: string, value: number): AttributeObject {
  return { name, type: AttributeType.FLOAT, f: value };
}

/** What one op contributes to the graph. */
export interface EmittedOp {
  nodes: NodeObject[];
  inits: TensorObject[];
}

/**
 * The ONNX node(s) of one op reading `inputs` and writing `output`. Conv weights come from `weights` (by op name);
 * `kernelOverride` replaces a conv's kernel (the RGB→BGR swap folded into a first conv).
 */
export function emitOp(op: NetworkOp, inputs: string[], output: string, weights: NetworkWeights, kernelOverride?: Float32Array): EmittedOp {
  const nodes: NodeObject[] = [];
  const inits: TensorObject[] = [];
  const [x] = inputs;
  const window = (o: { kernel: number; stride: number; padBegin: number; padEnd: number }) => [
    ints('kernel_shape', [o.kernel, o.kernel]), ints('strides', [o.stride, o.stride]), ints('pads', [o.padBegin, o.padBegin, o.padEnd, o.padEnd]),
  ];
  switch (op.op) {
    case 'conv': {
      const w = weights.layers.get(op.name);
      if (!w) throw new ModelError(`model.weights: no weights for layer '${op.name}'.`);
      const k = op.kernel;
      const group = op.group ?? 1;
      const perGroup = op.inChannels / group;
      const expected = op.outChannels * perGroup * k * k;
      if (w.kernel.length !== expected || w.bias.length !== op.outChannels) {
        throw new ModelError(`model.weights: layer '${op.name}' has ${w.kernel.length} kernel values and ${w.bias.length} biases, expected ${expected} (${op.outChannels}×${perGroup}×${k}×${k}) and ${op.outChannels}.`);
      }
      inits.push(floatTensor(`${op.name}_W`, [op.outChannels, perGroup, k, k], kernelOverride ?? w.kernel));
      inits.push(floatTensor(`${op.name}_B`, [op.outChannels], w.bias));
      nodes.push({
        name: op.name, opType: 'Conv', input: [x!, `${op.name}_W`, `${op.name}_B`], output: [output],
        attribute: [...window(op), ints('dilations', [op.dilation, op.dilation]), int('group', group)],
      });
      break;
    }
    case 'relu':
      nodes.push({ name: op.name, opType: 'Relu', input: [x!], output: [output] });
      break;
    case 'maxpool':
      nodes.push({ name: op.name, opType: 'MaxPool', input: [x!], output: [output], attribute: [...window(op), ints('dilations', [op.dilation, op.dilation]), int('ceil_mode', op.ceilMode ? 1 : 0)] });
      break;
    case 'avgpool':
      nodes.push({ name: op.name, opType: 'AveragePool', input: [x!], output: [output], attribute: [...window(op), int('ceil_mode', op.ceilMode ? 1 : 0), int('count_include_pad', op.countIncludePad ? 1 : 0)] });
      break;
    case 'leakyrelu':
      nodes.push({ name: op.name, opType: 'LeakyRelu', input: [x!], output: [output], attribute: [float('alpha', op.alpha)] });
      break;
    case 'sigmoid':
      nodes.push({ name: op.name, opType: 'Sigmoid', input: [x!], output: [output] });
      break;
    case 'hardsigmoid':
      nodes.push({ name: op.name, opType: 'HardSigmoid', input: [x!], output: [output], attribute: [float('alpha', op.alpha), float('beta', op.beta)] });
      break;
    case 'hardswish':
      nodes.push({ name: op.name, opType: 'HardSwish', input: [x!], output: [output] });
      break;
    case 'clip': {
      const bound = (v: number, which: string) => {
        if (!Number.isFinite(v)) return '';
        inits.push(floatTensor(`${op.name}_${which}`, [], Float32Array.of(v)));
        return `${op.name}_${which}`;
      };
      nodes.push({ name: op.name, opType: 'Clip', input: [x!, bound(op.min, 'min'), bound(op.max, 'max')], output: [output] });
      break;
    }
    case 'batchnorm': {
      const c = op.scale.length;
      const names = ['scale', 'bias', 'mean', 'var'].map((p) => `${op.name}_${p}`);
      [op.scale, op.bias, op.mean, op.variance].forEach((v, k) => inits.push(floatTensor(names[k]!, [c], v)));
      nodes.push({ name: op.name, opType: 'BatchNormalization', input: [x!, ...names], output: [output], attribute: [float('epsilon', op.epsilon)] });
      break;
    }
    case 'lrn':
      nodes.push({ name: op.name, opType: 'LRN', input: [x!], output: [output], attribute: [int('size', op.size), float('alpha', op.alpha), float('beta', op.beta), float('bias', op.bias)] });
      break;
    case 'pad':
      inits.push(int64Tensor(`${op.name}_pads`, [8], [0, 0, op.padBegin, op.padBegin, 0, 0, op.padEnd, op.padEnd]));
      inits.push(floatTensor(`${op.name}_value`, [], Float32Array.of(op.value)));
      nodes.push({ name: op.name, opType: 'Pad', input: [x!, `${op.name}_pads`, `${op.name}_value`], output: [output], attribute: [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('constant') }] });
      break;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div': {
      const opType = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' }[op.op];
      let operands = inputs;
      if (op.constant) {
        const c = op.constant;
        inits.push(floatTensor(`${op.name}_constant`, c.length === 1 ? [1] : [c.length, 1, 1], c));
        operands = op.constantFirst ? [`${op.name}_constant`, x!] : [x!, `${op.name}_constant`];
      }
      nodes.push({ name: op.name, opType, input: operands, output: [output] });
      break;
    }
    case 'concat':
      nodes.push({ name: op.name, opType: 'Concat', input: inputs, output: [output], attribute: [int('axis', 1)] });
      break;
    case 'identity':
      nodes.push({ name: op.name, opType: 'Identity', input: [x!], output: [output] });
      break;
  }
  return { nodes, inits };
}
