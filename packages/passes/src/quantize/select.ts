/**
 * @fileoverview Per-layer quantizer selection: score each candidate by a stated metric and keep the best.
 * Metrics: weight MSE on the device's nominal values; expected error under the device's variation; or the
 * layer's output error on calibration activations (layer by layer, as Halawani et al. quantize).
 */
import { runOp, type Op, type Tensor } from "@xbarc/ir";
import type { QuantResult } from "./quantizer.js";
import type { StateSpace } from "./states.js";

export type Metric = "weight-mse" | "variation" | "output-error";

export const METRICS: readonly Metric[] = ["weight-mse", "variation", "output-error"];

/** What each metric means, for `--help`, pass descriptions and reports. */
export const METRIC_DOC: Readonly<Record<Metric, string>> = {
  "weight-mse": "mean squared difference between each float weight and the value its cell states give on an ideal device",
  variation: "weight-mse plus the expected squared error the device's variation adds (scale²·Var(G+ − G−)), averaged over weights",
  "output-error": "relative MSE of the layer's outputs on calibration activations, quantized (nominal device values) vs float",
};

/** Nominal per-weight values on the device: what an ideal device computes with these cell states. */
export function realizedWeights(q: QuantResult, states: StateSpace, n: number): Float32Array {
  const byCode = new Float64Array(q.state.length);
  for (let c = 0; c < byCode.length; c++) byCode[c] = q.scale * states.delta[q.state[c]!]! + q.offset;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = byCode[q.codes[i]!]!;
  return out;
}

export function weightMse(weights: Float32Array, realized: Float32Array): number {
  let s = 0;
  for (let i = 0; i < weights.length; i++) s += (weights[i]! - realized[i]!) ** 2;
  return weights.length ? s / weights.length : 0;
}

/** Expected variation error per weight: mean of scale²·Var(Δg) over the weights' states. */
export function variationError(q: QuantResult, states: StateSpace): number {
  const perCode = new Float64Array(q.state.length);
  for (let c = 0; c < perCode.length; c++) perCode[c] = q.scale * q.scale * states.variance[q.state[c]!]!;
  let s = 0;
  for (let i = 0; i < q.codes.length; i++) s += perCode[q.codes[i]!]!;
  return q.codes.length ? s / q.codes.length : 0;
}

/** Relative output error of `op` on recorded input activations: Σ(y_q − y)² / Σ y². */
export function outputError(op: Op, inputs: readonly Tensor[], weight: Tensor, realized: Float32Array): number {
  const quantized: Tensor = { type: weight.type, data: realized };
  let num = 0;
  let den = 0;
  for (const x of inputs) {
    const rest = op.operands.slice(2).map((v) => (v?.data ? { type: v.type, data: v.data } : null));
    const y = runOp(op, [x, weight, ...rest])[0]!.data as Float32Array;
    const yq = runOp(op, [x, quantized, ...rest])[0]!.data as Float32Array;
    for (let i = 0; i < y.length; i++) {
      num += (yq[i]! - y[i]!) ** 2;
      den += y[i]! ** 2;
    }
  }
  return den > 0 ? num / den : num;
}
