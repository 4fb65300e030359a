/**
 * @fileoverview ONNX TensorProto ⇄ IR Tensor: element-type codes, every data encoding (raw_data, the typed
 * repeated fields, external data files), and the standalone `.pb` tensor files of the ONNX test sets.
 */
import { dirname, resolve } from "node:path";
import { readFileSync } from "node:fs";
import type { onnx } from "onnx-proto";
import {
  DTYPE_BYTES,
  InternalError,
  XbarcError,
  allocArray,
  bytesOf,
  createTensor,
  numel,
  viewBytes,
  type DType,
  type Location,
  type Tensor,
  type TypedArray,
} from "@xbarc/ir";
import { alignPayloadInPlace } from "./align-in-place.js";
import { encodeTensorProtoAligned } from "./encode.js";
import { longToBigInt, longToNumber, proto, type LongLike } from "./proto.js";

/** ONNX TensorProto.DataType names by code (onnx.proto3 of ONNX 1.18+, including the float8/4-bit types). */
export const ONNX_DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
  8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
  15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
  20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2",
};

const DTYPE_BY_ONNX: Readonly<Record<number, DType>> = {
  1: "f32", 2: "u8", 3: "i8", 4: "u16", 5: "i16", 6: "i32", 7: "i64", 9: "bool", 10: "f16", 11: "f64", 12: "u32", 13: "u64",
};

const ONNX_BY_DTYPE: Readonly<Record<DType, number>> = {
  f32: 1, u8: 2, i8: 3, u16: 4, i16: 5, i32: 6, i64: 7, bool: 9, f16: 10, f64: 11, u32: 12, u64: 13,
};

/** The human name of an ONNX element-type code, e.g. 16 → "BFLOAT16". */
export function onnxDataTypeName(code: number): string {
  return ONNX_DATA_TYPE_NAMES[code] ?? `data type ${code}`;
}

/** The IR dtype of an ONNX element-type code, or undefined for types xbarc does not support. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return DTYPE_BY_ONNX[code];
}

/** The ONNX element-type code of an IR dtype. */
export function onnxFromDtype(dtype: DType): number {
  return ONNX_BY_DTYPE[dtype];
}

export const SUPPORTED_DATA_TYPES_HINT =
  "xbarc supports FLOAT, FLOAT16, DOUBLE, INT8/16/32/64, UINT8/16/32/64 and BOOL tensors; convert the tensor to one of them (e.g. float32) before export";

/** Where a TensorProto comes from, for messages and for resolving external data. */
export interface TensorSource {
  /** the ONNX file (or .pb file) being read, for locations */
  readonly file: string;
  /** what the tensor is, for messages: `initializer "conv1.weight"`, `attribute "value" of node "Constant_3"` */
  readonly label: string;
  /** the node the tensor belongs to (Constant nodes), for locations */
  readonly node?: string;
  /** reads an external data file named relative to the model's directory; absent = external data not available */
  readonly readExternal?: (location: string) => Uint8Array;
  /** counts how the tensor's data was obtained (view, move, copy, decode) */
  readonly stats?: TensorStorageStats;
  /**
   * the raw_data bytes lie in a buffer the importer owns (ImportOptions.alignInPlace): a misaligned payload may be
   * moved onto its own field header (align-in-place.ts) instead of copied. Never applies to external data.
   */
  readonly alignInPlace?: boolean;
}

function fail(code: "XB1008" | "XB1009" | "XB1011", src: TensorSource, message: string, hint: string, field?: string): XbarcError {
  const location: Location = { kind: "onnx", file: src.file, node: src.node, field };
  return new XbarcError(code, `${src.label}: ${message}`, { location, hint });
}

/** The dims of a TensorProto as numbers, rejecting negative ones. */
function readDims(t: onnx.ITensorProto, src: TensorSource): number[] {
  const dims = (t.dims ?? []).map((d) => longToNumber(d as LongLike));
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw fail("XB1011", src, `has an invalid dimension ${d} in dims [${dims.join(",")}]`, "dims must be non-negative integers");
    }
  }
  return dims;
}

/**
 * How the importer got the data of tensors: viewed in the file's buffer, moved within it onto an aligned offset,
 * copied once, or decoded from typed fields.
 */
export interface TensorStorageStats {
  /** raw_data or external data whose payload offset is a multiple of the element size: a typed-array view, no copy */
  viewed: number;
  /** misaligned raw_data moved down onto its own field header in a buffer the importer owns, then viewed: no copy */
  moved: number;
  /** bytes moved in place for those */
  movedBytes: number;
  /** raw_data or external data at a misaligned offset that could not be moved: copied once into a fresh buffer */
  copied: number;
  /** bytes copied for the misaligned ones */
  copiedBytes: number;
  /** float_data, int32_data, ... (typed repeated fields): converted element by element */
  decoded: number;
}

/** A fresh all-zero TensorStorageStats. */
export function emptyStorageStats(): TensorStorageStats {
  return { viewed: 0, moved: 0, movedBytes: 0, copied: 0, copiedBytes: 0, decoded: 0 };
}

/** True on little-endian hosts (every platform Node 20 ships for); ONNX raw_data is little-endian. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The payload `bytes` (a view into the file buffer, as protobufjs and readFileSync hand it out) as a typed array:
 * a view of the same memory when its absolute offset `bytes.byteOffset` (which includes the offset of a pooled
 * Buffer) is a multiple of the element size; else, with `alignInPlace` (raw_data in a buffer the importer owns),
 * a view after moving the payload down onto its own field header when that is provably safe; else one copy. Views
 * keep the whole file buffer alive, which is the point: the weights are not held twice.
 */
function viewLittleEndian(dtype: DType, bytes: Uint8Array, stats: TensorStorageStats | undefined, alignInPlace = false): TypedArray {
  if (!HOST_IS_LITTLE_ENDIAN && DTYPE_BYTES[dtype] > 1) {
    // typed arrays use the host's byte order; a big-endian host would need a byte swap that is not written
    throw new InternalError("reading ONNX raw_data on a big-endian host is not supported");
  }
  // a plain Uint8Array over the same memory: viewBytes' misaligned path then copies (Buffer#slice would be a view)
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (alignInPlace && plain.byteOffset % DTYPE_BYTES[dtype] !== 0) {
    const moved = alignPayloadInPlace(plain, DTYPE_BYTES[dtype]);
    if (moved) {
      if (stats) {
        stats.moved++;
        stats.movedBytes += moved.byteLength;
      }
      return viewBytes(dtype, moved);
    }
  }
  const data = viewBytes(dtype, plain);
  if (stats) {
    if (data.buffer === bytes.buffer) {
      stats.viewed++;
    } else {
      stats.copied++;
      stats.copiedBytes += data.byteLength;
    }
  }
  return data;
}

/** Converts an ONNX TensorProto (any encoding) into an IR tensor; raw and external data are viewed without copying when aligned (or aligned in place). */
export function tensorFromProto(t: onnx.ITensorProto, src: TensorSource): Tensor {
  const code = t.dataType ?? 0;
  const dtype = dtypeFromOnnx(code);
  if (!dtype) {
    throw fail("XB1008", src, `has element type ${onnxDataTypeName(code)}, which xbarc does not support`, SUPPORTED_DATA_TYPES_HINT, "data_type");
  }
  const shape = readDims(t, src);
  const n = numel(shape);
  const type = { dtype, shape };
  if (t.segment) {
    throw fail("XB1011", src, "is a segment of a larger tensor, which xbarc does not support", "re-save the model without chunked tensors");
  }
  if (t.dataLocation === proto.TensorProto.DataLocation.EXTERNAL) {
    return createTensor(type, readExternalData(t, src, dtype, n));
  }
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const want = n * DTYPE_BYTES[dtype];
    if (raw.length !== want) {
      throw fail("XB1011", src, `raw_data has ${raw.length} bytes, but ${dtype}[${shape.join(",")}] needs ${want}`,
        "the file is corrupt or was written by a broken exporter; re-export the model");
    }
    // ONNX raw_data is little-endian, as are the typed arrays on every platform Node supports
    return createTensor(type, viewLittleEndian(dtype, raw, src.stats, src.alignInPlace));
  }
  if (src.stats) src.stats.decoded++;
  return createTensor(type, readTypedFields(t, src, dtype, n));
}

/** Reads the repeated field that carries `dtype` per onnx.proto (int32_data also holds 8/16-bit ints, bool and float16 bits). */
function readTypedFields(t: onnx.ITensorProto, src: TensorSource, dtype: DType, n: number): TypedArray {
  let field: string;
  let values: ArrayLike<number | LongLike>;
  switch (dtype) {
    case "f32": field = "float_data"; values = t.floatData ?? []; break;
    case "f64": field = "double_data"; values = t.doubleData ?? []; break;
    case "i64": field = "int64_data"; values = (t.int64Data ?? []) as LongLike[]; break;
    case "u32": case "u64": field = "uint64_data"; values = (t.uint64Data ?? []) as LongLike[]; break;
    default: field = "int32_data"; values = t.int32Data ?? []; break;
  }
  if (values.length !== n) {
    const what = values.length === 0 ? "has no data" : `${field} has ${values.length} values`;
    throw fail("XB1011", src, `${what}, but its dims [${(t.dims ?? []).join(",")}] need ${n} ${dtype} values`,
      "the file is corrupt or was written by a broken exporter; re-export the model", field);
  }
  const out = allocArray(dtype, n);
  if (dtype === "i64" || dtype === "u64") {
    const unsigned = dtype === "u64";
    const big = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) big[i] = longToBigInt(values[i] as LongLike, unsigned);
  } else if (dtype === "u32") {
    const u = out as Uint32Array;
    for (let i = 0; i < n; i++) u[i] = longToNumber(values[i] as LongLike);
  } else if (dtype === "bool") {
    const b = out as Uint8Array;
    for (let i = 0; i < n; i++) b[i] = values[i] ? 1 : 0;
  } else {
    // f16 bits, 8/16-bit ints: the typed-array store keeps the low bits, which is how int32_data encodes them
    (out as Exclude<TypedArray, BigInt64Array | BigUint64Array>).set(values as ArrayLike<number>);
  }
  return out;
}

/** Reads `data_location = EXTERNAL` data: keys location/offset/length, the file named relative to the model. */
function readExternalData(t: onnx.ITensorProto, src: TensorSource, dtype: DType, n: number): TypedArray {
  const entries = new Map<string, string>();
  for (const e of t.externalData ?? []) entries.set(e.key ?? "", e.value ?? "");
  const location = entries.get("location");
  if (!location) {
    throw fail("XB1009", src, "is stored as external data but names no file (external_data has no \"location\")",
      "re-save the model with onnx.save_model(..., save_as_external_data=True) or with the data inline", "external_data");
  }
  const offset = Number(entries.get("offset") ?? "0");
  const want = n * DTYPE_BYTES[dtype];
  const length = entries.has("length") ? Number(entries.get("length")) : undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw fail("XB1011", src, `has a bad external data offset/length (${entries.get("offset")}/${entries.get("length")})`,
      "offset and length must be non-negative byte counts", "external_data");
  }
  if (length !== undefined && length !== want) {
    throw fail("XB1011", src, `external data length is ${length} bytes, but ${dtype}[${n}] needs ${want}`,
      "the model and its data file do not belong together; re-export the model", "external_data");
  }
  if (!src.readExternal) {
    throw fail("XB1009", src, `is stored in the external file "${location}", but the model was given as bytes without a directory`,
      "load the model with loadOnnxFile (or pass readExternal) so that the data file beside it can be read", "external_data");
  }
  let file: Uint8Array;
  try {
    file = src.readExternal(location);
  } catch (e) {
    if (e instanceof XbarcError) throw e;
    throw fail("XB1009", src, `external data file "${location}" cannot be read: ${(e as Error).message}`,
      "keep the data file next to the .onnx file, with the name the model records", "external_data");
  }
  if (offset + want > file.length) {
    throw fail("XB1009", src,
      `external data file "${location}" is too short: needs bytes ${offset}..${offset + want}, the file has ${file.length}`,
      "the data file is truncated or belongs to another export; copy it again", "external_data");
  }
  // not aligned in place: an external data file has no field header to move onto
  return viewLittleEndian(dtype, file.subarray(offset, offset + want), src.stats);
}

/** Decodes a serialized ONNX TensorProto (`input_0.pb`): its name and value. Errors are XB4003 naming the file. */
export function decodeTensorProto(bytes: Uint8Array, file: string): { name: string; tensor: Tensor } {
  if (bytes.length === 0) {
    // an empty message is a valid TensorProto of an undefined type, so say what is really wrong
    throw new XbarcError("XB4003", `tensor file "${file}" is empty`, {
      location: { kind: "file", file }, hint: "the file should be a serialized onnx.TensorProto (e.g. input_0.pb)",
    });
  }
  let t: onnx.TensorProto;
  try {
    t = proto.TensorProto.decode(bytes);
  } catch (e) {
    throw new XbarcError("XB4003", `tensor file "${file}" is not a valid ONNX TensorProto: protobufjs reported "${(e as Error).message}"`, {
      location: { kind: "file", file }, hint: "the file is truncated or is not a serialized onnx.TensorProto", cause: e,
    });
  }
  const name = t.name ?? "";
  const dir = dirname(file);
  try {
    const tensor = tensorFromProto(t, {
      file,
      label: `tensor file "${file}"${name ? ` (tensor "${name}")` : ""}`,
      readExternal: (location) => readFileSync(resolve(dir, location)),
    });
    return { name, tensor };
  } catch (e) {
    if (!(e instanceof XbarcError)) throw e;
    throw new XbarcError("XB4003", e.message, { location: { kind: "file", file }, hint: e.hint, cause: e });
  }
}

/**
 * Serializes a tensor as an ONNX TensorProto with raw_data (little-endian), readable by onnx and onnxruntime; the
 * payload starts at a 64-byte-aligned offset in the returned bytes (encode.ts), so decodeTensorProto views it.
 */
export function encodeTensorProto(name: string, tensor: Tensor): Uint8Array {
  return encodeTensorProtoAligned({
    name,
    dims: [...tensor.type.shape],
    dataType: onnxFromDtype(tensor.type.dtype),
    rawData: bytesOf(tensor.data),
  });
}
