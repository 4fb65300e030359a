/** @fileoverview The onnx-proto namespace (CommonJS, protobufjs 6) and conversions of its int64 (Long) fields. */
import onnxProto from "onnx-proto";

/** The generated ONNX protobuf classes at run time (ModelProto, TensorProto, ...); types come from `import type { onnx }`. */
export const proto = onnxProto.onnx;

/** protobufjs decodes int64 fields as `Long` objects when the `long` package is present, else as numbers. */
export type LongLike = number | { low: number; high: number; unsigned: boolean };

/** An int64 field as a JS number (exact below 2^53; proto dims and attribute ints always are). */
export function longToNumber(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  const low = v.low >>> 0;
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  return high * 4294967296 + low;
}

/** An int64 field as an exact signed (or unsigned) BigInt. */
export function longToBigInt(v: LongLike | null | undefined, unsigned = false): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === "number") return unsigned ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}
