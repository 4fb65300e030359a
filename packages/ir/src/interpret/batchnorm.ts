/** @fileoverview Inference-mode batch normalisation per channel (axis 1). */
import { allocLike, sizeOf, type FloatArray } from "./common.js";

/** y = scale·(x − mean)/sqrt(var + epsilon) + bias, per channel of x [N, C, ...]. */
export function batchNormImpl(
  x: FloatArray,
  shape: readonly number[],
  scale: FloatArray,
  bias: FloatArray,
  mean: FloatArray,
  variance: FloatArray,
  epsilon: number,
): FloatArray {
  const out = allocLike(x, x.length);
  const n = shape[0]!;
  const c = shape[1]!;
  const plane = sizeOf(shape.slice(2));
  for (let ch = 0; ch < c; ch++) {
    // fold into one multiply-add per element
    const mul = scale[ch]! / Math.sqrt(variance[ch]! + epsilon);
    const add = bias[ch]! - mean[ch]! * mul;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) out[base + i] = x[base + i]! * mul + add;
    }
  }
  return out;
}
