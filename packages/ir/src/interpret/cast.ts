/** @fileoverview ONNX Cast among f16/f32/f64, the integer types and bool. */
import { floatToHalf, halfToFloat } from "../tensor.js";
import { allocArray, isBigIntDType, type DType, type TypedArray } from "../types.js";
import type { NumberArray } from "./common.js";

/**
 * Converts `x` (stored as `from`) to `to`: float→int truncates toward zero and NaN/±Inf become 0 (out-of-range
 * values wrap like the typed array); float→bool is x ≠ 0; i64/u64 ↔ i64/u64 stays exact through BigInt.
 */
export function castImpl(x: TypedArray, from: DType, to: DType): TypedArray {
  const n = x.length;
  const out = allocArray(to, n);
  if (from === to) {
    (out as { set(a: ArrayLike<number | bigint>): void }).set(x as ArrayLike<number | bigint>);
    return out;
  }
  if (isBigIntDType(from) && isBigIntDType(to)) {
    // BigInt64Array ↔ BigUint64Array stores wrap modulo 2^64
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) o[i] = (x as BigInt64Array)[i]!;
    return out;
  }
  // read every source element as a number
  const read: (i: number) => number =
    from === "f16" ? (i) => halfToFloat((x as Uint16Array)[i]!)
    : isBigIntDType(from) ? (i) => Number((x as BigInt64Array)[i]!)
    : (i) => (x as NumberArray)[i]!;
  if (to === "f16") {
    const o = out as Uint16Array;
    for (let i = 0; i < n; i++) o[i] = floatToHalf(read(i));
  } else if (to === "bool") {
    const o = out as Uint8Array;
    for (let i = 0; i < n; i++) o[i] = read(i) !== 0 ? 1 : 0;
  } else if (isBigIntDType(to)) {
    const o = out as BigInt64Array;
    const wrap = to === "u64" ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
    for (let i = 0; i < n; i++) {
      const v = read(i);
      o[i] = Number.isFinite(v) ? wrap(BigInt(Math.trunc(v))) : 0n;
    }
  } else {
    // float targets round; integer targets truncate toward zero and wrap, which is what typed-array stores do
    // (NaN and ±Inf store as 0)
    const o = out as NumberArray;
    if (from === "f16" || isBigIntDType(from)) for (let i = 0; i < n; i++) o[i] = read(i);
    else o.set(x as NumberArray);
  }
  return out;
}
