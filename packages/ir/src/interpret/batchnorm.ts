/** @fileoverview Batch normalisation per channel (axis 1): inference mode (stored statistics) and training mode (batch statistics). */
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

/** What training-mode batch normalisation produces: the output and the updated running statistics. */
export interface BatchNormTrainingResult {
  /** normalised with the batch statistics; same shape and storage kind as x */
  readonly y: FloatArray;
  /** input_mean·momentum + batch_mean·(1 − momentum), storage kind of input_mean */
  readonly runningMean: FloatArray;
  /** input_var·momentum + batch_var·(1 − momentum), storage kind of input_var */
  readonly runningVar: FloatArray;
}

/**
 * Training-mode batch normalisation (ONNX BatchNormalization-15, training_mode=1): per channel of x [N, C, ...],
 * the batch mean and the population variance (divide by the count, not count − 1) over every axis but 1 normalise x,
 * and blend into the running statistics with `momentum`. An empty batch gives NaN statistics, as ONNX's reference does.
 */
export function batchNormTrainingImpl(
  x: FloatArray,
  shape: readonly number[],
  scale: FloatArray,
  bias: FloatArray,
  inputMean: FloatArray,
  inputVar: FloatArray,
  epsilon: number,
  momentum: number,
): BatchNormTrainingResult {
  const n = shape[0]!;
  const c = shape[1]!;
  const plane = sizeOf(shape.slice(2));
  const count = n * plane;
  const batchMean = new Float64Array(c);
  const batchVar = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    // two passes (mean, then squared deviations) in f64: the one-pass E[x²] − E[x]² cancels badly for large means
    let sum = 0;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) sum += x[base + i]!;
    }
    const mean = sum / count;
    let squares = 0;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) {
        const d = x[base + i]! - mean;
        squares += d * d;
      }
    }
    batchMean[ch] = mean;
    batchVar[ch] = squares / count;
  }
  const y = batchNormImpl(x, shape, scale, bias, batchMean, batchVar, epsilon);
  const runningMean = allocLike(inputMean, c);
  const runningVar = allocLike(inputVar, c);
  for (let ch = 0; ch < c; ch++) {
    runningMean[ch] = inputMean[ch]! * momentum + batchMean[ch]! * (1 - momentum);
    runningVar[ch] = inputVar[ch]! * momentum + batchVar[ch]! * (1 - momentum);
  }
  return { y, runningMean, runningVar };
}
