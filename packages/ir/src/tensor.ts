/** @fileoverview Tensor = static type + typed-array storage; float16 conversion; element read/write as numbers. */
import { allocArray, formatType, isBigIntDType, numel, type DType, type TensorType, type TypedArray } from "./types.js";

/** A tensor value: a type and its row-major data (i64/u64 as BigInt arrays, f16 as raw half bits). */
export interface Tensor {
  readonly type: TensorType;
  readonly data: TypedArray;
}

export function createTensor(type: TensorType, data?: TypedArray): Tensor {
  const n = numel(type.shape);
  const d = data ?? allocArray(type.dtype, n);
  if (d.length !== n) throw new Error(`tensor ${formatType(type)} needs ${n} elements, got ${d.length}`);
  return { type: { dtype: type.dtype, shape: [...type.shape] }, data: d };
}

/** Builds a tensor from plain numbers (rounded/wrapped by the typed array, as a cast would). */
export function tensorFromNumbers(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  const t = createTensor({ dtype, shape });
  writeNumbers(t, values);
  return t;
}

/** Reads every element as a JS number (f16 decoded, i64 converted; exact below 2^53). */
export function readNumbers(t: Tensor): Float64Array {
  const n = t.data.length;
  const out = new Float64Array(n);
  const { dtype } = t.type;
  if (dtype === "f16") {
    const d = t.data as Uint16Array;
    for (let i = 0; i < n; i++) out[i] = halfToFloat(d[i]!);
  } else if (isBigIntDType(dtype)) {
    const d = t.data as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) out[i] = Number(d[i]!);
  } else {
    out.set(t.data as Exclude<TypedArray, BigInt64Array | BigUint64Array>);
  }
  return out;
}

/** Writes numbers into a tensor, converting as a cast to its dtype would (ints truncate toward zero). */
export function writeNumbers(t: Tensor, values: ArrayLike<number>): void {
  const { dtype } = t.type;
  const n = t.data.length;
  if (dtype === "f16") {
    const d = t.data as Uint16Array;
    for (let i = 0; i < n; i++) d[i] = floatToHalf(values[i]!);
  } else if (isBigIntDType(dtype)) {
    const d = t.data as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      d[i] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    }
  } else if (dtype === "bool") {
    const d = t.data as Uint8Array;
    for (let i = 0; i < n; i++) d[i] = values[i] ? 1 : 0;
  } else {
    // typed-array stores truncate toward zero and wrap, which is what a cast does
    (t.data as Exclude<TypedArray, BigInt64Array | BigUint64Array>).set(values);
  }
}

/** The values of a small integer tensor (shapes, axes, indices) as numbers. */
export function readInts(t: Tensor): number[] {
  return Array.from(readNumbers(t));
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** IEEE 754 half bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number → IEEE 754 half bits, round to nearest even (via float32, as hardware converters do). */
export function floatToHalf(x: number): number {
  f32buf[0] = x;
  const f = u32buf[0]!;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  let mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
