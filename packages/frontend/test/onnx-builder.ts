/** @fileoverview Builds small ONNX models with onnx-proto's encoder for the importer tests. */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;

/** ONNX element-type codes used by the tests. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

export type AttrInput = number | string | number[] | { floats: number[] } | { tensor: onnxProto.onnx.ITensorProto } | { float: number };

/** An AttributeProto from a plain value: integers → INT, other numbers → FLOAT, arrays of ints → INTS. */
export function attr(name: string, value: AttrInput): onnxProto.onnx.IAttributeProto {
  if (typeof value === "string") return { name, type: AT.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") return Number.isInteger(value) ? { name, type: AT.INT, i: value } : { name, type: AT.FLOAT, f: value };
  if (Array.isArray(value)) return { name, type: AT.INTS, ints: value };
  if ("floats" in value) return { name, type: AT.FLOATS, floats: value.floats };
  if ("float" in value) return { name, type: AT.FLOAT, f: value.float };
  return { name, type: AT.TENSOR, t: value.tensor };
}

/** A NodeProto; `attrs` values become typed attributes. */
export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrInput> = {}, name = ""): onnxProto.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) };
}

/** A ValueInfoProto; a string dim is a dim_param, null an unset dim. */
export function valueInfo(name: string, elemType: number, dims: (number | string | null)[] | undefined): onnxProto.onnx.IValueInfoProto {
  const shape = dims === undefined ? null : { dim: dims.map((d) => (d === null ? {} : typeof d === "string" ? { dimParam: d } : { dimValue: d })) };
  return { name, type: { tensorType: { elemType, shape } } };
}

/** A float32 initializer stored as raw_data. */
export function rawFloatTensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  const data = new Float32Array(values);
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(data.buffer) };
}

/** An int64 initializer stored as raw_data. */
export function rawInt64Tensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: DT.INT64, rawData: new Uint8Array(data.buffer) };
}

export interface ModelSpec {
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  valueInfo?: onnxProto.onnx.IValueInfoProto[];
  opset?: number;
  irVersion?: number;
  domain?: string;
}

/** Encodes a ModelProto with one graph. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: "xbarc-test",
    producerVersion: "1",
    opsetImport: [{ domain: spec.domain ?? "", version: spec.opset ?? 13 }],
    graph: {
      name: "g",
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
      valueInfo: spec.valueInfo ?? [],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The index of `needle` in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Copies `bytes` into a fresh buffer at an offset chosen so that `needle` inside it starts at an address ≡ `residue` (mod `align`). */
export function placeAt(bytes: Uint8Array, needle: Uint8Array, align: number, residue: number): Uint8Array {
  const at = indexOfBytes(bytes, needle);
  if (at < 0) throw new Error("needle not found in encoded bytes");
  const shift = (((residue - at) % align) + align) % align;
  const buf = new Uint8Array(new ArrayBuffer(bytes.length + align), shift, bytes.length);
  buf.set(bytes);
  return buf;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}
