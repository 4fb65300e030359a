/** @fileoverview Reverse-mode kernels of data-movement ops: transpose (inverse permutation), concat (split), constant pad (crop). */
import { stridesOf } from "../../types.js";
import { sizeOf } from "../common.js";
import { transposeImpl } from "../shape-ops.js";

/** transpose by `perm`: dx = transpose(dy, perm⁻¹), where dy has the forward output's shape. */
export function transposeBackwardImpl(dy: Float64Array, outShape: readonly number[], perm: readonly number[]): Float64Array {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, k) => (inverse[p] = k));
  return transposeImpl(dy, outShape, inverse).data as Float64Array;
}

/** concat along `axis`: operand i's gradient is its block of dy along that axis. */
export function concatBackwardImpl(dy: Float64Array, shapes: readonly (readonly number[])[], axis: number): Float64Array[] {
  const outer = sizeOf(shapes[0]!.slice(0, axis));
  const inner = sizeOf(shapes[0]!.slice(axis + 1));
  const total = shapes.reduce((s, sh) => s + sh[axis]!, 0);
  const out: Float64Array[] = [];
  let start = 0;
  for (const sh of shapes) {
    const block = sh[axis]! * inner;
    const dx = new Float64Array(outer * block);
    for (let o = 0; o < outer; o++) dx.set(dy.subarray(o * total * inner + start, o * total * inner + start + block), o * block);
    out.push(dx);
    start += block;
  }
  return out;
}

/**
 * Constant-mode pad with pads [begin..., end...] (negative pads crop): dx[i] = dy[i + begin] where that index lies
 * inside the output, else 0 (a cropped element does not reach the output).
 */
export function padBackwardImpl(dy: Float64Array, xShape: readonly number[], pads: readonly number[]): Float64Array {
  const r = xShape.length;
  const outShape = xShape.map((d, i) => d + pads[i]! + pads[i + r]!);
  const outStrides = stridesOf(outShape);
  const total = sizeOf(xShape);
  const dx = new Float64Array(total);
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < total; i++) {
    let off = 0;
    for (let d = 0; d < r && off >= 0; d++) {
      const o = idx[d]! + pads[d]!;
      off = o < 0 || o >= outShape[d]! ? -1 : off + o * outStrides[d]!;
    }
    if (off >= 0) dx[i] = dy[off]!;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < xShape[d]!) break;
      idx[d] = 0;
    }
  }
  return dx;
}
