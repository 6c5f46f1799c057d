// The subset of onnx.proto (ONNX IR, field numbers as in onnx/onnx.proto3) that revcor writes and reads,
// defined through protobufjs reflection; unknown fields in files are skipped by the decoder.
// Tested in test/model/onnx-file.test.ts.
import protobuf from 'protobufjs';

const descriptor = {
  nested: {
    onnx: {
      nested: {
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 }, denotation: { type: 'string', id: 3 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, docString: { type: 'string', id: 3 } } },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32Data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            docString: { type: 'string', id: 12 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7, options: { packed: true } },
            ints: { rule: 'repeated', type: 'int64', id: 8, options: { packed: true } },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

/** onnx.ModelProto message type (encode / decode / fromObject). */
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** Plain-object shapes of the messages (the fields revcor uses; int64 fields decode as number | Long). */
export type Int64 = number | { toNumber(): number };
export interface TensorObject {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  dataLocation?: number;
}
export interface AttributeObject {
  name: string;
  type: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorObject;
  floats?: number[];
  ints?: Int64[];
}
export interface NodeObject {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: AttributeObject[];
}
export interface ValueInfoObject {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: Int64; dimParam?: string }[] } } };
}
export interface GraphObject {
  name?: string;
  node?: NodeObject[];
  initializer?: TensorObject[];
  input?: ValueInfoObject[];
  output?: ValueInfoObject[];
}
export interface ModelObject {
  irVersion?: Int64;
  producerName?: string;
  opsetImport?: { domain?: string; version?: Int64 }[];
  graph?: GraphObject;
}

/** int64 field value → JS number. */
export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Serialises a model object to ONNX protobuf bytes. */
export function encodeModel(model: ModelObject): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model as Record<string, unknown>)).finish();
}

/** Parses ONNX protobuf bytes (throws on malformed input). */
export function decodeModel(bytes: Uint8Array): ModelObject {
  return ModelProto.toObject(ModelProto.decode(bytes), { defaults: false, arrays: true }) as ModelObject;
}

/** A float32 initializer stored as raw little-endian bytes. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorObject {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** An int64 initializer (shapes, slice bounds). */
export function int64Tensor(name: string, dims: number[], data: number[]): TensorObject {
  return { name, dims, dataType: DataType.INT64, int64Data: data };
}

/** The float values of a tensor, from raw bytes or typed fields. */
export function tensorFloats(t: TensorObject): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    // Copy into a fresh, aligned buffer (the decoder may hand out a view of a larger Buffer; Buffer.slice is a view).
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    if (t.dataType === DataType.DOUBLE) return Float32Array.from(new Float64Array(copy.buffer));
    if (t.dataType !== DataType.FLOAT) throw new Error(`tensor '${t.name}': data type ${t.dataType}, expected float32 or float64`);
    return new Float32Array(copy.buffer);
  }
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  if (t.doubleData && t.doubleData.length > 0) return Float32Array.from(t.doubleData);
  return new Float32Array(0);
}

/** The values of a float, double, int32 or int64 tensor as JS numbers (constants: shapes, pads, scalars); null for other types. */
export function tensorNumbers(t: TensorObject): number[] | null {
  const type = t.dataType ?? DataType.FLOAT;
  if (type === DataType.FLOAT || type === DataType.DOUBLE) return Array.from(tensorFloats(t));
  if (type !== DataType.INT64 && type !== DataType.INT32) return null;
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    return type === DataType.INT64 ? Array.from(new BigInt64Array(copy.buffer), Number) : Array.from(new Int32Array(copy.buffer));
  }
  return type === DataType.INT64 ? (t.int64Data ?? []).map(int64) : [...(t.int32Data ?? [])];
}
