/** @fileoverview Elementwise kernels: broadcast add/sub/mul/div (dtype-generic, BigInt for i64/u64), activations, clip. */
import { stridesOf, type TypedArray } from "../types.js";
import { allocLike, isBigIntArray, sizeOf, type FloatArray, type NumberArray } from "./common.js";

/** The broadcast binary ops. */
export type BinaryKind = "add" | "sub" | "mul" | "div";

/** A contiguous run of the broadcast iteration: out[o+i] = f(a[ia+i·sa], b[ib+i·sb]) for i < n. */
type RunFn = (o: number, ia: number, ib: number, n: number, sa: number, sb: number) => void;

/**
 * Walks the broadcast of a and b over `outShape` as contiguous runs. Adjacent dims are merged whenever both
 * operands step through them contiguously, so a same-shape add is one run and a per-channel bias is one run per plane.
 */
export function forEachBroadcastRun(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[], run: RunFn): void {
  const rank = outShape.length;
  if (rank === 0) {
    run(0, 0, 0, 1, 0, 0);
    return;
  }
  const stridesFor = (shape: readonly number[]): number[] => {
    const full = stridesOf(shape);
    const off = rank - shape.length;
    return outShape.map((d, i) => (i < off || shape[i - off] === 1 ? 0 : full[i - off]!));
  };
  // coalesce dims (right to left) while both operands stay contiguous across the boundary
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  const fa = stridesFor(aShape);
  const fb = stridesFor(bShape);
  for (let i = rank - 1; i >= 0; i--) {
    const d = outShape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && fa[i] === sa[last]! * dims[last]! && fb[i] === sb[last]! * dims[last]!) {
      dims[last]! *= d;
    } else {
      dims.push(d);
      sa.push(fa[i]!);
      sb.push(fb[i]!);
    }
  }
  if (dims.length === 0) {
    run(0, 0, 0, 1, 0, 0);
    return;
  }
  dims.reverse();
  sa.reverse();
  sb.reverse();
  const r = dims.length;
  const inner = dims[r - 1]!;
  const innerA = sa[r - 1]!;
  const innerB = sb[r - 1]!;
  const total = sizeOf(outShape);
  const idx = new Array<number>(r).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < total; o += inner) {
    run(o, ia, ib, inner, innerA, innerB);
    // odometer over the outer dims
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < dims[d]!) break;
      ia -= sa[d]! * dims[d]!;
      ib -= sb[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

function numberRun(kind: BinaryKind, out: NumberArray, a: NumberArray, b: NumberArray, integer: boolean, wide32: boolean): RunFn {
  switch (kind) {
    case "add":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! + b[ib + i * sb]!;
      };
    case "sub":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! - b[ib + i * sb]!;
      };
    case "mul":
      // 32-bit integer products can exceed 2^53 as doubles; Math.imul wraps exactly like the typed array would
      if (wide32) {
        return (o, ia, ib, n, sa, sb) => {
          for (let i = 0; i < n; i++) out[o + i] = Math.imul(a[ia + i * sa]!, b[ib + i * sb]!);
        };
      }
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! * b[ib + i * sb]!;
      };
    case "div":
      if (integer) {
        // integer division truncates toward zero (ONNX/ORT); x/0 gives ±Infinity or NaN, which an int array stores as 0
        return (o, ia, ib, n, sa, sb) => {
          for (let i = 0; i < n; i++) out[o + i] = Math.trunc(a[ia + i * sa]! / b[ib + i * sb]!);
        };
      }
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! / b[ib + i * sb]!;
      };
  }
}

function bigIntRun(kind: BinaryKind, out: BigInt64Array | BigUint64Array, a: BigInt64Array | BigUint64Array, b: BigInt64Array | BigUint64Array): RunFn {
  // BigInt typed-array stores wrap modulo 2^64, so results wrap like the machine type
  switch (kind) {
    case "add":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! + b[ib + i * sb]!;
      };
    case "sub":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! - b[ib + i * sb]!;
      };
    case "mul":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa]! * b[ib + i * sb]!;
      };
    case "div":
      return (o, ia, ib, n, sa, sb) => {
        for (let i = 0; i < n; i++) {
          const d = b[ib + i * sb]!;
          out[o + i] = d === 0n ? 0n : a[ia + i * sa]! / d;
        }
      };
  }
}

/**
 * a ∘ b with numpy broadcasting into `outShape`; `a` and `b` are the same kind of typed array and the result is too.
 * Float arrays compute in their own precision; integer arrays wrap and integer division truncates toward zero.
 */
export function binaryImpl(
  kind: BinaryKind,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
): TypedArray {
  const out = allocLike(a, sizeOf(outShape));
  let run: RunFn;
  if (isBigIntArray(a)) {
    run = bigIntRun(kind, out as BigInt64Array, a, b as BigInt64Array);
  } else {
    const integer = !(a instanceof Float32Array || a instanceof Float64Array);
    const wide32 = a instanceof Int32Array || a instanceof Uint32Array;
    run = numberRun(kind, out as NumberArray, a, b as NumberArray, integer, wide32);
  }
  forEachBroadcastRun(aShape, bShape, outShape, run);
  return out;
}

/** max(x, 0), any dtype. */
export function reluImpl(x: TypedArray): TypedArray {
  const out = allocLike(x, x.length);
  if (isBigIntArray(x)) {
    const o = out as BigInt64Array;
    for (let i = 0; i < x.length; i++) o[i] = x[i]! > 0n ? x[i]! : 0n;
  } else {
    const o = out as NumberArray;
    // NaN stays NaN, like std::max(x, 0) with x first
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      o[i] = v < 0 ? 0 : v;
    }
  }
  return out;
}

/** 1/(1+e^−x), evaluated from the side where the exponential cannot overflow. */
export function sigmoidImpl(x: FloatArray): FloatArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[i] = e / (1 + e);
    }
  }
  return out;
}

/** tanh(x) elementwise. */
export function tanhImpl(x: FloatArray): FloatArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]!);
  return out;
}

/** x < 0 ? alpha·x : x. */
export function leakyReluImpl(x: FloatArray, alpha: number): FloatArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = v < 0 ? alpha * v : v;
  }
  return out;
}

/** min(max(x, lo), hi) as ORT computes it (so hi wins when lo > hi); undefined bounds are open. Any dtype. */
export function clipImpl(x: TypedArray, lo?: number | bigint, hi?: number | bigint): TypedArray {
  const out = allocLike(x, x.length);
  if (isBigIntArray(x)) {
    const o = out as BigInt64Array;
    const l = lo as bigint | undefined;
    const h = hi as bigint | undefined;
    for (let i = 0; i < x.length; i++) {
      let v = x[i]!;
      if (l !== undefined && v < l) v = l;
      if (h !== undefined && v > h) v = h;
      o[i] = v;
    }
  } else {
    const o = out as NumberArray;
    const l = lo === undefined ? -Infinity : Number(lo);
    const h = hi === undefined ? Infinity : Number(hi);
    for (let i = 0; i < x.length; i++) {
      let v = x[i]!;
      if (v < l) v = l;
      if (v > h) v = h;
      o[i] = v;
    }
  }
  return out;
}
