/**
 * @fileoverview Data-movement kernels (transpose, concat, slice, gather, pad). They only copy elements, so they
 * work on any typed array, BigInt64Array and raw f16 bits included. Reshape/flatten/squeeze/unsqueeze/identity
 * are plain copies and need no kernel.
 */
import type { SliceDim } from "../ops/shape-utils.js";
import { stridesOf, type TypedArray } from "../types.js";
import { allocLike, sizeOf } from "./common.js";

/** Element-copy view of any typed array (BigInt elements are copied as they are, never mixed with numbers). */
type Slots = { [i: number]: number | bigint; length: number };

/**
 * Copies elements of `x` into a new array of `outShape` in row-major order, reading input offset
 * base + Σ idx_d·steps_d: the strided walk behind transpose and slice.
 */
function stridedCopy(x: TypedArray, outShape: readonly number[], base: number, steps: readonly number[]): TypedArray {
  const total = sizeOf(outShape);
  const out = allocLike(x, total);
  if (total === 0) return out;
  const src = x as unknown as Slots;
  const dst = out as unknown as Slots;
  const r = outShape.length;
  if (r === 0) {
    dst[0] = src[base]!;
    return out;
  }
  const inner = outShape[r - 1]!;
  const innerStep = steps[r - 1]!;
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let o = 0; o < total; o += inner) {
    if (innerStep === 1) for (let i = 0; i < inner; i++) dst[o + i] = src[off + i]!;
    else for (let i = 0; i < inner; i++) dst[o + i] = src[off + i * innerStep]!;
    for (let d = r - 2; d >= 0; d--) {
      off += steps[d]!;
      if (++idx[d]! < outShape[d]!) break;
      off -= steps[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** out[i_0, ..., i_{r−1}] = x[j] with j_{perm[k]} = i_k, i.e. out.shape[k] = shape[perm[k]]. */
export function transposeImpl(x: TypedArray, shape: readonly number[], perm: readonly number[]): { data: TypedArray; shape: number[] } {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  return { data: stridedCopy(x, outShape, 0, perm.map((p) => inStrides[p]!)), shape: outShape };
}

/** Strided slice with resolved per-dim (start, step, count) (see resolveSlice); negative steps walk backwards. */
export function sliceImpl(x: TypedArray, shape: readonly number[], dims: readonly SliceDim[]): { data: TypedArray; shape: number[] } {
  const inStrides = stridesOf(shape);
  let base = 0;
  for (let d = 0; d < shape.length; d++) base += dims[d]!.start * inStrides[d]!;
  const outShape = dims.map((d) => d.count);
  return { data: stridedCopy(x, outShape, base, dims.map((d, i) => d.step * inStrides[i]!)), shape: outShape };
}

/** Joins arrays along `axis` (normalised); all shapes equal outside it. */
export function concatImpl(xs: readonly TypedArray[], shapes: readonly (readonly number[])[], axis: number): { data: TypedArray; shape: number[] } {
  const outShape = [...shapes[0]!];
  outShape[axis] = shapes.reduce((s, sh) => s + sh[axis]!, 0);
  const out = allocLike(xs[0]!, sizeOf(outShape));
  const outer = sizeOf(outShape.slice(0, axis));
  const inner = sizeOf(outShape.slice(axis + 1));
  const outChunk = outShape[axis]! * inner;
  let at = 0;
  for (let i = 0; i < xs.length; i++) {
    const chunk = shapes[i]![axis]! * inner;
    const src = xs[i]! as unknown as { subarray(a: number, b: number): TypedArray };
    for (let o = 0; o < outer; o++) {
      (out as unknown as { set(a: TypedArray, off: number): void }).set(src.subarray(o * chunk, (o + 1) * chunk), o * outChunk + at);
    }
    at += chunk;
  }
  return { data: out, shape: outShape };
}

/**
 * numpy take along `axis` (normalised): out = data[..., indices[...], ...], out shape
 * shape[:axis] + indicesShape + shape[axis+1:]. Negative indices count from the end; out-of-range ones throw.
 */
export function gatherImpl(
  x: TypedArray,
  shape: readonly number[],
  axis: number,
  indices: ArrayLike<number>,
  indicesShape: readonly number[],
): { data: TypedArray; shape: number[] } {
  const outer = sizeOf(shape.slice(0, axis));
  const dim = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const count = indices.length;
  const outShape = [...shape.slice(0, axis), ...indicesShape, ...shape.slice(axis + 1)];
  const out = allocLike(x, outer * count * inner);
  const resolved = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let v = indices[i]!;
    if (v < 0) v += dim;
    if (!(v >= 0 && v < dim)) throw new RangeError(`gather index ${indices[i]} is out of range for axis of size ${dim}`);
    resolved[i] = v;
  }
  const src = x as unknown as Slots;
  const dst = out as unknown as Slots;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < count; i++) {
      const from = (o * dim + resolved[i]!) * inner;
      const to = (o * count + i) * inner;
      for (let j = 0; j < inner; j++) dst[to + j] = src[from + j]!;
    }
  }
  return { data: out, shape: outShape };
}

/** Pad modes of ONNX Pad-19. */
export type PadMode = "constant" | "reflect" | "edge" | "wrap";

/**
 * Pads x by full-rank pads [begins..., ends...] (negative values crop). `constant` fills with `value` (an element
 * of x's array kind), `reflect` mirrors without repeating the edge, `edge` repeats it, `wrap` tiles periodically.
 */
export function padImpl(x: TypedArray, shape: readonly number[], pads: readonly number[], mode: PadMode, value: number | bigint): { data: TypedArray; shape: number[] } {
  const r = shape.length;
  const outShape = shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  const total = sizeOf(outShape);
  const out = allocLike(x, total);
  if (total === 0) return { data: out, shape: outShape };
  // per dim: input coordinate of each output coordinate, −1 where the constant goes
  const maps = outShape.map((od, d) => {
    const n = shape[d]!;
    const m = new Int32Array(od);
    for (let o = 0; o < od; o++) {
      let c = o - pads[d]!;
      if (c < 0 || c >= n) {
        if (mode === "constant" || n === 0) c = -1;
        else if (mode === "edge") c = c < 0 ? 0 : n - 1;
        else if (mode === "wrap") c = ((c % n) + n) % n;
        else if (n === 1) c = 0;
        else {
          const period = 2 * (n - 1);
          c = ((c % period) + period) % period;
          if (c >= n) c = period - c;
        }
      }
      m[o] = c;
    }
    return m;
  });
  const inStrides = stridesOf(shape);
  const src = x as unknown as Slots;
  const dst = out as unknown as Slots;
  if (r === 0) {
    dst[0] = src[0]!;
    return { data: out, shape: outShape };
  }
  const idx = new Array<number>(r).fill(0);
  const inner = outShape[r - 1]!;
  const innerMap = maps[r - 1]!;
  for (let o = 0; o < total; o += inner) {
    let off = 0;
    let outside = false;
    for (let d = 0; d < r - 1; d++) {
      const c = maps[d]![idx[d]!]!;
      if (c < 0) {
        outside = true;
        break;
      }
      off += c * inStrides[d]!;
    }
    for (let i = 0; i < inner; i++) {
      const c = innerMap[i]!;
      dst[o + i] = outside || c < 0 ? value : src[off + c]!;
    }
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}
