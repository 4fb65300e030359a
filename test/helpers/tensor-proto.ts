/** @fileoverview Reads ONNX TensorProto files (input_0.pb and output_0.pb of the test_data_set folders) with onnx-proto directly, as an oracle independent of the frontend. */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** A float tensor read from a `.pb` file. */
export interface ProtoTensor {
  readonly name: string;
  readonly dims: number[];
  readonly data: Float32Array;
}

/** Decodes a serialized float32 TensorProto (raw_data or float_data). */
export function readFloatTensorProto(path: string): ProtoTensor {
  const t = onnx.TensorProto.decode(readFileSync(path));
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${path}: data_type ${t.dataType}, expected FLOAT (1)`);
  const dims = t.dims.map((d) => Number(d));
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData && t.rawData.length > 0) {
    // copy into a fresh buffer: raw_data is a Buffer view, possibly unaligned, into a larger pool
    const bytes = new Uint8Array(t.rawData.length);
    bytes.set(t.rawData);
    data = new Float32Array(bytes.buffer);
  } else {
    data = Float32Array.from(t.floatData);
  }
  if (data.length !== n) throw new Error(`${path}: ${data.length} values for dims [${dims}]`);
  return { name: t.name, dims, data };
}
