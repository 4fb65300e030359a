/** @fileoverview Typed-array helpers shared by the interpreter kernels: float compute arrays, f16 round trips, allocation. */
import { floatToHalf, halfToFloat, type Tensor } from "../tensor.js";
import type { DType, TypedArray } from "../types.js";

/** Storage the float kernels compute in: f32 (and f16, widened) in Float32Array, f64 in Float64Array. */
export type FloatArray = Float32Array | Float64Array;

/** Typed arrays whose elements are JS numbers (everything but i64/u64). */
export type NumberArray = Exclude<TypedArray, BigInt64Array | BigUint64Array>;

/** A zeroed array of the same kind as `like`. */
export function allocLike<T extends TypedArray>(like: T, n: number): T {
  const ctor = like.constructor as new (n: number) => T;
  return new ctor(n);
}

/** The float data of a tensor in compute precision: f32/f64 as stored (no copy), f16 widened to f32. */
export function floatData(t: Tensor): FloatArray {
  switch (t.type.dtype) {
    case "f32": return t.data as Float32Array;
    case "f64": return t.data as Float64Array;
    case "f16": {
      const h = t.data as Uint16Array;
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]!);
      return out;
    }
    default:
      throw new Error(`expected a float tensor, found ${t.type.dtype}`);
  }
}

/** Stores computed floats as `dtype`: f16 rounds to half bits (round to nearest even), f32/f64 are kept. */
export function storeFloat(dtype: DType, data: FloatArray): TypedArray {
  if (dtype !== "f16") return data;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]!);
  return out;
}

/** A float compute array of `n` elements for `dtype` (Float64Array only for f64). */
export function allocFloat(dtype: DType, n: number): FloatArray {
  return dtype === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** True for BigInt-backed storage (i64/u64). */
export function isBigIntArray(a: TypedArray): a is BigInt64Array | BigUint64Array {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** Product of all dims. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
