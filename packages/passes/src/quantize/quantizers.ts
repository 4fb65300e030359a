/**
 * @fileoverview The registry of weight quantizers (`--quantizer`, `#quant{scheme=...}`) and the per-layer error
 * figures a selection can score them by.
 */
import { realizedValues, type QuantResult, type Quantizer } from "./quantizer.js";
import type { StateSpace } from "./states.js";
import { uniformQuantizer } from "./uniform.js";
import { fixedPointQuantizer } from "./fixed-point.js";
import { kmeansQuantizer } from "./kmeans.js";
import { spectralQuantizer } from "./spectral.js";
import { emVariationQuantizer } from "./em-variation.js";
import { mesCaqQuantizer } from "./mes-caq.js";

export { uniformQuantizer } from "./uniform.js";
export { createFixedPoint, fixedPointQuantizer, chooseFractionLength, type FixedPointOptions } from "./fixed-point.js";
export { kmeansQuantizer, runKmeans1d, runKmeansPoints, getDistinctValues } from "./kmeans.js";
export { spectralQuantizer, runSpectralClustering, getSymmetricEigen, SPECTRAL_BINS } from "./spectral.js";
export { emVariationQuantizer, fitEmVariationWithTrace, type EmVariationTrace } from "./em-variation.js";
export { mesCaqQuantizer, getMesCaqMap, getWeightRange } from "./mes-caq.js";

/** Every built-in quantizer, baseline first. */
export const QUANTIZERS: readonly Quantizer[] = [
  uniformQuantizer,
  fixedPointQuantizer,
  kmeansQuantizer,
  spectralQuantizer,
  emVariationQuantizer,
  mesCaqQuantizer,
];

/** The built-in quantizer called `name`, or undefined. */
export function getQuantizer(name: string): Quantizer | undefined {
  return QUANTIZERS.find((q) => q.name === name);
}

/** Mean squared errors of one layer's quantization, weight units². */
export interface QuantErrors {
  /** mean (w − codebook[code])²: what the quantizer chose */
  readonly quantization: number;
  /** mean (w − (scale·delta[state] + offset))²: what the device nominally computes with (includes mapping error) */
  readonly realized: number;
  /** mean scale²·variance[state]: expected extra squared error from conductance variation */
  readonly variation: number;
}

/** The errors of `result` on `weights` with the device's `states` (all means over the weights; 0 for an empty layer). */
export function getQuantErrors(weights: Float32Array, result: QuantResult, states: StateSpace): QuantErrors {
  const realized = realizedValues(result, states);
  let q = 0;
  let r = 0;
  let v = 0;
  for (let i = 0; i < weights.length; i++) {
    const c = result.codes[i]!;
    const w = weights[i]!;
    q += (w - result.codebook[c]!) ** 2;
    r += (w - realized[c]!) ** 2;
    v += result.scale * result.scale * states.variance[result.state[c]!]!;
  }
  const n = Math.max(1, weights.length);
  return { quantization: q / n, realized: r / n, variation: v / n };
}
