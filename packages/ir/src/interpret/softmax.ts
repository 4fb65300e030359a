/** @fileoverview Softmax and LogSoftmax along one axis (opset-13 semantics), numerically stable. */
import { allocLike, sizeOf, type FloatArray } from "./common.js";

/**
 * exp(x − max)/Σexp(x − max) (or, with `log`, x − max − log Σexp(x − max)) along `axis` of `shape`; subtracting
 * the max keeps exp from overflowing for large inputs. `axis` must already be normalised (0 ≤ axis < rank).
 */
export function softmaxImpl(x: FloatArray, shape: readonly number[], axis: number, log = false): FloatArray {
  const out = allocLike(x, x.length);
  const outer = sizeOf(shape.slice(0, axis));
  const dim = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const exps = new Float64Array(dim);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let max = -Infinity;
      for (let d = 0; d < dim; d++) {
        const v = x[base + d * inner]!;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let d = 0; d < dim; d++) {
        const e = Math.exp(x[base + d * inner]! - max);
        exps[d] = e;
        sum += e;
      }
      if (log) {
        const lse = Math.log(sum);
        for (let d = 0; d < dim; d++) out[base + d * inner] = x[base + d * inner]! - max - lse;
      } else {
        for (let d = 0; d < dim; d++) out[base + d * inner] = exps[d]! / sum;
      }
    }
  }
  return out;
}
